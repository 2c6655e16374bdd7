#include "engine/ops/reduce.h"

#include <algorithm>

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/op_util.h"

namespace loco {

using detail::dispatch_float;

Tensor sum_to(const Tensor& x, const Shape& s) {
  detail::check_floating(x, "sum_to");
  LOCO_CHECK(broadcast_shape(s, x.shape(), "sum_to") == x.shape(), "sum_to: shape ", x.shape(),
             " cannot be summed down to ", s);
  if (x.shape() == s) return x;
  Tensor y = empty(s, x.dtype(), x.device());
  const auto st = detail::broadcast_strides(x.shape(), s, s);
  dispatch_float(x.dtype(), "sum_to", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, sum_to, y.data<T>(), y.numel(), x.data<T>(), st);
  });
  return record("sum_to", y, {x}, [xs = x.shape()](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{expand(dy, xs)};
  });
}

Tensor expand(const Tensor& x, const Shape& s) {
  detail::check_floating(x, "expand");
  LOCO_CHECK(broadcast_shape(x.shape(), s, "expand") == s, "expand: shape ", x.shape(), " cannot be expanded to ", s);
  if (x.shape() == s) return x;
  Tensor y = empty(s, x.dtype(), x.device());
  const auto st = detail::broadcast_strides(s, x.shape(), x.shape());
  dispatch_float(x.dtype(), "expand", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, broadcast_copy, y.data<T>(), x.data<T>(), st);
  });
  return record("expand", y, {x}, [xs = x.shape()](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{sum_to(dy, xs)};
  });
}

namespace {
Shape keep_shape(const Shape& in, const std::vector<int64_t>& dims, const char* op) {
  std::vector<int64_t> d = in.dims();
  for (int64_t k : dims) {
    const int64_t i = k < 0 ? k + in.ndim() : k;
    LOCO_CHECK(i >= 0 && i < in.ndim(), op, ": dim ", k, " out of range for shape ", in);
    d[static_cast<size_t>(i)] = 1;
  }
  return Shape(std::move(d));
}
Shape drop_shape(const Shape& in, const std::vector<int64_t>& dims) {
  std::vector<int64_t> d;
  for (int64_t i = 0; i < in.ndim(); ++i) {
    bool drop = std::any_of(dims.begin(), dims.end(), [&](int64_t k) { return (k < 0 ? k + in.ndim() : k) == i; });
    if (!drop) d.push_back(in[i]);
  }
  return Shape(std::move(d));
}
}  // namespace

Tensor sum(const Tensor& x) { return sum_to(x, Shape{}); }

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = sum_to(x, keep_shape(x.shape(), dims, "sum"));
  return keepdim ? y : reshape(y, drop_shape(x.shape(), dims));
}

Tensor mean(const Tensor& x) {
  LOCO_CHECK(x.numel() > 0, "mean: empty tensor of shape ", x.shape());
  return sum(x) * (1.0 / static_cast<double>(x.numel()));
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = sum(x, dims, keepdim);
  LOCO_CHECK(y.numel() > 0 && x.numel() > 0, "mean: empty tensor of shape ", x.shape());
  return y * (static_cast<double>(y.numel()) / static_cast<double>(x.numel()));
}

}  // namespace loco
