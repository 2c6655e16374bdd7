// Pooling ops (engine/ops/pool.h). Shape letters: P = N·C planes (all leading dims), H×W input,
// Ho×Wo = ⌊H/2⌋×⌊W/2⌋ output. The kernels live in kernels/pool.h.
#include "engine/ops/pool.h"

#include "engine/ops/op_util.h"
#include "kernels/pool.h"

namespace loco {

using detail::dispatch_float;

namespace {

Shape with_hw(const Shape& s, int64_t h, int64_t w) {
  std::vector<int64_t> d = s.dims();
  d[d.size() - 2] = h;
  d[d.size() - 1] = w;
  return Shape(std::move(d));
}

int64_t planes_of(const Shape& s) {
  int64_t p = 1;
  for (int64_t i = 0; i + 2 < s.ndim(); ++i) p *= s[i];
  return p;
}

void check_input(const Tensor& x, const char* op) {
  detail::check_floating(x, op);
  LOCO_CHECK(x.ndim() >= 2 && x.dim(-2) >= 2 && x.dim(-1) >= 2, op,
             ": input must be [..., H, W] with H, W >= 2, got ", x.shape());
}

// dy (or a pooled-size tensor) must be [..., ⌊in_h/2⌋, ⌊in_w/2⌋].
void check_pooled(const Tensor& t, int64_t in_h, int64_t in_w, const char* op) {
  detail::check_floating(t, op);
  LOCO_CHECK(t.ndim() >= 2 && in_h >= 2 && in_w >= 2 && t.dim(-2) == in_h / 2 && t.dim(-1) == in_w / 2, op,
             ": a pooled tensor of shape ", t.shape(), " does not come from an input of ", in_h, "x", in_w);
}

// index must address the input planes; checked on the CPU, where a bad one would corrupt memory.
void check_index(const Tensor& index, const Shape& pooled, int64_t in_h, int64_t in_w, Device dev, const char* op) {
  LOCO_CHECK(index.defined() && index.dtype() == DType::i64 && index.shape() == pooled, op,
             ": index must be i64 of shape ", pooled, ", got ",
             index.defined() ? std::string(dtype_name(index.dtype())) + " " + index.shape().str() : "undefined");
  LOCO_CHECK(index.device() == dev, op, ": index on ", index.device(), ", data on ", dev);
  if (dev != Device::cpu) return;
  const int64_t* p = index.data<int64_t>();
  for (int64_t i = 0; i < index.numel(); ++i)
    LOCO_CHECK(p[i] >= 0 && p[i] < in_h * in_w, op, ": index ", p[i], " at ", i, " outside a ", in_h, "x", in_w,
               " plane");
}

}  // namespace

Tensor avg_pool2(const Tensor& x) {
  check_input(x, "avg_pool2");
  const int64_t h = x.dim(-2), w = x.dim(-1);
  Tensor y = empty(with_hw(x.shape(), h / 2, w / 2), x.dtype(), x.device());
  dispatch_float(x.dtype(), "avg_pool2", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, avg_pool2_fwd, y.data<T>(), x.data<T>(), planes_of(x.shape()), h, w);
  });
  return record("avg_pool2", y, {x}, [h, w](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{avg_pool2_bwd(dy, h, w)};
  });
}

Tensor avg_pool2_bwd(const Tensor& dy, int64_t in_h, int64_t in_w) {
  check_pooled(dy, in_h, in_w, "avg_pool2_bwd");
  Tensor dx = empty(with_hw(dy.shape(), in_h, in_w), dy.dtype(), dy.device());
  dispatch_float(dy.dtype(), "avg_pool2_bwd", [&]<class T>() {
    LOCO_DISPATCH(dy.device(), T, avg_pool2_bwd, dx.data<T>(), dy.data<T>(), planes_of(dy.shape()), in_h, in_w);
  });
  return record("avg_pool2_bwd", dx, {dy}, [](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{avg_pool2(g)};
  });
}

Tensor max_pool2(const Tensor& x) {
  check_input(x, "max_pool2");
  const int64_t h = x.dim(-2), w = x.dim(-1);
  const Shape out = with_hw(x.shape(), h / 2, w / 2);
  Tensor y = empty(out, x.dtype(), x.device());
  Tensor index = empty(out, DType::i64, x.device());
  dispatch_float(x.dtype(), "max_pool2", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, max_pool2_fwd, y.data<T>(), index.data<int64_t>(), x.data<T>(),
                  planes_of(x.shape()), h, w);
  });
  return record("max_pool2", y, {x}, [index, h, w](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{max_pool2_scatter(dy, index, h, w)};
  });
}

Tensor max_pool2_scatter(const Tensor& dy, const Tensor& index, int64_t in_h, int64_t in_w) {
  check_pooled(dy, in_h, in_w, "max_pool2_scatter");
  check_index(index, dy.shape(), in_h, in_w, dy.device(), "max_pool2_scatter");
  Tensor dx = empty(with_hw(dy.shape(), in_h, in_w), dy.dtype(), dy.device());
  dispatch_float(dy.dtype(), "max_pool2_scatter", [&]<class T>() {
    LOCO_DISPATCH(dy.device(), T, max_pool2_scatter, dx.data<T>(), dy.data<T>(), index.data<int64_t>(),
                  planes_of(dy.shape()), in_h, in_w);
  });
  return record("max_pool2_scatter", dx, {dy}, [index](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{max_pool2_gather(g, index)};
  });
}

Tensor max_pool2_gather(const Tensor& g, const Tensor& index) {
  check_input(g, "max_pool2_gather");
  const int64_t h = g.dim(-2), w = g.dim(-1);
  const Shape out = with_hw(g.shape(), h / 2, w / 2);
  check_index(index, out, h, w, g.device(), "max_pool2_gather");
  Tensor y = empty(out, g.dtype(), g.device());
  dispatch_float(g.dtype(), "max_pool2_gather", [&]<class T>() {
    LOCO_DISPATCH(g.device(), T, max_pool2_gather, y.data<T>(), g.data<T>(), index.data<int64_t>(),
                  planes_of(g.shape()), h, w);
  });
  return record("max_pool2_gather", y, {g}, [index, h, w](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{max_pool2_scatter(dy, index, h, w)};
  });
}

}  // namespace loco
