// Tests of the pooling family: forward values against naive loops (odd sizes floor), the
// adjoint identities, max-pool routing, GradCheck and GradGradCheck.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using testing::dot;
using V = std::vector<Tensor>;

// Values in a random order with gaps of 0.1, so no window has a tie or a near-tie.
Tensor distinct_values(const Shape& s, uint64_t seed) {
  Generator g(seed, 0);
  const auto perm = rand_permutation(s.numel(), g);
  std::vector<double> v(perm.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * static_cast<double>(perm[i]) - 1.0;
  return from_vector(v, s);
}

// Naive 2×2 pooling of [P, H, W] planes; `take_max` picks max, else the mean.
std::vector<double> naive_pool(const std::vector<double>& x, int64_t p, int64_t h, int64_t w, bool take_max) {
  const int64_t ho = h / 2, wo = w / 2;
  std::vector<double> y(static_cast<size_t>(p * ho * wo));
  for (int64_t q = 0; q < p; ++q)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < wo; ++j) {
        const double a = x[(q * h + 2 * i) * w + 2 * j], b = x[(q * h + 2 * i) * w + 2 * j + 1];
        const double c = x[(q * h + 2 * i + 1) * w + 2 * j], d = x[(q * h + 2 * i + 1) * w + 2 * j + 1];
        y[(q * ho + i) * wo + j] = take_max ? std::max({a, b, c, d}) : (a + b + c + d) / 4;
      }
  return y;
}

// The first in-plane index h·W + w of each window's maximum, as i64 [..., H/2, W/2].
Tensor naive_argmax(const Tensor& x) {
  const int64_t h = x.dim(-2), w = x.dim(-1), p = x.numel() / (h * w), ho = h / 2, wo = w / 2;
  const auto v = x.to_vector<double>();
  std::vector<int64_t> idx;
  for (int64_t q = 0; q < p; ++q)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < wo; ++j) {
        int64_t best = 2 * i * w + 2 * j;
        for (int64_t k : {best + 1, best + w, best + w + 1})
          if (v[q * h * w + k] > v[q * h * w + best]) best = k;
        idx.push_back(best);
      }
  std::vector<int64_t> d = x.shape().dims();
  d[d.size() - 2] = ho;
  d[d.size() - 1] = wo;
  return from_vector(idx, Shape(d));
}

TEST(PoolForward, AvgAndMaxMatchNaiveWithOddSizes) {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{4, 6}, {5, 7}, {2, 3}}) {
    const Tensor x = randn64(Shape{2, 3, h, w}, 1);
    const auto xv = x.to_vector<double>();
    const Tensor ya = avg_pool2(x), ym = max_pool2(x);
    EXPECT_EQ(ya.shape(), (Shape{2, 3, h / 2, w / 2}));
    EXPECT_EQ(ya.to_vector<double>(), naive_pool(xv, 6, h, w, false));
    EXPECT_EQ(ym.to_vector<double>(), naive_pool(xv, 6, h, w, true));
    // f32 as well.
    std::vector<float> xf(xv.begin(), xv.end());
    const Tensor x32 = from_vector(xf, x.shape());
    const auto ya32 = avg_pool2(x32).to_vector<float>(), ym32 = max_pool2(x32).to_vector<float>();
    const auto ra = naive_pool(std::vector<double>(xf.begin(), xf.end()), 6, h, w, false);
    const auto rm = naive_pool(std::vector<double>(xf.begin(), xf.end()), 6, h, w, true);
    for (size_t i = 0; i < ra.size(); ++i) {
      EXPECT_NEAR(ya32[i], ra[i], 1e-6);
      EXPECT_EQ(ym32[i], static_cast<float>(rm[i]));
    }
  }
}

TEST(PoolForward, AvgPoolBwdIsTheAdjoint) {
  // ⟨avg_pool2(x), y⟩ = ⟨x, avg_pool2_bwd(y)⟩, including the dropped odd row and column.
  const Tensor x = randn64(Shape{2, 2, 5, 7}, 2), y = randn64(Shape{2, 2, 2, 3}, 3);
  EXPECT_NEAR(dot(avg_pool2(x), y), dot(x, avg_pool2_bwd(y, 5, 7)), 1e-12);
  const auto dx = avg_pool2_bwd(y, 5, 7).to_vector<double>();
  for (int64_t j = 0; j < 7; ++j) EXPECT_EQ(dx[4 * 7 + j], 0.0);  // the last row of plane 0
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(dx[i * 7 + 6], 0.0);  // the last column of plane 0
}

