// Normalisation ops (engine/ops/norm.h): group / instance / layer norm on the group_norm kernels
// (layer norm is one group over C·H·W with an elementwise affine), batch norm on its own pair.
// Shape letters: N batch, C channels, S = H·W (any trailing dims), G groups.
// Each op is one tape node over (x, γ, β). Its backward is the formula
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ;  dγ = Σ dy·x̂;  dβ = Σ dy.
// Not recording, the fused kernel computes it. Recording (the backward will be differentiated
// again: gradient matching, MTT's unroll), dx and dγ still come from the fused kernel, each as
// one op whose own backward is that of the formula in ops, recomputed from (dy, x, γ) with x̂
// from x: the first derivative at kernel speed, keeping only its inputs alive (a long MTT unroll
// kept a dozen activation-sized intermediates per norm and step), the second exactly the
// composed formula's. A third derivative through it is refused, naming the op.
// Ops used in the composed backward: reshape, mean, sum_to, sub, mul, affine, rsqrt (all closed).
// Batch norm in eval mode is a per-channel affine built from ops, so its backward is automatic.
#include "engine/ops/norm.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"
#include "kernels/norm.h"

namespace loco {

using detail::dispatch_float;

namespace {

// Where the statistics of one norm run, in shapes the composed backward can use.
struct NormSpec {
  Shape stats_view;              // x reshaped so that the statistics run over `reduce`
  std::vector<int64_t> reduce;   // dims of stats_view averaged over
  Shape affine_view;             // γ, β reshaped to broadcast against x (aligned right)
};

Shape with_leading_one(const Shape& s) {
  std::vector<int64_t> d{1};
  d.insert(d.end(), s.dims().begin(), s.dims().end());
  return Shape(std::move(d));
}

// [C, 1, …, 1]: a per-channel vector broadcast against x [N, C, …].
Shape channel_view(const Tensor& x) {
  std::vector<int64_t> d(static_cast<size_t>(x.ndim() - 1), 1);
  d[0] = x.dim(1);
  return Shape(std::move(d));
}

// The backward in differentiable ops, for recording (double backward).
std::vector<Tensor> norm_backward_composed(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                                           const Shape& beta_shape, const NormSpec& sp, double eps,
                                           const NeedsGrad& needs) {
  const Tensor xs = reshape(x, sp.stats_view);
  const Tensor xc = xs - mean(xs, sp.reduce, true);
  const Tensor rstd = rsqrt(mean(xc * xc, sp.reduce, true) + eps);
  const Tensor xhat = xc * rstd;
  Tensor dx, dgamma, dbeta;
  if (needs[0]) {
    const Tensor g = reshape(gamma.defined() ? dy * reshape(gamma, sp.affine_view) : dy, sp.stats_view);
    const Tensor inner = g - mean(g, sp.reduce, true) - xhat * mean(g * xhat, sp.reduce, true);
    dx = reshape(rstd * inner, x.shape());
  }
  const Shape keep = with_leading_one(sp.affine_view);
  if (needs[1]) dgamma = reshape(sum_to(dy * reshape(xhat, x.shape()), keep), gamma.shape());
  if (needs[2]) dbeta = reshape(sum_to(dy, keep), beta_shape);
  return {dx, dgamma, dbeta};
}

// The composed formula's vector-Jacobian product for output `which` (0: dx, 1: dγ) with respect
// to the node's first `inputs` of (dy, x, γ), on detached copies: partial derivatives, as a
// node's backward needs.
std::vector<Tensor> composed_vjp(const char* name, int which, const Tensor& seed, const Tensor& dy_in,
                                 const Tensor& x_in, const Tensor& gamma_in, size_t inputs, const NeedsGrad& needs,
                                 const Shape& beta_shape, const NormSpec& sp, double eps) {
  LOCO_CHECK(!grad_enabled(), name, ": a third derivative through the norm's backward is not supported");
  GradModeGuard on(true);
  const std::vector<Tensor> in{dy_in, x_in, gamma_in};
  std::vector<Tensor> leaves;
  for (const Tensor& t : in) leaves.push_back(t.defined() ? t.detach().requires_grad_() : Tensor());
  NeedsGrad only;
  only[static_cast<size_t>(which)] = true;
  const Tensor y = norm_backward_composed(leaves[0], leaves[1], leaves[2], beta_shape, sp, eps, only)[static_cast<size_t>(which)];
  std::vector<Tensor> wrt;
  for (size_t i = 0; i < inputs; ++i)
    if (needs[i] && leaves[i].defined()) wrt.push_back(leaves[i]);
  const std::vector<Tensor> g = wrt.empty() ? std::vector<Tensor>{} : grad(y, wrt, {.allow_unused = true, .seed = seed});
  std::vector<Tensor> out(inputs);
  size_t k = 0;
  for (size_t i = 0; i < inputs; ++i) {
    if (!(needs[i] && leaves[i].defined())) continue;
    out[i] = g[k].defined() ? g[k] : zeros_like(in[i]);
    ++k;
  }
  return out;
}

void check_affine(const Tensor& x, const Tensor& p, const Shape& want, const char* op, const char* what) {
  if (!p.defined()) return;
  detail::check_same(x, p, op);
  LOCO_CHECK(p.shape() == want, op, ": ", what, " must have shape ", want, " for input ", x.shape(), ", got ",
             p.shape());
}

template <class T> const T* data_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <class T> T* out_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// Group norm over x viewed as [n, c, s] with g groups (layer norm: c = C·H·W, s = 1, g = 1).
Tensor group_norm_impl(const char* name, const Tensor& x, int64_t n, int64_t c, int64_t s, int64_t g,
                       const Tensor& gamma, const Tensor& beta, double eps, const NormSpec& spec) {
  Tensor y = empty_like(x);
  Tensor mean_t = empty(Shape{n * g}, x.dtype(), x.device());
  Tensor rstd_t = empty(Shape{n * g}, x.dtype(), x.device());
  dispatch_float(x.dtype(), name, [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, group_norm_fwd, y.data<T>(), mean_t.data<T>(), rstd_t.data<T>(), x.data<T>(),
                  data_or_null<T>(gamma), data_or_null<T>(beta), n, c, s, g, eps);
  });
  const Shape beta_shape = beta.defined() ? beta.shape() : Shape{};
  return record(name, y, {x, gamma, beta},
                [=, mean_t = detail::saved_data(mean_t), rstd_t = detail::saved_data(rstd_t)](
                    const Tensor& dy, const NeedsGrad& needs) {
                  const bool recording = grad_enabled();
                  Tensor dx = needs[0] ? empty_like(x) : Tensor();
                  Tensor dgamma = needs[1] ? empty_like(gamma) : Tensor();
                  Tensor dbeta = needs[2] && !recording ? empty(beta_shape, x.dtype(), x.device()) : Tensor();
                  dispatch_float(x.dtype(), name, [&]<class T>() {
                    LOCO_DISPATCH(x.device(), T, group_norm_bwd, out_or_null<T>(dx), out_or_null<T>(dgamma),
                                  out_or_null<T>(dbeta), dy.data<T>(), x.data<T>(), mean_t.data<T>(),
                                  rstd_t.data<T>(), data_or_null<T>(gamma), n, c, s, g);
                  });
                  if (!recording) return std::vector<Tensor>{dx, dgamma, dbeta};
                  if (needs[0])
                    dx = record("group_norm_bwd_data", dx, {dy, x, gamma}, [=](const Tensor& seed, const NeedsGrad& nn) {
                      return composed_vjp(name, 0, seed, dy, x, gamma, 3, nn, beta_shape, spec, eps);
                    });
                  if (needs[1])
                    dgamma = record("group_norm_bwd_gamma", dgamma, {dy, x}, [=](const Tensor& seed, const NeedsGrad& nn) {
                      return composed_vjp(name, 1, seed, dy, x, gamma, 2, nn, beta_shape, spec, eps);
                    });
                  if (needs[2]) dbeta = reshape(sum_to(dy, with_leading_one(spec.affine_view)), beta_shape);
                  return std::vector<Tensor>{dx, dgamma, dbeta};
                });
}

}  // namespace

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps) {
  detail::check_floating(x, "group_norm");
  LOCO_CHECK(x.ndim() >= 2, "group_norm: input must be [N, C, ...], got ", x.shape());
  const int64_t n = x.dim(0), c = x.dim(1), s = n * c > 0 ? x.numel() / (n * c) : 0;
  LOCO_CHECK(groups >= 1 && c % groups == 0, "group_norm: ", c, " channels (input ", x.shape(),
             ") do not split into ", groups, " groups");
  check_affine(x, gamma, Shape{c}, "group_norm", "gamma");
  check_affine(x, beta, Shape{c}, "group_norm", "beta");
  const NormSpec spec{Shape{n, groups, -1}, {2}, channel_view(x)};
  return group_norm_impl("group_norm", x, n, c, s, groups, gamma, beta, eps, spec);
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  detail::check_floating(x, "layer_norm");
  LOCO_CHECK(x.ndim() >= 2, "layer_norm: input must be [N, C, ...], got ", x.shape());
  const Shape per_sample(std::vector<int64_t>(x.shape().dims().begin() + 1, x.shape().dims().end()));
  check_affine(x, gamma, per_sample, "layer_norm", "gamma");
  check_affine(x, beta, per_sample, "layer_norm", "beta");
  const int64_t n = x.dim(0);
  const NormSpec spec{Shape{n, 1, -1}, {2}, per_sample};
  return group_norm_impl("layer_norm", x, n, per_sample.numel(), 1, 1, gamma, beta, eps, spec);
}

