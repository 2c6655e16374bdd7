#include "engine/ops/pixels.h"

#include "engine/ops/op_util.h"
#include "kernels/pixels.h"

namespace loco {

Tensor gather_normalise(const Tensor& pixels, const Tensor& rows, const std::vector<float>& mean,
                        const std::vector<float>& std) {
  LOCO_CHECK(pixels.defined() && pixels.dtype() == DType::u8 && pixels.ndim() == 4,
             "gather_normalise: expected u8 [N, C, H, W] pixels, got ",
             pixels.defined() ? dtype_name(pixels.dtype()) : "undefined", " ", pixels.defined() ? pixels.shape().str() : "");
  const int64_t c = pixels.dim(1);
  LOCO_CHECK(c >= 1 && c <= kernels::kMaxPixelChannels, "gather_normalise: ", c, " channels (at most ",
             kernels::kMaxPixelChannels, ")");
  LOCO_CHECK(static_cast<int64_t>(mean.size()) == c && static_cast<int64_t>(std.size()) == c,
             "gather_normalise: ", mean.size(), " means and ", std.size(), " stds for ", c, " channels");
  LOCO_CHECK(rows.defined() && rows.device() == pixels.device(), "gather_normalise: rows on ",
             rows.defined() ? device_name(rows.device()) : "nothing", ", pixels on ", device_name(pixels.device()));
  detail::check_index(rows, pixels.dim(0), "gather_normalise");
  kernels::PixelNorm norm{.channels = c};
  for (int64_t k = 0; k < c; ++k) {
    LOCO_CHECK(std[k] > 0, "gather_normalise: std of channel ", k, " is ", std[k]);
    norm.mean[k] = mean[k];
    norm.std[k] = std[k];
  }
  Tensor y = empty(Shape{rows.numel(), c, pixels.dim(2), pixels.dim(3)}, DType::f32, pixels.device());
  LOCO_DISPATCH(pixels.device(), float, gather_normalise, y.data<float>(), pixels.data<uint8_t>(),
                rows.data<int64_t>(), rows.numel(), pixels.dim(2) * pixels.dim(3), norm);
  return y;
}

}  // namespace loco
