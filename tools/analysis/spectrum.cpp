// image_spectrum (tools/analysis/spectrum.h): one BDCSVD per plane, values only, in double, planes
// shared out over OpenMP threads (each writes only its own rows of the result).
// Shape letters: N images, C channels, H×W image, m = min(H, W).
#include "tools/analysis/spectrum.h"

#include <Eigen/SVD>

#include <algorithm>

#include "engine/check.h"

namespace loco::analysis {

Tensor sample_real_images(const condense::Dataset& train, int64_t n, uint64_t seed) {
  LOCO_CHECK(n >= 1, "--n: ", n, " real images per class (at least 1)");
  const condense::ClassIndex index(train.labels, train.classes);
  Generator g(seed, kStreamSpectrumSample);
  const std::vector<int64_t> rows = index.sample(0, train.classes, n, g);
  LOCO_CHECK(!rows.empty(), train.name, ": no training images to sample");
  return train.images(rows);
}

Spectrum image_spectrum(const Tensor& images, const std::vector<int64_t>& ranks, const std::string& what) {
  LOCO_CHECK(images.defined() && images.ndim() == 4 && is_floating(images.dtype()), what,
             ": a spectrum needs floating images [N,C,H,W], got ",
             images.defined() ? images.shape().str() : std::string("none"));
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3), m = std::min(h, w);
  LOCO_CHECK(n >= 1 && c >= 1 && m >= 1, what, ": images ", images.shape(), " hold no planes");
  for (int64_t r : ranks) LOCO_CHECK(r >= 1, what, ": energy at rank ", r, " (ranks are ≥ 1)");
  const std::vector<double> x = images.dtype() == DType::f64 ? images.to_vector<double>() : [&] {
    const std::vector<float> f = images.to_vector<float>();
    return std::vector<double>(f.begin(), f.end());
  }();

  // sv[(i·C + ch)·m + k]: σ_k of plane (i, ch).
  std::vector<double> sv(static_cast<size_t>(n * c * m));
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t p = 0; p < n * c; ++p) {
    const Eigen::Map<const Mat> plane(x.data() + p * h * w, h, w);
    Eigen::BDCSVD<Mat> svd(plane);  // no U, V: values only
    const auto& s = svd.singularValues();
    for (int64_t k = 0; k < m; ++k) sv[static_cast<size_t>(p * m + k)] = s(k);
  }

  Spectrum out;
  out.images = n;
  out.channels = c;
  out.ranks = ranks;
  out.sigma.assign(static_cast<size_t>(c), std::vector<double>(static_cast<size_t>(m), 0.0));
  out.energy.assign(static_cast<size_t>(c), std::vector<double>(ranks.size(), 0.0));
  out.mean_sigma.assign(static_cast<size_t>(m), 0.0);
  out.mean_energy.assign(ranks.size(), 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    auto& sig = out.sigma[static_cast<size_t>(ch)];
    auto& en = out.energy[static_cast<size_t>(ch)];
    int64_t planes = 0;  // with energy; an all-zero plane keeps nothing and loses nothing
    for (int64_t i = 0; i < n; ++i) {
      const double* s = sv.data() + (i * c + ch) * m;
      double total = 0;
      for (int64_t k = 0; k < m; ++k) sig[static_cast<size_t>(k)] += s[k] / static_cast<double>(n), total += s[k] * s[k];
      if (total <= 0) continue;
      ++planes;
      for (size_t j = 0; j < ranks.size(); ++j) {
        double kept = 0;
        for (int64_t k = 0; k < std::min(ranks[j], m); ++k) kept += s[k] * s[k];
        en[j] += kept / total;
      }
    }
    LOCO_CHECK(planes > 0 && sig[0] > 0, what, ": every plane of channel ", ch, " of images ", images.shape(),
               " is zero; its spectrum has no scale");
    for (double& v : en) v /= static_cast<double>(planes);
    const double top = sig[0];
    for (double& v : sig) v /= top;
    for (int64_t k = 0; k < m; ++k) out.mean_sigma[static_cast<size_t>(k)] += sig[static_cast<size_t>(k)] / static_cast<double>(c);
    for (size_t j = 0; j < ranks.size(); ++j) out.mean_energy[j] += en[j] / static_cast<double>(c);
  }
  return out;
}

}  // namespace loco::analysis
