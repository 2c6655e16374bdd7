// PNG grids of images: rows × cols cells of N images [N,C,H,W] (C = 1 grayscale, C = 3 RGB),
// stored normalised per channel ((x − mean)/std). Written through write_file_atomic
// (engine/io/atomic_file.h), so a failure never leaves half a PNG.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace loco {

// The value of padding and of cells with no image (white).
constexpr uint8_t kPngBackground = 255;

// Each pixel becomes round(255·clamp(x·stdev[c] + mean[c], 0, 1)) (NaN → 0). Image n fills cell
// (n / cols, n % cols); cells are H×W with pad background pixels around and between them, so
// the picture is (rows·(H+pad)+pad) × (cols·(W+pad)+pad). N may be less than rows·cols.
// images: f32 or f64 on any device. Throws loco::Error naming path and the shapes at fault.
void save_png_grid(const std::string& path, const Tensor& images, int64_t rows, int64_t cols,
                   const std::vector<float>& mean, const std::vector<float>& stdev, int pad = 2);

}  // namespace loco
