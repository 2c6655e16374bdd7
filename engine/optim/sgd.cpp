// Sgd (engine/optim/sgd.h): checks, momentum-buffer bookkeeping and the per-parameter dispatch
// to kernels/sgd.h.
#include "engine/optim/sgd.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/op_util.h"
#include "kernels/profile.h"
#include "kernels/sgd.h"

namespace loco {
namespace {

void check_hyper(double v, const char* what) {
  LOCO_CHECK(std::isfinite(v) && v >= 0.0, "Sgd: ", what, " must be a finite value >= 0, got ", v);
}

}  // namespace

Sgd::Sgd(std::vector<Tensor> params, SgdOptions options) : params_(std::move(params)), options_(options) {
  check_hyper(options_.lr, "lr");
  check_hyper(options_.momentum, "momentum");
  check_hyper(options_.weight_decay, "weight_decay");
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    LOCO_CHECK(p.defined(), "Sgd: parameter ", i, " is an undefined tensor");
    LOCO_CHECK(is_floating(p.dtype()), "Sgd: parameter ", i, " of shape ", p.shape(), " is ", p.dtype(),
               ", expected f32 or f64");
    // Updating a non-leaf in place would silently change a recorded graph's saved input.
    LOCO_CHECK(p.is_leaf(), "Sgd: parameter ", i, " of shape ", p.shape(), " is not a leaf (made by ",
               grad_fn_name(p), ")");
    for (size_t j = 0; j < i; ++j)
      LOCO_CHECK(!p.same(params_[j]), "Sgd: parameter ", i, " is the same tensor as parameter ", j,
                 " (it would be updated twice)");
  }
  buffers_.resize(params_.size());
}

void Sgd::set_lr(double lr) {
  check_hyper(lr, "lr");
  options_.lr = lr;
}

void Sgd::step() {
  kernels::ProfileRange range("optimiser step");
  NoGradGuard no_grad;
  const bool use_momentum = options_.momentum != 0.0;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    LOCO_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
               "Sgd: the gradient of parameter ", i, " is ", g.dtype(), " ", g.shape(), " on ", g.device(),
               " but the parameter is ", p.dtype(), " ", p.shape(), " on ", p.device());
    Tensor& buf = buffers_[i];
    const bool first_step = use_momentum && !buf.defined();
    if (first_step) buf = empty_like(p);  // the kernel writes buf = g before reading it
    detail::dispatch_float(p.dtype(), "Sgd::step", [&]<class T>() {
      LOCO_DISPATCH(p.device(), T, sgd_step, p.data<T>(), g.data<T>(), use_momentum ? buf.data<T>() : nullptr,
                    p.numel(), options_.lr, options_.momentum, options_.weight_decay, first_step);
    });
  }
}

void Sgd::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

void Sgd::set_momentum_buffers(const std::vector<Tensor>& buffers) {
  LOCO_CHECK(buffers.size() == params_.size(), "Sgd::set_momentum_buffers: ", buffers.size(),
             " buffers for ", params_.size(), " parameters");
  std::vector<Tensor> copies(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const Tensor& b = buffers[i];
    if (!b.defined()) continue;
    const Tensor& p = params_[i];
    LOCO_CHECK(b.shape() == p.shape() && b.dtype() == p.dtype(), "Sgd::set_momentum_buffers: buffer ", i, " is ",
               b.dtype(), " ", b.shape(), " but its parameter is ", p.dtype(), " ", p.shape());
    copies[i] = b.device() == p.device() ? b.clone() : b.to(p.device());
  }
  buffers_ = std::move(copies);
}

}  // namespace loco
