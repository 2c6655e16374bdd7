// CPU twin of kernels/sgd.h: one pass over the parameter, OpenMP for large tensors.
#include "kernels/sgd.h"

namespace loco::kernels::cpu {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

template <class T>
void sgd_step(T* p, const T* g, T* buf, int64_t n, double lr, double momentum, double wd, bool first_step) {
  const T lr_t = static_cast<T>(lr), mom_t = static_cast<T>(momentum), wd_t = static_cast<T>(wd);
  if (buf) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) sgd_update<T>(p[i], g[i], buf + i, lr_t, mom_t, wd_t, first_step);
  } else {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) sgd_update<T>(p[i], g[i], nullptr, lr_t, mom_t, wd_t, first_step);
  }
}

template void sgd_step<float>(float*, const float*, float*, int64_t, double, double, double, bool);
template void sgd_step<double>(double*, const double*, double*, int64_t, double, double, double, bool);

}  // namespace loco::kernels::cpu
