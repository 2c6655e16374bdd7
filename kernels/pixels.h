// Contract of the pixels family: dataset images leave their raw bytes only through here.
// gather_normalise picks rows of a u8 [N, C, H·W] split and writes them as f32, normalised per
// channel exactly as PyTorch's ToTensor + Normalize compute it ((v / 255 − mean_c) / std_c, in
// f32, division and all), so a dataset kept as bytes gives the same floats a normalised copy
// would, bit for bit, on either device.
// Shape letters: N images in the split, n rows gathered, C channels, P = H·W pixels per plane.
#pragma once
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

constexpr int kMaxPixelChannels = 4;
// Per-channel normalisation, passed by value to both twins.
struct PixelNorm {
  int64_t channels = 1;
  float mean[kMaxPixelChannels] = {0, 0, 0, 0};
  float std[kMaxPixelChannels] = {1, 1, 1, 1};
};

// The one per-element formula (no FMA can form: a division, a subtraction, a division).
LOCO_HD float normalise_pixel(uint8_t v, float mean, float std) {
  return (static_cast<float>(v) / 255.0f - mean) / std;
}

namespace cpu {
// y[i, c, p] = normalise(x[rows[i], c, p]) for i < n; rows checked by the caller.
void gather_normalise(float* y, const uint8_t* x, const int64_t* rows, int64_t n, int64_t p, PixelNorm norm);
}  // namespace cpu
#ifdef LOCO_HAS_CUDA
namespace cuda {
void gather_normalise(float* y, const uint8_t* x, const int64_t* rows, int64_t n, int64_t p, PixelNorm norm);
}  // namespace cuda
#endif
}  // namespace loco::kernels
