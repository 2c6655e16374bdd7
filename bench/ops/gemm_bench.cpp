// TODO(stub): benchmarks for gemm
