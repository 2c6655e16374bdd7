// Tests of the condensation distances: DM's class-mean distance and the three gradient-matching
// metrics against naive loops, the 1-D rule of 'ours', zero rows, GradCheck and GradGradCheck,
// and CudaVsCpu: the distances, their gradients, and gradient matching's double backward
// through a small conv net, on CUDA against the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/harness/compare.h"
#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::leaf;

using testing::CheckOptions;
using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using V = std::vector<Tensor>;

TEST(DistanceForward, DmMatchesNaive) {
  const int64_t k = 3, nr = 4, ns = 2, d = 5;
  const Tensor real = randn64(Shape{k * nr, d}, 1), syn = randn64(Shape{k * ns, d}, 2);
  const auto rv = real.to_vector<double>(), sv = syn.to_vector<double>();
  double ref = 0;
  std::vector<double> per_class(k, 0.0);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j) {
      double mr = 0, ms = 0;
      for (int64_t i = 0; i < nr; ++i) mr += rv[(c * nr + i) * d + j] / nr;
      for (int64_t i = 0; i < ns; ++i) ms += sv[(c * ns + i) * d + j] / ns;
      ref += (mr - ms) * (mr - ms);
      per_class[c] += (mr - ms) * (mr - ms);
    }
  EXPECT_NEAR(dm_distance(real, syn, k).item<double>(), ref, 1e-12);
  const auto terms = dm_class_distances(real, syn, k).to_vector<double>();
  ASSERT_EQ(terms.size(), per_class.size());
  for (int64_t c = 0; c < k; ++c) EXPECT_NEAR(terms[c], per_class[c], 1e-12) << "class " << c;
  EXPECT_THROW(dm_distance(real, syn, 5), Error);                            // 12 rows in 5 classes
  EXPECT_THROW(dm_distance(real, randn64(Shape{k * ns, d + 1}, 3), k), Error);  // feature sizes differ
}

// Gradients of a conv weight, a layer-norm γ, a linear weight and a bias.
V grads(uint64_t seed) {
  return {randn64(Shape{3, 2, 3, 3}, seed), randn64(Shape{3, 2, 2}, seed + 1), randn64(Shape{4, 5}, seed + 2),
          randn64(Shape{4}, seed + 3)};
}

double naive_ours(const V& s, const V& r) {
  double total = 0;
  for (size_t t = 0; t < s.size(); ++t) {
    if (s[t].ndim() == 1) continue;
    const auto sv = s[t].to_vector<double>(), rv = r[t].to_vector<double>();
    const int64_t rows = s[t].dim(0), len = s[t].numel() / rows;
    for (int64_t i = 0; i < rows; ++i) {
      double dot = 0, nr = 0, ns = 0;
      for (int64_t j = 0; j < len; ++j) {
        dot += rv[i * len + j] * sv[i * len + j];
        nr += rv[i * len + j] * rv[i * len + j];
        ns += sv[i * len + j] * sv[i * len + j];
      }
      total += 1 - dot / (std::sqrt(nr) * std::sqrt(ns) + 1e-6);
    }
  }
  return total;
}

TEST(DistanceForward, GmMetricsMatchNaive) {
  const V s = grads(10), r = grads(20);
  EXPECT_NEAR(gm_distance(s, r, GmMetric::ours).item<double>(), naive_ours(s, r), 1e-12);
  double dot = 0, nr = 0, ns = 0, mse = 0;
  for (size_t t = 0; t < s.size(); ++t) {
    const auto sv = s[t].to_vector<double>(), rv = r[t].to_vector<double>();
    for (size_t j = 0; j < sv.size(); ++j) {
      dot += rv[j] * sv[j];
      nr += rv[j] * rv[j];
      ns += sv[j] * sv[j];
      mse += (sv[j] - rv[j]) * (sv[j] - rv[j]);
    }
  }
  EXPECT_NEAR(gm_distance(s, r, GmMetric::mse).item<double>(), mse, 1e-11);
  EXPECT_NEAR(gm_distance(s, r, GmMetric::cos).item<double>(), 1 - dot / (std::sqrt(nr) * std::sqrt(ns) + 1e-6),
              1e-12);
  // 'ours' of a 1-D pair is exactly 0 and depends on nothing.
  const Tensor bias = randn64(Shape{4}, 30).requires_grad_();
  const Tensor d1 = gm_distance_rows(bias, randn64(Shape{4}, 31));
  EXPECT_EQ(d1.item<double>(), 0.0);
  EXPECT_FALSE(d1.requires_grad());
}

