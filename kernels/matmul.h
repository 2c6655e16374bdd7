// Contract of the matmul family: one strided GEMM and a batched GEMM over contiguous batches.
// Everything is row-major. op(A) is M×K and op(B) is K×N, where op(X) = Xᵀ when trans_x is set:
// A is stored M×K (lda ≥ K) or, transposed, K×M (lda ≥ M); B likewise K×N or N×K.
// The batched low-rank reconstruction (N·C products of H×r · r×W, r small) is a bmm with
// batch = N·C, M = H, N = W, K = r; its backward products are bmm with K = W or K = H and
// r-sized M or N, so the CPU twin has a hand-written path for every tiny product.
#pragma once
#include <cstdint>

namespace loco::kernels {

namespace cpu {
// C = alpha·op(A)·op(B) + beta·C. C is never read when beta == 0 (it may hold garbage).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// C[b] = op(A[b])·op(B[b]) for b < batch; A[b], B[b], C[b] are contiguous and densely packed
// (strides M·K, K·N, M·N; leading dims equal to their stored row length).
template <class T>
void bmm(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void bmm(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, const float* A,
         const float* B, float* C);
}  // namespace cuda
#endif

}  // namespace loco::kernels
