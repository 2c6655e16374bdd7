// conv2d family: the three kernels against a naive 7-loop reference (f64 and f32, outputs
// poisoned with NaN so an unwritten element fails), the ops' checks, GradCheck and
// GradGradCheck of the three ops, thread-count independence and bit-for-bit determinism, and
// CudaVsCpu: the cuDNN twin against the CPU through the ops (y, dx, dw, db). Shape letters: N batch, C in channels, H×W input, K out channels, R×S kernel, P×Q output.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/conv2d.h"
#include "tests/harness/compare.h"
#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::leaf;

using kernels::Conv2dShape;
using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using V = std::vector<Tensor>;

Conv2dShape make_shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                       int64_t stride, int64_t pad) {
  return {N, C, H, W, K, R, S, stride, pad, kernels::conv_out_size(H, R, stride, pad),
          kernels::conv_out_size(W, S, stride, pad)};
}

// Calls f(n, k, c, p, q, r, t, x_index) for every multiply-add of the convolution.
template <class F> void for_each_tap(const Conv2dShape& s, F f) {
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t p = 0; p < s.P; ++p)
          for (int64_t q = 0; q < s.Q; ++q)
            for (int64_t r = 0; r < s.R; ++r)
              for (int64_t t = 0; t < s.S; ++t) {
                const int64_t ih = p * s.stride - s.pad + r, iw = q * s.stride - s.pad + t;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                f((n * s.K + k) * s.P * s.Q + p * s.Q + q, ((k * s.C + c) * s.R + r) * s.S + t,
                  ((n * s.C + c) * s.H + ih) * s.W + iw);
              }
}

struct Reference {  // y, dx and dw in f64 for given x, w, dy
  std::vector<double> y, dx, dw;
};
Reference naive(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
                const std::vector<double>& dy) {
  Reference ref{std::vector<double>(dy.size()), std::vector<double>(x.size()), std::vector<double>(w.size())};
  for_each_tap(s, [&](int64_t yi, int64_t wi, int64_t xi) {
    ref.y[yi] += x[xi] * w[wi];
    ref.dx[xi] += dy[yi] * w[wi];
    ref.dw[wi] += dy[yi] * x[xi];
  });
  return ref;
}

std::vector<double> draw(int64_t n, uint64_t stream) { return randn64(Shape{n}, stream).to_vector<double>(); }

template <class T> std::vector<T> cast(const std::vector<double>& v) { return std::vector<T>(v.begin(), v.end()); }

template <class T> void expect_close(const std::vector<T>& out, const std::vector<double>& ref, double tol, const char* what) {
  ASSERT_EQ(out.size(), ref.size()) << what;
  double num = 0, den = 0;
  size_t worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(std::isfinite(static_cast<double>(out[i]))) << what << ": non-finite at " << i;
    const double d = static_cast<double>(out[i]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    if (std::abs(d) > std::abs(static_cast<double>(out[worst]) - ref[worst])) worst = i;
  }
  ASSERT_GT(den, 0.0) << what << ": the reference is all zeros";
  EXPECT_LE(std::sqrt(num / den), tol) << what << ": worst at " << worst << ": " << out[worst] << " vs " << ref[worst];
}

// Runs the three kernels on poisoned outputs and compares them with the naive reference.
template <class T> void check_kernels(const Conv2dShape& s, double tol) {
  SCOPED_TRACE(::testing::Message() << "N" << s.N << " C" << s.C << " " << s.H << "×" << s.W << " K" << s.K << " "
                                    << s.R << "×" << s.S << " stride " << s.stride << " pad " << s.pad);
  const auto x = draw(s.N * s.C * s.hw(), 1), w = draw(s.K * s.crs(), 2), dy = draw(s.N * s.K * s.pq(), 3);
  const auto b = draw(s.K, 4);
  Reference ref = naive(s, x, w, dy);
  for (int64_t i = 0; i < s.N * s.K * s.pq(); ++i) ref.y[i] += b[i / s.pq() % s.K];
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const auto xt = cast<T>(x), wt = cast<T>(w), dyt = cast<T>(dy), bt = cast<T>(b);
  std::vector<T> y(dy.size(), nan), dx(x.size(), nan), dw(w.size(), nan);
  kernels::cpu::conv2d_fwd(y.data(), xt.data(), wt.data(), bt.data(), s);
  kernels::cpu::conv2d_bwd_data(dx.data(), dyt.data(), wt.data(), s);
  kernels::cpu::conv2d_bwd_weight(dw.data(), xt.data(), dyt.data(), s);
  expect_close(y, ref.y, tol, "conv2d_fwd");
  expect_close(dx, ref.dx, tol, "conv2d_bwd_data");
  expect_close(dw, ref.dw, tol, "conv2d_bwd_weight");
}

