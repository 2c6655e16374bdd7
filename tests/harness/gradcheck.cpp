#include "tests/harness/gradcheck.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loco::testing {
namespace {

std::vector<Tensor> leaves(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  for (const auto& x : xs) {
    Tensor c = x.clone();
    if (is_floating(c.dtype())) c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

bool diff(const CheckOptions& o, size_t i) { return i >= o.skip.size() || !o.skip[i]; }

// Evaluates `scalar(xs)` with input k moved by t·dir.
template <class S> double eval_shifted(const S& scalar, const std::vector<Tensor>& xs, size_t k, const Tensor& dir, double t) {
  std::vector<Tensor> moved;
  for (size_t i = 0; i < xs.size(); ++i) {
    Tensor c = xs[i].detach().clone();
    if (i == k) {
      auto v = c.to_vector<double>();
      auto d = dir.to_vector<double>();
      for (size_t j = 0; j < v.size(); ++j) v[j] += t * d[j];
      c = from_vector(v, c.shape());
    }
    if (is_floating(c.dtype())) c.requires_grad_();
    moved.push_back(c);
  }
  return scalar(moved);
}

// Directions to probe for input k: unit vectors when small, random ones otherwise.
std::vector<Tensor> directions(const Tensor& x, const CheckOptions& o, uint64_t stream) {
  std::vector<Tensor> dirs;
  if (x.numel() <= o.full_limit) {
    for (int64_t j = 0; j < x.numel(); ++j) {
      std::vector<double> e(static_cast<size_t>(x.numel()), 0.0);
      e[static_cast<size_t>(j)] = 1.0;
      dirs.push_back(from_vector(e, x.shape()));
    }
  } else {
    for (int d = 0; d < o.directions; ++d) dirs.push_back(randn64(x.shape(), stream * 101 + static_cast<uint64_t>(d)));
  }
  return dirs;
}

void compare(const char* what, size_t k, size_t d, double analytic, double numeric, double scale, double tol) {
  const double err = std::abs(analytic - numeric) / std::max(1.0, std::max(std::abs(numeric), scale));
  EXPECT_LE(err, tol) << what << ": input " << k << ", direction " << d << ": analytic " << analytic
                      << " vs numeric " << numeric;
}

}  // namespace

Tensor randn64(const Shape& s, uint64_t stream, double scale) {
  Generator g(0x10C0, stream);
  return rand_normal(s, g, 0.0, scale, DType::f64);
}
Tensor randu64(const Shape& s, uint64_t stream, double lo, double hi) {
  Generator g(0x10C0, stream);
  return rand_uniform(s, g, lo, hi, DType::f64);
}
double dot(const Tensor& a, const Tensor& b) {
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  LOCO_CHECK(va.size() == vb.size(), "dot: ", a.shape(), " and ", b.shape());
  double s = 0;
  for (size_t i = 0; i < va.size(); ++i) s += va[i] * vb[i];
  return s;
}

Tensor rand_away_from_zero(const Shape& s, uint64_t stream, double margin) {
  auto v = randu64(s, stream, margin, 1.0).to_vector<double>();
  auto sign = randu64(s, stream + 7777, 0.0, 1.0).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = sign[i] < 0.5 ? -v[i] : v[i];
  return from_vector(v, s);
}

void expect_gradcheck(const Fn& f, const std::vector<Tensor>& xs_in, const CheckOptions& o) {
  auto xs = leaves(xs_in);
  Tensor y0 = f(xs);
  ASSERT_EQ(y0.dtype(), DType::f64) << "gradcheck runs in f64";
  const Tensor v = randn64(y0.shape(), o.seed);
  auto scalar = [&](const std::vector<Tensor>& in) { return dot(f(in).detach(), v); };
  Tensor L = sum(mul(y0, v));
  std::vector<Tensor> want;
  for (size_t i = 0; i < xs.size(); ++i)
    if (diff(o, i) && is_floating(xs[i].dtype())) want.push_back(xs[i]);
  auto gs = grad(L, want, {.allow_unused = true});
  size_t w = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    if (!diff(o, k) || !is_floating(xs[k].dtype())) continue;
    Tensor g = gs[w++];
    if (!g.defined()) g = zeros_like(xs[k]);
    const double scale = std::sqrt(dot(g, g) / std::max<int64_t>(g.numel(), 1));
    auto dirs = directions(xs[k], o, o.seed + k);
    for (size_t d = 0; d < dirs.size(); ++d) {
      const double num = (eval_shifted(scalar, xs, k, dirs[d], o.eps) - eval_shifted(scalar, xs, k, dirs[d], -o.eps)) / (2 * o.eps);
      compare("gradcheck", k, d, dot(g, dirs[d]), num, scale, o.tol);
    }
  }
}

void expect_gradgradcheck(const Fn& f, const std::vector<Tensor>& xs_in, const CheckOptions& o) {
  auto xs = leaves(xs_in);
  std::vector<size_t> idx;
  for (size_t i = 0; i < xs.size(); ++i)
    if (diff(o, i) && is_floating(xs[i].dtype())) idx.push_back(i);
  const Tensor v = randn64(f(xs).shape(), o.seed);
  std::vector<Tensor> us;
  for (size_t i : idx) us.push_back(randn64(xs[i].shape(), o.seed + 500 + i));

  // S(x) = Σ ⟨u_i, ∇_i ⟨v, f(x)⟩⟩, differentiable when create_graph is set.
  auto S = [&](const std::vector<Tensor>& in, bool create_graph) {
    std::vector<Tensor> want;
    for (size_t i : idx) want.push_back(in[i]);
    Tensor L = sum(mul(f(in), v));
    auto gs = grad(L, want, {.create_graph = create_graph, .allow_unused = true});
    Tensor s = zeros(Shape{}, DType::f64);
    for (size_t j = 0; j < gs.size(); ++j)
      if (gs[j].defined()) s = add(s, sum(mul(gs[j], us[j])));
    return s;
  };
  Tensor s = S(xs, true);
  if (!s.requires_grad()) {
    ADD_FAILURE() << "gradgradcheck: the gradient does not depend on the inputs (a linear function?)";
    return;
  }
  std::vector<Tensor> want;
  for (size_t i : idx) want.push_back(xs[i]);
  auto gg = grad(s, want, {.allow_unused = true});
  auto scalar = [&](const std::vector<Tensor>& in) { return S(in, false).item<double>(); };
  for (size_t j = 0; j < idx.size(); ++j) {
    const size_t k = idx[j];
    Tensor g = gg[j].defined() ? gg[j] : zeros_like(xs[k]);
    const double scale = std::sqrt(dot(g, g) / std::max<int64_t>(g.numel(), 1));
    auto dirs = directions(xs[k], o, o.seed + 900 + k);
    for (size_t d = 0; d < dirs.size(); ++d) {
      const double num = (eval_shifted(scalar, xs, k, dirs[d], o.eps) - eval_shifted(scalar, xs, k, dirs[d], -o.eps)) / (2 * o.eps);
      compare("gradgradcheck", k, d, dot(g, dirs[d]), num, scale, o.tol);
    }
  }
}

}  // namespace loco::testing
