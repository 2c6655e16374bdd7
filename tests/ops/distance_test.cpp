// TODO(stub): tests for the distance family
