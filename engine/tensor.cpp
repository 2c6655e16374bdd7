#include "engine/tensor.h"

#include <cstdlib>

#include "engine/autograd/tape.h"
#include "kernels/memory.h"

namespace loco {

Tensor& Tensor::requires_grad_(bool on) {
  LOCO_CHECK(is_leaf(), "requires_grad_: only leaf tensors can be marked (this one was made by ",
             grad_fn_name(*this), ")");
  LOCO_CHECK(!on || is_floating(dtype()), "requires_grad_: a ", dtype(), " tensor cannot have a gradient");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const { return view_of(*this, shape()); }

Tensor Tensor::clone() const {
  Tensor y = empty(shape(), dtype(), device());
  copy_bytes(y.raw(), device(), raw(), device(), nbytes());
  return y;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor y = empty(shape(), dtype(), d);
  copy_bytes(y.raw(), d, raw(), device(), nbytes());
  return y;
}

double Tensor::item_as_double() const {
  switch (dtype()) {
    case DType::f32: return item<float>();
    case DType::f64: return item<double>();
    case DType::i64: return static_cast<double>(item<int64_t>());
    case DType::i32: return item<int32_t>();
    case DType::u8: return item<uint8_t>();
  }
  return 0;
}

Tensor empty(const Shape& s, DType t, Device d) {
  LOCO_CHECK(!(d == Device::cuda && t == DType::f64), "f64 tensors live on the CPU only (shape ", s, ")");
  for (auto n : s.dims()) LOCO_CHECK(n >= 0, "empty: negative dimension in shape ", s);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(s.numel()) * dtype_size(t), d);
  impl->shape = s;
  impl->dtype = t;
  return Tensor(std::move(impl));
}

namespace {
template <class T> void fill_as(const Tensor& y, double v) {
  if (y.device() == Device::cpu) {
    kernels::cpu::fill<T>(y.data<T>(), static_cast<T>(v), y.numel());
    return;
  }
#ifdef LOCO_HAS_CUDA
  if constexpr (std::is_same_v<T, float>) {
    kernels::cuda::fill(y.data<float>(), static_cast<float>(v), y.numel());
    return;
  }
#endif
  LOCO_FAIL("fill: ", y.dtype(), " on ", y.device(), " is not supported");
}
}  // namespace

Tensor full(const Shape& s, double value, DType t, Device d) {
  Tensor y = empty(s, t, d);
  switch (t) {
    case DType::f32: fill_as<float>(y, value); break;
    case DType::f64: fill_as<double>(y, value); break;
    case DType::i64: fill_as<int64_t>(y, value); break;
    case DType::i32: fill_as<int32_t>(y, value); break;
    case DType::u8: fill_as<uint8_t>(y, value); break;
  }
  return y;
}
Tensor zeros(const Shape& s, DType t, Device d) { return full(s, 0.0, t, d); }
Tensor empty_like(const Tensor& x) { return empty(x.shape(), x.dtype(), x.device()); }
Tensor zeros_like(const Tensor& x) { return zeros(x.shape(), x.dtype(), x.device()); }
Tensor full_like(const Tensor& x, double v) { return full(x.shape(), v, x.dtype(), x.device()); }

Tensor view_of(const Tensor& x, const Shape& s, size_t extra_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl().storage;
  impl->offset = x.impl().offset + extra_offset;
  impl->shape = s;
  impl->dtype = x.dtype();
  LOCO_CHECK((impl->offset + static_cast<size_t>(s.numel())) * dtype_size(x.dtype()) <= impl->storage->bytes(),
             "view_of: shape ", s, " at offset ", extra_offset, " runs past the storage of a ", x.shape(), " tensor");
  return Tensor(std::move(impl));
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n) {
  if (n == 0) return;
  if (dst_dev == Device::cpu && src_dev == Device::cpu) {
    std::memcpy(dst, src, n);
    return;
  }
#ifdef LOCO_HAS_CUDA
  using kernels::cuda::CopyKind;
  CopyKind k = dst_dev == Device::cpu ? CopyKind::d2h : src_dev == Device::cpu ? CopyKind::h2d : CopyKind::d2d;
  kernels::cuda::copy_bytes(dst, src, n, k);
#else
  LOCO_FAIL("copy to/from CUDA: this loco was built without CUDA");
#endif
}

bool cuda_available() {
#ifdef LOCO_HAS_CUDA
  static const bool present = kernels::cuda::device_present();
  return present;
#else
  return false;
#endif
}

int select_cuda_device(int index) {
#ifdef LOCO_HAS_CUDA
  return kernels::cuda::select_device(index);
#else
  (void)index;
  return -1;
#endif
}

Device default_device() { return cuda_available() ? Device::cuda : Device::cpu; }

void set_tf32(bool on) {
#ifdef LOCO_HAS_CUDA
  kernels::cuda::set_tf32(on);
#else
  (void)on;
#endif
}


}  // namespace loco
