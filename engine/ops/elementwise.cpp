#include "engine/ops/elementwise.h"

#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"

namespace loco {

using detail::dispatch_float;
using kernels::BinaryOp;
using kernels::UnaryOp;

Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  const int64_t n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> d(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.ndim() ? 1 : a[i - (n - a.ndim())];
    const int64_t db = i < n - b.ndim() ? 1 : b[i - (n - b.ndim())];
    LOCO_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b, " do not broadcast");
    d[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(d));
}

namespace detail {
kernels::Strided broadcast_strides(const Shape& out, const Shape& a, const Shape& b) {
  const int64_t n = out.ndim();
  auto strides_of = [&](const Shape& in) {
    std::vector<int64_t> st(static_cast<size_t>(n), 0);
    int64_t s = 1;
    for (int64_t i = n - 1; i >= 0; --i) {
      const int64_t k = i - (n - in.ndim());
      if (k < 0) continue;
      st[static_cast<size_t>(i)] = in[k] == 1 && out[i] != 1 ? 0 : s;
      s *= in[k];
    }
    return st;
  };
  const auto sa = strides_of(a), sb = strides_of(b);
  kernels::Strided s;
  for (int64_t i = 0; i < n; ++i) {
    if (out[i] == 1) continue;  // size-1 dims carry no information
    const auto k = static_cast<size_t>(i);
    if (s.ndim > 0) {
      const int j = s.ndim - 1;
      // Merge with the previous dim when both inputs stay contiguous (or broadcast) across it.
      const bool a_ok = (sa[k] == 0 && s.sa[j] == 0) || (sa[k] != 0 && s.sa[j] == sa[k] * out[i]);
      const bool b_ok = (sb[k] == 0 && s.sb[j] == 0) || (sb[k] != 0 && s.sb[j] == sb[k] * out[i]);
      if (a_ok && b_ok) {
        s.dims[j] *= out[i];
        s.sa[j] = sa[k];
        s.sb[j] = sb[k];
        continue;
      }
    }
    LOCO_CHECK(s.ndim < kernels::kMaxDims, "broadcast: more than ", kernels::kMaxDims, " dims in ", out);
    s.dims[s.ndim] = out[i];
    s.sa[s.ndim] = sa[k];
    s.sb[s.ndim] = sb[k];
    ++s.ndim;
  }
  return s;
}
}  // namespace detail