// Odd sizes, stride 2 and 3, padding 0–3 (3 > R−1 takes the col2im route), 1×1, N = 1,
// non-square kernels (also where bwd_data would pick the flipped route), 2×2 … 32×32 maps
// (the packing fast paths), more than one packed block deep (C·R·S > 256, P·Q > 256), tile
// edges (K not a multiple of 8) and C·R·S under one panel (the Eigen route).
std::vector<Conv2dShape> cases() {
  return {make_shape(2, 3, 7, 9, 4, 3, 3, 1, 1),   make_shape(3, 5, 9, 8, 6, 3, 3, 2, 1),
          make_shape(2, 1, 8, 8, 5, 3, 3, 1, 3),   make_shape(2, 6, 6, 6, 4, 3, 3, 1, 3),
          make_shape(2, 3, 8, 8, 4, 3, 3, 2, 0),   make_shape(2, 4, 6, 7, 3, 1, 1, 1, 0),
          make_shape(2, 6, 7, 7, 5, 1, 1, 2, 0),   make_shape(1, 3, 5, 5, 2, 2, 3, 1, 0),
          make_shape(1, 16, 8, 8, 40, 3, 3, 1, 1), make_shape(3, 20, 16, 16, 12, 3, 3, 1, 1),
          make_shape(2, 40, 32, 32, 9, 3, 3, 1, 1), make_shape(2, 2, 28, 28, 17, 3, 3, 1, 3),
          make_shape(2, 16, 9, 9, 8, 2, 3, 1, 1),  make_shape(2, 3, 10, 11, 4, 3, 3, 3, 2),
          make_shape(3, 5, 4, 4, 6, 3, 3, 1, 0),   make_shape(3, 6, 4, 4, 5, 3, 3, 1, 1)};
}

TEST(Conv2dKernel, MatchesNaiveF64) {
  for (const auto& s : cases()) check_kernels<double>(s, 1e-12);
}

TEST(Conv2dKernel, MatchesNaiveF32) {
  for (const auto& s : cases()) check_kernels<float>(s, 1e-5);
}

// 1 thread, 2, and 3 (more threads than samples: column chunks of one sample, and the
// partial-dw path with idle threads).
TEST(Conv2dKernel, AnyThreadCount) {
  const int before = omp_get_max_threads();
  for (int t : {1, 3}) {
    omp_set_num_threads(t);
    check_kernels<double>(make_shape(2, 16, 8, 8, 12, 3, 3, 1, 1), 1e-12);
    check_kernels<double>(make_shape(2, 1, 12, 12, 8, 3, 3, 1, 3), 1e-12);
    check_kernels<double>(make_shape(1, 4, 9, 11, 5, 3, 3, 2, 1), 1e-12);
  }
  omp_set_num_threads(before);
}

TEST(Conv2d, OpsMatchNaive) {
  const auto s = make_shape(2, 3, 6, 7, 4, 3, 3, 2, 1);
  const auto xv = draw(s.N * s.C * s.hw(), 5), wv = draw(s.K * s.crs(), 6), dyv = draw(s.N * s.K * s.pq(), 7);
  const Reference ref = naive(s, xv, wv, dyv);
  const Tensor x = from_vector(xv, Shape{2, 3, 6, 7}), w = from_vector(wv, Shape{4, 3, 3, 3});
  const Tensor dy = from_vector(dyv, Shape{2, 4, s.P, s.Q});
  const Conv2dOpts o{.stride = 2, .padding = 1};
  EXPECT_EQ(conv2d(x, w, Tensor(), o).shape(), (Shape{2, 4, 3, 4}));
  expect_close(conv2d(x, w, Tensor(), o).to_vector<double>(), ref.y, 1e-12, "conv2d");
  expect_close(conv2d_bwd_data(dy, w, 6, 7, o).to_vector<double>(), ref.dx, 1e-12, "conv2d_bwd_data");
  expect_close(conv2d_bwd_weight(x, dy, 3, 3, o).to_vector<double>(), ref.dw, 1e-12, "conv2d_bwd_weight");
}

