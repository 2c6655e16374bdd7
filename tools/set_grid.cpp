// set_grid (tools/set_grid.h): de-normalise to 8 bits on the host, lay out one row per class,
// choose the upscale factor, and hand the cells to the figure layer.
#include "tools/set_grid.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"

namespace loco::cli {

uint8_t display_byte(float x, float mean, float std) {
  float v = x * std + mean;
  v = std::isnan(v) ? 0.0f : std::fmin(std::fmax(v, 0.0f), 1.0f);
  return static_cast<uint8_t>(std::lround(v * 255.0f));
}

namespace {
template <class T> std::vector<float> host_floats(const Tensor& x) {
  std::vector<T> v = x.to_vector<T>();
  return std::vector<float>(v.begin(), v.end());
}
}  // namespace

figure::ImageGrid set_grid(const Tensor& images, const Tensor& labels, const condense::DatasetInfo& info,
                           const std::vector<float>& mean, const std::vector<float>& std, const SetGridOptions& o) {
  LOCO_CHECK(images.defined() && images.ndim() == 4 && is_floating(images.dtype()),
             "set grid: images must be a floating [N,C,H,W] tensor, got ",
             images.defined() ? images.shape().str() : "none");
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  LOCO_CHECK(c == 1 || c == 3, "set grid: images ", images.shape(), " must have 1 (grey) or 3 (RGB) channels");
  LOCO_CHECK(h >= 1 && w >= 1 && n >= 1, "set grid: images ", images.shape(), " hold no pixels");
  LOCO_CHECK(static_cast<int64_t>(mean.size()) == c && static_cast<int64_t>(std.size()) == c, "set grid: ", mean.size(),
             " means and ", std.size(), " stds for images ", images.shape());
  LOCO_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.ndim() == 1 && labels.dim(0) == n,
             "set grid: labels ", labels.defined() ? labels.shape().str() : "none", " for images ", images.shape());
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  const int64_t k = info.classes;
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) {
    LOCO_CHECK(y[i] >= 0 && y[i] < k, "set grid: label ", y[i], " of image ", i, " is not a class of ", info.name);
    rows[static_cast<size_t>(y[i])].push_back(i);
  }
  size_t widest = 1;
  for (const auto& r : rows) widest = std::max(widest, r.size());
  const int cols = static_cast<int>(std::min<size_t>(widest, static_cast<size_t>(std::max(1, o.max_cols))));

  figure::ImageGrid g;
  g.title = o.title;
  g.rows = static_cast<int>(k);
  g.cols = cols;
  g.gap = o.gap;
  for (int64_t r = 0; r < k; ++r) g.row_labels.push_back(condense::class_name(info, r));
  // The smallest whole factor giving rows of min_row_height, then down until the picture fits.
  g.scale = std::max<int>(1, static_cast<int>((o.min_row_height + h - 1) / h));
  g.cells.assign(static_cast<size_t>(k) * cols, figure::Picture{});
  auto fits = [&] {
    const int64_t W = static_cast<int64_t>(cols) * (w * g.scale + g.gap), H = k * (h * g.scale + g.gap);
    return W * H <= o.max_pixels && W < figure::kMaxSide - 400 && H < figure::kMaxSide - 100;
  };
  while (g.scale > 1 && !fits()) --g.scale;

  const std::vector<float> x = images.dtype() == DType::f32 ? host_floats<float>(images) : host_floats<double>(images);
  for (int64_t r = 0; r < k; ++r)
    for (size_t j = 0; j < rows[static_cast<size_t>(r)].size() && j < static_cast<size_t>(cols); ++j) {
      const int64_t i = rows[static_cast<size_t>(r)][j];
      figure::Picture p{static_cast<int>(w), static_cast<int>(h), static_cast<int>(c), {}};
      p.pixels.resize(static_cast<size_t>(h * w * c));
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* src = x.data() + (i * c + ch) * h * w;
        for (int64_t q = 0; q < h * w; ++q)
          p.pixels[static_cast<size_t>(q * c + ch)] =
              display_byte(src[q], mean[static_cast<size_t>(ch)], std[static_cast<size_t>(ch)]);
      }
      g.cells[static_cast<size_t>(r * cols) + j] = std::move(p);
    }
  return g;
}

void save_set_grid(const std::string& path, const Tensor& images, const Tensor& labels, const condense::DatasetInfo& info,
                   const std::vector<float>& mean, const std::vector<float>& std, const SetGridOptions& o) {
  try {
    figure::save_image_grid(set_grid(images, labels, info, mean, std, o), {.png = path});
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.find(path) != std::string::npos) throw;
    LOCO_FAIL(path, ": ", m);
  }
}

}  // namespace loco::cli