TEST(PoolForward, MaxPoolRoutesToTheFirstMaximum) {
  // One window with a tie (the first in scan order wins) and one with a clear maximum.
  Tensor x = from_vector<double>({1, 3, 0, 2,  //
                                  3, 2, 5, 1},
                                 Shape{1, 1, 2, 4});
  x.requires_grad_();
  const Tensor y = max_pool2(x);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{3, 5}));
  const auto g = grad(sum(mul(y, from_vector<double>({10, 20}, Shape{1, 1, 1, 2}))), {x});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{0, 10, 0, 0, 0, 0, 20, 0}));
}

TEST(PoolForward, MaxPoolScatterGatherAreAdjoint) {
  const Tensor x = distinct_values(Shape{2, 3, 5, 4}, 4);
  const Tensor index = naive_argmax(x);
  // max_pool2 routes its gradient exactly through these indices.
  Tensor xx = x.clone().requires_grad_();
  const Tensor dy0 = randn64(Shape{2, 3, 2, 2}, 8);
  const auto routed = grad(sum(mul(max_pool2(xx), dy0)), {xx});
  EXPECT_EQ(routed[0].to_vector<double>(), max_pool2_scatter(dy0, index, 5, 4).to_vector<double>());
  const Tensor dy = randn64(Shape{2, 3, 2, 2}, 5), g = randn64(Shape{2, 3, 5, 4}, 6);
  EXPECT_NEAR(dot(max_pool2_scatter(dy, index, 5, 4), g), dot(dy, max_pool2_gather(g, index)), 1e-12);
  EXPECT_EQ(max_pool2_gather(x, index).to_vector<double>(), max_pool2(x).to_vector<double>());
  EXPECT_THROW(max_pool2_gather(g, from_vector<int64_t>(std::vector<int64_t>(24, 20), Shape{2, 3, 2, 2})), Error);
}

TEST(PoolForward, RejectsTooSmallInputs) {
  EXPECT_THROW(avg_pool2(randn64(Shape{1, 1, 1, 4}, 7)), Error);
  EXPECT_THROW(max_pool2(randn64(Shape{4}, 7)), Error);
  EXPECT_THROW(avg_pool2_bwd(randn64(Shape{1, 1, 2, 2}, 7), 6, 4), Error);
}

TEST(GradCheck, AvgPool2) {
  expect_gradcheck([](const V& v) { return avg_pool2(v[0]); }, {randn64(Shape{2, 2, 5, 6}, 10)});
  expect_gradcheck([](const V& v) { return avg_pool2_bwd(v[0], 5, 7); }, {randn64(Shape{2, 2, 2, 3}, 11)});
}

TEST(GradCheck, MaxPool2) {
  const Tensor x = distinct_values(Shape{2, 2, 5, 6}, 12);
  expect_gradcheck([](const V& v) { return max_pool2(v[0]); }, {x});
  // The routing pair, on the argmax of x.
  const Tensor index = naive_argmax(x);
  expect_gradcheck([&](const V& v) { return max_pool2_scatter(v[0], index, 5, 6); }, {randn64(Shape{2, 2, 2, 3}, 13)});
  expect_gradcheck([&](const V& v) { return max_pool2_gather(v[0], index); }, {randn64(Shape{2, 2, 5, 6}, 14)});
}

TEST(GradGradCheck, AvgPool2) {
  // Pooling is linear: square it so the gradient depends on the input and both adjoints run.
  expect_gradgradcheck([](const V& v) { return square(avg_pool2(v[0])); }, {randn64(Shape{2, 2, 4, 5}, 15)});
}

TEST(GradGradCheck, AvgPool2Bwd) {
  expect_gradgradcheck([](const V& v) { return square(avg_pool2_bwd(v[0], 4, 5)); }, {randn64(Shape{2, 2, 2, 2}, 16)});
}

TEST(GradGradCheck, MaxPool2) {
  expect_gradgradcheck([](const V& v) { return square(max_pool2(v[0])); }, {distinct_values(Shape{1, 2, 4, 5}, 17)});
}

}  // namespace
}  // namespace loco

