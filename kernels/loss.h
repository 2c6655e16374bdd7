// Contract of the loss family (softmax / cross-entropy) over rows of x [N, K] (N samples, K
// classes): log-softmax (max-shifted, log-sum-exp in double), the fused cross-entropy forward,
// the label pick and its adjoint, and the row argmax. labels are i64 in [0, K), checked by the
// caller. The differentiable ops are in engine/ops/loss.cpp.
#pragma once
#include <cstdint>

namespace loco::kernels {
namespace cpu {
template <class T> void log_softmax_fwd(T* y, const T* x, int64_t n, int64_t k);
// loss[0] = (1/N)·Σ_i −log softmax(x_i)[label_i].
template <class T> void cross_entropy_fwd(T* loss, const T* x, const int64_t* labels, int64_t n, int64_t k);
// y[i] = x[i, label_i].
template <class T> void pick_fwd(T* y, const T* x, const int64_t* labels, int64_t n, int64_t k);
// y [N, K] = 0 except y[i, label_i] = v[i].
template <class T> void unpick_fwd(T* y, const T* v, const int64_t* labels, int64_t n, int64_t k);
// out[i] = the first index of the largest x[i, :].
template <class T> void argmax_rows(int64_t* out, const T* x, int64_t n, int64_t k);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void log_softmax_fwd(float* y, const float* x, int64_t n, int64_t k);
void cross_entropy_fwd(float* loss, const float* x, const int64_t* labels, int64_t n, int64_t k);
void pick_fwd(float* y, const float* x, const int64_t* labels, int64_t n, int64_t k);
void unpick_fwd(float* y, const float* v, const int64_t* labels, int64_t n, int64_t k);
void argmax_rows(int64_t* out, const float* x, int64_t n, int64_t k);
}  // namespace cuda
#endif
}  // namespace loco::kernels
