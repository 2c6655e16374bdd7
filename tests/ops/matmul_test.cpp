// The matmul family: matmul, bmm, lowrank_reconstruct, linear, and the gemm/bmm kernels under
// them. Forward values against a naive triple loop in double (f32 and f64, odd shapes, every
// transpose pair, every kernel path: tiny-K loops, small products, serial and split Eigen),
// GradCheck and GradGradCheck in f64, and CudaVsCpu: cuBLAS and the tiny-K kernel against the
// CPU through the ops. Letters: M×K · K×N; A [N,C,H,r], B [N,C,r,W].
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/matmul.h"
#include "tests/harness/compare.h"
#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::leaf;

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using V = std::vector<Tensor>;

constexpr bool kTrans[2] = {false, true};

std::vector<double> doubles(const Tensor& t) {
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  const auto v = t.to_vector<float>();
  return std::vector<double>(v.begin(), v.end());
}

Tensor randn(const Shape& s, DType dt, uint64_t stream) {
  Generator g(0x3A7, stream);
  return rand_normal(s, g, 0.0, 1.0, dt);
}

// op(A)·op(B) with A stored (ta ? K×M : M×K) and B (tb ? N×K : K×N), densely packed.
std::vector<double> naive_product(const std::vector<double>& a, const std::vector<double>& b, int64_t M, int64_t N,
                                  int64_t K, bool ta, bool tb) {
  std::vector<double> c(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k)
        c[i * N + j] += a[ta ? k * M + i : i * K + k] * b[tb ? j * K + k : k * N + j];
  return c;
}

// Relative L2 error; fails on a non-finite value or an all-zero reference.
void expect_close(const std::vector<double>& out, const std::vector<double>& ref, double tol, const std::string& what) {
  ASSERT_EQ(out.size(), ref.size()) << what;
  double num = 0, den = 0;
  size_t worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out[i])) << what << ": non-finite value at " << i;
    const double d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    if (std::abs(d) > std::abs(out[worst] - ref[worst])) worst = i;
  }
  ASSERT_GT(den, 0.0) << what << ": the reference is all zeros";
  EXPECT_LE(std::sqrt(num / den), tol) << what << ": worst at " << worst << ": " << out[worst] << " vs " << ref[worst];
}

double tol_for(DType dt) { return dt == DType::f32 ? 1e-5 : 1e-12; }

struct Dims {
  int64_t M, N, K;
};
// Every path of kernels/cpu/gemm.cpp: the fixed-size kernels (K ≤ 8; M ≤ 8; N ≤ 8 with Bᵀ)
// with K, N crossing whole packets, a half packet and a scalar tail, each also large enough to
// be split over threads (by rows, by columns); M ≤ 8 but too deep (Eigen); small products
// Eigen takes; and large ones split by columns (N ≥ M) and by rows (M > N).
constexpr Dims kShapes[] = {{7, 13, 1},   {7, 13, 2},   {13, 7, 5},     {1, 1, 1},      {700, 800, 4},
                            {3, 27, 12},  {5, 3, 27},   {3, 2000, 100}, {2000, 5, 100}, {2, 50, 600},
                            {7, 13, 9},   {16, 3, 40},  {33, 17, 70},   {70, 130, 90},  {130, 70, 90}};

TEST(Matmul, ForwardMatchesNaiveEveryTransposeAndDtype) {
  uint64_t stream = 0;
  for (DType dt : {DType::f32, DType::f64})
    for (const Dims& d : kShapes)
      for (bool ta : kTrans)
        for (bool tb : kTrans) {
          const Tensor a = randn(ta ? Shape{d.K, d.M} : Shape{d.M, d.K}, dt, ++stream);
          const Tensor b = randn(tb ? Shape{d.N, d.K} : Shape{d.K, d.N}, dt, ++stream);
          const Tensor c = matmul(a, b, ta, tb);
          ASSERT_EQ(c.shape(), (Shape{d.M, d.N}));
          expect_close(doubles(c), naive_product(doubles(a), doubles(b), d.M, d.N, d.K, ta, tb), tol_for(dt),
                       "matmul " + a.shape().str() + (ta ? "T" : "") + " x " + b.shape().str() + (tb ? "T" : ""));
        }
}

TEST(Matmul, ShapeErrorsNameTheOp) {
  const Tensor a = zeros(Shape{3, 4}), b = zeros(Shape{5, 2});
  EXPECT_THROW(matmul(a, b), Error);
  EXPECT_NO_THROW(matmul(a, zeros(Shape{2, 4}), false, true));
  EXPECT_THROW(matmul(a, zeros(Shape{4, 2}, DType::f64)), Error);
  EXPECT_THROW(matmul(zeros(Shape{2, 3, 4}), b), Error);
  try {
    matmul(a, b);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("matmul"), std::string::npos) << e.what();
  }
}

