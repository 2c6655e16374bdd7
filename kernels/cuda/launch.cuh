// Launch helpers shared by the CUDA twins: grid sizes, a grid-stride 1-D launch that checks
// itself, warp/block reductions in a fixed order (so a reduction repeats bit for bit: no
// floating-point atomics), and the 16-byte alignment test for vector loads.
#pragma once
#include <cstdint>

#include "kernels/cuda/check.h"

namespace loco::kernels::cuda {

constexpr int kWarp = 32;
constexpr int kBlock = 256;
// Enough blocks to fill an H100/H200 (132 SMs × 16) without launching millions for big n.
constexpr int64_t kMaxGrid = 132 * 16;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline unsigned grid_for(int64_t n, int block = kBlock) {
  const int64_t g = ceil_div(n, block);
  return static_cast<unsigned>(g < 1 ? 1 : (g > kMaxGrid ? kMaxGrid : g));
}

// for (i = global thread; i < n; i += grid stride), in 64-bit indices.
#define LOCO_GRID_STRIDE(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// launch_1d("name", n, kernel, args...): grid-stride kernel over n elements on the one stream.
template <class Kernel, class... Args>
void launch_1d(const char* name, int64_t n, Kernel kernel, Args... args) {
  if (n <= 0) return;
  kernel<<<grid_for(n), kBlock, 0, stream()>>>(args...);
  check_launch(name, __FILE__, __LINE__);
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Sum over a warp; lane 0 holds the result. The butterfly order is fixed, so it repeats.
template <class T> __device__ __forceinline__ T warp_sum(T v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}
template <class T> __device__ __forceinline__ T warp_max(T v) {
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const T w = __shfl_down_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `shared` holds 32 values. Fixed order: warps in order, then lanes.
template <class T> __device__ T block_sum(T v, T* shared) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  T t = lane < warps ? shared[lane] : T(0);
  if (warp == 0) t = warp_sum(t);
  if (threadIdx.x == 0) shared[0] = t;
  __syncthreads();
  return shared[0];
}

}  // namespace loco::kernels::cuda