// ---- CudaVsCpu: the CUDA twins of the pooling kernels ----
// Odd H×W (a dropped last row and column), ConvNet-3's first pool (N=256, C=128, 28×28), the
// edge of one 2×2 plane, a 2-D input (one plane); max pooling with ties resolved like the CPU.
namespace loco {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::randn32;

Tensor pool_leaf(const Tensor& t) {
  Tensor x = t.detach();
  x.requires_grad_();
  return x;
}

Shape pooled(const Shape& s) {
  std::vector<int64_t> d = s.dims();
  d[d.size() - 2] /= 2;
  d[d.size() - 1] /= 2;
  return Shape(d);
}

const Shape kPoolShapes[] = {Shape{2, 3, 7, 13}, Shape{256, 128, 28, 28}, Shape{1, 1, 2, 2}, Shape{5, 3}};

TEST_F(CudaVsCpu, AvgPool2ForwardAndBackward) {
  uint64_t stream = 100;
  for (const Shape& s : kPoolShapes) {
    SCOPED_TRACE(s.str());
    const int64_t h = s[s.ndim() - 2], w = s[s.ndim() - 1];
    expect_cuda_matches_cpu(
        [h, w](const V& in) {
          Tensor x = pool_leaf(in[0]), dy = pool_leaf(in[1]);
          Tensor y = avg_pool2(x);              // backward: avg_pool2_bwd
          Tensor dx = avg_pool2_bwd(dy, h, w);  // backward: avg_pool2
          return V{y, grad(y, {x}, {.seed = in[1]})[0], dx, grad(dx, {dy}, {.seed = in[0]})[0]};
        },
        {randn32(s, stream), randn32(pooled(s), stream + 1)});
    stream += 2;
  }
}

TEST_F(CudaVsCpu, MaxPool2ForwardAndBackwardWithTies) {
  uint64_t stream = 200;
  for (const bool ties : {false, true})
    for (const Shape& s : kPoolShapes) {
      SCOPED_TRACE(s.str() + (ties ? " with ties" : ""));
      Tensor x = randn32(s, stream++);
      if (ties) {  // integers around 10: most windows hold a tie, which goes to the first
        auto v = x.to_vector<float>();
        for (float& e : v) e = std::round(e) + 10.0f;  // never all zero, even for one window
        x = from_vector(v, s);
      }
      expect_cuda_matches_cpu(
          [](const V& in) {
            Tensor xl = pool_leaf(in[0]);
            Tensor y = max_pool2(xl);  // backward: max_pool2_scatter through the saved argmax
            return V{y, grad(y, {xl}, {.seed = in[1]})[0]};
          },
          {x, randn32(pooled(s), stream++)});
    }
}

// A valid argmax index for each window: a random one of its four positions.
Tensor random_window_index(const Shape& s, uint64_t stream) {
  const int64_t h = s[s.ndim() - 2], w = s[s.ndim() - 1], ho = h / 2, wo = w / 2, planes = s.numel() / (h * w);
  Generator g(0x9001, stream);
  std::vector<int64_t> v;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < wo; ++j) {
        const auto k = static_cast<int64_t>(g.below(4));
        v.push_back((2 * i + k / 2) * w + 2 * j + k % 2);
      }
  return from_vector(v, pooled(s));
}

TEST_F(CudaVsCpu, MaxPool2ScatterAndGather) {
  uint64_t stream = 300;
  for (const Shape& s : kPoolShapes) {
    SCOPED_TRACE(s.str());
    const int64_t h = s[s.ndim() - 2], w = s[s.ndim() - 1];
    expect_cuda_matches_cpu(
        [h, w](const V& in) {
          Tensor dy = pool_leaf(in[0]), g = pool_leaf(in[2]);
          Tensor dx = max_pool2_scatter(dy, in[1], h, w);  // backward: max_pool2_gather
          Tensor y = max_pool2_gather(g, in[1]);           // backward: max_pool2_scatter
          return V{dx, grad(dx, {dy}, {.seed = in[2]})[0], y, grad(y, {g}, {.seed = in[0]})[0]};
        },
        {randn32(pooled(s), stream), random_window_index(s, stream), randn32(s, stream + 1)});
    stream += 2;
  }
}

}  // namespace
}  // namespace loco
