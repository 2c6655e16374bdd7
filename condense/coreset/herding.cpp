// Herding (the DC author's pseudocode, spec/evaluation.md §3): with μ the class mean of the
// features, pick at step k the unpicked f_i minimising ‖k·μ − Σ_selected f − f_i‖, i.e. the
// one that brings the running mean of the picks closest to μ. In f64 so that near-ties are
// decided by the data, not by rounding.
#include <limits>

#include "condense/coreset/coreset.h"

namespace loco::condense {

std::vector<int64_t> herding_select(const Tensor& features, int64_t k) {
  LOCO_CHECK(features.ndim() == 2, "herding: features must be [n, D], got ", features.shape());
  const int64_t n = features.dim(0), d = features.dim(1);
  LOCO_CHECK(k >= 0 && k <= n, "herding: cannot pick ", k, " of ", n, " images");
  std::vector<double> f(static_cast<size_t>(n * d));
  if (features.dtype() == DType::f64) {
    f = features.to_vector<double>();
  } else {
    const auto v = features.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i) f[i] = v[i];
  }
  std::vector<double> mu(static_cast<size_t>(d), 0.0), picked_sum(static_cast<size_t>(d), 0.0), target(static_cast<size_t>(d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mu[j] += f[i * d + j];
  for (double& m : mu) m /= static_cast<double>(n);
  std::vector<bool> taken(static_cast<size_t>(n), false);
  std::vector<int64_t> picks;
  for (int64_t step = 1; step <= k; ++step) {
    for (int64_t j = 0; j < d; ++j) target[j] = static_cast<double>(step) * mu[j] - picked_sum[j];
    int64_t best = -1;
    double best_dist = std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      double dist = 0.0;
      for (int64_t j = 0; j < d; ++j) {
        const double e = target[j] - f[i * d + j];
        dist += e * e;
      }
      if (dist < best_dist) best_dist = dist, best = i;
    }
    taken[best] = true;
    picks.push_back(best);
    for (int64_t j = 0; j < d; ++j) picked_sum[j] += f[best * d + j];
  }
  return picks;
}

}  // namespace loco::condense
