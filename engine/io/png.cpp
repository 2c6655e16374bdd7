// save_png_grid (engine/io/png.h): de-normalise, lay out the grid in 8-bit pixels on the host,
// encode with stb_image_write (deflate by zlib, which packs tighter than stb's own) into
// memory, then write atomically. Shape letters: N images, C channels, H×W image.
#include "engine/io/png.h"

#include <zlib.h>

#include <climits>
#include <cmath>
#include <cstdlib>

#include "engine/io/atomic_file.h"

namespace {
// stb frees the result with free(), so it must come from malloc.
unsigned char* loco_zlib_compress(unsigned char* data, int len, int* out_len, int quality) {
  uLongf n = compressBound(static_cast<uLong>(len));
  auto* out = static_cast<unsigned char*>(std::malloc(n));
  if (!out) return nullptr;
  const int level = quality < 0 ? Z_DEFAULT_COMPRESSION : quality > 9 ? 9 : quality;
  if (compress2(out, &n, data, static_cast<uLong>(len), level) != Z_OK) {
    std::free(out);
    return nullptr;
  }
  *out_len = static_cast<int>(n);
  return out;
}
}  // namespace

#define STBIW_ZLIB_COMPRESS loco_zlib_compress
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace loco {
namespace {

// stb addresses pixels with int; beyond this a grid is a mistake, not a picture.
constexpr int64_t kMaxSide = 1 << 15;

template <class T> std::vector<float> host_floats(const Tensor& x) {
  std::vector<T> v = x.to_vector<T>();
  return std::vector<float>(v.begin(), v.end());
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::string*>(context);
  out->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

void save_png_grid(const std::string& path, const Tensor& images, int64_t rows, int64_t cols,
                   const std::vector<float>& mean, const std::vector<float>& stdev, int pad) {
  LOCO_CHECK(images.defined(), "save_png_grid: ", path, ": undefined images tensor");
  LOCO_CHECK(images.ndim() == 4 && is_floating(images.dtype()), "save_png_grid: ", path,
             ": images must be a floating [N,C,H,W] tensor, got ", images.dtype(), " ", images.shape());
  const int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  LOCO_CHECK(c == 1 || c == 3, "save_png_grid: ", path, ": images ", images.shape(),
             " must have 1 (grayscale) or 3 (RGB) channels");
  LOCO_CHECK(h >= 1 && w >= 1, "save_png_grid: ", path, ": images ", images.shape(), " have no pixels");
  LOCO_CHECK(static_cast<int64_t>(mean.size()) == c && static_cast<int64_t>(stdev.size()) == c, "save_png_grid: ", path,
             ": ", mean.size(), " means and ", stdev.size(), " stds for images ", images.shape(), " with ", c, " channels");
  LOCO_CHECK(pad >= 0, "save_png_grid: ", path, ": negative padding ", pad);
  LOCO_CHECK(rows >= 1 && cols >= 1 && rows <= kMaxSide && cols <= kMaxSide, "save_png_grid: ", path, ": a ", rows,
             "×", cols, " grid is not drawable");
  LOCO_CHECK(n <= rows * cols, "save_png_grid: ", path, ": ", n, " images ", images.shape(), " do not fit a ", rows,
             "×", cols, " grid");
  const int64_t gh = rows * (h + pad) + pad, gw = cols * (w + pad) + pad;
  LOCO_CHECK(gh <= kMaxSide && gw <= kMaxSide && gh * gw * c <= INT_MAX, "save_png_grid: ", path, ": a ", gh, "×",
             gw, " picture (grid ", rows, "×", cols, " of ", images.shape(), ", pad ", pad, ") is too large");

  const std::vector<float> x = images.dtype() == DType::f32 ? host_floats<float>(images) : host_floats<double>(images);
  std::vector<uint8_t> px(static_cast<size_t>(gh * gw * c), kPngBackground);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = pad + (i / cols) * (h + pad), left = pad + (i % cols) * (w + pad);
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* src = x.data() + ((i * c + ch) * h) * w;
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < w; ++q) {
          float v = src[r * w + q] * stdev[static_cast<size_t>(ch)] + mean[static_cast<size_t>(ch)];
          v = std::isnan(v) ? 0.0f : std::fmin(std::fmax(v, 0.0f), 1.0f);
          px[static_cast<size_t>(((top + r) * gw + left + q) * c + ch)] = static_cast<uint8_t>(std::lround(v * 255.0f));
        }
    }
  }

  std::string encoded;
  const int ok = stbi_write_png_to_func(append_bytes, &encoded, static_cast<int>(gw), static_cast<int>(gh),
                                        static_cast<int>(c), px.data(), static_cast<int>(gw * c));
  LOCO_CHECK(ok && !encoded.empty(), "save_png_grid: ", path, ": PNG encoding of a ", gh, "×", gw, "×", c,
             " picture failed");
  write_file_atomic(path, [&](FileSink& out) { out.write(encoded); });
}

}  // namespace loco
