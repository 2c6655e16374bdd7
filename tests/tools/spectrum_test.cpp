// Spectra (tools/analysis/spectrum.h) of constructed images whose singular values are known: exact
// rank-k images have nothing after σ_k; planes built as U·diag(s)·Vᵀ give back s; energies are
// the stated ratios and reach 1 at full rank.
#include <gtest/gtest.h>

#include <cmath>

#include "tools/analysis/spectrum.h"
#include "engine/rng.h"
#include "engine/ops.h"

namespace loco {
namespace {

// n images [n, c, h, w], each channel A·B with A h×k and B k×w standard normal: rank exactly k.
Tensor rank_k_images(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, uint64_t seed) {
  Generator g(seed, 0);
  const Tensor a = rand_normal(Shape{n, c, h, k}, g), b = rand_normal(Shape{n, c, k, w}, g);
  return lowrank_reconstruct(a, b);
}

TEST(Spectrum, ExactRankKImagesHaveNothingAfterK) {
  for (int64_t k : {1, 2, 5}) {
    const analysis::Spectrum s = analysis::image_spectrum(rank_k_images(6, 3, 12, 9, k, 40 + k));
    ASSERT_EQ(s.channels, 3);
    ASSERT_EQ(s.mean_sigma.size(), 9u);
    for (int64_t ch = 0; ch < 3; ++ch) {
      EXPECT_DOUBLE_EQ(s.sigma[ch][0], 1.0) << "normalised to the largest";
      EXPECT_GT(s.sigma[ch][k - 1], 1e-3) << "k = " << k << ": the k-th value is there";
      for (size_t i = static_cast<size_t>(k); i < 9; ++i) EXPECT_LE(s.sigma[ch][i], 1e-5) << "k = " << k << ", i = " << i;
    }
    // Energy at rank ≥ k is everything; below k it is not.
    for (size_t j = 0; j < s.ranks.size(); ++j) {
      if (s.ranks[j] >= k) EXPECT_NEAR(s.mean_energy[j], 1.0, 1e-9) << "k = " << k << ", r = " << s.ranks[j];
      else EXPECT_LT(s.mean_energy[j], 0.999) << "k = " << k << ", r = " << s.ranks[j];
    }
  }
}

// U·diag(d)·Vᵀ for n×n Householder reflections U, V (I − 2·v·vᵀ/‖v‖², orthogonal) of Gaussian
// v, in plain loops: the test must not share a fault with the Eigen code it checks (built with
// GCC 12 -march=native on this AVX-512 machine, Eigen 3.4's HouseholderQR Q times a diagonal
// times Vᵀ came out wrong at 8×8, while the same lines without -march=native were right).
std::vector<double> plane_with_singular_values(const std::vector<double>& d, Generator& g) {
  const size_t n = d.size();
  auto reflection = [&] {
    const std::vector<double> v = rand_normal(Shape{static_cast<int64_t>(n)}, g, 0.0, 1.0, DType::f64).to_vector<double>();
    double nn = 0;
    for (double e : v) nn += e * e;
    std::vector<double> h(n * n);
    for (size_t r = 0; r < n; ++r)
      for (size_t c = 0; c < n; ++c) h[r * n + c] = (r == c) - 2 * v[r] * v[c] / nn;
    return h;
  };
  const std::vector<double> u = reflection(), v = reflection();
  std::vector<double> p(n * n, 0.0);
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c < n; ++c)
      for (size_t k = 0; k < n; ++k) p[r * n + c] += u[r * n + k] * d[k] * v[c * n + k];
  return p;
}

TEST(Spectrum, KnownSingularValuesAndEnergies) {
  // Two planes with s = (4, 2, 1, 1, 0…) and (2, 2, 0…), at 8×8 and at Fashion-MNIST's 28×28.
  // Mean σ = (3, 2, 0.5, 0.5, 0…), over σ_1 = 3. Energy r = 1: (16/22 + 4/8) / 2;
  // r = 2: (20/22 + 1) / 2; r = 4 and 8: 1.
  for (size_t n : {8, 28}) {
    std::vector<double> a(n, 0.0), b(n, 0.0);
    a[0] = 4, a[1] = 2, a[2] = 1, a[3] = 1, b[0] = 2, b[1] = 2;
    Generator g(9, n);
    std::vector<double> x = plane_with_singular_values(a, g);
    const std::vector<double> y = plane_with_singular_values(b, g);
    x.insert(x.end(), y.begin(), y.end());
    const int64_t side = static_cast<int64_t>(n);
    const analysis::Spectrum s = analysis::image_spectrum(from_vector(x, Shape{2, 1, side, side}));
    ASSERT_EQ(s.mean_sigma.size(), n);
    std::vector<double> want(n, 0.0);
    want[0] = 1, want[1] = 2.0 / 3, want[2] = want[3] = 0.5 / 3;
    for (size_t i = 0; i < n; ++i) EXPECT_NEAR(s.mean_sigma[i], want[i], 1e-12) << n << "×" << n << ", i = " << i;
    ASSERT_EQ(s.ranks, (std::vector<int64_t>{1, 2, 4, 8}));
    EXPECT_NEAR(s.mean_energy[0], (16.0 / 22 + 4.0 / 8) / 2, 1e-12);
    EXPECT_NEAR(s.mean_energy[1], (20.0 / 22 + 1.0) / 2, 1e-12);
    EXPECT_NEAR(s.mean_energy[2], 1.0, 1e-12);
    EXPECT_NEAR(s.mean_energy[3], 1.0, 1e-12);
    EXPECT_EQ(s.energy[0], s.mean_energy) << "one channel: its energies are the mean";
  }
}

TEST(Spectrum, BadInputIsNamed) {
  auto says = [](auto&& call, const std::string& what) {
    try {
      call();
      ADD_FAILURE() << what << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  says([] { analysis::image_spectrum(zeros(Shape{2, 4, 4}), analysis::kEnergyRanks, "src"); }, "[2,4,4]");
  says([] { analysis::image_spectrum(zeros(Shape{2, 1, 4, 4}), analysis::kEnergyRanks, "my set"); }, "my set");
  says([] { analysis::image_spectrum(full(Shape{1, 1, 4, 4}, 1.0), {0}, "src"); }, "rank 0");
}

}  // namespace
}  // namespace loco
