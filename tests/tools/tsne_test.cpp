// t-SNE keeps well-separated clusters apart and much of the input's neighbourhoods, draws the
// same picture for the same seed on any thread count, and refuses too few points.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/rng.h"
#include "engine/tensor.h"
#include "tools/analysis/tsne.h"

namespace loco::analysis {
namespace {

constexpr int64_t kClusters = 5, kPer = 30, kDims = 20;

// kClusters Gaussian blobs (unit spread) around centres ~10 apart, cluster-major.
std::vector<float> blobs() {
  Generator g(3, 0);
  const std::vector<float> centres = rand_normal({kClusters, kDims}, g, 0.0, 10.0).to_vector<float>();
  const std::vector<float> noise = rand_normal({kClusters * kPer, kDims}, g).to_vector<float>();
  std::vector<float> x(noise.size());
  for (int64_t i = 0; i < kClusters * kPer; ++i)
    for (int64_t t = 0; t < kDims; ++t)
      x[static_cast<size_t>(i * kDims + t)] =
          centres[static_cast<size_t>((i / kPer) * kDims + t)] + noise[static_cast<size_t>(i * kDims + t)];
  return x;
}

TEST(Tsne, KeepsSeparatedClustersApartAndNeighbourhoodsTogether) {
  const std::vector<float> x = blobs();
  const int64_t n = kClusters * kPer;
  const std::vector<double> y = tsne(x, n, kDims, {.perplexity = 10, .iterations = 500, .seed = 1});
  ASSERT_EQ(y.size(), static_cast<size_t>(2 * n));
  // The share of each point's 5 nearest in the embedding that are of its own cluster.
  double same = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, int64_t>> by_distance;
    for (int64_t j = 0; j < n; ++j)
      if (j != i)
        by_distance.emplace_back(std::hypot(y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]), j);
    std::partial_sort(by_distance.begin(), by_distance.begin() + 5, by_distance.end());
    for (int k = 0; k < 5; ++k) same += by_distance[static_cast<size_t>(k)].second / kPer == i / kPer ? 0.2 : 0.0;
  }
  const double purity = same / static_cast<double>(n);
  EXPECT_GT(purity, 0.99) << "clusters ran into each other";
  const std::vector<double> xd(x.begin(), x.end());
  const double agreement = knn_agreement(xd, kDims, y, 2, n, 5);
  std::printf("t-SNE on %lld points: 5-NN agreement %.3f (random ~%.3f), 5-NN purity %.3f\n",
              static_cast<long long>(n), agreement, 5.0 / static_cast<double>(n - 1), purity);
  EXPECT_GT(agreement, 0.3) << "the embedding lost the input's neighbourhoods";
}

TEST(Tsne, OneSeedOnePictureOnAnyThreadCount) {
  const std::vector<float> x = blobs();
  const int64_t n = kClusters * kPer;
  const TsneOptions o{.perplexity = 10, .iterations = 60, .seed = 4};
  omp_set_num_threads(1);
  const std::vector<double> one = tsne(x, n, kDims, o);
  omp_set_num_threads(2);
  EXPECT_EQ(tsne(x, n, kDims, o), one);
  EXPECT_NE(tsne(x, n, kDims, {.perplexity = 10, .iterations = 60, .seed = 5}), one);
}

TEST(Tsne, TooFewPointsForThePerplexityIsAnError) {
  const std::vector<float> x(10 * 3, 1.0f);
  try {
    tsne(x, 10, 3, {.perplexity = 30});
    ADD_FAILURE() << "perplexity 30 on 10 points was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("perplexity 30"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tsne(x, 10, 4, {.perplexity = 2}), Error);  // 30 values are not 10 × 4
}

}  // namespace
}  // namespace loco::analysis
