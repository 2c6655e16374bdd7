// Reductions and their adjoint, expand. sum_to(x, s) sums x down to a broadcast-compatible
// shape s; expand(x, s) broadcasts x up to s. Each is the other's backward.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace loco {

Tensor sum_to(const Tensor& x, const Shape& s);
Tensor expand(const Tensor& x, const Shape& s);
Tensor sum(const Tensor& x);  // all elements → shape []
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

}  // namespace loco
