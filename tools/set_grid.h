// A labelled set of images as a grid a person can read (issue 13, item 6): one row per class
// with the class name on the left, at most max_cols images of each, a gap between them, and
// small images upscaled by a whole factor (nearest neighbour) so each row is at least
// min_row_height pixels high, unless the picture would pass max_pixels (then the largest factor
// that fits, at least 1). Drawn by the figure layer (tools/figure.h); used for grid.png and
// grid-<iteration>.png in run directories. Shape letters: N images, C channels, H×W image.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "engine/tensor.h"
#include "tools/figure.h"

namespace loco::cli {

struct SetGridOptions {
  int min_row_height = 256;
  int max_cols = 32;
  int gap = 4;
  int64_t max_pixels = 40'000'000;  // ~160 MB of RGB24 while drawing: CIFAR-100's 100 rows stay drawable
  std::string title;
};

// The 8-bit value shown for a normalised pixel x: round(255·clamp(x·std + mean, 0, 1)), NaN → 0.
uint8_t display_byte(float x, float mean, float std);

// images: f32/f64 [N, C, H, W] (C 1 or 3) normalised per channel by mean/std, on any device;
// labels: i64 [N] in [0, info.classes). Rows are the classes in order (names from
// condense::class_name), each holding its images in set order. Throws naming the shapes at fault.
figure::ImageGrid set_grid(const Tensor& images, const Tensor& labels, const condense::DatasetInfo& info,
                           const std::vector<float>& mean, const std::vector<float>& std, const SetGridOptions& o = {});
// set_grid written as a PNG at path.
void save_set_grid(const std::string& path, const Tensor& images, const Tensor& labels, const condense::DatasetInfo& info,
                   const std::vector<float>& mean, const std::vector<float>& std, const SetGridOptions& o = {});

}  // namespace loco::cli