TEST(DistanceForward, OursGivesNoGradientToBiases) {
  V s = grads(40);
  for (auto& t : s) t.requires_grad_();
  const auto g = grad(gm_distance(s, grads(50), GmMetric::ours), s, {.allow_unused = true});
  EXPECT_TRUE(g[0].defined() && g[1].defined() && g[2].defined());
  EXPECT_FALSE(g[3].defined());
  // 'mse' does include them.
  const auto gm = grad(gm_distance(s, grads(50), GmMetric::mse), s, {.allow_unused = true});
  EXPECT_TRUE(gm[3].defined());
}

TEST(DistanceForward, ZeroRowsGiveFiniteGradients) {
  // A dead filter (an all-zero gradient row) contributes 1 and must not turn the gradient to NaN.
  std::vector<double> v = randn64(Shape{3, 4}, 60).to_vector<double>();
  for (int j = 0; j < 4; ++j) v[4 + j] = 0.0;
  Tensor s = from_vector(v, Shape{3, 4});
  s.requires_grad_();
  const Tensor r = randn64(Shape{3, 4}, 61);
  const Tensor d = gm_distance_rows(s, r);
  EXPECT_NEAR(d.item<double>(), naive_ours({s}, {r}), 1e-9);
  for (GmMetric m : {GmMetric::ours, GmMetric::cos}) {
    const auto g = grad(gm_distance({s}, {r}, m), {s}, {.create_graph = true});
    for (double x : g[0].to_vector<double>()) EXPECT_TRUE(std::isfinite(x));
    const auto gg = grad(sum(mul(g[0], g[0])), {s});
    for (double x : gg[0].to_vector<double>()) EXPECT_TRUE(std::isfinite(x));
  }
}

TEST(DistanceForward, ParseMetricNamesTheBadValue) {
  EXPECT_EQ(parse_gm_metric("ours"), GmMetric::ours);
  EXPECT_EQ(parse_gm_metric("mse"), GmMetric::mse);
  EXPECT_EQ(parse_gm_metric("cos"), GmMetric::cos);
  try {
    parse_gm_metric("l2");
    ADD_FAILURE() << "no error for 'l2'";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'l2'"), std::string::npos) << m;
    EXPECT_NE(m.find("ours, mse, cos"), std::string::npos) << m;
  }
  EXPECT_THROW(gm_distance(grads(1), {randn64(Shape{3, 2, 3, 3}, 2)}, GmMetric::mse), Error);  // counts differ
  EXPECT_THROW(gm_distance_rows(randn64(Shape{3, 4}, 1), randn64(Shape{4, 3}, 2)), Error);
}

// f(v) with v = 4 synthetic then 4 real gradients.
Tensor gm_of(const V& v, GmMetric m) { return gm_distance({v[0], v[1], v[2], v[3]}, {v[4], v[5], v[6], v[7]}, m); }

V both(uint64_t s, uint64_t r) {
  V v = grads(s);
  for (const auto& t : grads(r)) v.push_back(t);
  return v;
}

TEST(GradCheck, DmDistance) {
  expect_gradcheck([](const V& v) { return dm_distance(v[0], v[1], 3); },
                   {randn64(Shape{12, 5}, 70), randn64(Shape{6, 5}, 71)});
}

TEST(GradCheck, GmDistance) {
  for (GmMetric m : {GmMetric::ours, GmMetric::mse, GmMetric::cos})
    expect_gradcheck([m](const V& v) { return gm_of(v, m); }, both(80, 90));
}

TEST(GradGradCheck, GmDistanceOurs) {
  // Differentiated with respect to the synthetic gradients only, as gradient matching does.
  CheckOptions o;
  o.skip = {false, false, false, false, true, true, true, true};
  expect_gradgradcheck([](const V& v) { return gm_of(v, GmMetric::ours); }, both(100, 110), o);
}

TEST(GradGradCheck, DmDistance) {
  expect_gradgradcheck([](const V& v) { return dm_distance(v[0], v[1], 2); },
                       {randn64(Shape{6, 4}, 120), randn64(Shape{4, 4}, 121)});
}

// ---- CUDA against the CPU ----

using testing::expect_cuda_matches_cpu;
using testing::randn32;


constexpr GmMetric kMetrics[] = {GmMetric::ours, GmMetric::mse, GmMetric::cos};

