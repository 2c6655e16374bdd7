// Singular-value spectra of images (issue 13, item 1; the paper's appendix Fig. 5): how much of
// each image channel a rank-r matrix can hold, the question the low-rank plugin rests on.
// For every image and channel the singular values σ_1 ≥ … ≥ σ_m (m = min(H, W)) of the H×W
// plane are computed in double (Eigen's BDCSVD, values only); the spectrum is their mean over
// images, per channel, divided by its largest value; energy(r) is, per plane, the sum of the r
// largest σ² over the sum of all σ² (the squared Frobenius norm kept by the best rank-r
// approximation, Eckart–Young), averaged over planes. loco measures images as they are
// normalised ((x − mean)/std), the space the networks see and the low-rank sets factorise: a
// rank-r set has rank r there, while de-normalising adds the constant plane mean/std, a rank-one
// term, to every image.
// Shape letters: N images, C channels, H×W image, m = min(H, W).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "engine/tensor.h"

namespace loco::analysis {

struct Spectrum {
  int64_t images = 0, channels = 0;
  std::vector<std::vector<double>> sigma;   // [C][m]: mean σ_i over images, over the channel's mean σ_1
  std::vector<double> mean_sigma;           // [m]: sigma averaged over channels
  std::vector<int64_t> ranks;               // where the energy is measured
  std::vector<std::vector<double>> energy;  // [C][ranks]: mean over the channel's planes
  std::vector<double> mean_energy;          // [ranks]: energy averaged over channels
};

// The real images' sample draws from this stream of the seed (the other streams: condense/).
constexpr uint64_t kStreamSpectrumSample = 9u << 20;

// min(n, |class|) training images of each class, drawn without replacement from the seed's
// kStreamSpectrumSample stream (ClassIndex::sample), normalised as every batch is.
Tensor sample_real_images(const condense::Dataset& train, int64_t n, uint64_t seed);

// The ranks of the table.
inline const std::vector<int64_t> kEnergyRanks = {1, 2, 4, 8};

// images: f32 or f64 [N, C, H, W] on any device, N ≥ 1; ranks each ≥ 1 (beyond m: energy 1).
// Throws loco::Error naming the shape when it is not 4-D floating, and `what` when every
// plane of a channel is zero (its spectrum cannot be normalised).
Spectrum image_spectrum(const Tensor& images, const std::vector<int64_t>& ranks = kEnergyRanks,
                        const std::string& what = "images");

}  // namespace loco::analysis
