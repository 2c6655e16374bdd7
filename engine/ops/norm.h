// Normalisation layers (eps 1e-5, biased variance, as PyTorch).
//   group_norm: per sample and group of C/G channels; γ, β per channel. Instance norm is G = C.
//   layer_norm: per sample over all of C×H×W; γ, β of shape [C,H,W] (elementwise affine).
//   batch_norm: per channel over (N,H,W). Train: batch statistics, and the running averages
//     are updated in place (r ← (1−m)·r + m·batch, running var from the unbiased variance).
//     Eval: the running statistics.
// The backwards are composed from ops when recording (double backward) and run a fused
// kernel otherwise; a test checks the two agree. x̂ is recomputed from x, never saved.
// Backward closure: reshape, mean/sum_to, sub, mul, affine, rsqrt (batch norm in eval mode is
// built from mul/add/rsqrt/reshape, so its backward is theirs).
// Undefined γ/β mean no affine. batch_norm creates the running statistics (0 and 1) when
// they are undefined.
#pragma once
#include "engine/tensor.h"

namespace loco {

constexpr double kNormEps = 1e-5;

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps = kNormEps);
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = kNormEps);

struct BatchNormState {
  Tensor running_mean;  // [C]
  Tensor running_var;   // [C]
  double momentum = 0.1;
};
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, BatchNormState& state,
                  bool training, double eps = kNormEps);

}  // namespace loco
