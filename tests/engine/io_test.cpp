// TODO(stub): tests for io
