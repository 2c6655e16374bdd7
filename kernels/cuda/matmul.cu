// CUDA twin of kernels/matmul.h: gemm and bmm in the CPU's row-major convention. Letters:
// op(A) M×K · op(B) K×N → C M×N; for the low-rank reconstruction batch = N·C images, M = H,
// N = W, K = r (the rank).
//
// cuBLAS is column-major, and a row-major X (rows × cols, leading dim ld) is, read
// column-major, Xᵀ with the same ld. So C = op(A)·op(B) in row-major is Cᵀ = op(B)ᵀ·op(A)ᵀ in
// column-major: one cuBLAS call with the operands swapped, m = N, n = M, the transpose flags
// kept as given (B untransposed is already op(B)ᵀ when read column-major).
//
// bmm with K ≤ kTinyK (8) takes a hand-written kernel instead: a GEMM library tiles over K and
// cannot use its tiles for a depth of 1–8, while one thread per output computing an r-term dot
// product in a fixed order (k = 0, 1, …) reads A and B from L1/L2 and writes each output once,
// all batch×M×N outputs in one launch. The backward products of the reconstruction (K = W or
// H, with r-sized M or N) have a deep K and stay on cuBLAS.
//
// TF32: cublasSetMathMode before every call (a host-side flag, cheap), CUBLAS_DEFAULT_MATH when
// tf32() is off (cublas_api.h: TF32 tensor cores are only allowed under
// CUBLAS_TF32_TENSOR_OP_MATH; the default mode never computes with fewer mantissa bits than
// requested), CUBLAS_TF32_TENSOR_OP_MATH when on. cuBLAS gives the same bits run to run on one
// stream and one GPU model, so these products are deterministic.
#include <algorithm>

#include "kernels/cuda/launch.cuh"
#include "kernels/matmul.h"
#include "kernels/memory.h"

namespace loco::kernels::cuda {
namespace {

constexpr int64_t kTinyK = 8;

void set_math_mode() {
  LOCO_CUBLAS_CHECK(cublasSetMathMode(cublas(), tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

cublasOperation_t op_of(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// C[i, j] = beta·C[i, j] over an M×N block with leading dim ldc; C is not read when beta == 0
// (the CPU's scale_rows: the product is empty, K == 0, or alpha == 0).
__global__ void gemm_scale_kernel(float* c, float beta, int64_t rows, int64_t cols, int64_t ldc) {
  const int64_t count = rows * cols;
  LOCO_GRID_STRIDE(t, count) {
    const int64_t i = t / cols, j = t - i * cols;
    float* p = c + i * ldc + j;
    *p = beta == 0.0f ? 0.0f : beta * *p;
  }
}

// One thread per output of C[b] = op(A[b])·op(B[b]) with depth R ≤ kTinyK, densely packed
// batches (strides M·R, R·N, M·N). The R products are summed in order k = 0 … R − 1, so the
// result depends on neither launch shape nor the GPU. I is the index type: 32-bit unsigned
// when every index fits (the divisions that split t into (item, i, j) cost several times less
// than in 64 bits), int64_t otherwise.
template <int R, class I>
__global__ void bmm_tiny_k_kernel(float* c, const float* a, const float* b, I count, I m, I n, bool ta, bool tb) {
  const I mn = m * n, step = static_cast<I>(gridDim.x) * blockDim.x;
  for (I t = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; t < count; t += step) {
    const I item = t / mn, rem = t - item * mn, i = rem / n, j = rem - i * n;
    const float* ab = a + item * (m * R);
    const float* bb = b + item * (R * n);
    float acc = 0.0f;
#pragma unroll
    for (int k = 0; k < R; ++k) {
      const float av = ta ? ab[k * m + i] : ab[i * R + k];
      const float bv = tb ? bb[j * R + k] : bb[k * n + j];
      acc = k == 0 ? av * bv : acc + av * bv;
    }
    c[t] = acc;
  }
}

// largest: the element count of the biggest of A, B, C (every index stays below it).
template <int R>
void launch_tiny(float* c, const float* a, const float* b, int64_t count, int64_t largest, int64_t m, int64_t n,
                 bool ta, bool tb) {
  // t + step must not wrap in 32 bits either: step ≤ kMaxGrid·kBlock, far below the margin.
  if (largest <= int64_t{0xffffffff} - kMaxGrid * kBlock) {
    bmm_tiny_k_kernel<R, uint32_t><<<grid_for(count), kBlock, 0, stream()>>>(
        c, a, b, static_cast<uint32_t>(count), static_cast<uint32_t>(m), static_cast<uint32_t>(n), ta, tb);
  } else {
    bmm_tiny_k_kernel<R, int64_t><<<grid_for(count), kBlock, 0, stream()>>>(c, a, b, count, m, n, ta, tb);
  }
  LOCO_CHECK_LAUNCH("bmm_tiny_k_kernel");
}

void bmm_tiny_k(float* c, const float* a, const float* b, int64_t batch, int64_t m, int64_t n, int64_t k, bool ta,
                bool tb) {
  const int64_t count = batch * m * n, largest = std::max({count, batch * m * k, batch * k * n});
  switch (k) {
    case 1: return launch_tiny<1>(c, a, b, count, largest, m, n, ta, tb);
    case 2: return launch_tiny<2>(c, a, b, count, largest, m, n, ta, tb);
    case 3: return launch_tiny<3>(c, a, b, count, largest, m, n, ta, tb);
    case 4: return launch_tiny<4>(c, a, b, count, largest, m, n, ta, tb);
    case 5: return launch_tiny<5>(c, a, b, count, largest, m, n, ta, tb);
    case 6: return launch_tiny<6>(c, a, b, count, largest, m, n, ta, tb);
    case 7: return launch_tiny<7>(c, a, b, count, largest, m, n, ta, tb);
    case 8: return launch_tiny<8>(c, a, b, count, largest, m, n, ta, tb);
    default: LOCO_FAIL("bmm: no tiny-K kernel for K = ", k, " (1…", kTinyK, ")");
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.0f) {  // C = beta·C, as the CPU's scale_rows (cuBLAS may not write C for K = 0)
    if (beta == 1.0f) return;
    gemm_scale_kernel<<<grid_for(M * N), kBlock, 0, stream()>>>(C, beta, M, N, ldc);
    LOCO_CHECK_LAUNCH("gemm_scale_kernel");
    return;
  }
  set_math_mode();
  LOCO_CUBLAS_CHECK(cublasSgemm_64(cublas(), op_of(trans_b), op_of(trans_a), N, M, K, &alpha, B, ldb, A, lda, &beta,
                                   C, ldc));
}

void bmm(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, const float* A,
         const float* B, float* C) {
  if (batch == 0 || M == 0 || N == 0) return;
  const int64_t count = batch * M * N;
  if (K == 0) {  // empty sums
    memset_bytes(C, 0, static_cast<size_t>(count) * sizeof(float));
    return;
  }
  if (K <= kTinyK) return bmm_tiny_k(C, A, B, batch, M, N, K, trans_a, trans_b);
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  const float one = 1.0f, zero = 0.0f;
  set_math_mode();
  LOCO_CUBLAS_CHECK(cublasSgemmStridedBatched_64(cublas(), op_of(trans_b), op_of(trans_a), N, M, K, &one, B, ldb,
                                                 K * N, A, lda, M * K, &zero, C, N, M * N, batch));
}

}  // namespace loco::kernels::cuda
