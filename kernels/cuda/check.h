// Checks for every CUDA, cuBLAS and cuDNN call: a failure throws loco::Error with the call
// text, file:line and the library's message. LOCO_CUDA_SYNC=1 synchronises after each launch
// so an asynchronous fault is reported at the op that caused it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/base.h"

#define LOCO_CUDA_CHECK(call)                                                                      \
  do {                                                                                             \
    cudaError_t loco_err_ = (call);                                                                \
    if (loco_err_ != cudaSuccess) LOCO_FAIL(#call " failed: ", cudaGetErrorString(loco_err_));     \
  } while (0)

#define LOCO_CUBLAS_CHECK(call)                                                                    \
  do {                                                                                             \
    cublasStatus_t loco_st_ = (call);                                                              \
    if (loco_st_ != CUBLAS_STATUS_SUCCESS)                                                         \
      LOCO_FAIL(#call " failed: ", cublasGetStatusName(loco_st_), " (", cublasGetStatusString(loco_st_), ")"); \
  } while (0)

#define LOCO_CUDNN_CHECK(call)                                                                     \
  do {                                                                                             \
    cudnnStatus_t loco_st_ = (call);                                                               \
    if (loco_st_ != CUDNN_STATUS_SUCCESS) LOCO_FAIL(#call " failed: ", cudnnGetErrorString(loco_st_)); \
  } while (0)

namespace loco::kernels::cuda {
cudaStream_t stream();
// Library handles bound to stream(), created on first use.
cublasHandle_t cublas();
cudnnHandle_t cudnn();
// A grow-only scratch buffer on the stream (cuDNN's workspace, the partial sums of two-pass
// reductions): no cudaMalloc once it has reached the largest size a run asks for. Valid until
// the next call, so an op asks for it once.
void* workspace(size_t bytes);
// After a launch: checks cudaGetLastError and, with LOCO_CUDA_SYNC=1, synchronises.
void check_launch(const char* kernel, const char* file, int line);
}  // namespace loco::kernels::cuda

#define LOCO_CHECK_LAUNCH(name) ::loco::kernels::cuda::check_launch(name, __FILE__, __LINE__)
