// CUDA twin of kernels/sgd.h (f32): the fused SGD update of one parameter in place. n elements,
// one per thread, through sgd_update (the CPU's per-element function). The scalars are cast to
// float on the host, as the CPU twin does, so both twins feed sgd_update the same values. Each
// of its expressions (g + wd·p, momentum·buf + d, p − lr·d) admits one fma; nvcc contracts it,
// as GCC does for the CPU on an FMA host, so the two round alike.
#include "kernels/cuda/launch.cuh"
#include "kernels/sgd.h"

namespace loco::kernels::cuda {
namespace {

__global__ void sgd_step_kernel(float* p, const float* g, float* buf, int64_t n, float lr, float momentum, float wd,
                                bool first_step) {
  LOCO_GRID_STRIDE(i, n) sgd_update<float>(p[i], g[i], buf ? buf + i : nullptr, lr, momentum, wd, first_step);
}

}  // namespace

void sgd_step(float* p, const float* g, float* buf, int64_t n, double lr, double momentum, double wd,
              bool first_step) {
  launch_1d("sgd_step_kernel", n, sgd_step_kernel, p, g, buf, n, static_cast<float>(lr), static_cast<float>(momentum),
            static_cast<float>(wd), first_step);
}

}  // namespace loco::kernels::cuda