TEST(Conv2d, ChecksNameTheShapes) {
  const Tensor x = zeros(Shape{2, 3, 8, 8}), w = zeros(Shape{4, 3, 3, 3});
  EXPECT_THROW(conv2d(x, zeros(Shape{4, 2, 3, 3})), Error);              // channel mismatch
  EXPECT_THROW(conv2d(x, w, zeros(Shape{5})), Error);                    // bias length
  EXPECT_THROW(conv2d(zeros(Shape{3, 8, 8}), w), Error);                 // not 4-D
  EXPECT_THROW(conv2d(zeros(Shape{2, 3, 2, 2}), w), Error);              // kernel larger than input
  EXPECT_THROW(conv2d(x, w, Tensor(), {.stride = 0}), Error);
  EXPECT_THROW(conv2d(x, zeros(Shape{4, 3, 3, 3}, DType::f64)), Error);  // dtypes differ
  EXPECT_THROW(conv2d_bwd_data(zeros(Shape{2, 4, 6, 6}), w, 9, 8), Error);
  EXPECT_THROW(conv2d_bwd_weight(x, zeros(Shape{2, 4, 5, 6}), 3, 3), Error);
  EXPECT_THROW(conv2d_bwd_weight(x, zeros(Shape{1, 4, 6, 6}), 3, 3), Error);
  try {
    conv2d(x, zeros(Shape{4, 2, 3, 3}));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2,3,8,8]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4,2,3,3]"), std::string::npos) << e.what();
  }
}

TEST(GradCheck, Conv2d) {
  const Tensor x = randn64(Shape{2, 3, 5, 6}, 10), w = randn64(Shape{4, 3, 3, 3}, 11), b = randn64(Shape{4}, 12);
  expect_gradcheck([](const V& v) { return conv2d(v[0], v[1], v[2], {.stride = 1, .padding = 1}); }, {x, w, b});
  expect_gradcheck([](const V& v) { return conv2d(v[0], v[1], Tensor(), {.stride = 2, .padding = 0}); }, {x, w});
  expect_gradcheck([](const V& v) { return conv2d(v[0], v[1], v[2]); },
                   {randn64(Shape{1, 5, 4, 4}, 13), randn64(Shape{3, 5, 1, 1}, 14), randn64(Shape{3}, 15)});
}

TEST(GradCheck, Conv2dBwdData) {
  const Tensor dy = randn64(Shape{2, 4, 3, 3}, 16), w = randn64(Shape{4, 3, 3, 3}, 17);
  expect_gradcheck([](const V& v) { return conv2d_bwd_data(v[0], v[1], 6, 5, {.stride = 2, .padding = 1}); }, {dy, w});
  expect_gradcheck([](const V& v) { return conv2d_bwd_data(v[0], v[1], 3, 3, {.stride = 1, .padding = 1}); }, {dy, w});
}

TEST(GradCheck, Conv2dBwdWeight) {
  const Tensor x = randn64(Shape{2, 3, 6, 5}, 18), dy = randn64(Shape{2, 4, 3, 3}, 19);
  expect_gradcheck([](const V& v) { return conv2d_bwd_weight(v[0], v[1], 3, 3, {.stride = 2, .padding = 1}); }, {x, dy});
  expect_gradcheck([](const V& v) { return conv2d_bwd_weight(v[0], v[1], 4, 3, {.stride = 1, .padding = 0}); }, {x, dy});
}

