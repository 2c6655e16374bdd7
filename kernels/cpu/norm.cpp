// CPU twin of kernels/norm.h. Rows (n, g) of group norm are spread over OpenMP threads; each row
// is read once for its statistics and once more (from cache) for the output. Channel sums for
// dγ/dβ go to per-thread buffers combined in thread order, so results are bit-reproducible for
// a given thread count and no [N, C] scratch is needed (layer norm's C is C·H·W).
#include "kernels/norm.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace loco::kernels::cpu {
namespace {

constexpr int64_t kParallelMin = 1 << 14;  // elements; below this one thread is faster

struct Stats {
  double mean, var;  // biased variance
};

// Σ (x − shift) and Σ (x − shift)² over one contiguous run, in double.
template <class T> void shifted_sums(const T* x, int64_t len, double shift, double& s1, double& s2) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < len; ++i) {
    const double v = static_cast<double>(x[i]) - shift;
    a += v;
    b += v * v;
  }
  s1 += a;
  s2 += b;
}

// Over `count` runs of `len` elements, run p at x + p·stride. One pass in double, shifted by the
// first element so that a large mean does not cancel the variance.
template <class T> Stats stats_of(const T* x, int64_t count, int64_t stride, int64_t len) {
  const double shift = count && len ? static_cast<double>(x[0]) : 0.0;
  double s1 = 0, s2 = 0;
  for (int64_t p = 0; p < count; ++p) shifted_sums(x + p * stride, len, shift, s1, s2);
  const double total = static_cast<double>(count * len);
  const double m = s1 / total;
  return {shift + m, std::max(s2 / total - m * m, 0.0)};
}

// The element math runs in double and centres x before scaling: with a mean far from 0,
// x·a + (b − m·a) would cancel in f32.

// y = (x − m)·a + b over one contiguous run.
template <class T> void scale_shift(T* y, const T* x, int64_t len, double m, double a, double b) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) y[i] = static_cast<T>((static_cast<double>(x[i]) - m) * a + b);
}

// Σ dy and Σ dy·(x − m) over one contiguous run, in double.
template <class T> void dot_sums(const T* dy, const T* x, int64_t len, double m, double& sdy, double& sdyx) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < len; ++i) {
    const double d = static_cast<double>(dy[i]);
    a += d;
    b += d * (static_cast<double>(x[i]) - m);
  }
  sdy += a;
  sdyx += b;
}

// dx = dy·k1 + (x − m)·k2 + k3 over one contiguous run (the backward of x̂ in three numbers).
template <class T>
void dx_run(T* dx, const T* dy, const T* x, int64_t len, double m, double k1, double k2, double k3) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i)
    dx[i] = static_cast<T>(static_cast<double>(dy[i]) * k1 + (static_cast<double>(x[i]) - m) * k2 + k3);
}

// One row of group_norm_bwd when every channel holds one element (s = 1, layer norm).
// acc_dbeta/acc_dgamma (per element of the row) are accumulated into when not null.
template <class T>
void layer_norm_row_bwd(T* dx, double* acc_dbeta, double* acc_dgamma, const T* dy, const T* x, const T* gamma,
                        int64_t len, double m, double rs) {
  double a = 0, b = 0;  // Σ dy·γ and Σ dy·γ·(x − m)
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < len; ++i) {
    const double d = static_cast<double>(dy[i]) * (gamma ? static_cast<double>(gamma[i]) : 1.0);
    a += d;
    b += d * (static_cast<double>(x[i]) - m);
  }
  if (acc_dbeta) {
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) {
      acc_dbeta[i] += static_cast<double>(dy[i]);
      acc_dgamma[i] += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - m) * rs;
    }
  }
  if (!dx) return;
  const double k2 = -rs * rs * rs * b / static_cast<double>(len), k3 = -rs * a / static_cast<double>(len);
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) {
    const double ga = gamma ? static_cast<double>(gamma[i]) : 1.0;
    dx[i] = static_cast<T>(static_cast<double>(dy[i]) * rs * ga + (static_cast<double>(x[i]) - m) * k2 + k3);
  }
}

}  // namespace

