// Tests of the bilinear resampling family: forward against a naive tent-function sum (an
// independent formulation of bilinear weights with zero padding), exact integer shifts and
// flips, adjointness, determinism of the scatter, GradCheck and GradGradCheck.
// Shape letters: N batch, C channels, H×W input, Ho×Wo output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using testing::randu64;
using testing::dot;
using V = std::vector<Tensor>;

// Positions spread over [−2, H+1] × [−2, W+1], so some samples straddle or leave the border.
Tensor random_grid(int64_t n, int64_t ho, int64_t wo, int64_t h, int64_t w, uint64_t stream) {
  auto v = randu64(Shape{n, ho, wo, 2}, stream, 0.0, 1.0).to_vector<double>();
  for (size_t k = 0; k < v.size(); k += 2) {
    v[k] = -2.0 + v[k] * static_cast<double>(w + 3);
    v[k + 1] = -2.0 + v[k + 1] * static_cast<double>(h + 3);
  }
  return from_vector(v, Shape{n, ho, wo, 2});
}

// y[n,c,o] = Σ_{a,b} tent(p_y − a)·tent(p_x − b)·x[n,c,a,b], tent(t) = max(0, 1 − |t|).
std::vector<double> naive_sample(const Tensor& x, const Tensor& grid) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = grid.dim(1), wo = grid.dim(2);
  const auto xv = x.to_vector<double>(), g = grid.to_vector<double>();
  auto tent = [](double t) { return std::max(0.0, 1.0 - std::abs(t)); };
  std::vector<double> y(static_cast<size_t>(n * c * ho * wo), 0.0);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t o = 0; o < ho * wo; ++o) {
        const double px = g[(s * ho * wo + o) * 2], py = g[(s * ho * wo + o) * 2 + 1];
        double acc = 0;
        for (int64_t a = 0; a < h; ++a)
          for (int64_t b = 0; b < w; ++b) acc += tent(py - a) * tent(px - b) * xv[((s * c + ch) * h + a) * w + b];
        y[(s * c + ch) * ho * wo + o] = acc;
      }
  return y;
}

// grid[n, i, j] = (j + dx, i + dy), or the width-reversed column when `flip`.
Tensor shift_grid(int64_t n, int64_t h, int64_t w, double dx, double dy, bool flip = false) {
  std::vector<double> v;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        v.push_back((flip ? static_cast<double>(w - 1 - j) : static_cast<double>(j)) + dx);
        v.push_back(static_cast<double>(i) + dy);
      }
  return from_vector(v, Shape{n, h, w, 2});
}

Tensor to_f32(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return from_vector(std::vector<float>(v.begin(), v.end()), t.shape());
}

TEST(GridSampleForward, MatchesNaiveTentSum) {
  const Tensor x = randn64(Shape{2, 3, 5, 7}, 1);
  const Tensor grid = random_grid(2, 4, 6, 5, 7, 2);
  const auto ref = naive_sample(x, grid);
  const auto y = grid_sample(x, grid);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 6}));
  const auto yv = y.to_vector<double>();
  double norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_NEAR(yv[i], ref[i], 1e-12) << "at " << i;
    norm += ref[i] * ref[i];
  }
  EXPECT_GT(norm, 1.0);  // the grid does hit the image
  // f32 agrees with the f64 reference to float precision.
  const auto y32 = grid_sample(to_f32(x), to_f32(grid)).to_vector<float>();
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(y32[i], ref[i], 1e-5) << "at " << i;
}

TEST(GridSampleForward, IntegerPositionsShiftAndFlipExactly) {
  const Tensor x = to_f32(randn64(Shape{2, 2, 6, 5}, 3));
  const auto xv = x.to_vector<float>();
  // A shift by (+2 columns, −1 row) with zero fill.
  const auto y = grid_sample(x, to_f32(shift_grid(2, 6, 5, 2, -1))).to_vector<float>();
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        const int64_t si = i - 1, sj = j + 2;
        const float want = si >= 0 && si < 6 && sj < 5 ? xv[(p * 6 + si) * 5 + sj] : 0.0f;
        EXPECT_EQ(y[(p * 6 + i) * 5 + j], want);
      }
  // Identity and flip twice give x back bit for bit.
  EXPECT_EQ(grid_sample(x, to_f32(shift_grid(2, 6, 5, 0, 0))).to_vector<float>(), xv);
  const Tensor flip = to_f32(shift_grid(2, 6, 5, 0, 0, true));
  EXPECT_EQ(grid_sample(grid_sample(x, flip), flip).to_vector<float>(), xv);
}

