// TODO(stub): tests for the norm family