// Squaring the output makes every gradient depend on every input, so the second-order terms
// through all three ops are exercised.
TEST(GradGradCheck, Conv2d) {
  const Tensor x = randn64(Shape{2, 3, 5, 6}, 20), w = randn64(Shape{4, 3, 3, 3}, 21), b = randn64(Shape{4}, 22);
  expect_gradgradcheck([](const V& v) { return square(conv2d(v[0], v[1], v[2], {.stride = 1, .padding = 1})); },
                       {x, w, b});
  expect_gradgradcheck([](const V& v) { return conv2d(v[0], v[1], Tensor(), {.stride = 2, .padding = 1}); }, {x, w});
}

TEST(GradGradCheck, Conv2dBwdData) {
  const Tensor dy = randn64(Shape{2, 4, 3, 3}, 23), w = randn64(Shape{4, 3, 3, 3}, 24);
  expect_gradgradcheck(
      [](const V& v) { return square(conv2d_bwd_data(v[0], v[1], 6, 5, {.stride = 2, .padding = 1})); }, {dy, w});
}

TEST(GradGradCheck, Conv2dBwdWeight) {
  const Tensor x = randn64(Shape{2, 3, 6, 5}, 25), dy = randn64(Shape{2, 4, 6, 5}, 26);
  expect_gradgradcheck(
      [](const V& v) { return square(conv2d_bwd_weight(v[0], v[1], 3, 3, {.stride = 1, .padding = 1})); }, {x, dy});
}

// The weight gradient sums over samples in a fixed order: two runs agree bit for bit, with
// per-thread partial sums (N ≥ threads, also for the first layer's C·R·S = 9) and with
// threads owning column ranges (N = 1).
TEST(Conv2d, BwdWeightIsDeterministic) {
  Generator g(7, 1);
  for (const Shape& xs : {Shape{16, 32, 12, 12}, Shape{16, 1, 12, 12}, Shape{1, 32, 12, 12}}) {
    const Tensor x = rand_normal(xs, g), dy = rand_normal(Shape{xs[0], 24, 12, 12}, g);
    const auto a = conv2d_bwd_weight(x, dy, 3, 3, {.stride = 1, .padding = 1}).to_vector<float>();
    const auto b = conv2d_bwd_weight(x, dy, 3, 3, {.stride = 1, .padding = 1}).to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << "shape " << xs;
  }
}

// ---- CUDA against the CPU ----

using testing::expect_cuda_matches_cpu;
using testing::randn32;


struct ConvCase {
  int64_t N, C, H, W, K, R, S, stride, pad;
};

// y = conv2d(x, w, b) and ⟨v, y⟩'s gradients with respect to x, w (and b) through loco::grad:
// the forward, bwd-data, bwd-filter and the bias reduction.
void expect_conv_matches(const ConvCase& c, bool bias, uint64_t seed, double tol = 1e-4) {
  SCOPED_TRACE(::testing::Message() << "N" << c.N << " C" << c.C << " " << c.H << "×" << c.W << " K" << c.K << " "
                                    << c.R << "×" << c.S << " stride " << c.stride << " pad " << c.pad
                                    << (bias ? " bias" : ""));
  const int64_t P = kernels::conv_out_size(c.H, c.R, c.stride, c.pad);
  const int64_t Q = kernels::conv_out_size(c.W, c.S, c.stride, c.pad);
  V in{randn32(Shape{c.N, c.C, c.H, c.W}, seed), randn32(Shape{c.K, c.C, c.R, c.S}, seed + 1,
                                                          1.0 / std::sqrt(static_cast<double>(c.C * c.R * c.S))),
       randn32(Shape{c.N, c.K, P, Q}, seed + 2)};
  if (bias) in.push_back(randn32(Shape{c.K}, seed + 3));
  const Conv2dOpts o{.stride = c.stride, .padding = c.pad};
  expect_cuda_matches_cpu(
      [o, bias](const V& v) {
        const Tensor x = leaf(v[0]), w = leaf(v[1]), b = bias ? leaf(v[3]) : Tensor();
        const Tensor y = conv2d(x, w, b, o);
        const V g = grad(sum(y * v[2]), bias ? V{x, w, b} : V{x, w});
        V out{y};
        out.insert(out.end(), g.begin(), g.end());
        return out;
      },
      in, {.tol = tol});
}

