// TODO(stub): tests for the matmul family
