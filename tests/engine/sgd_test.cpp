// TODO(stub): tests for sgd
