// Tests of the bilinear resampling family: forward against a naive tent-function sum (an
// independent formulation of bilinear weights with zero padding), exact integer shifts and
// flips, adjointness, determinism of the scatter, GradCheck and GradGradCheck.
// Shape letters: N batch, C channels, H×W input, Ho×Wo output.
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

// A 4× zoom into the image: 16 outputs per input pixel neighbourhood.
Tensor zoom_grid(int64_t n, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        v.push_back(10.0f + static_cast<float>(j) * 0.25f + 0.1f);
        v.push_back(10.0f + static_cast<float>(i) * 0.25f + 0.1f);
      }
  return from_vector(v, Shape{n, h, w, 2});
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
  const Tensor g32 = zoom_grid(n, h, w);
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

// ---- CudaVsCpu: the CUDA twins of the resampling kernels ----
// Random positions that straddle and leave the border (tiny, odd, Ho×Wo ≠ H×W), DSA-like affine
// grids on a ConvNet-3 batch (N=256, 28×28) and on 64×64 planes (the largest the bwd scan
// sees), a 4× zoom (many outputs share taps) and an exact integer shift.
namespace loco {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::randn32;

Tensor sample_leaf(const Tensor& t) {
  Tensor x = t.detach();
  x.requires_grad_();
  return x;
}

// Per sample: rotate by up to ±15°, scale by 0.8–1.2, shift by up to ±2 pixels about the
// centre (spec/augmentation.md's rotate, scale and crop, composed).
Tensor affine_grid(int64_t n, int64_t h, int64_t w, uint64_t stream) {
  Generator g(0xAFF, stream);
  std::vector<float> v;
  const double cy = 0.5 * static_cast<double>(h - 1), cx = 0.5 * static_cast<double>(w - 1);
  for (int64_t s = 0; s < n; ++s) {
    const double th = (g.uniform() - 0.5) * 0.5236, sc = 0.8 + 0.4 * g.uniform();
    const double tx = 4.0 * g.uniform() - 2.0, ty = 4.0 * g.uniform() - 2.0;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        const double u = static_cast<double>(j) - cx, r = static_cast<double>(i) - cy;
        v.push_back(static_cast<float>(cx + sc * (std::cos(th) * u - std::sin(th) * r) + tx));
        v.push_back(static_cast<float>(cy + sc * (std::sin(th) * u + std::cos(th) * r) + ty));
      }
  }
  return from_vector(v, Shape{n, h, w, 2});
}


// The grid's first position is well inside, so no output is all zeros by bad luck.
Tensor random_grid32(int64_t n, int64_t ho, int64_t wo, int64_t h, int64_t w, uint64_t stream) {
  auto v = to_f32(random_grid(n, ho, wo, h, w, stream)).to_vector<float>();
  v[0] = 0.3f * static_cast<float>(w - 1);
  v[1] = 0.6f * static_cast<float>(h - 1);
  return from_vector(v, Shape{n, ho, wo, 2});
}

TEST_F(CudaVsCpu, GridSampleForwardAndAdjoint) {
  struct Case {
    const char* what;
    int64_t n, c, h, w;
    Tensor grid;  // [n, Ho, Wo, 2]
  };
  const Case cases[] = {
      {"tiny, random", 1, 1, 2, 2, random_grid32(1, 3, 5, 2, 2, 100)},
      {"odd, random", 2, 3, 7, 13, random_grid32(2, 5, 11, 7, 13, 101)},
      {"edge N=1, random, 1 output", 1, 2, 4, 3, random_grid32(1, 1, 1, 4, 3, 102)},
      {"ConvNet-3 batch, affine", 256, 1, 28, 28, affine_grid(256, 28, 28, 103)},
      {"64x64 planes, affine", 2, 3, 64, 64, affine_grid(2, 64, 64, 104)},
      {"4x zoom", 4, 3, 32, 32, zoom_grid(4, 32, 32)},
      {"integer shift", 3, 2, 7, 13, to_f32(shift_grid(3, 7, 13, 2, -1))},
  };
  uint64_t stream = 200;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const int64_t h = c.h, w = c.w;
    expect_cuda_matches_cpu(
        [h, w](const V& in) {
          Tensor x = sample_leaf(in[0]), dy = sample_leaf(in[2]);
          Tensor y = grid_sample(x, in[1]);               // backward: grid_sample_adjoint
          Tensor dx = grid_sample_adjoint(dy, in[1], h, w);  // backward: grid_sample
          return V{y, grad(y, {x}, {.seed = in[2]})[0], dx, grad(dx, {dy}, {.seed = in[0]})[0]};
        },
        {randn32(Shape{c.n, c.c, c.h, c.w}, stream), c.grid,
         randn32(Shape{c.n, c.c, c.grid.dim(1), c.grid.dim(2)}, stream + 1)});
    stream += 2;
  }
}

}  // namespace
}  // namespace loco
