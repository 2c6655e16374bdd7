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

// A 1-D i64 row index into a tensor of `rows` rows, on the tensor's device; on the CPU every
// value is checked (a device index is the caller's to keep in range).
inline void check_index(const Tensor& index, int64_t rows, const char* op) {
  LOCO_CHECK(index.dtype() == DType::i64 && index.ndim() == 1, op, ": index must be a 1-D i64 tensor, got ",
             index.dtype(), " ", index.shape());
  if (index.device() == Device::cpu) {
    const int64_t* p = index.data<int64_t>();
    for (int64_t i = 0; i < index.numel(); ++i)
      LOCO_CHECK(p[i] >= 0 && p[i] < rows, op, ": index ", p[i], " at position ", i, " out of range [0, ", rows, ")");
  }
}

// Saves only the data of a tensor (no autograd identity) for fused backward kernels.
inline Tensor saved_data(const Tensor& x) { return x.detach(); }

}  // namespace loco::detail
