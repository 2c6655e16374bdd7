// Winograd F(2×2, 3×3) and F(4×4, 3×3) (kernels/cpu/winograd.cpp) against the f64 direct
// convolution, forward, input and weight gradient, with the error bound each variant is held to; the
// same gradient checks as conv2d with the algorithm forced; thread-count independence; the
// automatic rule; and a gradient-matching double backward that must agree with im2col's.
//
// Bounds (relative RMS error against f64 direct, inputs and weights N(0, 1)):
//   f64, both variants: 1e-12.   f32: winograd2 2e-6, winograd4 1e-5, im2col 1e-6.
// The test prints the errors it measured (largest seen, f32: winograd2 4.4e-7, winograd4 2.5e-6,
// im2col 2.8e-7; bench/RESULTS.md).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "engine/autograd/tape.h"
#include "kernels/conv2d.h"
#include "tests/harness/compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using kernels::Conv2dShape;
using kernels::ConvAlgo;
using V = std::vector<Tensor>;

// The algorithm for one scope, restored after.
struct WithAlgo {
  ConvAlgo before = kernels::cpu::conv_algo();
  explicit WithAlgo(ConvAlgo a) { kernels::cpu::set_conv_algo(a); }
  ~WithAlgo() { kernels::cpu::set_conv_algo(before); }
};

Conv2dShape shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t pad) {
  return {N, C, H, W, K, 3, 3, 1, pad, kernels::conv_out_size(H, 3, 1, pad), kernels::conv_out_size(W, 3, 1, pad)};
}

std::vector<double> draw(int64_t n, uint64_t stream) { return testing::randn64(Shape{n}, stream).to_vector<double>(); }

// y, dx and dw of the direct convolution in f64.
void direct(const Conv2dShape& s, const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& b, const std::vector<double>& dy, std::vector<double>& y, std::vector<double>& dx,
            std::vector<double>& dw) {
  y.assign(static_cast<size_t>(s.N * s.K * s.pq()), 0.0);
  dx.assign(x.size(), 0.0);
  dw.assign(w.size(), 0.0);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < s.P; ++p)
        for (int64_t q = 0; q < s.Q; ++q) {
          const int64_t yi = ((n * s.K + k) * s.P + p) * s.Q + q;
          double acc = b[k];
          for (int64_t c = 0; c < s.C; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t t = 0; t < 3; ++t) {
                const int64_t ih = p - s.pad + r, iw = q - s.pad + t;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                const int64_t xi = ((n * s.C + c) * s.H + ih) * s.W + iw, wi = ((k * s.C + c) * 3 + r) * 3 + t;
                acc += x[xi] * w[wi];
                dx[xi] += dy[yi] * w[wi];
                dw[wi] += dy[yi] * x[xi];
              }
          y[yi] = acc;
        }
}