// DM: the distance and its gradients with respect to both sides; tiny, odd, one row per class
// (the edge), and ConvNet-3's embedding (2048 features) for 10 classes.
TEST_F(CudaVsCpu, DmDistance) {
  struct Case {
    int64_t classes, n_real, n_syn, d;
  };
  const Case cases[] = {{3, 4, 2, 5}, {7, 3, 1, 13}, {1, 1, 1, 1}, {10, 64, 10, 2048}};
  uint64_t seed = 13000;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "dm K" << c.classes << " n_r" << c.n_real << " n_s" << c.n_syn << " d"
                                      << c.d);
    const V in{randn32(Shape{c.classes * c.n_real, c.d}, seed += 10),
               randn32(Shape{c.classes * c.n_syn, c.d}, seed + 1)};
    const int64_t classes = c.classes;
    expect_cuda_matches_cpu(
        [classes](const V& v) {
          const Tensor real = leaf(v[0]), syn = leaf(v[1]);
          const Tensor d = dm_distance(real, syn, classes);
          const V g = grad(d, {real, syn});
          return V{d, g[0], g[1]};
        },
        in);
  }
}

// Parameter-gradient shapes of ConvNet-3 on Fashion-MNIST (conv weights, biases, norm γ/β, the
// classifier) and a small odd set: every metric, forward and gradient with respect to the
// synthetic side (and the real side, which 'mse' and 'cos' also reach).
std::vector<Shape> convnet3_param_shapes() {
  return {Shape{128, 1, 3, 3}, Shape{128}, Shape{128}, Shape{128},  Shape{128, 128, 3, 3}, Shape{128},
          Shape{128},          Shape{128}, Shape{10, 1152}, Shape{10}};
}

void expect_gm_matches(const std::vector<Shape>& shapes, GmMetric metric, uint64_t seed) {
  V in;
  for (const Shape& s : shapes) in.push_back(randn32(s, seed++));
  for (const Shape& s : shapes) in.push_back(randn32(s, seed++));
  const size_t n = shapes.size();
  expect_cuda_matches_cpu(
      [n, metric](const V& v) {
        V syn, real;
        for (size_t i = 0; i < n; ++i) syn.push_back(leaf(v[i]));
        for (size_t i = 0; i < n; ++i) real.push_back(leaf(v[n + i]));
        const Tensor d = gm_distance(syn, real, metric);
        V wrt = syn;
        if (metric != GmMetric::ours) wrt.insert(wrt.end(), real.begin(), real.end());
        const V g = grad(d, wrt, {.allow_unused = true});
        V out{d};
        for (const Tensor& t : g)
          if (t.defined()) out.push_back(t);
        return out;
      },
      in);
}

TEST_F(CudaVsCpu, GmDistance) {
  uint64_t seed = 14000;
  for (GmMetric m : kMetrics) {
    SCOPED_TRACE(::testing::Message() << "metric " << static_cast<int>(m));
    expect_gm_matches({Shape{3, 2, 3, 3}, Shape{3, 2, 2}, Shape{7, 13}, Shape{4}, Shape{1, 5}}, m, seed += 100);
    expect_gm_matches(convnet3_param_shapes(), m, seed += 100);
  }
}

// 'ours' for one pair: 2-D and 4-D tensors, one row, rows of two, and a row of zeros (the
// dead-filter case: finite gradient). No rows of one element: their cosine is ±1 and the
// gradient ~1e-6 of rounding noise, so a relative comparison would say nothing.
TEST_F(CudaVsCpu, GmDistanceRows) {
  uint64_t seed = 15000;
  for (const Shape& s : {Shape{7, 13}, Shape{128, 128, 3, 3}, Shape{1, 5}, Shape{9, 2}}) {
    SCOPED_TRACE(::testing::Message() << "gm_distance_rows " << s);
    expect_cuda_matches_cpu(
        [](const V& v) {
          const Tensor syn = leaf(v[0]), real = leaf(v[1]);
          const Tensor d = gm_distance_rows(syn, real);
          const V g = grad(d, {syn, real});
          return V{d, g[0], g[1]};
        },
        {randn32(s, seed += 10), randn32(s, seed + 1)});
  }
  std::vector<float> zero_row = randn32(Shape{3, 4}, 15500).to_vector<float>();
  for (int j = 0; j < 4; ++j) zero_row[4 + j] = 0.0f;
  expect_cuda_matches_cpu(
      [](const V& v) {
        const Tensor syn = leaf(v[0]);
        const Tensor d = gm_distance_rows(syn, v[1]);
        return V{d, grad(d, {syn})[0]};
      },
      {from_vector(zero_row, Shape{3, 4}), randn32(Shape{3, 4}, 15501)});
}

