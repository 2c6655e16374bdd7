// Tensor: a handle to a contiguous row-major array (shape, dtype, device, storage) plus its
// autograd identity. Views share storage: a range of the leading dimension, or a reshape.
// The tape autograd lives in engine/autograd/tape.h; the ops in engine/ops/.
#pragma once
#include <cstring>
#include <memory>
#include <vector>

#include "engine/check.h"
#include "engine/dtype.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace loco {

struct Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // in elements of dtype
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;          // the op that made it; null for leaves
  std::shared_ptr<TensorImpl> grad;       // leaves only: the accumulated gradient
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim(int64_t i) const { return impl().shape[i]; }
  int64_t ndim() const { return impl().shape.ndim(); }
  int64_t numel() const { return impl().shape.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }

  void* raw() const {
    return static_cast<char*>(impl().storage->data()) + impl().offset * dtype_size(dtype());
  }
  template <class T> T* data() const {
    LOCO_CHECK(dtype() == dtype_of<T>(), "tensor of dtype ", dtype(), " read as ", dtype_of<T>());
    return static_cast<T*>(raw());
  }

  // Autograd.
  bool requires_grad() const { return impl().requires_grad; }
  // Marks a leaf as a parameter whose gradient backward() accumulates.
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  void zero_grad() { impl().grad.reset(); }
  // Same storage, no autograd history.
  Tensor detach() const;
  // A fresh copy of the data with no autograd history.
  Tensor clone() const;
  // Copy to a device (the same tensor when it is already there).
  Tensor to(Device d) const;

  // Host access, for tests, IO and small bookkeeping (copies from a device when needed).
  template <class T> std::vector<T> to_vector() const;
  template <class T> T item() const;
  double item_as_double() const;

  TensorImpl& impl() const {
    LOCO_CHECK(impl_, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

Tensor empty(const Shape& s, DType t = DType::f32, Device d = Device::cpu);
Tensor zeros(const Shape& s, DType t = DType::f32, Device d = Device::cpu);
Tensor full(const Shape& s, double value, DType t = DType::f32, Device d = Device::cpu);
Tensor empty_like(const Tensor& x);
Tensor zeros_like(const Tensor& x);
Tensor full_like(const Tensor& x, double value);
// A view of x's storage with another shape (same numel) or a leading-dim range; no autograd.
Tensor view_of(const Tensor& x, const Shape& s, size_t extra_offset = 0);

template <class T> Tensor from_vector(const std::vector<T>& v, const Shape& s, Device d = Device::cpu);

// Copies nbytes between host and tensor storage on any device.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
// Whether a CUDA device can be used in this process (a CUDA build and a visible GPU).
bool cuda_available();
Device default_device();
// One GPU per process on a multi-GPU host: makes GPU (index mod the GPUs present) this
// process's device, before anything else touches CUDA. Returns the GPU chosen, or −1 when there
// is none (a CPU build, or no GPU).
int select_cuda_device(int index);
// TF32 tensor-core math for CUDA convolutions and GEMMs (`--tf32`); off by default, and a
// no-op without CUDA.
void set_tf32(bool on);

// ---- inline templates ----
template <class T> std::vector<T> Tensor::to_vector() const {
  LOCO_CHECK(dtype() == dtype_of<T>(), "to_vector: tensor of dtype ", dtype(), " read as ", dtype_of<T>());
  std::vector<T> v(static_cast<size_t>(numel()));
  copy_bytes(v.data(), Device::cpu, raw(), device(), nbytes());
  return v;
}
template <class T> T Tensor::item() const {
  LOCO_CHECK(numel() == 1, "item: tensor of shape ", shape(), " is not a single element");
  return to_vector<T>()[0];
}
template <class T> Tensor from_vector(const std::vector<T>& v, const Shape& s, Device d) {
  LOCO_CHECK(static_cast<int64_t>(v.size()) == s.numel(), "from_vector: ", v.size(),
             " values for shape ", s);
  Tensor t = empty(s, dtype_of<T>(), d);
  copy_bytes(t.raw(), d, v.data(), Device::cpu, t.nbytes());
  return t;
}

}  // namespace loco