// alpha, beta and leading dims larger than the rows, on every path; C outside the block must
// stay untouched, and with beta = 0 its old (NaN) contents must not leak in.
TEST(Gemm, AlphaBetaAndLeadingDims) {
  uint64_t stream = 100;
  for (const Dims& d : kShapes)
    for (bool ta : kTrans)
      for (bool tb : kTrans)
        for (double beta : {0.0, 1.0, -0.5}) {
          const int64_t ar = ta ? d.K : d.M, ac = ta ? d.M : d.K, br = tb ? d.N : d.K, bc = tb ? d.K : d.N;
          const int64_t lda = ac + 3, ldb = bc + 1, ldc = d.N + 2;
          auto a = doubles(randn(Shape{ar, lda}, DType::f64, ++stream));
          auto b = doubles(randn(Shape{br, ldb}, DType::f64, ++stream));
          auto c = doubles(randn(Shape{d.M, ldc}, DType::f64, ++stream));
          const auto c0 = c;
          if (beta == 0.0)
            for (int64_t i = 0; i < d.M; ++i)
              for (int64_t j = 0; j < d.N; ++j) c[i * ldc + j] = std::numeric_limits<double>::quiet_NaN();
          const double alpha = 1.5;
          kernels::cpu::gemm(ta, tb, d.M, d.N, d.K, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
          std::vector<double> ap, bp;  // densely packed copies for the reference
          for (int64_t i = 0; i < ar; ++i) ap.insert(ap.end(), a.begin() + i * lda, a.begin() + i * lda + ac);
          for (int64_t i = 0; i < br; ++i) bp.insert(bp.end(), b.begin() + i * ldb, b.begin() + i * ldb + bc);
          const auto p = naive_product(ap, bp, d.M, d.N, d.K, ta, tb);
          std::vector<double> out, ref;
          for (int64_t i = 0; i < d.M; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
              out.push_back(c[i * ldc + j]);
              ref.push_back(j < d.N ? alpha * p[i * d.N + j] + beta * c0[i * ldc + j] : c0[i * ldc + j]);
            }
          expect_close(out, ref, 1e-12, "gemm M=" + std::to_string(d.M) + " N=" + std::to_string(d.N) +
                                            " K=" + std::to_string(d.K) + (ta ? " ta" : "") + (tb ? " tb" : "") +
                                            " beta=" + std::to_string(beta));
        }
}

TEST(Gemm, EmptyInnerDimScalesC) {
  std::vector<float> c = {1, 2, 3, 4};
  kernels::cpu::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2}));
}

struct BatchCase {
  int64_t batch, M, N, K;
};
// The low-rank forward (K = r) and its two backward products, a batch big enough to be spread
// over threads, and a few large items that are split inside each product instead.
constexpr BatchCase kBatches[] = {{5, 7, 13, 1},    {5, 7, 13, 3},    {5, 7, 13, 8},     {5, 7, 13, 9},
                                  {3, 7, 2, 13},    {3, 2, 13, 7},    {4, 3, 27, 12},    {4, 5, 3, 27},
                                  {600, 32, 32, 2}, {600, 32, 2, 32}, {600, 2, 28, 28},  {2, 100, 90, 80}};

TEST(Bmm, ForwardMatchesNaiveEveryTransposeAndDtype) {
  uint64_t stream = 300;
  for (DType dt : {DType::f32, DType::f64})
    for (const BatchCase& c : kBatches)
      for (bool ta : kTrans)
        for (bool tb : kTrans) {
          const Tensor a = randn(ta ? Shape{c.batch, c.K, c.M} : Shape{c.batch, c.M, c.K}, dt, ++stream);
          const Tensor b = randn(tb ? Shape{c.batch, c.N, c.K} : Shape{c.batch, c.K, c.N}, dt, ++stream);
          const Tensor y = bmm(a, b, ta, tb);
          ASSERT_EQ(y.shape(), (Shape{c.batch, c.M, c.N}));
          const auto av = doubles(a), bv = doubles(b);
          std::vector<double> ref;
          for (int64_t i = 0; i < c.batch; ++i) {
            const std::vector<double> ai(av.begin() + i * c.M * c.K, av.begin() + (i + 1) * c.M * c.K);
            const std::vector<double> bi(bv.begin() + i * c.K * c.N, bv.begin() + (i + 1) * c.K * c.N);
            const auto p = naive_product(ai, bi, c.M, c.N, c.K, ta, tb);
            ref.insert(ref.end(), p.begin(), p.end());
          }
          expect_close(doubles(y), ref, tol_for(dt),
                       "bmm " + a.shape().str() + (ta ? "T" : "") + " x " + b.shape().str() + (tb ? "T" : ""));
        }
}

