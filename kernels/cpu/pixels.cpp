// CPU twin of kernels/pixels.h: a 256-entry table per channel, filled with the shared formula,
// so each pixel is one lookup. Shape letters as in the contract.
#include "kernels/pixels.h"

namespace loco::kernels::cpu {

void gather_normalise(float* y, const uint8_t* x, const int64_t* rows, int64_t n, int64_t p, PixelNorm norm) {
  float lut[kMaxPixelChannels][256];
  for (int64_t c = 0; c < norm.channels; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = normalise_pixel(static_cast<uint8_t>(v), norm.mean[c], norm.std[c]);
  const int64_t image = norm.channels * p;
#pragma omp parallel for schedule(static) if (n * image > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* src = x + rows[i] * image;
    float* dst = y + i * image;
    for (int64_t c = 0; c < norm.channels; ++c) {
      const float* t = lut[c];
      for (int64_t k = 0; k < p; ++k) dst[c * p + k] = t[src[c * p + k]];
    }
  }
}

}  // namespace loco::kernels::cpu
