// CPU twin of kernels/grid_sample.h: OpenMP over the P = N·C planes. The forward is a gather
// and could split anywhere; the adjoint is a scatter, so a plane must stay with one thread for
// the sums to be race-free and bit-reproducible.
#include "kernels/grid_sample.h"

namespace loco::kernels::cpu {
namespace {
constexpr int64_t kParallelMin = 1 << 14;  // output elements; below this one thread is faster
}  // namespace

template <class T>
void grid_sample_fwd(T* y, const T* x, const T* grid, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho,
                     int64_t wo) {
  const int64_t planes = n * c, po = ho * wo;
#pragma omp parallel for schedule(static) if (planes * po > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const T* g = grid + (p / c) * po * 2;
    const T* xp = x + p * h * w;
    T* yp = y + p * po;
    for (int64_t o = 0; o < po; ++o) {
      int64_t idx[4];
      T wt[4];
      bilinear_taps(g[2 * o], g[2 * o + 1], h, w, idx, wt);
      T acc = T(0);
      for (int k = 0; k < 4; ++k)
        if (idx[k] >= 0) acc += wt[k] * xp[idx[k]];
      yp[o] = acc;
    }
  }
}

template <class T>
void grid_sample_bwd_data(T* dx, const T* dy, const T* grid, int64_t n, int64_t c, int64_t h, int64_t w,
                          int64_t ho, int64_t wo) {
  const int64_t planes = n * c, po = ho * wo;
#pragma omp parallel for schedule(static) if (planes * po > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const T* g = grid + (p / c) * po * 2;
    const T* dyp = dy + p * po;
    T* dxp = dx + p * h * w;
    for (int64_t i = 0; i < h * w; ++i) dxp[i] = T(0);
    for (int64_t o = 0; o < po; ++o) {
      int64_t idx[4];
      T wt[4];
      bilinear_taps(g[2 * o], g[2 * o + 1], h, w, idx, wt);
      for (int k = 0; k < 4; ++k)
        if (idx[k] >= 0) dxp[idx[k]] += wt[k] * dyp[o];
    }
  }
}

#define LOCO_INSTANTIATE(T)                                                                              \
  template void grid_sample_fwd<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t,  \
                                   int64_t);                                                             \
  template void grid_sample_bwd_data<T>(T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t,      \
                                        int64_t, int64_t);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