template <class T>
void group_norm_fwd(T* y, T* mean, T* rstd, const T* x, const T* gamma, const T* beta, int64_t n, int64_t c,
                    int64_t s, int64_t g, double eps) {
  const int64_t cg = c / g, len = cg * s, rows = n * g;
#pragma omp parallel for schedule(static) if (rows * len > kParallelMin && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * len;
    T* yr = y + r * len;
    const Stats st = stats_of(xr, 1, len, len);
    const double rs = 1.0 / std::sqrt(st.var + eps);
    mean[r] = static_cast<T>(st.mean);
    rstd[r] = static_cast<T>(rs);
    const int64_t c0 = (r % g) * cg;
    if (s == 1 && gamma && beta) {  // layer norm: the affine is elementwise, keep it vectorised
      const T* ga = gamma + c0;
      const T* be = beta + c0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i)
        yr[i] = static_cast<T>((static_cast<double>(xr[i]) - st.mean) * rs * ga[i] + be[i]);
      continue;
    }
    for (int64_t k = 0; k < cg; ++k) {
      const double ga = gamma ? static_cast<double>(gamma[c0 + k]) : 1.0;
      const double be = beta ? static_cast<double>(beta[c0 + k]) : 0.0;
      scale_shift(yr + k * s, xr + k * s, s, st.mean, rs * ga, be);
    }
  }
}

template <class T>
void group_norm_bwd(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* rstd,
                    const T* gamma, int64_t n, int64_t c, int64_t s, int64_t g) {
  const int64_t cg = c / g, len = cg * s, rows = n * g;
  const bool want_affine = dgamma || dbeta;
  const int nt = omp_get_max_threads();
  // Per thread: Σ dy (first c) and Σ dy·x̂ (next c) per channel over the rows it owns.
  std::vector<double> acc(want_affine ? static_cast<size_t>(nt) * 2 * static_cast<size_t>(c) : 0, 0.0);
  std::vector<double> sums(static_cast<size_t>(2 * cg) * static_cast<size_t>(nt));
#pragma omp parallel num_threads(nt) if (rows * len > kParallelMin && rows > 1)
  {
    const int t = omp_get_thread_num();
    double* sdy = sums.data() + static_cast<size_t>(2 * cg) * static_cast<size_t>(t);
    double* sdyxh = sdy + cg;
    double* my_acc = want_affine ? acc.data() + static_cast<size_t>(t) * 2 * static_cast<size_t>(c) : nullptr;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * len;
      const T* dyr = dy + r * len;
      const double m = static_cast<double>(mean[r]), rs = static_cast<double>(rstd[r]);
      const int64_t c0 = (r % g) * cg;
      if (s == 1) {  // layer norm: one element per channel, keep the loops flat and vectorised
        layer_norm_row_bwd(dx ? dx + r * len : nullptr, my_acc ? my_acc + c0 : nullptr,
                           my_acc ? my_acc + c + c0 : nullptr, dyr, xr, gamma ? gamma + c0 : nullptr, len, m, rs);
        continue;
      }
      double a = 0, b = 0;  // row sums of dy·γ and dy·γ·x̂
      for (int64_t k = 0; k < cg; ++k) {
        double s1 = 0, s2 = 0;
        dot_sums(dyr + k * s, xr + k * s, s, m, s1, s2);
        sdy[k] = s1;
        sdyxh[k] = rs * s2;
        const double ga = gamma ? static_cast<double>(gamma[c0 + k]) : 1.0;
        a += ga * sdy[k];
        b += ga * sdyxh[k];
      }
      if (my_acc) {
        for (int64_t k = 0; k < cg; ++k) {
          my_acc[c0 + k] += sdy[k];
          my_acc[c + c0 + k] += sdyxh[k];
        }
      }
      if (!dx) continue;
      a /= static_cast<double>(len);
      b /= static_cast<double>(len);
      T* dxr = dx + r * len;
      for (int64_t k = 0; k < cg; ++k) {
        const double ga = gamma ? static_cast<double>(gamma[c0 + k]) : 1.0;
        dx_run(dxr + k * s, dyr + k * s, xr + k * s, s, m, rs * ga, -rs * rs * b, -rs * a);
      }
    }
  }
  if (!want_affine) return;
