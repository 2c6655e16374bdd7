// Contract of the bilinear resampling family (DSA's crop, flip, scale and rotate all reduce to
// it; spec/augmentation.md §4). x is N×C×H×W; grid is N×Ho×Wo×2 holding, per output pixel, the
// source position (p_x, p_y) = (column, row) in PIXEL units, shared by the C planes of a sample;
// y is N×C×Ho×Wo. Padding is zeros: each of the four taps contributes only when it lies inside
// the image. Integer positions give exact copies (weights 1 and 0), hence exact shifts and flips.
// Shape letters: N batch, C channels, H×W input, Ho×Wo output, P = N·C planes.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

// The four taps of a bilinear sample at (px, py) in an h×w plane: flat in-plane indices
// (−1 when the tap is outside) and weights, in the order (y0,x0) (y0,x1) (y1,x0) (y1,x1).
// A position outside (−1, w)×(−1, h) (or NaN) has no tap inside, so it is rejected before the
// floor, which also keeps huge coordinates from overflowing the integer cast.
template <class T>
LOCO_HD void bilinear_taps(T px, T py, int64_t h, int64_t w, int64_t idx[4], T wt[4]) {
  for (int k = 0; k < 4; ++k) {
    idx[k] = -1;
    wt[k] = T(0);
  }
  if (!(px > T(-1) && px < T(w) && py > T(-1) && py < T(h))) return;
  const T fx0 = floor(px), fy0 = floor(py);
  const int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
  const T fx = px - fx0, fy = py - fy0;
  const T wx[2] = {T(1) - fx, fx}, wy[2] = {T(1) - fy, fy};
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const int64_t yy = y0 + a, xx = x0 + b;
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
      idx[2 * a + b] = yy * w + xx;
      wt[2 * a + b] = wy[a] * wx[b];
    }
}

namespace cpu {
// y[n,c,o] = Σ_k wt_k · x[n,c,idx_k] over the taps of grid[n,o].
template <class T>
void grid_sample_fwd(T* y, const T* x, const T* grid, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho,
                     int64_t wo);
// The adjoint (the backward with respect to x): dx = 0, then dx[n,c,idx_k] += wt_k · dy[n,c,o].
// Each plane is scattered by one thread in output order, so the sums are deterministic.
template <class T>
void grid_sample_bwd_data(T* dx, const T* dy, const T* grid, int64_t n, int64_t c, int64_t h, int64_t w,
                          int64_t ho, int64_t wo);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void grid_sample_fwd(float* y, const float* x, const float* grid, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t ho, int64_t wo);
void grid_sample_bwd_data(float* dx, const float* dy, const float* grid, int64_t n, int64_t c, int64_t h,
                          int64_t w, int64_t ho, int64_t wo);
}  // namespace cuda
#endif
}  // namespace loco::kernels
