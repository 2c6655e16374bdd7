#include "kernels/layout.h"

#include <algorithm>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace loco::kernels::cpu {

template <class T> void gather_rows(T* y, const T* x, const int64_t* index, int64_t n_index, int64_t d) {
#pragma omp parallel for schedule(static) if (n_index * d > (1 << 15))
  for (int64_t i = 0; i < n_index; ++i) std::memcpy(y + i * d, x + index[i] * d, sizeof(T) * d);
}

template <class T> void index_add_rows(T* y, const T* src, const int64_t* index, int64_t n_index, int64_t d) {
  // Rows may repeat in index, so threads split the columns, never the rows.
#pragma omp parallel if (n_index * d > (1 << 15))
  {
#ifdef _OPENMP
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const int64_t nt = 1, t = 0;
#endif
    const int64_t lo = d * t / nt, hi = d * (t + 1) / nt;
    for (int64_t i = 0; i < n_index; ++i) {
      T* yy = y + index[i] * d;
      const T* ss = src + i * d;
      for (int64_t j = lo; j < hi; ++j) yy[j] += ss[j];
    }
  }
}

template <class T> void transpose_last2(T* y, const T* x, int64_t b, int64_t m, int64_t n) {
  constexpr int64_t kTile = 32;
#pragma omp parallel for collapse(2) schedule(static) if (b * m * n > (1 << 15))
  for (int64_t k = 0; k < b; ++k)
    for (int64_t i0 = 0; i0 < m; i0 += kTile)
      for (int64_t j0 = 0; j0 < n; j0 += kTile)
        for (int64_t i = i0; i < std::min(m, i0 + kTile); ++i)
          for (int64_t j = j0; j < std::min(n, j0 + kTile); ++j) y[k * m * n + j * m + i] = x[k * m * n + i * n + j];
}

#define LOCO_INSTANTIATE(T)                                                              \
  template void gather_rows<T>(T*, const T*, const int64_t*, int64_t, int64_t);          \
  template void index_add_rows<T>(T*, const T*, const int64_t*, int64_t, int64_t);       \
  template void transpose_last2<T>(T*, const T*, int64_t, int64_t, int64_t);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
