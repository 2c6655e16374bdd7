// conv2d and its two backward convolutions as differentiable ops (see engine/ops/conv2d.h for
// how the three close each other). Shape letters: N batch, C in channels, H×W input, K out
// channels, R×S kernel, P×Q output. The kernels are in kernels/conv2d.h.
#include "engine/ops/conv2d.h"

#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"
#include "kernels/conv2d.h"

namespace loco {

using detail::dispatch_float;

namespace {

void check_opts(const Conv2dOpts& o, const char* op) {
  LOCO_CHECK(o.stride >= 1, op, ": stride must be ≥ 1, got ", o.stride);
  LOCO_CHECK(o.padding >= 0, op, ": padding must be ≥ 0, got ", o.padding);
}

// The kernel shape of a convolution of an N×C×H×W input with a K×C×R×S weight; checks that
// the kernel fits the padded input.
kernels::Conv2dShape conv_shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                                const Conv2dOpts& o, const char* op) {
  kernels::Conv2dShape s{N, C, H, W, K, R, S, o.stride, o.padding, 0, 0};
  LOCO_CHECK(R >= 1 && S >= 1 && H + 2 * o.padding >= R && W + 2 * o.padding >= S, op, ": a ", R, "×", S,
             " kernel does not fit a ", H, "×", W, " input with padding ", o.padding);
  s.P = kernels::conv_out_size(H, R, o.stride, o.padding);
  s.Q = kernels::conv_out_size(W, S, o.stride, o.padding);
  return s;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv2dOpts o) {
  const char* op = "conv2d";
  detail::check_same(x, w, op);
  detail::check_ndim(x, 4, op, "input x (N×C×H×W)");
  detail::check_ndim(w, 4, op, "weight w (K×C×R×S)");
  check_opts(o, op);
  LOCO_CHECK(x.dim(1) == w.dim(1), op, ": input x ", x.shape(), " has ", x.dim(1), " channels but weight w ",
             w.shape(), " expects ", w.dim(1));
  const bool has_bias = bias.defined();
  if (has_bias) {
    detail::check_same(x, bias, op);
    LOCO_CHECK(bias.ndim() == 1 && bias.dim(0) == w.dim(0), op, ": bias ", bias.shape(), " must be [",
               w.dim(0), "] for weight w ", w.shape());
  }
  const auto s = conv_shape(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3), o, op);
  Tensor y = empty(Shape{s.N, s.K, s.P, s.Q}, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&]<class T>() {
    const T* b = has_bias ? bias.data<T>() : nullptr;
    LOCO_DISPATCH(x.device(), T, conv2d_fwd, y.data<T>(), x.data<T>(), w.data<T>(), b, s);
  });
  auto inputs = has_bias ? std::vector<Tensor>{x, w, bias} : std::vector<Tensor>{x, w};
  return record(op, y, inputs, [x, w, o, has_bias](const Tensor& dy, const NeedsGrad& needs) {
    std::vector<Tensor> g(has_bias ? 3 : 2);
    if (needs[0]) g[0] = conv2d_bwd_data(dy, w, x.dim(2), x.dim(3), o);
    if (needs[1]) g[1] = conv2d_bwd_weight(x, dy, w.dim(2), w.dim(3), o);
    if (has_bias && needs[2]) g[2] = sum(dy, {0, 2, 3});
    return g;
  });
}

