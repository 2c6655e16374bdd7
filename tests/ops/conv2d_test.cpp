// TODO(stub): tests for the conv2d family
