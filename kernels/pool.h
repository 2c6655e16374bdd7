// Contract of the 2×2 / stride-2 pooling family (no padding, floor: an odd last row or column
// is dropped). x is P = N·C planes of H×W; y is P planes of Ho×Wo = ⌊H/2⌋×⌊W/2⌋.
// Max pooling saves, per output, the flat in-plane index h·W + w of its maximum (the first one
// in scan order; a NaN wins, as in PyTorch) so the backward can route through it.
#pragma once
#include <cstdint>

namespace loco::kernels {
namespace cpu {
template <class T> void avg_pool2_fwd(T* y, const T* x, int64_t planes, int64_t h, int64_t w);
// The adjoint: dx[h, w] = dy[h/2, w/2] / 4 inside the pooled area, 0 on a dropped row/column.
template <class T> void avg_pool2_bwd(T* dx, const T* dy, int64_t planes, int64_t h, int64_t w);
template <class T> void max_pool2_fwd(T* y, int64_t* index, const T* x, int64_t planes, int64_t h, int64_t w);
// dx = 0 except dx[p, index[p, o]] = dy[p, o] (windows do not overlap); h, w: the input size.
template <class T>
void max_pool2_scatter(T* dx, const T* dy, const int64_t* index, int64_t planes, int64_t h, int64_t w);
// y[p, o] = g[p, index[p, o]]: the scatter's adjoint.
template <class T>
void max_pool2_gather(T* y, const T* g, const int64_t* index, int64_t planes, int64_t h, int64_t w);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void avg_pool2_fwd(float* y, const float* x, int64_t planes, int64_t h, int64_t w);
void avg_pool2_bwd(float* dx, const float* dy, int64_t planes, int64_t h, int64_t w);
void max_pool2_fwd(float* y, int64_t* index, const float* x, int64_t planes, int64_t h, int64_t w);
void max_pool2_scatter(float* dx, const float* dy, const int64_t* index, int64_t planes, int64_t h, int64_t w);
void max_pool2_gather(float* y, const float* g, const int64_t* index, int64_t planes, int64_t h, int64_t w);
}  // namespace cuda
#endif
}  // namespace loco::kernels
