// TODO(stub): benchmarks for lowrank
