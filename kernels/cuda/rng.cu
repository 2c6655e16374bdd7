// CUDA twin of kernels/rng.h (f32): Philox fills that reproduce the CPU stream exactly.
// n elements; element i uses word i (uniform) or the pair 2⌊i/2⌋, 2⌊i/2⌋+1 (normal, Box–Muller).
// One element (uniform) or one pair (normal) per thread, each word from philox_word, the same
// function the CPU calls. That recomputes a 4-word Philox block up to four times; it keeps the
// index → word mapping identical by construction, and these fills are not on a hot path.
// Rounding follows the CPU twin as GCC compiles it on an FMA host (-march=native; C++ contracts
// by default): uniform is fma(hi − lo, u, lo) in float, normal is fma(std·r, cos a, mean) in
// double, then a cast to float. The intrinsics pin that down, so nvcc cannot round otherwise.
// log, sin and cos in double may differ from glibc by an ulp; the cast to float hides it except
// in the rare value that sits within an ulp of a float rounding boundary.
#include "kernels/cuda/launch.cuh"
#include "kernels/philox.h"
#include "kernels/rng.h"

namespace loco::kernels::cuda {
namespace {

__global__ void uniform_fill_kernel(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, float lo,
                                    float span) {
  LOCO_GRID_STRIDE(i, n) {
    const uint32_t w = philox_word(seed, stream, offset, static_cast<uint64_t>(i));
    y[i] = __fmaf_rn(span, uniform_f32(w), lo);
  }
}

__global__ void normal_fill_kernel(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double mean,
                                   double std) {
  LOCO_GRID_STRIDE(p, (n + 1) / 2) {
    const uint32_t w0 = philox_word(seed, stream, offset, static_cast<uint64_t>(2 * p));
    const uint32_t w1 = philox_word(seed, stream, offset, static_cast<uint64_t>(2 * p + 1));
    // (w + 1)·2⁻³² lies in (0, 1], so the log is finite.
    const double u1 = __dmul_rn(static_cast<double>(w0) + 1.0, 1.0 / 4294967296.0);
    const double u2 = __dmul_rn(static_cast<double>(w1), 1.0 / 4294967296.0);
    const double r = sqrt(__dmul_rn(-2.0, log(u1)));
    const double a = __dmul_rn(6.283185307179586, u2);
    const double sr = __dmul_rn(std, r);
    y[2 * p] = static_cast<float>(__fma_rn(sr, cos(a), mean));
    if (2 * p + 1 < n) y[2 * p + 1] = static_cast<float>(__fma_rn(sr, sin(a), mean));
  }
}

}  // namespace

void uniform_fill(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double lo, double hi) {
  // The CPU casts lo and (hi − lo), computed in double, to float before the fma.
  launch_1d("uniform_fill_kernel", n, uniform_fill_kernel, y, n, seed, stream, offset, static_cast<float>(lo),
            static_cast<float>(hi - lo));
}

void normal_fill(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double mean, double std) {
  launch_1d("normal_fill_kernel", (n + 1) / 2, normal_fill_kernel, y, n, seed, stream, offset, mean, std);
}

}  // namespace loco::kernels::cuda
