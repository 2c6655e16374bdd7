// CPU twin of kernels/matmul.h. Products go to Eigen (built with EIGEN_DONT_PARALLELIZE): a
// large one is split into static column or row blocks, one Eigen call per thread; a batch of
// small ones is spread over threads, one product each. Products with one dimension of at most
// kTinyK = 8 in the low-rank layouts (H×r · r×W, and its backward's dX·Bᵀ and Aᵀ·dX) take
// fixed-size kernels on Eigen packets instead: on the low-rank shapes they run 2–5× faster than
// Eigen (whose packing does not pay for r = 2), and up to 512×512 they still win or tie.
// Letters: M×K · K×N → M×N; batch = N·C for the low-rank case (H×r · r×W).
#include "kernels/matmul.h"

#include <omp.h>

// Eigen's packet types (__m512, …) carry attributes GCC drops when they are template arguments,
// and GCC 12 takes the _mm512_undefined_pd() in Eigen's AVX-512 transposes for uninitialised
// reads. Both are false alarms.
#pragma GCC diagnostic ignored "-Wignored-attributes"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#include <algorithm>

namespace loco::kernels::cpu {
namespace {

template <class T> using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using ConstMap = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T> using MutMap = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;
namespace ei = Eigen::internal;
template <class T> struct Packets {
  using Full = typename ei::packet_traits<T>::type;
  using Half = typename ei::unpacket_traits<Full>::half;
  static constexpr int64_t L = ei::unpacket_traits<Full>::size, Lh = ei::unpacket_traits<Half>::size;
};

// Below this many multiply-adds a product runs on one thread: forking costs a few µs.
constexpr int64_t kParallelWork = int64_t{1} << 18;
constexpr int64_t kTinyK = 8;
// cols_nn_fixed walks K rows of B per packet of columns; past this, Eigen's blocking wins.
constexpr int64_t kTinyMaxDepth = 512;

// Threads to use for `work` multiply-adds: one inside a parallel region or for small work.
int threads_for(int64_t work) {
  if (omp_in_parallel() || work < 2 * kParallelWork) return 1;
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), work / kParallelWork));
}

// C = beta·C, never reading C when beta == 0.
template <class T> void scale_rows(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      std::fill(c, c + N, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
  }
}

// Stores one finished output value: acc already holds alpha·(op(A)·op(B))[i, j].
template <class T> inline void put(T* c, T acc, T beta) { *c = beta == T(0) ? acc : acc + beta * *c; }

// Rows [i0, i1) of C, op(B) = B (not transposed), K a compile-time R ≤ kTinyK: each output
// element is written once, the R values of op(A)'s row live in registers, j is vectorised.
template <class T, int R>
void rows_nn_fixed(int64_t i0, int64_t i1, int64_t N, T alpha, bool trans_a, const T* A, int64_t lda, const T* B,
                   int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = i0; i < i1; ++i) {
    T a[R];
    for (int k = 0; k < R; ++k) a[k] = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) {
        T acc = a[0] * B[j];
        for (int k = 1; k < R; ++k) acc += a[k] * B[k * ldb + j];
        c[j] = acc;
      }
    } else {
      for (int64_t j = 0; j < N; ++j) {
        T acc = a[0] * B[j];
        for (int k = 1; k < R; ++k) acc += a[k] * B[k * ldb + j];
        c[j] = acc + beta * c[j];
      }
    }
  }
}

// Rows [i0, i1) of C = A·Bᵀ with N = R ≤ kTinyK (the low-rank dA = dX·Bᵀ): R dot products per
// row of A, accumulated a packet of k at a time, B's R rows reloaded from L1.
template <class T, int R>
void rows_nt_fixed(int64_t i0, int64_t i1, int64_t K, T alpha, const T* A, int64_t lda, const T* B, int64_t ldb,
                   T beta, T* C, int64_t ldc) {
  using P = typename Packets<T>::Full;
  using Ph = typename Packets<T>::Half;
  constexpr int64_t L = Packets<T>::L, Lh = Packets<T>::Lh;
  for (int64_t i = i0; i < i1; ++i) {
    const T* a = A + i * lda;
    P acc[R];
    for (int j = 0; j < R; ++j) acc[j] = ei::pset1<P>(T(0));
    int64_t k = 0;
    for (; k + L <= K; k += L) {
      const P av = ei::ploadu<P>(a + k);
      for (int j = 0; j < R; ++j) acc[j] = ei::pmadd(av, ei::ploadu<P>(B + j * ldb + k), acc[j]);
    }
    T s[R];
    for (int j = 0; j < R; ++j) s[j] = ei::predux(acc[j]);
    if (Lh < L && k + Lh <= K) {
      const Ph av = ei::ploadu<Ph>(a + k);
      for (int j = 0; j < R; ++j) s[j] += ei::predux(ei::pmul(av, ei::ploadu<Ph>(B + j * ldb + k)));
      k += Lh;
    }
    for (; k < K; ++k)
      for (int j = 0; j < R; ++j) s[j] += a[k] * B[j * ldb + k];
    for (int j = 0; j < R; ++j) put(C + i * ldc + j, alpha * s[j], beta);
  }
}

