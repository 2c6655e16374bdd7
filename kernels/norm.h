// Contract of the normalisation family: the fused forward and backward kernels of group norm
// (layer norm is group norm with one group over a [N, C·H·W, 1] view) and batch norm.
// Shapes: x [N, C, S] with S = H·W; G groups of Cg = C/G channels, so row (n, g) holds Cg·S
// contiguous elements. Statistics accumulate in double; mean and rstd = 1/√(var + eps) (biased
// variance) are saved in T for the fused backward. gamma/beta may be null (then 1 and 0).
// The differentiable ops (engine/ops/norm.cpp) use the backward kernels only when not recording.
#pragma once
#include <cstdint>

namespace loco::kernels {
namespace cpu {
// y = (x − mean[n,g])·rstd[n,g]·γ[c] + β[c]; mean, rstd: [N·G].
template <class T>
void group_norm_fwd(T* y, T* mean, T* rstd, const T* x, const T* gamma, const T* beta, int64_t n, int64_t c,
                    int64_t s, int64_t g, double eps);
// dx = rstd·(dy·γ − mean_row(dy·γ) − x̂·mean_row(dy·γ·x̂)), dγ[c] = Σ dy·x̂, dβ[c] = Σ dy
// (sums over n and s). Any of dx, dgamma, dbeta may be null (not wanted).
template <class T>
void group_norm_bwd(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* rstd,
                    const T* gamma, int64_t n, int64_t c, int64_t s, int64_t g);
// Training batch norm: per channel over (N, S): mean, biased var, rstd; y as group_norm_fwd
// with the per-channel statistics. mean, var, rstd: [C].
template <class T>
void batch_norm_fwd(T* y, T* mean, T* var, T* rstd, const T* x, const T* gamma, const T* beta, int64_t n,
                    int64_t c, int64_t s, double eps);
// dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel; dγ, dβ as in group_norm_bwd.
template <class T>
void batch_norm_bwd(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* rstd,
                    const T* gamma, int64_t n, int64_t c, int64_t s);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void group_norm_fwd(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                    int64_t n, int64_t c, int64_t s, int64_t g, double eps);
void group_norm_bwd(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                    const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t s, int64_t g);
void batch_norm_fwd(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                    const float* beta, int64_t n, int64_t c, int64_t s, double eps);
void batch_norm_bwd(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                    const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t s);
}  // namespace cuda
#endif
}  // namespace loco::kernels
