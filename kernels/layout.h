// Contract of the layout family: row gather / index-add along dim 0 and the batched transpose
// of the last two dims. R rows of D elements each; B batches of M×N matrices.
#pragma once
#include <cstdint>

namespace loco::kernels {
namespace cpu {
// y[i, :] = x[index[i], :] for i < n_index; index values checked by the caller.
template <class T> void gather_rows(T* y, const T* x, const int64_t* index, int64_t n_index, int64_t d);
// y[index[i], :] += src[i, :]; y must be zeroed by the caller. Deterministic (index order).
template <class T> void index_add_rows(T* y, const T* src, const int64_t* index, int64_t n_index, int64_t d);
// y[b, j, i] = x[b, i, j] for x [B, M, N].
template <class T> void transpose_last2(T* y, const T* x, int64_t b, int64_t m, int64_t n);
}  // namespace cpu
#ifdef LOCO_HAS_CUDA
namespace cuda {
void gather_rows(float* y, const float* x, const int64_t* index, int64_t n_index, int64_t d);
void index_add_rows(float* y, const float* src, const int64_t* index, int64_t n_index, int64_t d);
void transpose_last2(float* y, const float* x, int64_t b, int64_t m, int64_t n);
}  // namespace cuda
#endif
}  // namespace loco::kernels