#pragma omp parallel for schedule(static) if (c * nt > kParallelMin)
  for (int64_t k = 0; k < c; ++k) {
    double s1 = 0, s2 = 0;
    for (int t = 0; t < nt; ++t) {
      s1 += acc[static_cast<size_t>(t) * 2 * static_cast<size_t>(c) + static_cast<size_t>(k)];
      s2 += acc[static_cast<size_t>(t) * 2 * static_cast<size_t>(c) + static_cast<size_t>(c + k)];
    }
    if (dbeta) dbeta[k] = static_cast<T>(s1);
    if (dgamma) dgamma[k] = static_cast<T>(s2);
  }
}

template <class T>
void batch_norm_fwd(T* y, T* mean, T* var, T* rstd, const T* x, const T* gamma, const T* beta, int64_t n,
                    int64_t c, int64_t s, double eps) {
  std::vector<double> coef(static_cast<size_t>(3 * c));  // y = (x − m)·a + b per channel: m, a, b
#pragma omp parallel for schedule(static) if (n * c * s > kParallelMin && c > 1)
  for (int64_t k = 0; k < c; ++k) {
    const Stats st = stats_of(x + k * s, n, c * s, s);
    const double rs = 1.0 / std::sqrt(st.var + eps);
    mean[k] = static_cast<T>(st.mean);
    var[k] = static_cast<T>(st.var);
    rstd[k] = static_cast<T>(rs);
    const double ga = gamma ? static_cast<double>(gamma[k]) : 1.0;
    double* co = coef.data() + 3 * k;
    co[0] = st.mean;
    co[1] = rs * ga;
    co[2] = beta ? static_cast<double>(beta[k]) : 0.0;
  }
#pragma omp parallel for schedule(static) if (n * c * s > kParallelMin && n * c > 1)
  for (int64_t p = 0; p < n * c; ++p) {
    const double* co = coef.data() + 3 * (p % c);
    scale_shift(y + p * s, x + p * s, s, co[0], co[1], co[2]);
  }
}

template <class T>
void batch_norm_bwd(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* rstd,
                    const T* gamma, int64_t n, int64_t c, int64_t s) {
  std::vector<double> coef(static_cast<size_t>(3 * c));  // dx = dy·k1 + (x − m)·k2 + k3 per channel
  const double total = static_cast<double>(n * s);
#pragma omp parallel for schedule(static) if (n * c * s > kParallelMin && c > 1)
  for (int64_t k = 0; k < c; ++k) {
    const double m = static_cast<double>(mean[k]), rs = static_cast<double>(rstd[k]);
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) dot_sums(dy + (i * c + k) * s, x + (i * c + k) * s, s, m, s1, s2);
    const double sdyxh = rs * s2;
    if (dbeta) dbeta[k] = static_cast<T>(s1);
    if (dgamma) dgamma[k] = static_cast<T>(sdyxh);
    const double ga = gamma ? static_cast<double>(gamma[k]) : 1.0;
    double* co = coef.data() + 3 * k;
    co[0] = ga * rs;
    co[1] = -ga * rs * rs * sdyxh / total;
    co[2] = -ga * rs * s1 / total;
  }
  if (!dx) return;
#pragma omp parallel for schedule(static) if (n * c * s > kParallelMin && n * c > 1)
  for (int64_t p = 0; p < n * c; ++p) {
    const int64_t k = p % c;
    const double* co = coef.data() + 3 * k;
    dx_run(dx + p * s, dy + p * s, x + p * s, s, static_cast<double>(mean[k]), co[0], co[1], co[2]);
  }
}

#define LOCO_INSTANTIATE(T)                                                                                  \
  template void group_norm_fwd<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, int64_t,       \
                                  int64_t, double);                                                          \
  template void group_norm_bwd<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,     \
                                  int64_t, int64_t, int64_t);                                                \
  template void batch_norm_fwd<T>(T*, T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, int64_t,   \
                                  double);                                                                   \
  template void batch_norm_bwd<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,     \
                                  int64_t, int64_t);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
