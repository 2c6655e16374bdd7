// Bilinear resampling with zero padding (spec/augmentation.md §4), the op under DSA's crop,
// flip, scale and rotate. grid is [N, Ho, Wo, 2], the same dtype and device as x, holding per
// output pixel the source position (p_x, p_y) = (column, row) in PIXEL units (not torch's
// normalised [−1, 1]): taps outside the image contribute 0. The grid is a constant: no gradient
// flows to it, and one that requires grad is refused rather than silently given none.
// Backward closure (both linear in their tensor argument, each the other's adjoint):
//   grid_sample(x, grid)                → grid_sample_adjoint(dy, grid, H, W)
//   grid_sample_adjoint(dy, grid, H, W) → grid_sample(g, grid)
#pragma once
#include "engine/tensor.h"

namespace loco {

// x [N, C, H, W] → [N, C, Ho, Wo].
Tensor grid_sample(const Tensor& x, const Tensor& grid);
// dy [N, C, Ho, Wo] → [N, C, in_h, in_w]: scatters each value to its four taps with the
// forward's weights (deterministic).
Tensor grid_sample_adjoint(const Tensor& dy, const Tensor& grid, int64_t in_h, int64_t in_w);

}  // namespace loco