// Gradient matching's double backward: g_syn = ∇_θ L(x_syn) with create_graph, g_real =
// ∇_θ L(x_real), D = gm_distance(g_syn, g_real) and dD/dx_syn, through a ConvNet (depth ×
// [conv 3×3 pad 1 → instance norm → relu → avg_pool2], then linear and cross-entropy).
// Inputs: x_syn, x_real, then per layer w, b, γ, β, then the classifier's w, b.
struct NetCase {
  int64_t n, channels, hw, width, depth, classes;
};

Tensor convnet_loss(const V& p, const Tensor& x, const Tensor& labels, int64_t depth) {
  Tensor h = x;
  for (int64_t l = 0; l < depth; ++l) {
    h = conv2d(h, p[4 * l], p[4 * l + 1], {.stride = 1, .padding = 1});
    h = avg_pool2(relu(group_norm(h, h.dim(1), p[4 * l + 2], p[4 * l + 3])));
  }
  return cross_entropy(linear(flatten(h), p[4 * depth], p[4 * depth + 1]), labels);
}

V net_inputs(const NetCase& c, uint64_t seed) {
  V in{randn32(Shape{c.n, c.channels, c.hw, c.hw}, seed), randn32(Shape{c.n, c.channels, c.hw, c.hw}, seed + 1)};
  int64_t cin = c.channels, hw = c.hw;
  for (int64_t l = 0; l < c.depth; ++l, cin = c.width, hw /= 2) {
    seed += 10;
    in.push_back(randn32(Shape{c.width, cin, 3, 3}, seed, 1.0 / std::sqrt(static_cast<double>(cin * 9))));
    in.push_back(randn32(Shape{c.width}, seed + 1, 0.1));
    in.push_back(testing::randu32(Shape{c.width}, seed + 2, 0.5, 1.5));
    in.push_back(randn32(Shape{c.width}, seed + 3, 0.1));
  }
  const int64_t features = c.width * hw * hw;
  in.push_back(randn32(Shape{c.classes, features}, seed + 20, 1.0 / std::sqrt(static_cast<double>(features))));
  in.push_back(randn32(Shape{c.classes}, seed + 21, 0.1));
  return in;
}

void expect_gm_double_backward_matches(const NetCase& c, GmMetric metric, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "net n" << c.n << " " << c.channels << "×" << c.hw << "×" << c.hw << " width "
                                    << c.width << " depth " << c.depth << " metric " << static_cast<int>(metric));
  std::vector<int64_t> lab(static_cast<size_t>(c.n));
  for (int64_t i = 0; i < c.n; ++i) lab[static_cast<size_t>(i)] = i % c.classes;
  // Second order through f32 convolutions, norms and 1 − cos: the products of several rounded
  // factors and the cancellation in 1 − cos leave ~1e-5 … 1e-4 relative, so 1e-3 here.
  expect_cuda_matches_cpu(
      [c, metric, lab](const V& v) {
        const Tensor labels = from_vector(lab, Shape{c.n}, v[0].device());
        V params;
        for (size_t i = 2; i < v.size(); ++i) params.push_back(leaf(v[i]));
        const Tensor x_syn = leaf(v[0]);
        const V g_syn = grad(convnet_loss(params, x_syn, labels, c.depth), params, {.create_graph = true});
        const V g_real = grad(convnet_loss(params, v[1], labels, c.depth), params);
        const Tensor d = gm_distance(g_syn, g_real, metric);
        return V{d, grad(d, {x_syn})[0]};
      },
      net_inputs(c, seed), {.tol = 1e-3});
}

TEST_F(CudaVsCpu, GmDistanceDoubleBackward) {
  uint64_t seed = 16000;
  for (GmMetric m : kMetrics) expect_gm_double_backward_matches({6, 1, 12, 8, 2, 5}, m, seed += 100);
  // ConvNet-3 at Fashion-MNIST size: one synthetic image per class, as DC at 1 image per class.
  expect_gm_double_backward_matches({10, 1, 28, 128, 3, 10}, GmMetric::ours, seed += 100);
}

}  // namespace
}  // namespace loco