Tensor conv2d_bwd_data(const Tensor& dy, const Tensor& w, int64_t in_h, int64_t in_w, Conv2dOpts o) {
  const char* op = "conv2d_bwd_data";
  detail::check_same(dy, w, op);
  detail::check_ndim(dy, 4, op, "output gradient dy (N×K×P×Q)");
  detail::check_ndim(w, 4, op, "weight w (K×C×R×S)");
  check_opts(o, op);
  LOCO_CHECK(dy.dim(1) == w.dim(0), op, ": dy ", dy.shape(), " has ", dy.dim(1), " channels but weight w ",
             w.shape(), " has ", w.dim(0), " filters");
  const auto s = conv_shape(dy.dim(0), w.dim(1), in_h, in_w, w.dim(0), w.dim(2), w.dim(3), o, op);
  LOCO_CHECK(s.P == dy.dim(2) && s.Q == dy.dim(3), op, ": dy ", dy.shape(), " is not the output of a ", in_h,
             "×", in_w, " input under weight w ", w.shape(), ", stride ", o.stride, ", padding ", o.padding,
             " (that gives ", s.P, "×", s.Q, ")");
  Tensor dx = empty(Shape{s.N, s.C, s.H, s.W}, dy.dtype(), dy.device());
  dispatch_float(dy.dtype(), op, [&]<class T>() {
    LOCO_DISPATCH(dy.device(), T, conv2d_bwd_data, dx.data<T>(), dy.data<T>(), w.data<T>(), s);
  });
  // ⟨g, bwd_data(dy, w)⟩ = ⟨dy, conv2d(g, w)⟩: bilinear in (dy, w).
  return record(op, dx, {dy, w}, [dy, w, o](const Tensor& g, const NeedsGrad& needs) {
    return std::vector<Tensor>{needs[0] ? conv2d(g, w, Tensor(), o) : Tensor(),
                               needs[1] ? conv2d_bwd_weight(g, dy, w.dim(2), w.dim(3), o) : Tensor()};
  });
}

Tensor conv2d_bwd_weight(const Tensor& x, const Tensor& dy, int64_t kh, int64_t kw, Conv2dOpts o) {
  const char* op = "conv2d_bwd_weight";
  detail::check_same(x, dy, op);
  detail::check_ndim(x, 4, op, "input x (N×C×H×W)");
  detail::check_ndim(dy, 4, op, "output gradient dy (N×K×P×Q)");
  check_opts(o, op);
  LOCO_CHECK(x.dim(0) == dy.dim(0), op, ": input x ", x.shape(), " and dy ", dy.shape(), " differ in batch size");
  const auto s = conv_shape(x.dim(0), x.dim(1), x.dim(2), x.dim(3), dy.dim(1), kh, kw, o, op);
  LOCO_CHECK(s.P == dy.dim(2) && s.Q == dy.dim(3), op, ": dy ", dy.shape(), " is not the output of input x ",
             x.shape(), " under a ", kh, "×", kw, " kernel, stride ", o.stride, ", padding ", o.padding,
             " (that gives ", s.P, "×", s.Q, ")");
  Tensor dw = empty(Shape{s.K, s.C, s.R, s.S}, x.dtype(), x.device());
  dispatch_float(x.dtype(), op, [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, conv2d_bwd_weight, dw.data<T>(), x.data<T>(), dy.data<T>(), s);
  });
  // ⟨g, bwd_weight(x, dy)⟩ = ⟨dy, conv2d(x, g)⟩: bilinear in (x, dy).
  return record(op, dw, {x, dy}, [x, dy, o](const Tensor& g, const NeedsGrad& needs) {
    return std::vector<Tensor>{needs[0] ? conv2d_bwd_data(dy, g, x.dim(2), x.dim(3), o) : Tensor(),
                               needs[1] ? conv2d(x, g, Tensor(), o) : Tensor()};
  });
}

void set_conv_algo(const std::string& name) {
  std::string names;
  for (kernels::ConvAlgo a : kernels::kConvAlgos) {
    if (name == kernels::conv_algo_name(a)) return kernels::cpu::set_conv_algo(a);
    names += std::string(names.empty() ? "" : ", ") + kernels::conv_algo_name(a);
  }
  LOCO_FAIL("--conv-algo: expected one of ", names, ", got '", name, "'");
}

std::string conv_algo() { return kernels::conv_algo_name(kernels::cpu::conv_algo()); }

std::vector<std::pair<std::string, int64_t>> conv_algo_calls() {
  int64_t calls[4];
  kernels::cpu::conv_algo_calls(calls);
  std::vector<std::pair<std::string, int64_t>> v;
  for (int i = 1; i < 4; ++i) v.emplace_back(kernels::conv_algo_name(kernels::kConvAlgos[i]), calls[i]);
  return v;
}

}  // namespace loco
