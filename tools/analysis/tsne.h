// Exact t-SNE (van der Maaten & Hinton 2008), for `loco tsne`: a few thousand points of network
// features, embedded in 2-D. Every pair is computed (O(n²) memory and time per iteration), which
// is what a per-class sample of real images and a set or two needs; Barnes–Hut would pay only
// past ~10k points. Seeded (Philox), and every sum is taken in a fixed order, so one seed draws
// one picture on any thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace loco::analysis {

struct TsneOptions {
  double perplexity = 30.0;     // the effective number of neighbours each point's Gaussian spans
  int64_t iterations = 1000;
  int64_t exaggeration_iterations = 250;  // P ×12 at first, so clusters form before they settle
  double exaggeration = 12.0;
  double learning_rate = 0.0;   // 0: max(n / exaggeration / 4, 50), the "automatic" rate of openTSNE/sklearn
  uint64_t seed = 0;
};

// x: n rows of d features (row-major, n·d values); returns n rows of 2 coordinates. Throws
// loco::Error when n < 4 or when the perplexity does not fit n (3·perplexity must be < n − 1).
std::vector<double> tsne(const std::vector<float>& x, int64_t n, int64_t d, const TsneOptions& o = {});

// The fraction of each point's k nearest neighbours in a (dims da) that are also among its k
// nearest in b (dims db), averaged over points: how much of the input's neighbourhoods an
// embedding keeps (1: all).
double knn_agreement(const std::vector<double>& a, int64_t da, const std::vector<double>& b, int64_t db, int64_t n,
                     int64_t k);

}  // namespace loco::analysis
