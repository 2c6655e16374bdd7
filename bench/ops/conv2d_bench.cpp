// TODO(stub): benchmarks for conv2d
