// CPU twin of kernels/loss.h. Rows are short (K is 10–200), so threads split rows only
// for large batches; the batch mean of the loss is summed in row order (deterministic).
#include "kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace loco::kernels::cpu {
namespace {

constexpr int64_t kParallelMin = 1 << 15;  // elements; below this one thread is faster

// log Σ_j exp(x_j), shifted by the row max.
template <class T> double log_sum_exp(const T* x, int64_t k) {
  double mx = -INFINITY;
  for (int64_t j = 0; j < k; ++j) mx = std::max(mx, static_cast<double>(x[j]));
  if (std::isinf(mx)) return mx;  // all −inf (or a +inf): no finite shift exists
  double s = 0;
  for (int64_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(x[j]) - mx);
  return mx + std::log(s);
}

}  // namespace

template <class T> void log_softmax_fwd(T* y, const T* x, int64_t n, int64_t k) {
#pragma omp parallel for schedule(static) if (n * k > kParallelMin && n > 1)
  for (int64_t i = 0; i < n; ++i) {
    const double lse = log_sum_exp(x + i * k, k);
    for (int64_t j = 0; j < k; ++j) y[i * k + j] = static_cast<T>(static_cast<double>(x[i * k + j]) - lse);
  }
}

template <class T> void cross_entropy_fwd(T* loss, const T* x, const int64_t* labels, int64_t n, int64_t k) {
  std::vector<double> per_row(static_cast<size_t>(n));
#pragma omp parallel for schedule(static) if (n * k > kParallelMin && n > 1)
  for (int64_t i = 0; i < n; ++i)
    per_row[static_cast<size_t>(i)] = log_sum_exp(x + i * k, k) - static_cast<double>(x[i * k + labels[i]]);
  double s = 0;
  for (double v : per_row) s += v;
  loss[0] = static_cast<T>(s / static_cast<double>(n));
}

template <class T> void pick_fwd(T* y, const T* x, const int64_t* labels, int64_t n, int64_t k) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i * k + labels[i]];
}

template <class T> void unpick_fwd(T* y, const T* v, const int64_t* labels, int64_t n, int64_t k) {
  for (int64_t i = 0; i < n * k; ++i) y[i] = T(0);
  for (int64_t i = 0; i < n; ++i) y[i * k + labels[i]] = v[i];
}

template <class T> void argmax_rows(int64_t* out, const T* x, int64_t n, int64_t k) {
  for (int64_t i = 0; i < n; ++i) {
    const T* r = x + i * k;
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j)
      if (r[j] > r[best]) best = j;
    out[i] = best;
  }
}

#define LOCO_INSTANTIATE(T)                                                                  \
  template void log_softmax_fwd<T>(T*, const T*, int64_t, int64_t);                          \
  template void cross_entropy_fwd<T>(T*, const T*, const int64_t*, int64_t, int64_t);        \
  template void pick_fwd<T>(T*, const T*, const int64_t*, int64_t, int64_t);                 \
  template void unpick_fwd<T>(T*, const T*, const int64_t*, int64_t, int64_t);               \
  template void argmax_rows<T>(int64_t*, const T*, int64_t, int64_t);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