TEST(Bmm, DeterministicAcrossRuns) {
  for (const BatchCase& c : {kBatches[8], kBatches[9], kBatches[11]}) {
    const Tensor a = randn(Shape{c.batch, c.M, c.K}, DType::f32, 401), b = randn(Shape{c.batch, c.K, c.N}, DType::f32, 402);
    EXPECT_EQ(bmm(a, b).to_vector<float>(), bmm(a, b).to_vector<float>());
  }
}

TEST(Bmm, ShapeErrors) {
  EXPECT_THROW(bmm(zeros(Shape{2, 3, 4}), zeros(Shape{3, 4, 5})), Error);  // batch
  EXPECT_THROW(bmm(zeros(Shape{2, 3, 4}), zeros(Shape{2, 5, 4})), Error);  // inner
  EXPECT_THROW(bmm(zeros(Shape{3, 4}), zeros(Shape{4, 5})), Error);        // rank
}

TEST(LowrankReconstruct, ForwardMatchesNaive) {
  for (DType dt : {DType::f32, DType::f64})
    for (int64_t r : {1, 2, 3, 9}) {
      const int64_t N = 3, C = 2, H = 7, W = 5;
      const Tensor a = randn(Shape{N, C, H, r}, dt, 500 + r), b = randn(Shape{N, C, r, W}, dt, 600 + r);
      const Tensor x = lowrank_reconstruct(a, b);
      ASSERT_EQ(x.shape(), (Shape{N, C, H, W}));
      const auto av = doubles(a), bv = doubles(b);
      std::vector<double> ref(static_cast<size_t>(N * C * H * W), 0.0);
      for (int64_t nc = 0; nc < N * C; ++nc)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t k = 0; k < r; ++k) ref[(nc * H + h) * W + w] += av[(nc * H + h) * r + k] * bv[(nc * r + k) * W + w];
      expect_close(doubles(x), ref, tol_for(dt), "lowrank_reconstruct r=" + std::to_string(r));
    }
  EXPECT_THROW(lowrank_reconstruct(zeros(Shape{2, 3, 7, 2}), zeros(Shape{2, 3, 3, 5})), Error);  // rank
  EXPECT_THROW(lowrank_reconstruct(zeros(Shape{2, 3, 7, 2}), zeros(Shape{2, 1, 2, 5})), Error);  // channels
}

TEST(LowrankReconstruct, IsOneRecordedOp) {
  Tensor a = randn(Shape{2, 3, 4, 2}, DType::f32, 700), b = randn(Shape{2, 3, 2, 5}, DType::f32, 701);
  a.requires_grad_();
  const Tensor x = lowrank_reconstruct(a, b);
  ASSERT_TRUE(x.grad_fn());
  EXPECT_EQ(std::string(x.grad_fn()->name), "lowrank_reconstruct");
  EXPECT_TRUE(x.grad_fn()->edges[0].leaf && !x.grad_fn()->edges[1].active());  // straight from the leaves
}

TEST(Linear, ForwardMatchesNaive) {
  for (DType dt : {DType::f32, DType::f64}) {
    const int64_t N = 7, in = 13, out = 5;
    const Tensor x = randn(Shape{N, in}, dt, 800), w = randn(Shape{out, in}, dt, 801), bias = randn(Shape{out}, dt, 802);
    const auto xv = doubles(x), wv = doubles(w), bv = doubles(bias);
    std::vector<double> ref(static_cast<size_t>(N * out), 0.0), ref_b(ref.size());
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < out; ++o) {
        for (int64_t i = 0; i < in; ++i) ref[n * out + o] += xv[n * in + i] * wv[o * in + i];
        ref_b[n * out + o] = ref[n * out + o] + bv[o];
      }
    expect_close(doubles(linear(x, w)), ref, tol_for(dt), "linear without bias");
    expect_close(doubles(linear(x, w, bias)), ref_b, tol_for(dt), "linear with bias");
    EXPECT_THROW(linear(x, randn(Shape{out, in + 1}, dt, 803)), Error);
    EXPECT_THROW(linear(x, w, randn(Shape{out + 1}, dt, 804)), Error);
  }
}

