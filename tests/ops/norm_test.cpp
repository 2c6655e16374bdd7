// Tests of the norm family: forward values against naive loops (f64 and f32), batch-norm
// running statistics, GradCheck / GradGradCheck, the fused backward kernels against the
// composed (recorded) backward, and CudaVsCpu: the CUDA kernels against the CPU through the ops.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/harness/compare.h"
#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::leaf;

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using testing::randu64;
using V = std::vector<Tensor>;

// Relative L2 error, failing on non-finite values and on an all-zero reference.
void expect_close(const std::vector<double>& out, const std::vector<double>& ref, double tol) {
  ASSERT_EQ(out.size(), ref.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out[i])) << "index " << i;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  ASSERT_GT(den, 0.0);
  EXPECT_LE(std::sqrt(num / den), tol);
}

std::vector<double> as_f64(const Tensor& t) {
  if (t.dtype() == DType::f64) return t.to_vector<double>();
  const auto v = t.to_vector<float>();
  return std::vector<double>(v.begin(), v.end());
}

Tensor to_f32(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return from_vector(std::vector<float>(v.begin(), v.end()), t.shape());
}

// y[n, c, s] normalised over (c in group, s) with γ/β per channel.
std::vector<double> naive_group_norm(const std::vector<double>& x, int64_t n, int64_t c, int64_t s, int64_t g,
                                     const std::vector<double>& ga, const std::vector<double>& be) {
  std::vector<double> y(x.size());
  const int64_t cg = c / g, len = cg * s;
  for (int64_t r = 0; r < n * g; ++r) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < len; ++i) m += x[r * len + i];
    m /= len;
    for (int64_t i = 0; i < len; ++i) v += (x[r * len + i] - m) * (x[r * len + i] - m);
    v /= len;
    for (int64_t i = 0; i < len; ++i) {
      const int64_t ch = (r % g) * cg + i / s;
      y[r * len + i] = (x[r * len + i] - m) / std::sqrt(v + 1e-5) * ga[ch] + be[ch];
    }
  }
  return y;
}

TEST(NormForward, GroupNormMatchesNaive) {
  const int64_t n = 3, c = 4, h = 5, w = 3;
  const Tensor x = randn64(Shape{n, c, h, w}, 1, 2.0) + 0.5;
  const Tensor ga = randu64(Shape{c}, 2, 0.5, 1.5), be = randn64(Shape{c}, 3);
  for (int64_t g : {1, 2, 4}) {
    const auto ref = naive_group_norm(x.to_vector<double>(), n, c, h * w, g, ga.to_vector<double>(),
                                      be.to_vector<double>());
    expect_close(as_f64(group_norm(x, g, ga, be)), ref, 1e-13);
    expect_close(as_f64(group_norm(to_f32(x), g, to_f32(ga), to_f32(be))), ref, 1e-5);
  }
}

TEST(NormForward, GroupNormWithoutAffineAndLargeMean) {
  // A mean 1e4 times the spread: E[x²]−E[x]², or x·a + (b − m·a), in f32 would lose most digits.
  const Tensor x32 = to_f32(randn64(Shape{2, 3, 8, 8}, 4) + 1e4);
  const Tensor x = from_vector(as_f64(x32), x32.shape());  // the same values, exactly, in f64
  const auto ref = naive_group_norm(x.to_vector<double>(), 2, 3, 64, 3, {1, 1, 1}, {0, 0, 0});
  expect_close(as_f64(group_norm(x32, 3, Tensor(), Tensor())), ref, 1e-6);
  expect_close(as_f64(group_norm(x, 3, Tensor(), Tensor())), ref, 1e-10);
  BatchNormState st;
  const Tensor xt = from_vector(as_f64(x32), Shape{1, 6, 8, 8});  // one sample: batch norm = instance norm
  const auto ref_bn = naive_group_norm(xt.to_vector<double>(), 1, 6, 64, 6, std::vector<double>(6, 1.0),
                                       std::vector<double>(6, 0.0));
  expect_close(as_f64(batch_norm(to_f32(xt), Tensor(), Tensor(), st, true)), ref_bn, 1e-6);
}

