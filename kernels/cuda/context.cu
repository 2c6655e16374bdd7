// The CUDA context: the one stream, device memory for the caching allocator, copies and fills.
#include <nvtx3/nvToolsExt.h>

#include <cstdlib>

#include "kernels/cuda/check.h"
#include "kernels/memory.h"
#include "kernels/profile.h"

namespace loco::kernels::cuda {

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t st;
    LOCO_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t hh;
    LOCO_CUBLAS_CHECK(cublasCreate(&hh));
    LOCO_CUBLAS_CHECK(cublasSetStream(hh, stream()));
    return hh;
  }();
  return h;
}

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t hh;
    LOCO_CUDNN_CHECK(cudnnCreate(&hh));
    LOCO_CUDNN_CHECK(cudnnSetStream(hh, stream()));
    return hh;
  }();
  return h;
}

void* workspace(size_t bytes) {
  static void* buf = nullptr;
  static size_t cap = 0;
  if (bytes > cap) {
    // The old buffer may still be read by queued work: free only after the stream drains.
    if (buf) {
      LOCO_CUDA_CHECK(cudaStreamSynchronize(stream()));
      LOCO_CUDA_CHECK(cudaFree(buf));
    }
    cap = bytes;
    LOCO_CUDA_CHECK(cudaMalloc(&buf, cap));
  }
  return buf;
}

namespace {
bool g_tf32 = false;
}
void set_tf32(bool on) { g_tf32 = on; }
bool tf32() { return g_tf32; }

namespace {
bool sync_after_launch() {
  static const bool sync = [] {
    const char* e = std::getenv("LOCO_CUDA_SYNC");
    return e && e[0] == '1';
  }();
  return sync;
}
}  // namespace

void range_push(const char* name) { nvtxRangePushA(name); }
void range_pop() { nvtxRangePop(); }

void after_op(const char* op) {
  if (!sync_after_launch()) return;
  const cudaError_t err = cudaStreamSynchronize(stream());
  if (err != cudaSuccess) LOCO_FAIL(op, ": CUDA error (LOCO_CUDA_SYNC=1 points at this op): ", cudaGetErrorString(err));
}

double time_ms(const std::function<void()>& fn) {
  cudaEvent_t start, stop;
  LOCO_CUDA_CHECK(cudaEventCreate(&start));
  LOCO_CUDA_CHECK(cudaEventCreate(&stop));
  LOCO_CUDA_CHECK(cudaEventRecord(start, stream()));
  fn();
  LOCO_CUDA_CHECK(cudaEventRecord(stop, stream()));
  LOCO_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  LOCO_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  LOCO_CUDA_CHECK(cudaEventDestroy(start));
  LOCO_CUDA_CHECK(cudaEventDestroy(stop));
  return ms;
}

void synchronize() { LOCO_CUDA_CHECK(cudaStreamSynchronize(stream())); }

void check_launch(const char* kernel, const char* file, int line) {
  const bool sync = sync_after_launch();
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && sync) err = cudaStreamSynchronize(stream());
  if (err != cudaSuccess) loco::detail::fail(file, line, kernel, " failed: ", cudaGetErrorString(err));
}

bool device_present() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void* stream_handle() { return stream(); }

int select_device(int index) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return -1;
  const int d = ((index % n) + n) % n;
  LOCO_CUDA_CHECK(cudaSetDevice(d));
  return d;
}

void copy_bytes(void* dst, const void* src, size_t n, CopyKind kind) {
  const cudaMemcpyKind k = kind == CopyKind::h2d ? cudaMemcpyHostToDevice
                           : kind == CopyKind::d2h ? cudaMemcpyDeviceToHost
                                                   : cudaMemcpyDeviceToDevice;
  LOCO_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, k, stream()));
  // Host memory is pageable: the host side must not change before the copy is done.
  if (kind != CopyKind::d2d) LOCO_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void memset_bytes(void* p, int byte, size_t n) {
  if (n) LOCO_CUDA_CHECK(cudaMemsetAsync(p, byte, n, stream()));
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

namespace loco::kernels::cuda {
void* malloc_device(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error: the allocator frees its cache and retries
    return nullptr;
  }
  return p;
}
void free_device(void* p) { cudaFree(p); }
}  // namespace loco::kernels::cuda
