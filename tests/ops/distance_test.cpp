// Tests of the condensation distances: DM's class-mean distance and the three gradient-matching
// metrics against naive loops, the 1-D rule of 'ours', zero rows, GradCheck and GradGradCheck.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

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
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < d; ++j) {
      double mr = 0, ms = 0;
      for (int64_t i = 0; i < nr; ++i) mr += rv[(c * nr + i) * d + j] / nr;
      for (int64_t i = 0; i < ns; ++i) ms += sv[(c * ns + i) * d + j] / ns;
      ref += (mr - ms) * (mr - ms);
    }
  EXPECT_NEAR(dm_distance(real, syn, k).item<double>(), ref, 1e-12);
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

}  // namespace
}  // namespace loco
