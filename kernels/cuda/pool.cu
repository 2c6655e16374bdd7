// CUDA twin of kernels/pool.h (f32): 2×2 / stride-2 pooling, no padding, floor. Shape letters:
// P = N·C planes, H×W input, Ho×Wo = ⌊H/2⌋×⌊W/2⌋ output. One thread per element written, so
// every kernel is a gather and needs no atomics:
// - avg fwd, max fwd, max gather: one thread per output; the same expressions, in the same
//   order, as the CPU twin (the sum of four, then ×¼; the max scan (0,0) (0,1) (1,0) (1,1) with
//   "greater, or NaN" replacing the best, so the first maximum wins and a NaN wins).
// - avg bwd and max scatter: one thread per INPUT element, which finds the single output whose
//   window holds it (windows do not overlap) and writes 0 on a dropped odd row / column. The
//   scatter relies on the contract that index[p, o] lies inside window o, as max_pool2_fwd
//   makes it; it writes 0 + dy (the CPU's zero-then-add), so even a −0 comes out alike.
#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/pool.h"

namespace loco::kernels::cuda {
namespace {

__global__ void avg_pool2_fwd_kernel(float* y, const float* x, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
  LOCO_GRID_STRIDE(e, planes * ho * wo) {
    const int64_t j = e % wo, pi = e / wo, i = pi % ho, p = pi / ho;
    const float* r0 = x + (p * h + 2 * i) * w;
    const float* r1 = r0 + w;
    y[e] = (r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1]) * 0.25f;
  }
}

__global__ void avg_pool2_bwd_kernel(float* dx, const float* dy, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
  LOCO_GRID_STRIDE(e, planes * h * w) {
    const int64_t q = e % w, pr = e / w, r = pr % h, p = pr / h;
    dx[e] = r < 2 * ho && q < 2 * wo ? dy[(p * ho + r / 2) * wo + q / 2] * 0.25f : 0.0f;
  }
}

__global__ void max_pool2_fwd_kernel(float* y, int64_t* index, const float* x, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
  LOCO_GRID_STRIDE(e, planes * ho * wo) {
    const int64_t j = e % wo, pi = e / wo, i = pi % ho, p = pi / ho;
    const float* xp = x + p * h * w;
    int64_t best = 2 * i * w + 2 * j;
    const int64_t cand[3] = {best + 1, best + w, best + w + 1};
    for (int c = 0; c < 3; ++c)
      if (xp[cand[c]] > xp[best] || isnan(xp[cand[c]])) best = cand[c];
    y[e] = xp[best];
    index[e] = best;
  }
}

__global__ void max_pool2_scatter_kernel(float* dx, const float* dy, const int64_t* index, int64_t planes, int64_t h,
                                         int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
  LOCO_GRID_STRIDE(e, planes * h * w) {
    const int64_t q = e % w, pr = e / w, r = pr % h, p = pr / h;
    float v = 0.0f;
    if (r < 2 * ho && q < 2 * wo) {
      const int64_t o = (p * ho + r / 2) * wo + q / 2;
      if (index[o] == r * w + q) v = 0.0f + dy[o];
    }
    dx[e] = v;
  }
}

__global__ void max_pool2_gather_kernel(float* y, const float* g, const int64_t* index, int64_t planes, int64_t h,
                                        int64_t w) {
  const int64_t po = (h / 2) * (w / 2);
  LOCO_GRID_STRIDE(e, planes * po) y[e] = g[e / po * h * w + index[e]];
}

}  // namespace

void avg_pool2_fwd(float* y, const float* x, int64_t planes, int64_t h, int64_t w) {
  launch_1d("avg_pool2_fwd_kernel", planes * (h / 2) * (w / 2), avg_pool2_fwd_kernel, y, x, planes, h, w);
}

void avg_pool2_bwd(float* dx, const float* dy, int64_t planes, int64_t h, int64_t w) {
  launch_1d("avg_pool2_bwd_kernel", planes * h * w, avg_pool2_bwd_kernel, dx, dy, planes, h, w);
}

void max_pool2_fwd(float* y, int64_t* index, const float* x, int64_t planes, int64_t h, int64_t w) {
  launch_1d("max_pool2_fwd_kernel", planes * (h / 2) * (w / 2), max_pool2_fwd_kernel, y, index, x, planes, h, w);
}

void max_pool2_scatter(float* dx, const float* dy, const int64_t* index, int64_t planes, int64_t h, int64_t w) {
  launch_1d("max_pool2_scatter_kernel", planes * h * w, max_pool2_scatter_kernel, dx, dy, index, planes, h, w);
}

void max_pool2_gather(float* y, const float* g, const int64_t* index, int64_t planes, int64_t h, int64_t w) {
  launch_1d("max_pool2_gather_kernel", planes * (h / 2) * (w / 2), max_pool2_gather_kernel, y, g, index, planes, h, w);
}

}  // namespace loco::kernels::cuda