// All M = R ≤ kTinyK rows of C = op(A)·B (the low-rank dB = Aᵀ·dX): a packet of columns at a
// time, R accumulators, each B element loaded once and each output written once.
template <class T, int R>
void cols_nn_fixed(int64_t N, int64_t K, T alpha, bool trans_a, const T* A, int64_t lda, const T* B, int64_t ldb,
                   T beta, T* C, int64_t ldc) {
  auto a_at = [&](int i, int64_t k) { return trans_a ? A[k * lda + i] : A[i * lda + k]; };
  // One block of columns [j, j + size of Pk) with packets of type Pk.
  auto block = [&]<class Pk>(int64_t j) {
    Pk acc[R];
    for (int i = 0; i < R; ++i) acc[i] = ei::pset1<Pk>(T(0));
    for (int64_t k = 0; k < K; ++k) {
      const Pk b = ei::ploadu<Pk>(B + k * ldb + j);
      for (int i = 0; i < R; ++i) acc[i] = ei::pmadd(ei::pset1<Pk>(a_at(i, k)), b, acc[i]);
    }
    for (int i = 0; i < R; ++i) {
      T* c = C + i * ldc + j;
      Pk v = ei::pmul(ei::pset1<Pk>(alpha), acc[i]);
      if (beta != T(0)) v = ei::pmadd(ei::pset1<Pk>(beta), ei::ploadu<Pk>(c), v);
      ei::pstoreu(c, v);
    }
  };
  using P = typename Packets<T>::Full;
  using Ph = typename Packets<T>::Half;
  constexpr int64_t L = Packets<T>::L, Lh = Packets<T>::Lh;
  int64_t j = 0;
  for (; j + L <= N; j += L) block.template operator()<P>(j);
  if (Lh < L && j + Lh <= N) {
    block.template operator()<Ph>(j);
    j += Lh;
  }
  for (; j < N; ++j)
    for (int i = 0; i < R; ++i) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += a_at(i, k) * B[k * ldb + j];
      put(C + i * ldc + j, alpha * acc, beta);
    }
}

// One serial Eigen product on a block; K > 0 and alpha != 0 here.
template <class T>
void eigen_block(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T beta, T* C, int64_t ldc) {
  MutMap<T> c(C, M, N, Eigen::OuterStride<>(ldc));
  const ConstMap<T> a(A, ta ? K : M, ta ? M : K, Eigen::OuterStride<>(lda));
  const ConstMap<T> b(B, tb ? N : K, tb ? K : N, Eigen::OuterStride<>(ldb));
  auto run = [&](const auto& opa, const auto& opb) {
    if (beta == T(0)) {
      c.noalias() = alpha * opa * opb;
    } else {
      if (beta != T(1)) c *= beta;
      c.noalias() += alpha * opa * opb;
    }
  };
  if (ta && tb) run(a.transpose(), b.transpose());
  else if (ta) run(a.transpose(), b);
  else if (tb) run(a, b.transpose());
  else run(a, b);
}

// The fixed-size kernel a product takes, if any: K ≤ kTinyK (the reconstruction), N ≤ kTinyK
// with Bᵀ (dX·Bᵀ), or M ≤ kTinyK (Aᵀ·dX). At the other small shapes measured (16³ to 48³, N ≤ 8
// without Bᵀ) Eigen was as fast or 2–10× faster than plain loops, so they have none.
enum class Tiny { none, k, n, m };
Tiny tiny_kind(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  if (!tb && K <= kTinyK) return Tiny::k;
  if (!tb && M <= kTinyK && K <= kTinyMaxDepth) return Tiny::m;
  if (tb && !ta && N <= kTinyK) return Tiny::n;
  return Tiny::none;
}

