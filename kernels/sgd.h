// Contract of the SGD family: one fused update of a parameter in place (PyTorch's
// torch.optim.SGD with dampening 0 and no Nesterov). n elements; p, g, buf contiguous.
//   d   = g + wd·p
//   buf = d on the first step, else momentum·buf + d     (only when momentum ≠ 0)
//   p  ← p − lr·(momentum ≠ 0 ? buf : d)
// With momentum 0, buf is not touched and may be null.
#pragma once
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

// One element of the update; both twins call it so they round alike. Scalars are cast to T
// first, as PyTorch does for a tensor of that dtype.
template <class T>
LOCO_HD void sgd_update(T& p, T g, T* buf, T lr, T momentum, T wd, bool first_step) {
  T d = wd != T(0) ? g + wd * p : g;
  if (buf) {
    *buf = first_step ? d : momentum * *buf + d;
    d = *buf;
  }
  p -= lr * d;
}

namespace cpu {
template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, double lr, double momentum, double wd, bool first_step);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void sgd_step(float* p, const float* g, float* buf, int64_t n, double lr, double momentum, double wd,
              bool first_step);
}  // namespace cuda
#endif

}  // namespace loco::kernels