namespace {

// Eval mode: y = x·scale + shift with scale = γ/√(r_var + eps) and shift = β − r_mean·scale,
// a per-channel affine made of ops (its backward is automatic).
Tensor batch_norm_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const BatchNormState& st,
                       double eps) {
  LOCO_CHECK(st.running_mean.defined() && st.running_var.defined(),
             "batch_norm: eval mode needs running statistics (run it in training mode first)");
  const Tensor rs = rsqrt(st.running_var.detach() + eps);
  const Tensor scale = gamma.defined() ? gamma * rs : rs;
  Tensor shift = neg(st.running_mean.detach() * scale);
  if (beta.defined()) shift = beta + shift;
  const Shape cv = channel_view(x);
  return x * reshape(scale, cv) + reshape(shift, cv);
}

// r ← (1 − m)·r + m·batch, written into the state's own storage (views of it stay valid).
void update_running(Tensor& running, const Tensor& batch, double momentum, double unbias, const Tensor& x,
                    double init) {
  const int64_t c = batch.numel();
  if (!running.defined()) running = full(Shape{c}, init, x.dtype(), x.device());
  LOCO_CHECK(running.shape() == Shape{c} && running.dtype() == x.dtype() && running.device() == x.device(),
             "batch_norm: running statistic ", running.dtype(), " ", running.shape(), " on ", running.device(),
             " does not match ", c, " channels of ", x.dtype(), " on ", x.device());
  const Tensor next = affine(running, 1.0 - momentum, 0.0) + batch * (momentum * unbias);
  copy_bytes(running.raw(), running.device(), next.raw(), next.device(), next.nbytes());
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, BatchNormState& state, bool training,
                  double eps) {
  detail::check_floating(x, "batch_norm");
  LOCO_CHECK(x.ndim() >= 2, "batch_norm: input must be [N, C, ...], got ", x.shape());
  const int64_t n = x.dim(0), c = x.dim(1), s = n * c > 0 ? x.numel() / (n * c) : 0;
  check_affine(x, gamma, Shape{c}, "batch_norm", "gamma");
  check_affine(x, beta, Shape{c}, "batch_norm", "beta");
  if (!training) return batch_norm_eval(x, gamma, beta, state, eps);
  const int64_t count = n * s;
  LOCO_CHECK(count > 1, "batch_norm: training needs more than one value per channel, got input ", x.shape());

  Tensor y = empty_like(x);
  Tensor mean_t = empty(Shape{c}, x.dtype(), x.device());
  Tensor var_t = empty(Shape{c}, x.dtype(), x.device());
  Tensor rstd_t = empty(Shape{c}, x.dtype(), x.device());
  dispatch_float(x.dtype(), "batch_norm", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, batch_norm_fwd, y.data<T>(), mean_t.data<T>(), var_t.data<T>(),
                  rstd_t.data<T>(), x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), n, c, s, eps);
  });
  {
    NoGradGuard no_grad;
    // PyTorch tracks the unbiased variance while normalising with the biased one.
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    update_running(state.running_mean, mean_t, state.momentum, 1.0, x, 0.0);
    update_running(state.running_var, var_t, state.momentum, unbias, x, 1.0);
  }

  const NormSpec spec{Shape{n, c, -1}, {0, 2}, channel_view(x)};
  const Shape beta_shape = beta.defined() ? beta.shape() : Shape{};
  return record("batch_norm", y, {x, gamma, beta},
                [=, mean_t = detail::saved_data(mean_t), rstd_t = detail::saved_data(rstd_t)](
                    const Tensor& dy, const NeedsGrad& needs) {
                  if (grad_enabled()) return norm_backward_composed(dy, x, gamma, beta_shape, spec, eps, needs);
                  Tensor dx = needs[0] ? empty_like(x) : Tensor();
                  Tensor dgamma = needs[1] ? empty_like(gamma) : Tensor();
                  Tensor dbeta = needs[2] ? empty(beta_shape, x.dtype(), x.device()) : Tensor();
                  dispatch_float(x.dtype(), "batch_norm", [&]<class T>() {
                    LOCO_DISPATCH(x.device(), T, batch_norm_bwd, out_or_null<T>(dx), out_or_null<T>(dgamma),
                                  out_or_null<T>(dbeta), dy.data<T>(), x.data<T>(), mean_t.data<T>(),
                                  rstd_t.data<T>(), data_or_null<T>(gamma), n, c, s);
                  });
                  return std::vector<Tensor>{dx, dgamma, dbeta};
                });
}

}  // namespace loco
