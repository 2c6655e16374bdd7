// CPU twin of kernels/pool.h: OpenMP over planes, one output row (two input rows) at a time.
#include "kernels/pool.h"

#include <cmath>

namespace loco::kernels::cpu {
namespace {
constexpr int64_t kParallelMin = 1 << 14;  // input elements; below this one thread is faster
}  // namespace

template <class T> void avg_pool2_fwd(T* y, const T* x, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) if (planes * h * w > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t i = 0; i < ho; ++i) {
      const T* r0 = x + (p * h + 2 * i) * w;
      const T* r1 = r0 + w;
      T* yr = y + (p * ho + i) * wo;
      for (int64_t j = 0; j < wo; ++j)
        yr[j] = (r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1]) * T(0.25);
    }
  }
}

template <class T> void avg_pool2_bwd(T* dx, const T* dy, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) if (planes * h * w > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t i = 0; i < ho; ++i) {
      T* r0 = dx + (p * h + 2 * i) * w;
      T* r1 = r0 + w;
      const T* dyr = dy + (p * ho + i) * wo;
      for (int64_t j = 0; j < wo; ++j) {
        const T v = dyr[j] * T(0.25);
        r0[2 * j] = r0[2 * j + 1] = r1[2 * j] = r1[2 * j + 1] = v;
      }
      if (w % 2) r0[w - 1] = r1[w - 1] = T(0);
    }
    if (h % 2)
      for (int64_t j = 0; j < w; ++j) dx[(p * h + h - 1) * w + j] = T(0);
  }
}

template <class T> void max_pool2_fwd(T* y, int64_t* index, const T* x, int64_t planes, int64_t h, int64_t w) {
  const int64_t ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) if (planes * h * w > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * h * w;
    for (int64_t i = 0; i < ho; ++i) {
      for (int64_t j = 0; j < wo; ++j) {
        int64_t best = 2 * i * w + 2 * j;
        const int64_t cand[3] = {best + 1, best + w, best + w + 1};
        for (int64_t k : cand)
          if (xp[k] > xp[best] || std::isnan(xp[k])) best = k;
        y[(p * ho + i) * wo + j] = xp[best];
        index[(p * ho + i) * wo + j] = best;
      }
    }
  }
}

template <class T>
void max_pool2_scatter(T* dx, const T* dy, const int64_t* index, int64_t planes, int64_t h, int64_t w) {
  const int64_t po = (h / 2) * (w / 2);
#pragma omp parallel for schedule(static) if (planes * h * w > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    T* dxp = dx + p * h * w;
    for (int64_t i = 0; i < h * w; ++i) dxp[i] = T(0);
    for (int64_t o = 0; o < po; ++o) dxp[index[p * po + o]] += dy[p * po + o];
  }
}

template <class T>
void max_pool2_gather(T* y, const T* g, const int64_t* index, int64_t planes, int64_t h, int64_t w) {
  const int64_t po = (h / 2) * (w / 2);
#pragma omp parallel for schedule(static) if (planes * po > kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t o = 0; o < po; ++o) y[p * po + o] = g[p * h * w + index[p * po + o]];
}

#define LOCO_INSTANTIATE(T)                                                                        \
  template void avg_pool2_fwd<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void avg_pool2_bwd<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void max_pool2_fwd<T>(T*, int64_t*, const T*, int64_t, int64_t, int64_t);               \
  template void max_pool2_scatter<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t);     \
  template void max_pool2_gather<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