// Rows [i0, i1) and columns [j0, j1) of C through the fixed-size kernel `kind` (Tiny::k and
// Tiny::n take row ranges with all columns, Tiny::m column ranges with all rows).
template <class T>
void tiny_block(Tiny kind, int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool ta, int64_t M, int64_t N, int64_t K,
                T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
#define LOCO_CASES(CASE) CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
  static_assert(kTinyK == 8, "LOCO_CASES instantiates one kernel per size up to kTinyK");
  switch (kind) {
    case Tiny::k:
      switch (K) {
#define LOCO_K(R) \
  case R: return rows_nn_fixed<T, R>(i0, i1, N, alpha, ta, A, lda, B, ldb, beta, C, ldc);
        LOCO_CASES(LOCO_K)
#undef LOCO_K
      }
      break;
    case Tiny::n:
      switch (N) {
#define LOCO_N(R) \
  case R: return rows_nt_fixed<T, R>(i0, i1, K, alpha, A, lda, B, ldb, beta, C, ldc);
        LOCO_CASES(LOCO_N)
#undef LOCO_N
      }
      break;
    case Tiny::m:
      switch (M) {
#define LOCO_M(R) \
  case R: return cols_nn_fixed<T, R>(j1 - j0, K, alpha, ta, A, lda, B + j0, ldb, beta, C + j0, ldc);
        LOCO_CASES(LOCO_M)
#undef LOCO_M
      }
      break;
    case Tiny::none: break;
  }
#undef LOCO_CASES
  __builtin_unreachable();  // tiny_kind admits only sizes 1..kTinyK
}

// One product on the calling thread (the per-item work of a batch spread over threads).
template <class T>
void gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) return scale_rows(M, N, beta, C, ldc);
  const Tiny kind = tiny_kind(ta, tb, M, N, K);
  if (kind != Tiny::none) return tiny_block(kind, 0, M, 0, N, ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  eigen_block(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  const int nt = threads_for(M * N * std::max<int64_t>(K, 1));
  if (nt <= 1 || M == 0 || N == 0 || K == 0 || alpha == T(0))
    return gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  const Tiny kind = tiny_kind(ta, tb, M, N, K);
  if (kind != Tiny::none) {
    // Rows are independent; with M ≤ kTinyK (Tiny::m) split the columns instead.
    const int64_t extent = kind == Tiny::m ? N : M;
    const int64_t chunk = kind == Tiny::m ? round_up((N + nt - 1) / nt, 16) : (M + nt - 1) / nt;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t d0 = std::min(extent, t * chunk), d1 = std::min(extent, d0 + chunk);
      if (d0 == d1) continue;
      if (kind == Tiny::m) tiny_block(kind, 0, M, d0, d1, ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      else tiny_block(kind, d0, d1, 0, N, ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    return;
  }
  // Static blocks of the longer output side; each thread packs its own panels. Block edges sit
  // on multiples of 16 so every thread's Eigen kernel runs full-width register tiles.
  const bool split_cols = N >= M;
  const int64_t extent = split_cols ? N : M;
  const int64_t chunk = round_up((extent + nt - 1) / nt, 16);
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int64_t t = 0; t < nt; ++t) {
    const int64_t d0 = std::min(extent, t * chunk), d1 = std::min(extent, d0 + chunk);
    if (d0 == d1) continue;
    if (split_cols) {
      // Columns d0..d1 of C need columns d0..d1 of op(B): B + d0 untransposed, rows of B transposed.
      const T* b = tb ? B + d0 * ldb : B + d0;
      eigen_block(ta, tb, M, d1 - d0, K, alpha, A, lda, b, ldb, beta, C + d0, ldc);
    } else {
      const T* a = ta ? A + d0 : A + d0 * lda;
      eigen_block(ta, tb, d1 - d0, N, K, alpha, a, lda, B, ldb, beta, C + d0 * ldc, ldc);
    }
  }
}

template <class T>
void bmm(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  if (batch == 0 || M == 0 || N == 0) return;
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  const int64_t sa = M * K, sb = K * N, sc = M * N;
  const int64_t item = M * N * std::max<int64_t>(K, 1);
  const int nt = threads_for(batch * item);
  // Few large items: parallelise inside each product instead of over an unbalanced batch.
  if (nt > 1 && batch < 4 * nt && item >= 2 * kParallelWork) {
    for (int64_t b = 0; b < batch; ++b) gemm(ta, tb, M, N, K, T(1), A + b * sa, lda, B + b * sb, ldb, T(0), C + b * sc, N);
    return;
  }
  auto item_at = [&](int64_t b) {
    gemm_serial(ta, tb, M, N, K, T(1), A + b * sa, lda, B + b * sb, ldb, T(0), C + b * sc, N);
  };
  if (nt <= 1) {  // no parallel region at all: even an inactive one costs about a microsecond
    for (int64_t b = 0; b < batch; ++b) item_at(b);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int64_t b = 0; b < batch; ++b) item_at(b);
}

#define LOCO_INSTANTIATE(T)                                                                                 \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, \
                        T*, int64_t);                                                                       \
  template void bmm<T>(bool, bool, int64_t, int64_t, int64_t, int64_t, const T*, const T*, T*);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