TEST(GradCheck, Matmul) {
  for (bool ta : kTrans)
    for (bool tb : kTrans) {
      const Tensor a = randn64(ta ? Shape{4, 3} : Shape{3, 4}, 10), b = randn64(tb ? Shape{5, 4} : Shape{4, 5}, 11);
      expect_gradcheck([=](const V& v) { return matmul(v[0], v[1], ta, tb); }, {a, b});
    }
}

TEST(GradCheck, Bmm) {
  for (bool ta : kTrans)
    for (bool tb : kTrans) {
      const Tensor a = randn64(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, 12);
      const Tensor b = randn64(tb ? Shape{2, 5, 4} : Shape{2, 4, 5}, 13);
      expect_gradcheck([=](const V& v) { return bmm(v[0], v[1], ta, tb); }, {a, b});
    }
}

TEST(GradCheck, LowrankReconstruct) {
  expect_gradcheck([](const V& v) { return lowrank_reconstruct(v[0], v[1]); },
                   {randn64(Shape{2, 2, 4, 2}, 14), randn64(Shape{2, 2, 2, 3}, 15)});
  // r = 1 and a non-square image.
  expect_gradcheck([](const V& v) { return lowrank_reconstruct(v[0], v[1]); },
                   {randn64(Shape{3, 1, 5, 1}, 16), randn64(Shape{3, 1, 1, 7}, 17)});
}