TEST(GridSampleForward, AdjointIdentityAndDeterminism) {
  // ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ with Ho×Wo ≠ H×W, and the scatter is the same bits run to run.
  const Tensor x = randn64(Shape{3, 2, 6, 7}, 4), dy = randn64(Shape{3, 2, 5, 4}, 5);
  const Tensor grid = random_grid(3, 5, 4, 6, 7, 6);
  const Tensor dx = grid_sample_adjoint(dy, grid, 6, 7);
  ASSERT_EQ(dx.shape(), x.shape());
  EXPECT_NEAR(dot(grid_sample(x, grid), dy), dot(x, dx), 1e-12);
  EXPECT_EQ(grid_sample_adjoint(dy, grid, 6, 7).to_vector<double>(), dx.to_vector<double>());
  // Large enough for the OpenMP path, many outputs landing on the same taps (a 4× zoom).
  const int64_t n = 4, c = 3, h = 32, w = 32;
  std::vector<float> gv;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        gv.push_back(10.0f + static_cast<float>(j) * 0.25f + 0.1f);
        gv.push_back(10.0f + static_cast<float>(i) * 0.25f + 0.1f);
      }
  const Tensor g32 = from_vector(gv, Shape{n, h, w, 2});
  const Tensor dy32 = to_f32(randn64(Shape{n, c, h, w}, 7));
  const auto a = grid_sample_adjoint(dy32, g32, h, w).to_vector<float>();
  for (int rep = 0; rep < 3; ++rep) EXPECT_EQ(grid_sample_adjoint(dy32, g32, h, w).to_vector<float>(), a);
}

TEST(GridSampleForward, RejectsBadShapesAndGridsThatNeedGrad) {
  const Tensor x = randn64(Shape{2, 1, 4, 4}, 8);
  EXPECT_THROW(grid_sample(x, randn64(Shape{1, 4, 4, 2}, 9)), Error);   // N differs
  EXPECT_THROW(grid_sample(x, randn64(Shape{2, 4, 4, 3}, 9)), Error);   // not 2 coordinates
  EXPECT_THROW(grid_sample(x, to_f32(randn64(Shape{2, 4, 4, 2}, 9))), Error);  // dtype differs
  EXPECT_THROW(grid_sample(randn64(Shape{4, 4}, 9), randn64(Shape{2, 4, 4, 2}, 9)), Error);
  EXPECT_THROW(grid_sample_adjoint(x, randn64(Shape{2, 3, 4, 2}, 9), 4, 4), Error);  // Ho×Wo differs
  Tensor g = random_grid(2, 4, 4, 4, 4, 10);
  g.requires_grad_();
  EXPECT_THROW(grid_sample(x, g), Error);
}

TEST(GradCheck, GridSample) {
  const Tensor grid = random_grid(2, 3, 4, 4, 5, 11);
  expect_gradcheck([&](const V& v) { return grid_sample(v[0], grid); }, {randn64(Shape{2, 2, 4, 5}, 12)});
  expect_gradcheck([&](const V& v) { return grid_sample_adjoint(v[0], grid, 4, 5); },
                   {randn64(Shape{2, 2, 3, 4}, 13)});
}

TEST(GradGradCheck, GridSample) {
  // Linear in x: square it so the gradient depends on the input and both directions run.
  const Tensor grid = random_grid(2, 3, 4, 4, 5, 14);
  expect_gradgradcheck([&](const V& v) { return square(grid_sample(v[0], grid)); },
                       {randn64(Shape{2, 2, 4, 5}, 15)});
}

TEST(GradGradCheck, GridSampleAdjoint) {
  const Tensor grid = random_grid(2, 3, 4, 4, 5, 16);
  expect_gradgradcheck([&](const V& v) { return square(grid_sample_adjoint(v[0], grid, 4, 5)); },
                       {randn64(Shape{2, 2, 3, 4}, 17)});
}

}  // namespace
}  // namespace loco
