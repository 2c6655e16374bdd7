// Helpers shared by the op implementations (not part of the public API).
#pragma once
#include <utility>

#include "engine/autograd/tape.h"
#include "engine/check.h"
#include "engine/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace loco::detail {

// Calls f.template operator()<T>() with T the C++ type of a floating dtype.
template <class F> void dispatch_float(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: f.template operator()<float>(); return;
    case DType::f64: f.template operator()<double>(); return;
    default: LOCO_FAIL(op, ": expected a floating tensor (f32 or f64), got ", t);
  }
}

inline void check_floating(const Tensor& x, const char* op) {
  LOCO_CHECK(x.defined(), op, ": undefined input tensor");
  LOCO_CHECK(is_floating(x.dtype()), op, ": expected a floating tensor, got ", x.dtype(), " of shape ", x.shape());
}
inline void check_same(const Tensor& a, const Tensor& b, const char* op) {
  check_floating(a, op);
  check_floating(b, op);
  LOCO_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ (", a.dtype(), " ", a.shape(), " vs ", b.dtype(), " ",
             b.shape(), ")");
  LOCO_CHECK(a.device() == b.device(), op, ": devices differ (", a.device(), " vs ", b.device(), ")");
}
inline void check_ndim(const Tensor& x, int64_t nd, const char* op, const char* what) {
  LOCO_CHECK(x.ndim() == nd, op, ": ", what, " must have ", nd, " dims, got shape ", x.shape());
}

// The stride view of an input of shape `in` broadcast to `out` (`in` aligned right).
// Adjacent dims that broadcast alike are merged, so typical cases become 1–3 dims.
kernels::Strided broadcast_strides(const Shape& out, const Shape& a, const Shape& b);

// A zero-dim tensor used as a gradient seed of 1.
inline Tensor scalar_like(const Tensor& x, double v) { return full(Shape{}, v, x.dtype(), x.device()); }

// Saves only the data of a tensor (no autograd identity) for fused backward kernels.
inline Tensor saved_data(const Tensor& x) { return x.detach(); }

}  // namespace loco::detail