template <class T> double rel_rms(const std::vector<T>& out, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(static_cast<double>(out[i]))) return std::numeric_limits<double>::infinity();
    num += (static_cast<double>(out[i]) - ref[i]) * (static_cast<double>(out[i]) - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

// Forward (with bias), input and weight gradient under algorithm a, outputs poisoned with NaN.
template <class T> void check(const Conv2dShape& s, ConvAlgo a, double tol) {
  SCOPED_TRACE(::testing::Message() << kernels::conv_algo_name(a) << " N" << s.N << " C" << s.C << " " << s.H << "×"
                                    << s.W << " K" << s.K << " pad " << s.pad);
  const auto x = draw(s.N * s.C * s.hw(), 1), w = draw(s.K * s.crs(), 2), dy = draw(s.N * s.K * s.pq(), 3);
  const auto b = draw(s.K, 4);
  std::vector<double> yr, dxr, dwr;
  direct(s, x, w, b, dy, yr, dxr, dwr);
  const std::vector<T> xt(x.begin(), x.end()), wt(w.begin(), w.end()), dyt(dy.begin(), dy.end()), bt(b.begin(), b.end());
  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> y(yr.size(), nan), dx(x.size(), nan), dw(w.size(), nan);
  WithAlgo with(a);
  int64_t before[4], after[4];
  kernels::cpu::conv_algo_calls(before);
  kernels::cpu::conv2d_fwd(y.data(), xt.data(), wt.data(), bt.data(), s);
  kernels::cpu::conv2d_bwd_data(dx.data(), dyt.data(), wt.data(), s);
  kernels::cpu::conv2d_bwd_weight(dw.data(), xt.data(), dyt.data(), s);
  kernels::cpu::conv_algo_calls(after);
  EXPECT_EQ(after[static_cast<int>(a)] - before[static_cast<int>(a)], 3) << "the three convolutions ran the algorithm asked for";
  const double ey = rel_rms(y, yr), edx = rel_rms(dx, dxr), edw = rel_rms(dw, dwr);
  EXPECT_LE(ey, tol) << "forward";
  EXPECT_LE(edx, tol) << "input gradient";
  EXPECT_LE(edw, tol) << "weight gradient";
  std::printf("  %-9s %-6s N%lld C%lld %lldx%lld K%lld pad %lld: forward %.2e, input gradient %.2e, weight gradient %.2e\n",
              kernels::conv_algo_name(a), sizeof(T) == 4 ? "f32" : "f64", static_cast<long long>(s.N),
              static_cast<long long>(s.C), static_cast<long long>(s.H), static_cast<long long>(s.W),
              static_cast<long long>(s.K), static_cast<long long>(s.pad), ey, edx, edw);
}

// Maps that tile exactly and not (edges cropped), padding 0–2, N = 1, one tile, K and C off
// the micro-tile's multiples, C past one packed block (256), blocks smaller than a panel, and
// ConvNet's 16×16 and 8×8 at width 128.
std::vector<Conv2dShape> cases() {
  return {shape(2, 3, 7, 9, 4, 1),    shape(1, 5, 8, 8, 9, 1),   shape(3, 6, 6, 6, 5, 0),  shape(2, 4, 5, 7, 3, 2),
          shape(1, 2, 3, 3, 2, 0),    shape(2, 17, 11, 13, 19, 1), shape(1, 300, 6, 6, 10, 1),
          shape(3, 16, 14, 14, 24, 1), shape(2, 128, 16, 16, 128, 1), shape(4, 128, 8, 8, 128, 1)};
}

TEST(Winograd, MatchesDirectF64) {
  for (ConvAlgo a : {ConvAlgo::winograd2, ConvAlgo::winograd4})
    for (const auto& s : cases()) check<double>(s, a, 1e-12);
}

TEST(Winograd, MatchesDirectF32WithinItsBound) {
  for (const auto& s : cases()) {
    check<float>(s, ConvAlgo::im2col, 1e-6);
    check<float>(s, ConvAlgo::winograd2, 2e-6);
    check<float>(s, ConvAlgo::winograd4, 1e-5);
  }
}

// Blocks are independent: 1, 2 and 3 threads give the same bits.
TEST(Winograd, SameBitsOnAnyThreadCount) {
  const int before = omp_get_max_threads();
  const Conv2dShape s = shape(3, 20, 12, 12, 24, 1);
  const auto x = draw(s.N * s.C * s.hw(), 5), w = draw(s.K * s.crs(), 6);
  const std::vector<float> xt(x.begin(), x.end()), wt(w.begin(), w.end());
  for (ConvAlgo a : {ConvAlgo::winograd2, ConvAlgo::winograd4}) {
    WithAlgo with(a);
    std::vector<std::vector<float>> ys;
    for (int t : {1, 2, 3}) {
      omp_set_num_threads(t);
      ys.emplace_back(static_cast<size_t>(s.N * s.K * s.pq()));
      kernels::cpu::conv2d_fwd(ys.back().data(), xt.data(), wt.data(), static_cast<const float*>(nullptr), s);
    }
    for (size_t i = 1; i < ys.size(); ++i)
      EXPECT_EQ(0, std::memcmp(ys[0].data(), ys[i].data(), ys[0].size() * sizeof(float))) << conv_algo_name(a);
  }
  omp_set_num_threads(before);
}

TEST(Winograd, AutomaticRule) {
  WithAlgo with(ConvAlgo::automatic);
  using kernels::cpu::conv_algo_for;
  EXPECT_EQ(conv_algo_for(shape(256, 128, 16, 16, 128, 1)), ConvAlgo::winograd4);
  EXPECT_EQ(conv_algo_for(shape(256, 128, 8, 8, 128, 1)), ConvAlgo::winograd4);
  EXPECT_EQ(conv_algo_for(shape(64, 512, 4, 4, 512, 1)), ConvAlgo::winograd2);  // one F(4×4) tile: mostly padding
  EXPECT_EQ(conv_algo_for(shape(256, 1, 28, 28, 128, 3)), ConvAlgo::im2col);   // pad 3: cannot
  EXPECT_EQ(conv_algo_for(shape(256, 3, 32, 32, 128, 1)), ConvAlgo::im2col);   // 3 channels: too thin
  EXPECT_EQ(conv_algo_for(shape(256, 16, 32, 32, 16, 1)), ConvAlgo::winograd4);
  // The weight gradient gains less from Winograd: F(2×2) at 8×8, im2col below.
  EXPECT_EQ(conv_algo_for(shape(256, 128, 16, 16, 128, 1), true), ConvAlgo::winograd4);
  EXPECT_EQ(conv_algo_for(shape(256, 128, 8, 8, 128, 1), true), ConvAlgo::winograd2);
  EXPECT_EQ(conv_algo_for(shape(64, 512, 4, 4, 512, 1), true), ConvAlgo::im2col);
  Conv2dShape strided = shape(2, 64, 16, 16, 64, 1);
  strided.stride = 2;
  EXPECT_EQ(conv_algo_for(strided), ConvAlgo::im2col);
  // A forced algorithm still leaves the shapes it cannot run to im2col.
  WithAlgo forced(ConvAlgo::winograd2);
  EXPECT_EQ(conv_algo_for(shape(2, 1, 8, 8, 4, 3)), ConvAlgo::im2col);
  EXPECT_EQ(conv_algo_for(shape(2, 1, 8, 8, 4, 1)), ConvAlgo::winograd2);
}

TEST(Winograd, GradChecks) {
  for (ConvAlgo a : {ConvAlgo::winograd2, ConvAlgo::winograd4}) {
    SCOPED_TRACE(kernels::conv_algo_name(a));
    WithAlgo with(a);
    const Tensor x = testing::randn64(Shape{2, 3, 5, 6}, 10), w = testing::randn64(Shape{4, 3, 3, 3}, 11);
    const Tensor b = testing::randn64(Shape{4}, 12);
    testing::expect_gradcheck([](const V& v) { return conv2d(v[0], v[1], v[2], {.stride = 1, .padding = 1}); }, {x, w, b});
    testing::expect_gradcheck([](const V& v) { return conv2d(v[0], v[1], Tensor(), {.stride = 1, .padding = 2}); }, {x, w});
    testing::expect_gradgradcheck(
        [](const V& v) { return square(conv2d(v[0], v[1], v[2], {.stride = 1, .padding = 1})); }, {x, w, b});
    const Tensor dy = testing::randn64(Shape{2, 4, 5, 6}, 13);
    testing::expect_gradgradcheck(
        [](const V& v) { return square(conv2d_bwd_data(v[0], v[1], 5, 6, {.stride = 1, .padding = 1})); }, {dy, w});
    testing::expect_gradgradcheck(
        [](const V& v) { return square(conv2d_bwd_weight(v[0], v[1], 3, 3, {.stride = 1, .padding = 1})); }, {x, dy});
  }
}

// Gradient matching's double backward: the gradient of ‖∇_w ℓ(syn) − g_real‖² with respect to
// the synthetic images runs conv2d, its input gradient and the backward of both. Under
// Winograd it must equal im2col's to f32 rounding.
TEST(Winograd, GradientMatchingDoubleBackwardAgrees) {
  Generator gen(3, 1);
  const Tensor w1 = rand_normal(Shape{32, 3, 3, 3}, gen), w2 = rand_normal(Shape{32, 32, 3, 3}, gen);
  const Tensor real = rand_normal(Shape{8, 3, 12, 12}, gen), syn0 = rand_normal(Shape{4, 3, 12, 12}, gen);
  auto grads = [&](ConvAlgo a) {
    WithAlgo with(a);
    const Tensor syn = testing::leaf(syn0);
    const Tensor wa = testing::leaf(w1), wb = testing::leaf(w2);
    auto loss = [&](const Tensor& x) {
      return mean(square(conv2d(relu(conv2d(x, wa, Tensor(), {.padding = 1})), wb, Tensor(), {.padding = 1})));
    };
    const V g_real = grad(loss(real), {wa, wb});
    const V g_syn = grad(loss(syn), {wa, wb}, {.create_graph = true});
    Tensor match = sum(square(sub(g_syn[0], g_real[0])));
    match = add(match, sum(square(sub(g_syn[1], g_real[1]))));
    return grad(match, {syn})[0];
  };
  const Tensor ref = grads(ConvAlgo::im2col);
  for (ConvAlgo a : {ConvAlgo::winograd2, ConvAlgo::winograd4}) {
    const double e = testing::rel_error(grads(a), ref);
    EXPECT_LE(e, 1e-4) << kernels::conv_algo_name(a);
    std::printf("  gradient matching, %s against im2col: %.2e\n", kernels::conv_algo_name(a), e);
  }
}

}  // namespace
}  // namespace loco
