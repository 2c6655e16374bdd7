// Sgd: torch.optim.SGD with dampening 0 and no Nesterov, over a list of leaf parameters.
//   g = grad + weight_decay·p
//   buf = g on a parameter's first step, else momentum·buf + g      (only when momentum ≠ 0)
//   p ← p − lr·(momentum ≠ 0 ? buf : g)
// Parameters are updated in place, outside the tape. A parameter whose grad is undefined is
// skipped and its buffer left alone, as PyTorch does. The per-element math is kernels/sgd.h.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace loco {

struct SgdOptions {
  double lr = 0.0;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

class Sgd {
 public:
  Sgd(std::vector<Tensor> params, SgdOptions options);

  void step();
  // Drops every parameter's gradient (PyTorch's set_to_none), so the next backward starts afresh.
  void zero_grad();

  void set_lr(double lr);
  double lr() const { return options_.lr; }
  const SgdOptions& options() const { return options_; }
  const std::vector<Tensor>& params() const { return params_; }

  // Momentum state, for checkpoints: buffer i belongs to params()[i] and stays undefined until
  // that parameter's first step with a gradient (always, when momentum is 0).
  const std::vector<Tensor>& momentum_buffers() const { return buffers_; }
  // Restores saved buffers (one per parameter, undefined for "no step yet"); each is copied onto
  // its parameter's device, so the optimiser never shares storage with the caller.
  void set_momentum_buffers(const std::vector<Tensor>& buffers);

 private:
  std::vector<Tensor> params_;
  std::vector<Tensor> buffers_;
  SgdOptions options_;
};

}  // namespace loco
