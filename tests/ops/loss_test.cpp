// TODO(stub): tests for the loss family