TEST(GradCheck, Linear) {
  const Tensor x = randn64(Shape{3, 4}, 18), w = randn64(Shape{5, 4}, 19), bias = randn64(Shape{5}, 20);
  expect_gradcheck([](const V& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
  expect_gradcheck([](const V& v) { return linear(v[0], v[1]); }, {x, w});
}

TEST(GradGradCheck, Matmul) {
  for (bool ta : kTrans)
    for (bool tb : kTrans) {
      const Tensor a = randn64(ta ? Shape{4, 3} : Shape{3, 4}, 21), b = randn64(tb ? Shape{5, 4} : Shape{4, 5}, 22);
      // Bilinear: only the cross terms d²/da db are nonzero.
      expect_gradgradcheck([=](const V& v) { return matmul(v[0], v[1], ta, tb); }, {a, b});
      // Squared: d²/da² and d²/db² as well.
      expect_gradgradcheck([=](const V& v) {
        const Tensor y = matmul(v[0], v[1], ta, tb);
        return mul(y, y);
      }, {a, b});
    }
}

TEST(GradGradCheck, Bmm) {
  const Tensor a = randn64(Shape{2, 3, 4}, 23), b = randn64(Shape{2, 5, 4}, 24);
  expect_gradgradcheck([](const V& v) {
    const Tensor y = bmm(v[0], v[1], false, true);
    return mul(y, y);
  }, {a, b});
}

TEST(GradGradCheck, LowrankReconstruct) {
  const Tensor a = randn64(Shape{2, 2, 4, 2}, 25), b = randn64(Shape{2, 2, 2, 3}, 26);
  expect_gradgradcheck([](const V& v) { return lowrank_reconstruct(v[0], v[1]); }, {a, b});
  expect_gradgradcheck([](const V& v) {
    const Tensor x = lowrank_reconstruct(v[0], v[1]);
    return mul(x, x);
  }, {a, b});
}

TEST(GradGradCheck, Linear) {
  const Tensor x = randn64(Shape{3, 4}, 27), w = randn64(Shape{5, 4}, 28), bias = randn64(Shape{5}, 29);
  expect_gradgradcheck([](const V& v) {
    const Tensor y = linear(v[0], v[1], v[2]);
    return mul(y, y);
  }, {x, w, bias});
}

// ---- CUDA against the CPU ----
// Products and their gradients (through loco::grad, so the backward products run too: with
// K = r, the tiny-K kernel takes the forward and cuBLAS the deep backward products).

using testing::expect_cuda_matches_cpu;
using testing::randn32;


// y = prod(a, b) and ⟨v, y⟩'s gradients with respect to a and b.
template <class Prod> V product_and_grads(const V& v, const Prod& prod) {
  const Tensor a = leaf(v[0]), b = leaf(v[1]);
  const Tensor y = prod(a, b);
  const V g = grad(sum(y * v[2]), {a, b});
  return {y, g[0], g[1]};
}

// Odd sizes, 1×1×1, a square one past cuBLAS's tile sizes, and ConvNet-3's classifier
// (batch 256, 128·7·7 features, 10 classes).
TEST_F(CudaVsCpu, Matmul) {
  const Dims shapes[] = {{7, 13, 5}, {1, 1, 1}, {13, 7, 1}, {33, 17, 70}, {130, 70, 90}, {256, 10, 6272}};
  uint64_t seed = 9000;
  for (const Dims& d : shapes)
    for (bool ta : kTrans)
      for (bool tb : kTrans) {
        SCOPED_TRACE(::testing::Message() << "matmul M" << d.M << " N" << d.N << " K" << d.K << (ta ? " ta" : "")
                                          << (tb ? " tb" : ""));
        const V in{randn32(ta ? Shape{d.K, d.M} : Shape{d.M, d.K}, seed += 10),
                   randn32(tb ? Shape{d.N, d.K} : Shape{d.K, d.N}, seed + 1), randn32(Shape{d.M, d.N}, seed + 2)};
        expect_cuda_matches_cpu(
            [ta, tb](const V& v) {
              return product_and_grads(v, [=](const Tensor& a, const Tensor& b) { return matmul(a, b, ta, tb); });
            },
            in);
      }
}

// Both bmm routes: K ≤ 8 (the tiny-K kernel, every K from 1 to 8 and every transpose pair)
// and K > 8 (cuBLAS strided batched), with the low-rank backward layouts.
TEST_F(CudaVsCpu, Bmm) {
  const BatchCase cases[] = {{5, 7, 13, 1}, {5, 7, 13, 2}, {3, 7, 13, 3}, {3, 7, 13, 4}, {3, 7, 13, 5},
                             {3, 7, 13, 6}, {3, 7, 13, 7}, {5, 7, 13, 8}, {5, 7, 13, 9}, {3, 7, 2, 13},
                             {3, 2, 13, 7}, {1, 1, 1, 1},  {4, 33, 17, 70}, {600, 32, 2, 32}};
  uint64_t seed = 10000;
  for (const BatchCase& c : cases)
    for (bool ta : kTrans)
      for (bool tb : kTrans) {
        SCOPED_TRACE(::testing::Message() << "bmm batch " << c.batch << " M" << c.M << " N" << c.N << " K" << c.K
                                          << (ta ? " ta" : "") << (tb ? " tb" : ""));
        const V in{randn32(ta ? Shape{c.batch, c.K, c.M} : Shape{c.batch, c.M, c.K}, seed += 10),
                   randn32(tb ? Shape{c.batch, c.N, c.K} : Shape{c.batch, c.K, c.N}, seed + 1),
                   randn32(Shape{c.batch, c.M, c.N}, seed + 2)};
        expect_cuda_matches_cpu(
            [ta, tb](const V& v) {
              return product_and_grads(v, [=](const Tensor& a, const Tensor& b) { return bmm(a, b, ta, tb); });
            },
            in);
      }
}

// X = A·B per (n, c) and the gradients of A and B, for r = 1, 2, 8 (tiny-K kernel) and 16
// (cuBLAS): odd 7×13 images, the edge N = C = 1 with r = 1, and LoDM's synthetic set of
// 10 classes × 10 images × 3 channels at 32×32 (and Fashion-MNIST's 1×28×28).
TEST_F(CudaVsCpu, LowrankReconstruct) {
  struct Case {
    int64_t N, C, H, W;
  };
  const Case cases[] = {{3, 2, 7, 13}, {1, 1, 7, 13}, {100, 3, 32, 32}, {100, 1, 28, 28}};
  uint64_t seed = 11000;
  for (const Case& c : cases)
    for (int64_t r : {1, 2, 8, 16}) {
      SCOPED_TRACE(::testing::Message() << "lowrank N" << c.N << " C" << c.C << " " << c.H << "×" << c.W << " r" << r);
      const V in{randn32(Shape{c.N, c.C, c.H, r}, seed += 10), randn32(Shape{c.N, c.C, r, c.W}, seed + 1),
                 randn32(Shape{c.N, c.C, c.H, c.W}, seed + 2)};
      expect_cuda_matches_cpu(
          [](const V& v) {
            return product_and_grads(v, [](const Tensor& a, const Tensor& b) { return lowrank_reconstruct(a, b); });
          },
          in);
    }
}

// TF32 on: cuBLAS may use tensor cores (~1e-3 relative: 10-bit mantissa products) but stays
// deterministic. Switched off again after.
TEST_F(CudaVsCpu, MatmulTf32) {
  set_tf32(true);
  const V in{randn32(Shape{256, 512}, 12000), randn32(Shape{512, 384}, 12001), randn32(Shape{256, 384}, 12002)};
  expect_cuda_matches_cpu(
      [](const V& v) { return product_and_grads(v, [](const Tensor& a, const Tensor& b) { return matmul(a, b); }); },
      in, {.tol = 5e-3});
  set_tf32(false);
}

}  // namespace
}  // namespace loco