TEST(NormForward, LayerNormMatchesNaive) {
  const Tensor x = randn64(Shape{2, 3, 4, 5}, 5);
  const Tensor ga = randu64(Shape{3, 4, 5}, 6, 0.5, 1.5), be = randn64(Shape{3, 4, 5}, 7);
  // Layer norm is one group over C·H·W with one γ per element.
  const auto ref = naive_group_norm(x.to_vector<double>(), 2, 60, 1, 1, ga.to_vector<double>(),
                                    be.to_vector<double>());
  expect_close(as_f64(layer_norm(x, ga, be)), ref, 1e-13);
  expect_close(as_f64(layer_norm(to_f32(x), to_f32(ga), to_f32(be))), ref, 1e-5);
}

TEST(NormForward, BatchNormTrainUpdatesRunningStats) {
  // x [2, 1, 1, 2] = {1, 2, 3, 4}: mean 2.5, biased var 1.25, unbiased var 5/3.
  for (bool f32 : {false, true}) {
    Tensor x = from_vector<double>({1, 2, 3, 4}, Shape{2, 1, 1, 2});
    Tensor ga = from_vector<double>({2.0}, Shape{1}), be = from_vector<double>({0.5}, Shape{1});
    if (f32) x = to_f32(x), ga = to_f32(ga), be = to_f32(be);
    BatchNormState st;
    const Tensor y = batch_norm(x, ga, be, st, true);
    const double rs = 1.0 / std::sqrt(1.25 + 1e-5);
    expect_close(as_f64(y), {(1 - 2.5) * rs * 2 + 0.5, (2 - 2.5) * rs * 2 + 0.5, (3 - 2.5) * rs * 2 + 0.5,
                             (4 - 2.5) * rs * 2 + 0.5},
                 f32 ? 1e-6 : 1e-14);
    EXPECT_NEAR(as_f64(st.running_mean)[0], 0.25, 1e-6);
    EXPECT_NEAR(as_f64(st.running_var)[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-6);
    batch_norm(x, ga, be, st, true);  // the averages compound
    EXPECT_NEAR(as_f64(st.running_mean)[0], 0.9 * 0.25 + 0.25, 1e-6);
    EXPECT_NEAR(as_f64(st.running_var)[0], 0.9 * (0.9 + 0.1 * 5.0 / 3.0) + 0.1 * 5.0 / 3.0, 1e-6);
  }
}

TEST(NormForward, BatchNormTrainMatchesNaivePerChannel) {
  const int64_t n = 3, c = 2, s = 6;
  const Tensor x = randn64(Shape{n, c, 2, 3}, 8, 1.5);
  const Tensor ga = randu64(Shape{c}, 9, 0.5, 1.5), be = randn64(Shape{c}, 10);
  // Per channel over (N, S): move the channel to the front and use group norm's reference.
  const auto xv = x.to_vector<double>();
  std::vector<double> xt(xv.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t j = 0; j < s; ++j) xt[(k * n + i) * s + j] = xv[(i * c + k) * s + j];
  std::vector<double> ref_t(xt.size());
  for (int64_t k = 0; k < c; ++k) {
    std::vector<double> plane(xt.begin() + k * n * s, xt.begin() + (k + 1) * n * s);
    const auto y = naive_group_norm(plane, 1, 1, n * s, 1, {ga.to_vector<double>()[k]}, {be.to_vector<double>()[k]});
    std::copy(y.begin(), y.end(), ref_t.begin() + k * n * s);
  }
  std::vector<double> ref(xv.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t j = 0; j < s; ++j) ref[(i * c + k) * s + j] = ref_t[(k * n + i) * s + j];
  BatchNormState st;
  expect_close(as_f64(batch_norm(x, ga, be, st, true)), ref, 1e-13);
  BatchNormState st32;
  expect_close(as_f64(batch_norm(to_f32(x), to_f32(ga), to_f32(be), st32, true)), ref, 1e-5);
}

TEST(NormForward, BatchNormEvalUsesRunningStats) {
  const Tensor x = randn64(Shape{2, 2, 3, 3}, 11);
  const Tensor ga = from_vector<double>({1.5, -0.5}, Shape{2}), be = from_vector<double>({0.1, 0.2}, Shape{2});
  BatchNormState st{from_vector<double>({0.3, -0.2}, Shape{2}), from_vector<double>({2.0, 0.5}, Shape{2})};
  const auto y = batch_norm(x, ga, be, st, false).to_vector<double>();
  const auto xv = x.to_vector<double>();
  const double rm[2] = {0.3, -0.2}, rv[2] = {2.0, 0.5}, g[2] = {1.5, -0.5}, b[2] = {0.1, 0.2};
  std::vector<double> ref(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    const size_t k = (i / 9) % 2;
    ref[i] = (xv[i] - rm[k]) / std::sqrt(rv[k] + 1e-5) * g[k] + b[k];
  }
  expect_close(y, ref, 1e-14);
  EXPECT_EQ(st.running_mean.to_vector<double>(), (std::vector<double>{0.3, -0.2}));  // eval leaves them
  EXPECT_EQ(st.running_var.to_vector<double>(), (std::vector<double>{2.0, 0.5}));
  BatchNormState empty_state;
  EXPECT_THROW(batch_norm(x, ga, be, empty_state, false), Error);
}

TEST(NormForward, RejectsBadShapes) {
  const Tensor x = randn64(Shape{2, 6, 3, 3}, 12);
  EXPECT_THROW(group_norm(x, 4, Tensor(), Tensor()), Error);
  EXPECT_THROW(group_norm(x, 2, randn64(Shape{3}, 1), Tensor()), Error);
  EXPECT_THROW(layer_norm(x, randn64(Shape{6}, 1), randn64(Shape{6}, 2)), Error);
  BatchNormState st;
  EXPECT_THROW(batch_norm(randn64(Shape{1, 6, 1, 1}, 3), Tensor(), Tensor(), st, true), Error);
}

TEST(NormForward, FusedKernelsAreDeterministic) {
  // Large enough for the threaded paths.
  const Tensor x = to_f32(randn64(Shape{4, 16, 16, 17}, 13));
  const Tensor ga = to_f32(randu64(Shape{16}, 14, 0.5, 1.5)).requires_grad_();
  auto run = [&]() {
    Tensor xx = x.clone().requires_grad_();
    const Tensor y = group_norm(xx, 4, ga, Tensor());
    const auto gs = grad(sum(mul(y, y)), {xx, ga});
    auto out = y.to_vector<float>();
    for (const auto& g : gs) {
      const auto v = g.to_vector<float>();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}

// ---- gradients ----

TEST(GradCheck, GroupNorm) {
  const Tensor x = randn64(Shape{2, 4, 3, 3}, 20);
  const Tensor ga = randu64(Shape{4}, 21, 0.5, 1.5), be = randn64(Shape{4}, 22);
  for (int64_t g : {1, 2, 4})
    expect_gradcheck([g](const V& v) { return group_norm(v[0], g, v[1], v[2]); }, {x, ga, be});
  expect_gradcheck([](const V& v) { return group_norm(v[0], 2, Tensor(), Tensor()); }, {x});
  // [N, C] input: one element per channel (the kernels' flat layer-norm path, here with 2 groups).
  expect_gradcheck([](const V& v) { return group_norm(v[0], 2, v[1], v[2]); },
                   {randn64(Shape{3, 6}, 46), randu64(Shape{6}, 47, 0.5, 1.5), randn64(Shape{6}, 48)});
}

TEST(GradCheck, LayerNorm) {
  expect_gradcheck([](const V& v) { return layer_norm(v[0], v[1], v[2]); },
                   {randn64(Shape{3, 2, 3, 2}, 23), randu64(Shape{2, 3, 2}, 24, 0.5, 1.5),
                    randn64(Shape{2, 3, 2}, 25)});
}

TEST(GradCheck, BatchNormTrain) {
  expect_gradcheck(
      [](const V& v) {
        BatchNormState st;
        return batch_norm(v[0], v[1], v[2], st, true);
      },
      {randn64(Shape{3, 2, 2, 3}, 26), randu64(Shape{2}, 27, 0.5, 1.5), randn64(Shape{2}, 28)});
}

TEST(GradCheck, BatchNormEval) {
  BatchNormState st{randn64(Shape{3}, 29), randu64(Shape{3}, 30, 0.5, 2.0)};
  expect_gradcheck([&](const V& v) { return batch_norm(v[0], v[1], v[2], st, false); },
                   {randn64(Shape{2, 3, 2, 2}, 31), randu64(Shape{3}, 32, 0.5, 1.5), randn64(Shape{3}, 33)});
}

TEST(GradGradCheck, InstanceNorm) {
  expect_gradgradcheck([](const V& v) { return group_norm(v[0], 3, v[1], v[2]); },
                       {randn64(Shape{2, 3, 3, 3}, 34), randu64(Shape{3}, 35, 0.5, 1.5), randn64(Shape{3}, 36)});
}

TEST(GradGradCheck, ReluOfGroupNorm) {
  // With these fixed seeds no output lies within the finite-difference step of relu's kink.
  expect_gradgradcheck([](const V& v) { return relu(group_norm(v[0], 2, v[1], v[2])); },
                       {randn64(Shape{2, 4, 3, 3}, 37), randu64(Shape{4}, 38, 0.5, 1.5), randn64(Shape{4}, 39)});
}

TEST(GradGradCheck, LayerNormAndBatchNormTrain) {
  expect_gradgradcheck([](const V& v) { return layer_norm(v[0], v[1], v[2]); },
                       {randn64(Shape{2, 2, 2, 3}, 40), randu64(Shape{2, 2, 3}, 41, 0.5, 1.5),
                        randn64(Shape{2, 2, 3}, 42)});
  expect_gradgradcheck(
      [](const V& v) {
        BatchNormState st;
        return batch_norm(v[0], v[1], v[2], st, true);
      },
      {randn64(Shape{3, 2, 2, 2}, 43), randu64(Shape{2}, 44, 0.5, 1.5), randn64(Shape{2}, 45)});
}

// The fused kernels (not recording) and the composed ops (recording) give the same gradient.
void expect_fused_equals_composed(const std::function<Tensor(const V&)>& f, const V& inputs) {
  V xs;
  for (const auto& t : inputs) xs.push_back(t.clone().requires_grad_());
  const Tensor y = f(xs);
  const Tensor v = randn64(y.shape(), 99);
  const auto fused = grad(sum(mul(y, v)), xs);
  const auto composed = grad(sum(mul(f(xs), v)), xs, {.create_graph = true});
  for (size_t i = 0; i < xs.size(); ++i) {
    // dβ = Σ dy depends on no input, so only dx and dγ show that the ops were recorded.
    if (i < 2) {
      EXPECT_TRUE(composed[i].requires_grad()) << "input " << i << ": the composed backward was not recorded";
    }
    EXPECT_FALSE(fused[i].requires_grad());
    const auto a = fused[i].to_vector<double>(), b = composed[i].to_vector<double>();
    double worst = 0, scale = 0;
    for (size_t j = 0; j < a.size(); ++j) {
      worst = std::max(worst, std::abs(a[j] - b[j]));
      scale = std::max(scale, std::abs(b[j]));
    }
    EXPECT_GT(scale, 0.0) << "input " << i;
    EXPECT_LE(worst, 1e-10 * std::max(1.0, scale)) << "input " << i;
  }
}

TEST(NormBackward, FusedEqualsComposed) {
  const Tensor x = randn64(Shape{3, 4, 5, 3}, 50, 2.0) + 0.7;
  const Tensor ga = randu64(Shape{4}, 51, 0.5, 1.5), be = randn64(Shape{4}, 52);
  for (int64_t g : {1, 2, 4})
    expect_fused_equals_composed([g](const V& v) { return group_norm(v[0], g, v[1], v[2]); }, {x, ga, be});
  expect_fused_equals_composed([](const V& v) { return group_norm(v[0], 3, v[1], v[2]); },
                               {randn64(Shape{4, 6}, 55), randu64(Shape{6}, 56, 0.5, 1.5), randn64(Shape{6}, 57)});
  expect_fused_equals_composed([](const V& v) { return layer_norm(v[0], v[1], v[2]); },
                               {x, randu64(Shape{4, 5, 3}, 53, 0.5, 1.5), randn64(Shape{4, 5, 3}, 54)});
  expect_fused_equals_composed(
      [](const V& v) {
        BatchNormState st;
        return batch_norm(v[0], v[1], v[2], st, true);
      },
      {x, ga, be});
}

// ---- CUDA against the CPU ----
// Gradients go through loco::grad without create_graph, so they are the fused backward kernels.
// Shapes pick every path of kernels/cuda/norm.cu: rows under 32, odd and over 256 elements
// (block sizes 32 … 256), S < 32 (one flat pass, dγ/dβ read straight from dy and x), S ≥ 32
// (per-channel sums and [N, C] partials), S = 1 (layer norm), and batch-norm channels of one
// chunk, several chunks, and a short last chunk.

using testing::expect_cuda_matches_cpu;
using testing::randn32;
using testing::randu32;


// Inputs x (mean away from 0), γ, β, and a cotangent v for ⟨v, y⟩.
V norm_inputs(const Shape& xs, const Shape& affine, uint64_t seed) {
  return {randn32(xs, seed, 2.0) + 0.5, randu32(affine, seed + 1, 0.5, 1.5), randn32(affine, seed + 2),
          randn32(xs, seed + 3)};
}

// y = norm(x, γ, β) and its gradients with respect to x (and γ, β when affine).
template <class Norm> V norm_and_grads(const V& v, bool affine, const Norm& norm) {
  const Tensor x = leaf(v[0]);
  const Tensor ga = affine ? leaf(v[1]) : Tensor(), be = affine ? leaf(v[2]) : Tensor();
  const Tensor y = norm(x, ga, be);
  const V g = grad(sum(y * v[3]), affine ? V{x, ga, be} : V{x});
  V out{y};
  out.insert(out.end(), g.begin(), g.end());
  return out;
}

void expect_group_norm_matches(const Shape& xs, int64_t groups, bool affine, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "group_norm " << xs << " G=" << groups << (affine ? " affine" : ""));
  expect_cuda_matches_cpu(
      [groups, affine](const V& v) {
        return norm_and_grads(v, affine, [groups](const Tensor& x, const Tensor& ga, const Tensor& be) {
          return group_norm(x, groups, ga, be);
        });
      },
      norm_inputs(xs, Shape{xs[1]}, seed));
}

TEST_F(CudaVsCpu, GroupNorm) {
  uint64_t seed = 5000;
  for (bool affine : {true, false}) {
    for (int64_t g : {1, 2, 4}) expect_group_norm_matches(Shape{2, 4, 3, 3}, g, affine, seed += 10);  // S < 32
    for (int64_t g : {1, 3, 6}) expect_group_norm_matches(Shape{3, 6, 7, 13}, g, affine, seed += 10);  // S = 91
    expect_group_norm_matches(Shape{1, 8, 5, 5}, 2, affine, seed += 10);                                // N = 1
    expect_group_norm_matches(Shape{5, 6}, 3, affine, seed += 10);                                      // S = 1
    expect_group_norm_matches(Shape{4, 32, 16, 17}, 8, affine, seed += 10);                             // rows > 256
  }
}

// Instance norm (G = C), ConvNet-3's default, at its three feature-map sizes.
TEST_F(CudaVsCpu, InstanceNorm) {
  uint64_t seed = 6000;
  for (const Shape& xs : {Shape{256, 128, 28, 28}, Shape{256, 128, 14, 14}, Shape{256, 128, 7, 7},
                          Shape{1, 1, 7, 13}, Shape{3, 5, 4, 4}})
    expect_group_norm_matches(xs, xs[1], true, seed += 10);
}

TEST_F(CudaVsCpu, LayerNorm) {
  uint64_t seed = 7000;
  for (const Shape& xs : {Shape{2, 3, 4, 5}, Shape{3, 5, 7, 13}, Shape{1, 1, 1, 3}, Shape{256, 128, 7, 7}})
    for (bool affine : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "layer_norm " << xs << (affine ? " affine" : ""));
      const Shape per_sample(std::vector<int64_t>(xs.dims().begin() + 1, xs.dims().end()));
      expect_cuda_matches_cpu(
          [affine](const V& v) {
            return norm_and_grads(v, affine, [](const Tensor& x, const Tensor& ga, const Tensor& be) {
              return layer_norm(x, ga, be);
            });
          },
          norm_inputs(xs, per_sample, seed += 10));
    }
}

// Training mode: y, the updated running statistics (from the kernel's mean and biased var),
// and the gradients.
TEST_F(CudaVsCpu, BatchNorm) {
  uint64_t seed = 8000;
  for (const Shape& xs : {Shape{2, 3, 2, 3}, Shape{3, 5, 7, 13}, Shape{1, 4, 7, 13}, Shape{6, 7}, Shape{5, 2, 61, 55},
                          Shape{256, 128, 28, 28}, Shape{256, 128, 7, 7}})
    for (bool affine : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "batch_norm " << xs << (affine ? " affine" : ""));
      expect_cuda_matches_cpu(
          [affine](const V& v) {
            BatchNormState st;
            V out = norm_and_grads(v, affine, [&st](const Tensor& x, const Tensor& ga, const Tensor& be) {
              return batch_norm(x, ga, be, st, true);
            });
            out.push_back(st.running_mean);
            out.push_back(st.running_var);
            return out;
          },
          norm_inputs(xs, Shape{xs[1]}, seed += 10));
    }
}

}  // namespace
}  // namespace loco
