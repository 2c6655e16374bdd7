// The CUDA context: the one stream, device memory for the caching allocator, copies and fills.
#include <cstdlib>

#include "engine/storage.h"
#include "kernels/cuda/check.h"
#include "kernels/memory.h"

namespace loco::kernels::cuda {

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t st;
    LOCO_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

void check_launch(const char* kernel, const char* file, int line) {
  static const bool sync = [] {
    const char* e = std::getenv("LOCO_CUDA_SYNC");
    return e && e[0] == '1';
  }();
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && sync) err = cudaStreamSynchronize(stream());
  if (err != cudaSuccess) loco::detail::fail(file, line, kernel, " failed: ", cudaGetErrorString(err));
}

bool device_present() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void copy_bytes(void* dst, const void* src, size_t n, CopyKind kind) {
  const cudaMemcpyKind k = kind == CopyKind::h2d ? cudaMemcpyHostToDevice
                           : kind == CopyKind::d2h ? cudaMemcpyDeviceToHost
                                                   : cudaMemcpyDeviceToDevice;
  LOCO_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, k, stream()));
  // Host memory is pageable: the host side must not change before the copy is done.
  if (kind != CopyKind::d2d) LOCO_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

__global__ void fill_kernel(float* y, float v, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = v;
}

void fill(float* y, float value, int64_t n) {
  if (n == 0) return;
  const int block = 256;
  const int64_t grid = std::min<int64_t>((n + block - 1) / block, 65535);
  fill_kernel<<<static_cast<unsigned>(grid), block, 0, stream()>>>(y, value, n);
  LOCO_CHECK_LAUNCH("fill_kernel");
}

}  // namespace loco::kernels::cuda

namespace loco::device_memory {
void* cuda_malloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error: the allocator frees its cache and retries
    return nullptr;
  }
  return p;
}
void cuda_free(void* p) { cudaFree(p); }
}  // namespace loco::device_memory
