// Checks for every CUDA, cuBLAS and cuDNN call: a failure throws loco::Error with the call
// text, file:line and the library's message. LOCO_CUDA_SYNC=1 synchronises after each launch
// so an asynchronous fault is reported at the op that caused it.
#pragma once
#include <cuda_runtime.h>

#include "engine/check.h"

#define LOCO_CUDA_CHECK(call)                                                                      \
  do {                                                                                             \
    cudaError_t loco_err_ = (call);                                                                \
    if (loco_err_ != cudaSuccess) LOCO_FAIL(#call " failed: ", cudaGetErrorString(loco_err_));     \
  } while (0)

namespace loco::kernels::cuda {
cudaStream_t stream();
// After a launch: checks cudaGetLastError and, with LOCO_CUDA_SYNC=1, synchronises.
void check_launch(const char* kernel, const char* file, int line);
}  // namespace loco::kernels::cuda

#define LOCO_CHECK_LAUNCH(name) ::loco::kernels::cuda::check_launch(name, __FILE__, __LINE__)
