// Gradient checks in f64 on the CPU (central differences).
//   expect_gradcheck(f, xs): for L(x) = ⟨v, f(x)⟩ with a fixed random v, compares backward()'s
//     dL/dx_i with finite differences: the full Jacobian row for small inputs, random
//     directions for large ones.
//   expect_gradgradcheck(f, xs): for S(x) = Σ_i ⟨u_i, ∇_{x_i} L(x)⟩ (the gradient computed with
//     create_graph), compares dS/dx with finite differences of the first-order gradient.
// Inputs are f64 leaves; the harness marks them requires_grad itself.
#pragma once
#include <functional>
#include <vector>

#include "engine/ops.h"
#include "engine/rng.h"

namespace loco::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct CheckOptions {
  double eps = 1e-6;
  double tol = 1e-5;          // relative error allowed
  int full_limit = 48;        // inputs up to this many elements get every coordinate checked
  int directions = 4;         // random directions for larger inputs
  uint64_t seed = 1234;
  std::vector<bool> skip;     // skip[i]: input i is not differentiated (e.g. not an input of interest)
};

void expect_gradcheck(const Fn& f, const std::vector<Tensor>& xs, const CheckOptions& o = {});
void expect_gradgradcheck(const Fn& f, const std::vector<Tensor>& xs, const CheckOptions& o = {});

// Philox-filled f64 tensors, one stream per call site via `stream`.
Tensor randn64(const Shape& s, uint64_t stream, double scale = 1.0);
Tensor randu64(const Shape& s, uint64_t stream, double lo, double hi);
// Uniform in ±[margin, 1]: values kept away from relu/step kinks at 0.
Tensor rand_away_from_zero(const Shape& s, uint64_t stream, double margin = 0.1);
// ⟨a, b⟩ of two f64 tensors of equal size (adjointness checks: ⟨A x, y⟩ = ⟨x, Aᵀ y⟩).
double dot(const Tensor& a, const Tensor& b);

}  // namespace loco::testing
