#include "tools/analysis/tsne.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/check.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace loco::analysis {
namespace {

std::vector<double> squared_distances(const std::vector<double>& x, int64_t n, int64_t d) {
  std::vector<double> dist(static_cast<size_t>(n * n));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t t = 0; t < d; ++t) {
        const double u = x[static_cast<size_t>(i * d + t)] - x[static_cast<size_t>(j * d + t)];
        s += u * u;
      }
      dist[static_cast<size_t>(i * n + j)] = s;
    }
  return dist;
}

// Row i's conditional p_{j|i}: a Gaussian whose precision beta is found by bisection so the
// row's entropy is log(perplexity).
void conditional_row(const double* dist, int64_t n, int64_t i, double perplexity, double* p) {
  const double target = std::log(perplexity);
  double beta = 1.0, lo = 0.0, hi = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 200; ++step) {
    double sum = 0, weighted = 0;
    for (int64_t j = 0; j < n; ++j) {
      p[j] = j == i ? 0.0 : std::exp(-beta * dist[j]);
      sum += p[j];
      weighted += p[j] * dist[j];
    }
    if (sum <= 0) {  // beta so large every weight underflowed: halve it
      hi = beta;
      beta = (lo + hi) / 2;
      continue;
    }
    const double entropy = std::log(sum) + beta * weighted / sum;
    for (int64_t j = 0; j < n; ++j) p[j] /= sum;
    if (std::abs(entropy - target) < 1e-6) return;
    if (entropy > target) {
      lo = beta;
      beta = std::isinf(hi) ? beta * 2 : (lo + hi) / 2;
    } else {
      hi = beta;
      beta = (lo + hi) / 2;
    }
  }
}

}  // namespace

std::vector<double> tsne(const std::vector<float>& x_in, int64_t n, int64_t d, const TsneOptions& o) {
  LOCO_CHECK(n >= 4 && d >= 1 && static_cast<int64_t>(x_in.size()) == n * d, "t-SNE: ", x_in.size(),
             " values are not ", n, " points of ", d, " features (n ≥ 4)");
  LOCO_CHECK(o.perplexity > 0 && 3 * o.perplexity < static_cast<double>(n - 1), "t-SNE: perplexity ", o.perplexity,
             " needs more than ", static_cast<int64_t>(3 * o.perplexity) + 1, " points; there are ", n);
  std::vector<double> x(x_in.begin(), x_in.end());
  // Centred and scaled to unit largest distance: beta's bisection then starts near its answer
  // whatever the features' scale.
  for (int64_t t = 0; t < d; ++t) {
    double m = 0;
    for (int64_t i = 0; i < n; ++i) m += x[static_cast<size_t>(i * d + t)];
    m /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i * d + t)] -= m;
  }
  std::vector<double> dist = squared_distances(x, n, d);
  const double biggest = *std::max_element(dist.begin(), dist.end());
  if (biggest > 0)
    for (double& v : dist) v /= biggest;

  std::vector<double> p(static_cast<size_t>(n * n));
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) conditional_row(&dist[static_cast<size_t>(i * n)], n, i, o.perplexity, &p[static_cast<size_t>(i * n)]);
  // Symmetric joint probabilities, p_ij = (p_{j|i} + p_{i|j}) / 2n.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double v = std::max((p[static_cast<size_t>(i * n + j)] + p[static_cast<size_t>(j * n + i)]) / (2.0 * n), 1e-12);
      p[static_cast<size_t>(i * n + j)] = p[static_cast<size_t>(j * n + i)] = v;
    }

  // Initial points from N(0, 1e-4), Philox stream 0 of the seed.
  Generator g(o.seed, 0);
  const std::vector<float> init = rand_normal({n, 2}, g, 0.0, 1e-2).to_vector<float>();
  std::vector<double> y(init.begin(), init.end()), step(static_cast<size_t>(n * 2), 0.0),
      gains(static_cast<size_t>(n * 2), 1.0), grad(static_cast<size_t>(n * 2)), q(static_cast<size_t>(n * n)),
      row_sum(static_cast<size_t>(n));
  const double lr = o.learning_rate > 0 ? o.learning_rate : std::max(static_cast<double>(n) / o.exaggeration / 4.0, 50.0);
  for (int64_t it = 0; it < o.iterations; ++it) {
    const double exag = it < o.exaggeration_iterations ? o.exaggeration : 1.0;
    const double momentum = it < o.exaggeration_iterations ? 0.5 : 0.8;
    // Student-t kernel (1 + |yi − yj|²)⁻¹; Z summed per row, then over rows in order.
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double dx = y[static_cast<size_t>(2 * i)] - y[static_cast<size_t>(2 * j)];
        const double dy = y[static_cast<size_t>(2 * i + 1)] - y[static_cast<size_t>(2 * j + 1)];
        const double v = j == i ? 0.0 : 1.0 / (1.0 + dx * dx + dy * dy);
        q[static_cast<size_t>(i * n + j)] = v;
        s += v;
      }
      row_sum[static_cast<size_t>(i)] = s;
    }
    const double z = std::accumulate(row_sum.begin(), row_sum.end(), 0.0);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      double gx = 0, gy = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double w = q[static_cast<size_t>(i * n + j)];
        const double f = (exag * p[static_cast<size_t>(i * n + j)] - w / z) * w;
        gx += f * (y[static_cast<size_t>(2 * i)] - y[static_cast<size_t>(2 * j)]);
        gy += f * (y[static_cast<size_t>(2 * i + 1)] - y[static_cast<size_t>(2 * j + 1)]);
      }
      grad[static_cast<size_t>(2 * i)] = 4 * gx;
      grad[static_cast<size_t>(2 * i + 1)] = 4 * gy;
    }
    // Gradient descent with momentum and per-coordinate gains (Jacobs 1988), as the original.
    for (size_t k = 0; k < y.size(); ++k) {
      gains[k] = (grad[k] > 0) != (step[k] > 0) ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
      step[k] = momentum * step[k] - lr * gains[k] * grad[k];
      y[k] += step[k];
    }
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; ++i) mx += y[static_cast<size_t>(2 * i)], my += y[static_cast<size_t>(2 * i + 1)];
    for (int64_t i = 0; i < n; ++i)
      y[static_cast<size_t>(2 * i)] -= mx / static_cast<double>(n), y[static_cast<size_t>(2 * i + 1)] -= my / static_cast<double>(n);
  }
  return y;
}

double knn_agreement(const std::vector<double>& a, int64_t da, const std::vector<double>& b, int64_t db, int64_t n,
                     int64_t k) {
  LOCO_CHECK(k >= 1 && k < n, "knn_agreement: k ", k, " must be in [1, ", n, ")");
  const std::vector<double> dist_a = squared_distances(a, n, da), dist_b = squared_distances(b, n, db);
  auto nearest = [&](const std::vector<double>& dist, int64_t i) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    idx.erase(idx.begin() + i);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t u, int64_t v) {
      const double du = dist[static_cast<size_t>(i * n + u)], dv = dist[static_cast<size_t>(i * n + v)];
      return du < dv || (du == dv && u < v);
    });
    idx.resize(static_cast<size_t>(k));
    std::sort(idx.begin(), idx.end());
    return idx;
  };
  double kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto na = nearest(dist_a, i), nb = nearest(dist_b, i);
    std::vector<int64_t> both;
    std::set_intersection(na.begin(), na.end(), nb.begin(), nb.end(), std::back_inserter(both));
    kept += static_cast<double>(both.size()) / static_cast<double>(k);
  }
  return kept / static_cast<double>(n);
}

}  // namespace loco::analysis
