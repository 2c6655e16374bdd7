// 2×2 pooling with stride 2, no padding, floor (as nn.AvgPool2d(2,2) / nn.MaxPool2d(2,2)).
// avg_pool2 and avg_pool2_bwd are each other's adjoint. max_pool2 routes the gradient through
// the saved argmax (a constant), with max_unpool2 / its gather as the closing pair.
#pragma once
#include "engine/tensor.h"

namespace loco {

Tensor avg_pool2(const Tensor& x);
Tensor avg_pool2_bwd(const Tensor& dy, int64_t in_h, int64_t in_w);
Tensor max_pool2(const Tensor& x);

}  // namespace loco