// Tiny, odd (7×13: no block multiple), stride 2 and 3, padding 0–3 (3 > R − 1), 1×1 and
// non-square kernels, and the edge N = 1, C = 1, K = 1.
TEST_F(CudaVsCpu, Conv2d) {
  const ConvCase cases[] = {{2, 3, 5, 6, 4, 3, 3, 1, 1},  {3, 5, 7, 13, 6, 3, 3, 1, 1}, {3, 5, 7, 13, 6, 3, 3, 2, 1},
                            {2, 4, 10, 11, 3, 3, 3, 3, 2}, {2, 6, 6, 6, 4, 3, 3, 1, 3},  {2, 4, 6, 7, 3, 1, 1, 1, 0},
                            {2, 16, 9, 9, 8, 2, 3, 1, 1},  {1, 1, 7, 13, 1, 3, 3, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1, 0}};
  uint64_t seed = 1000;
  for (const ConvCase& c : cases) {
    expect_conv_matches(c, true, seed += 10);
    expect_conv_matches(c, false, seed += 10);
  }
}

// The layers of ConvNet-3 at batch 256 and width 128: Fashion-MNIST (1×28×28 → 14 → 7) and
// the CIFAR first layer (3×32×32).
TEST_F(CudaVsCpu, Conv2dConvNet3) {
  const ConvCase cases[] = {{256, 1, 28, 28, 128, 3, 3, 1, 1},
                            {256, 128, 14, 14, 128, 3, 3, 1, 1},
                            {256, 128, 7, 7, 128, 3, 3, 1, 1},
                            {256, 3, 32, 32, 128, 3, 3, 1, 1}};
  uint64_t seed = 2000;
  for (const ConvCase& c : cases) expect_conv_matches(c, true, seed += 10);
}

// The two backward convolutions as ops of their own, with their gradients (which are conv2d
// and the other backward op): the double-backward path of gradient matching.
TEST_F(CudaVsCpu, Conv2dBwdOps) {
  const ConvCase cases[] = {{2, 3, 7, 13, 4, 3, 3, 1, 1}, {3, 5, 9, 8, 6, 3, 3, 2, 1}, {1, 1, 5, 5, 1, 3, 3, 1, 0}};
  uint64_t seed = 3000;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "N" << c.N << " C" << c.C << " " << c.H << "×" << c.W << " K" << c.K
                                      << " stride " << c.stride << " pad " << c.pad);
    const int64_t P = kernels::conv_out_size(c.H, c.R, c.stride, c.pad);
    const int64_t Q = kernels::conv_out_size(c.W, c.S, c.stride, c.pad);
    const V in{randn32(Shape{c.N, c.K, P, Q}, seed += 10), randn32(Shape{c.K, c.C, c.R, c.S}, seed + 1),
               randn32(Shape{c.N, c.C, c.H, c.W}, seed + 2), randn32(Shape{c.N, c.C, c.H, c.W}, seed + 3),
               randn32(Shape{c.K, c.C, c.R, c.S}, seed + 4)};
    const Conv2dOpts o{.stride = c.stride, .padding = c.pad};
    expect_cuda_matches_cpu(
        [o, c](const V& v) {
          const Tensor dy = leaf(v[0]), w = leaf(v[1]), x = leaf(v[2]);
          const Tensor dx = conv2d_bwd_data(dy, w, c.H, c.W, o);
          const Tensor dw = conv2d_bwd_weight(x, dy, c.R, c.S, o);
          const V gd = grad(sum(dx * v[3]), {dy, w});
          const V gw = grad(sum(dw * v[4]), {x, dy});
          return V{dx, dw, gd[0], gd[1], gw[0], gw[1]};
        },
        in);
  }
}

// With TF32 on, cuDNN may use tensor cores: the result moves by ~1e-3 relative (10-bit
// mantissa products) but must still repeat bit for bit. TF32 is switched off again after.
TEST_F(CudaVsCpu, Conv2dTf32) {
  set_tf32(true);
  expect_conv_matches({8, 32, 14, 14, 64, 3, 3, 1, 1}, true, 4000, 5e-3);
  set_tf32(false);
}

}  // namespace
}  // namespace loco
