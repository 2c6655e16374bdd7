// 2×2 pooling with stride 2, no padding, floor (as nn.AvgPool2d(2,2) / nn.MaxPool2d(2,2)):
// x [..., H, W] → [..., ⌊H/2⌋, ⌊W/2⌋]; an odd last row or column is dropped.
// Backward closure:
//   avg_pool2 ↔ avg_pool2_bwd: each is the other's adjoint (both linear).
//   max_pool2 routes the gradient through its saved argmax (a constant i64 tensor):
//   max_pool2 → max_pool2_scatter, max_pool2_scatter ↔ max_pool2_gather (adjoints, linear).
#pragma once
#include "engine/tensor.h"

namespace loco {

Tensor avg_pool2(const Tensor& x);
Tensor avg_pool2_bwd(const Tensor& dy, int64_t in_h, int64_t in_w);
Tensor max_pool2(const Tensor& x);
// index: the i64 argmax of max_pool2 (flat h·W + w within each plane), shaped like dy.
// scatter: zeros [..., in_h, in_w] with dy[p, o] written at index[p, o]; gather: its adjoint.
Tensor max_pool2_scatter(const Tensor& dy, const Tensor& index, int64_t in_h, int64_t in_w);
Tensor max_pool2_gather(const Tensor& g, const Tensor& index);

}  // namespace loco
