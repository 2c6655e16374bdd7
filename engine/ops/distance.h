// The condensation distances (spec/condensation.md §3.1 and §4).
//   dm_distance: Σ_c ‖mean_i real[c,i,:] − mean_j syn[c,j,:]‖² with real [K·n_r, d] and
//     syn [K·n_s, d], rows class-major (class c owns a contiguous block).
//   gm_distance: the gradient-matching distance between two lists of parameter gradients:
//     'ours' (per-output-row cosine, 1-D tensors ignored), 'mse' (sum of squares), 'cos'.
// Both are composed from reshape/mean/sum/sub/mul/div/sqrt/affine, so they differentiate twice.
// Norms are √(‖·‖² + 1e-20) so that an all-zero row has a zero (not NaN) gradient, as PyTorch.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace loco {

Tensor dm_distance(const Tensor& real, const Tensor& syn, int64_t classes);
// Its K terms, [K]: class c's alone depends only on class c's rows, so classes can be matched
// by different processes and the terms gathered.
Tensor dm_class_distances(const Tensor& real, const Tensor& syn, int64_t classes);

enum class GmMetric { ours, mse, cos };
GmMetric parse_gm_metric(const std::string& name);  // throws naming the bad value
Tensor gm_distance(const std::vector<Tensor>& g_syn, const std::vector<Tensor>& g_real, GmMetric metric);
// 'ours' for one pair of tensors: Σ_rows 1 − ⟨r,s⟩/(‖r‖‖s‖ + 1e-6) after the spec's reshape.
Tensor gm_distance_rows(const Tensor& g_syn, const Tensor& g_real);

}  // namespace loco
