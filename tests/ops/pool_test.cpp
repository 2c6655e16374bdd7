// TODO(stub): tests for the pool family