namespace {

Tensor binary(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  detail::check_same(a, b, name);
  const Shape out = broadcast_shape(a.shape(), b.shape(), name);
  Tensor y = empty(out, a.dtype(), a.device());
  const auto s = detail::broadcast_strides(out, a.shape(), b.shape());
  dispatch_float(a.dtype(), name, [&]<class T>() {
    LOCO_DISPATCH(a.device(), T, binary_fwd, op, y.data<T>(), a.data<T>(), b.data<T>(), s);
  });
  return y;
}

Tensor unary(UnaryOp op, const char* name, const Tensor& x, double p0 = 0, double p1 = 0) {
  detail::check_floating(x, name);
  Tensor y = empty_like(x);
  dispatch_float(x.dtype(), name, [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, unary_fwd, op, y.data<T>(), x.data<T>(), x.numel(), p0, p1);
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return record("add", binary(BinaryOp::add, "add", a, b), {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& dy, const NeedsGrad& n) {
    return std::vector<Tensor>{n[0] ? sum_to(dy, sa) : Tensor(), n[1] ? sum_to(dy, sb) : Tensor()};
  });
}

void add_into(const Tensor& y, const Tensor& x) {
  detail::check_same(y, x, "add_into");
  LOCO_CHECK(y.shape() == x.shape(), "add_into: shapes ", y.shape(), " and ", x.shape(), " differ");
  const auto s = detail::broadcast_strides(y.shape(), y.shape(), x.shape());
  dispatch_float(y.dtype(), "add_into", [&]<class T>() {
    LOCO_DISPATCH(y.device(), T, binary_fwd, BinaryOp::add, y.data<T>(), y.data<T>(), x.data<T>(), s);
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record("sub", binary(BinaryOp::sub, "sub", a, b), {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& dy, const NeedsGrad& n) {
    return std::vector<Tensor>{n[0] ? sum_to(dy, sa) : Tensor(), n[1] ? sum_to(neg(dy), sb) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record("mul", binary(BinaryOp::mul, "mul", a, b), {a, b}, [a, b](const Tensor& dy, const NeedsGrad& n) {
    return std::vector<Tensor>{n[0] ? sum_to(mul(dy, b), a.shape()) : Tensor(),
                               n[1] ? sum_to(mul(dy, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return record("div", binary(BinaryOp::div, "div", a, b), {a, b}, [a, b](const Tensor& dy, const NeedsGrad& n) {
    Tensor da, db;
    if (n[0]) da = sum_to(div(dy, b), a.shape());
    if (n[1]) db = sum_to(neg(div(mul(dy, a), mul(b, b))), b.shape());
    return std::vector<Tensor>{da, db};
  });
}

Tensor affine(const Tensor& x, double a, double b) {
  return record("affine", unary(UnaryOp::affine, "affine", x, a, b), {x}, [a](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{affine(dy, a, 0.0)};
  });
}

Tensor neg(const Tensor& x) { return affine(x, -1.0, 0.0); }

Tensor exp(const Tensor& x) {
  return record("exp", unary(UnaryOp::exp, "exp", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{mul(dy, exp(x))};
  });
}

Tensor log(const Tensor& x) {
  return record("log", unary(UnaryOp::log, "log", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{div(dy, x)};
  });
}

Tensor sqrt(const Tensor& x) {
  return record("sqrt", unary(UnaryOp::sqrt, "sqrt", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{mul(dy, rsqrt(x)) * 0.5};
  });
}

Tensor rsqrt(const Tensor& x) {
  return record("rsqrt", unary(UnaryOp::rsqrt, "rsqrt", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{mul(dy, pow(x, -1.5)) * -0.5};
  });
}

Tensor pow(const Tensor& x, double p) {
  return record("pow", unary(UnaryOp::pow, "pow", x, p), {x}, [x, p](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{mul(dy, pow(x, p - 1.0)) * p};
  });
}

Tensor square(const Tensor& x) { return mul(x, x); }

Tensor step(const Tensor& x, double below) { return unary(UnaryOp::step, "step", x, 0.0, below); }

// NOTE: the kink's derivative is a constant step (zero second derivative), as PyTorch does.
Tensor relu(const Tensor& x) {
  return record("relu", unary(UnaryOp::relu, "relu", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{relu_backward(dy, x)};
  });
}

// x is a constant here (step has no gradient), so only dy is an input of the record.
Tensor relu_backward(const Tensor& dy, const Tensor& x) {
  return record("relu_backward", binary(BinaryOp::mul_positive, "relu_backward", dy, x), {dy},
                [x](const Tensor& g, const NeedsGrad&) { return std::vector<Tensor>{relu_backward(g, x)}; });
}

Tensor leaky_relu(const Tensor& x, double slope) {
  return record("leaky_relu", unary(UnaryOp::leaky_relu, "leaky_relu", x, slope), {x},
                [x, slope](const Tensor& dy, const NeedsGrad&) { return std::vector<Tensor>{mul(dy, step(x, slope))}; });
}

Tensor sigmoid(const Tensor& x) {
  return record("sigmoid", unary(UnaryOp::sigmoid, "sigmoid", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    Tensor s = sigmoid(x);
    return std::vector<Tensor>{mul(dy, mul(s, 1.0 - s))};
  });
}

Tensor swish(const Tensor& x) {
  return record("swish", unary(UnaryOp::swish, "swish", x), {x}, [x](const Tensor& dy, const NeedsGrad&) {
    Tensor s = sigmoid(x);
    return std::vector<Tensor>{mul(dy, s + mul(x, mul(s, 1.0 - s)))};
  });
}

}  // namespace loco
