// What tests share to compare tensors and to make inputs: fresh leaves, the relative L2 error
// and the largest difference (any dtype, any device, accumulated in f64), and expect_close,
// which reports where two results part: the worst index and the first few differing pairs.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace loco::testing {

// A copy of t's data that is a leaf requiring grad (no history).
Tensor leaf(const Tensor& t);

// ‖out − ref‖ / ‖ref‖ (∞ when ‖ref‖ = 0 or out holds a non-finite value).
double rel_error(const Tensor& out, const Tensor& ref);
double max_abs_diff(const Tensor& a, const Tensor& b);
double max_abs(const Tensor& a);

// "worst |out − ref| 0.25 at index 17 [0,2,1,1] (out 1.5, ref 1.25); first differing: [3] 0.1 vs
// 0.2, ...": where two results part, for failure messages.
std::string mismatch_report(const Tensor& out, const Tensor& ref, int pairs = 5);

// Fails on a shape mismatch, a non-finite element of `out`, ‖ref‖ = 0 (a comparison that
// would say nothing) and a relative error above tol, printing mismatch_report.
void expect_close(const Tensor& out, const Tensor& ref, double tol, const std::string& what);

}  // namespace loco::testing
