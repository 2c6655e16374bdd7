// TODO(stub): tests for e2e
