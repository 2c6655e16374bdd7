// Loss ops (engine/ops/loss.h). Shape letters: N samples, K classes. Labels are validated on
// the host (a copy from the device: N is small) with an error naming the bad label and K.
#include "engine/ops/loss.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"
#include "kernels/loss.h"

namespace loco {

using detail::dispatch_float;

namespace {

void check_logits(const Tensor& x, const char* op) {
  detail::check_floating(x, op);
  LOCO_CHECK(x.ndim() == 2 && x.dim(0) >= 1 && x.dim(1) >= 1, op, ": expected logits [N, K] with N, K >= 1, got ",
             x.shape());
}

void check_labels(const Tensor& labels, int64_t n, int64_t k, Device dev, const char* op) {
  LOCO_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.ndim() == 1 && labels.dim(0) == n, op,
             ": labels must be i64 [", n, "], got ",
             labels.defined() ? std::string(dtype_name(labels.dtype())) + " " + labels.shape().str() : "undefined");
  LOCO_CHECK(labels.device() == dev, op, ": labels on ", labels.device(), ", data on ", dev);
  const auto v = labels.to_vector<int64_t>();
  for (size_t i = 0; i < v.size(); ++i)
    LOCO_CHECK(v[i] >= 0 && v[i] < k, op, ": label ", v[i], " at position ", i, " is out of range for ", k,
               " classes");
}

// Unchecked forms, for backward closures whose labels were checked by the forward.
Tensor unpick_raw(const Tensor& v, const Tensor& labels, int64_t classes);

Tensor pick_raw(const Tensor& x, const Tensor& labels) {
  const int64_t n = x.dim(0), k = x.dim(1);
  Tensor y = empty(Shape{n}, x.dtype(), x.device());
  dispatch_float(x.dtype(), "pick", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, pick_fwd, y.data<T>(), x.data<T>(), labels.data<int64_t>(), n, k);
  });
  return record("pick", y, {x}, [labels, k](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{unpick_raw(dy, labels, k)};
  });
}

Tensor unpick_raw(const Tensor& v, const Tensor& labels, int64_t classes) {
  const int64_t n = v.dim(0);
  Tensor y = empty(Shape{n, classes}, v.dtype(), v.device());
  dispatch_float(v.dtype(), "unpick", [&]<class T>() {
    LOCO_DISPATCH(v.device(), T, unpick_fwd, y.data<T>(), v.data<T>(), labels.data<int64_t>(), n, classes);
  });
  return record("unpick", y, {v}, [labels](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{pick_raw(dy, labels)};
  });
}

}  // namespace

Tensor log_softmax(const Tensor& logits) {
  check_logits(logits, "log_softmax");
  Tensor y = empty_like(logits);
  dispatch_float(logits.dtype(), "log_softmax", [&]<class T>() {
    LOCO_DISPATCH(logits.device(), T, log_softmax_fwd, y.data<T>(), logits.data<T>(), logits.dim(0), logits.dim(1));
  });
  return record("log_softmax", y, {logits}, [logits](const Tensor& dy, const NeedsGrad&) {
    // Recomputed, not captured: the output is never held by its own node.
    const Tensor p = exp(log_softmax(logits));
    return std::vector<Tensor>{dy - p * sum(dy, {1}, true)};
  });
}

Tensor pick(const Tensor& x, const Tensor& labels) {
  check_logits(x, "pick");
  check_labels(labels, x.dim(0), x.dim(1), x.device(), "pick");
  return pick_raw(x, labels);
}

Tensor unpick(const Tensor& v, const Tensor& labels, int64_t classes) {
  detail::check_floating(v, "unpick");
  LOCO_CHECK(v.ndim() == 1 && classes >= 1, "unpick: expected v [N] and classes >= 1, got ", v.shape(), " and ",
             classes);
  check_labels(labels, v.dim(0), classes, v.device(), "unpick");
  return unpick_raw(v, labels, classes);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  check_logits(logits, "cross_entropy");
  const int64_t n = logits.dim(0), k = logits.dim(1);
  check_labels(labels, n, k, logits.device(), "cross_entropy");
  Tensor loss = empty(Shape{}, logits.dtype(), logits.device());
  dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
    LOCO_DISPATCH(logits.device(), T, cross_entropy_fwd, loss.data<T>(), logits.data<T>(), labels.data<int64_t>(),
                  n, k);
  });
  return record("cross_entropy", loss, {logits}, [logits, labels, n, k](const Tensor& dy, const NeedsGrad&) {
    // d logits = (softmax − onehot)·dy/N; dy is a scalar, broadcast.
    const Tensor onehot = unpick_raw(full(Shape{n}, 1.0, logits.dtype(), logits.device()), labels, k);
    const Tensor p = exp(log_softmax(logits));
    return std::vector<Tensor>{(p - onehot) * (dy * (1.0 / static_cast<double>(n)))};
  });
}

Tensor argmax_rows(const Tensor& x) {
  check_logits(x, "argmax_rows");
  Tensor out = empty(Shape{x.dim(0)}, DType::i64, x.device());
  dispatch_float(x.dtype(), "argmax_rows", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, argmax_rows, out.data<int64_t>(), x.data<T>(), x.dim(0), x.dim(1));
  });
  return out;
}

}  // namespace loco
