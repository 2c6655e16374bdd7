// DC's non-differentiable evaluation augmentation (spec/augmentation.md §5): get_daparam's
// strategy and augment(), which picks one op per image. It runs on data on the host, in double
// precision, under NoGradGuard; the result goes back to x's dtype and device.
// The rotation ports scipy.ndimage.rotate(order=3, reshape=True, mode='constant'): a cubic
// B-spline prefilter with mirror boundaries (what scipy uses for mode 'constant'), then spline
// evaluation with mirrored taps at the border, and cval for positions outside [0, len − 1].
// Shape letters: N batch, C channels, H×W image.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "condense/augment/augment.h"
#include "engine/ops.h"

namespace loco::condense {
namespace {

// get_daparam's values.
constexpr int64_t kCrop = 4;
constexpr double kScale = 0.2;
constexpr int64_t kRotate = 45;
constexpr double kNoise = 0.001;

struct Image {
  int64_t c, h, w;
  double* v;  // C×H×W
  double& at(int64_t ch, int64_t i, int64_t j) const { return v[(ch * h + i) * w + j]; }
};

// Pad by kCrop with the per-channel batch mean, take an H×W window at r, c ∈ 0..2·kCrop−1.
void crop(const Image& im, const std::vector<double>& mean, Generator& g) {
  const auto r = static_cast<int64_t>(g.below(2 * kCrop)), q = static_cast<int64_t>(g.below(2 * kCrop));
  std::vector<double> out(static_cast<size_t>(im.c * im.h * im.w));
  size_t k = 0;
  for (int64_t ch = 0; ch < im.c; ++ch)
    for (int64_t i = 0; i < im.h; ++i)
      for (int64_t j = 0; j < im.w; ++j) {
        const int64_t si = i + r - kCrop, sj = j + q - kCrop;
        out[k++] = si >= 0 && si < im.h && sj >= 0 && sj < im.w ? im.at(ch, si, sj) : mean[ch];
      }
  std::copy(out.begin(), out.end(), im.v);
}

// F.interpolate's default 'nearest': src = min(⌊dst·(in/out)⌋, in − 1), the scale a float as
// in torch, so rounding at the boundaries picks the same pixel.
int64_t nearest_src(int64_t dst, int64_t in, int64_t out) {
  if (in == out) return dst;
  const float s = static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(dst) * s)), in - 1);
}

// Resize to h2×w2 (both drawn from H, as the reference does), paste centred into a zero m×m
// canvas, m = max(h2, w2, H, W), and crop H×W from its centre.
void scale(const Image& im, Generator& g) {
  const double lo = 1 - kScale, hi = 1 + kScale;
  const auto h2 = static_cast<int64_t>((lo + (hi - lo) * g.uniform()) * static_cast<double>(im.h));
  const auto w2 = static_cast<int64_t>((lo + (hi - lo) * g.uniform()) * static_cast<double>(im.h));
  const int64_t m = std::max({h2, w2, im.h, im.w});
  const int64_t pr = (m - h2) / 2, pc = (m - w2) / 2, cr = (m - im.h) / 2, cc = (m - im.w) / 2;
  std::vector<double> out(static_cast<size_t>(im.c * im.h * im.w), 0.0);
  size_t k = 0;
  for (int64_t ch = 0; ch < im.c; ++ch)
    for (int64_t i = 0; i < im.h; ++i)
      for (int64_t j = 0; j < im.w; ++j, ++k) {
        const int64_t ti = i + cr - pr, tj = j + cc - pc;  // position in the resized image
        if (ti < 0 || ti >= h2 || tj < 0 || tj >= w2) continue;
        out[k] = im.at(ch, nearest_src(ti, im.h, h2), nearest_src(tj, im.w, w2));
      }
  std::copy(out.begin(), out.end(), im.v);
}

// scipy's mirror index for a spline tap (whole-sample symmetric, period 2·len − 2).
int64_t mirror(int64_t idx, int64_t len) {
  if (len <= 1) return 0;
  const int64_t s2 = 2 * len - 2;
  if (idx < 0) {
    idx = s2 * (-idx / s2) + idx;
    return idx <= 1 - len ? idx + s2 : -idx;
  }
  if (idx >= len) {
    idx -= s2 * (idx / s2);
    if (idx >= len) idx = s2 - idx;
  }
  return idx;
}

// In-place cubic B-spline prefilter of one line (scipy's apply_filter, mirror initialisation).
void spline_filter_line(double* c, int64_t n, int64_t stride) {
  if (n <= 1) return;
  const double z = std::sqrt(3.0) - 2.0, gain = (1 - z) * (1 - 1 / z);
  auto at = [&](int64_t i) -> double& { return c[i * stride]; };
  for (int64_t i = 0; i < n; ++i) at(i) *= gain;
  // Causal initialisation for a mirror-symmetric extension.
  const double zn1 = std::pow(z, static_cast<double>(n - 1));
  double c0 = at(0) + zn1 * at(n - 1), zi = z;
  for (int64_t i = 1; i < n - 1; ++i) {
    c0 += zi * (at(i) + zn1 * at(n - 1 - i));
    zi *= z;
  }
  at(0) = c0 / (1 - zn1 * zn1);
  for (int64_t i = 1; i < n; ++i) at(i) += z * at(i - 1);
  at(n - 1) = (z * at(n - 2) + at(n - 1)) * z / (z * z - 1);
  for (int64_t i = n - 2; i >= 0; --i) at(i) = z * (at(i + 1) - at(i));
}

// scipy's get_spline_interpolation_weights for order 3 (x relative to floor(x)).
void cubic_weights(double x, double w[4]) {
  const double y = x - std::floor(x), z = 1 - y;
  w[0] = z * z * z / 6;
  w[1] = (y * y * (y - 2) * 3 + 4) / 6;
  w[2] = (z * z * (z - 2) * 3 + 4) / 6;
  w[3] = 1 - w[0] - w[1] - w[2];
}

// rotate(angle, axes=(H, W), reshape=True, order=3, mode='constant', cval), then the centre
// H×W crop; only the cropped outputs are evaluated.
void rotate(const Image& im, double cval, Generator& g) {
  const auto angle = static_cast<double>(static_cast<int64_t>(g.below(2 * kRotate)) - kRotate);
  const double rad = angle * std::numbers::pi / 180, co = std::cos(rad), si = std::sin(rad);
  const auto ih = static_cast<double>(im.h), iw = static_cast<double>(im.w);
  // The rotated bounds of the corners (0,0), (0,W), (H,0), (H,W), rows then columns.
  const double rows[4] = {0, si * iw, co * ih, co * ih + si * iw};
  const double cols[4] = {0, co * iw, -si * ih, -si * ih + co * iw};
  const auto oh = static_cast<int64_t>(*std::max_element(rows, rows + 4) - *std::min_element(rows, rows + 4) + 0.5);
  const auto ow = static_cast<int64_t>(*std::max_element(cols, cols + 4) - *std::min_element(cols, cols + 4) + 0.5);
  const double ocr = static_cast<double>(oh - 1) / 2, occ = static_cast<double>(ow - 1) / 2;
  const double icr = (ih - 1) / 2, icc = (iw - 1) / 2;
  const int64_t r0 = (oh - im.h) / 2, c0 = (ow - im.w) / 2;
  std::vector<double> coef(static_cast<size_t>(im.h * im.w));
  std::vector<double> out(static_cast<size_t>(im.c * im.h * im.w));
  for (int64_t ch = 0; ch < im.c; ++ch) {
    std::copy(im.v + ch * im.h * im.w, im.v + (ch + 1) * im.h * im.w, coef.begin());
    for (int64_t j = 0; j < im.w; ++j) spline_filter_line(coef.data() + j, im.h, im.w);  // axis 0 first, as scipy
    for (int64_t i = 0; i < im.h; ++i) spline_filter_line(coef.data() + i * im.w, im.w, 1);
    for (int64_t i = 0; i < im.h; ++i)
      for (int64_t j = 0; j < im.w; ++j) {
        // input = R·(o − out_centre) + in_centre, R = [[cos, sin], [−sin, cos]] on (row, col).
        const double dr = static_cast<double>(i + r0) - ocr, dc = static_cast<double>(j + c0) - occ;
        const double pr = co * dr + si * dc + icr, pc = -si * dr + co * dc + icc;
        double& o = out[static_cast<size_t>((ch * im.h + i) * im.w + j)];
        if (pr < 0 || pr > ih - 1 || pc < 0 || pc > iw - 1) {
          o = cval;
          continue;
        }
        double wr[4], wc[4];
        cubic_weights(pr, wr);
        cubic_weights(pc, wc);
        const int64_t sr = static_cast<int64_t>(std::floor(pr)) - 1, sc = static_cast<int64_t>(std::floor(pc)) - 1;
        double t = 0;
        for (int a = 0; a < 4; ++a) {
          const double* row = coef.data() + mirror(sr + a, im.h) * im.w;
          double s = 0;
          for (int b = 0; b < 4; ++b) s += wc[b] * row[mirror(sc + b, im.w)];
          t += wr[a] * s;
        }
        o = t;
      }
  }
  std::copy(out.begin(), out.end(), im.v);
}

void noise(const Image& im, Generator& g) {
  const auto z = rand_normal(Shape{im.c, im.h, im.w}, g, 0.0, 1.0, DType::f64).to_vector<double>();
  for (size_t k = 0; k < z.size(); ++k) im.v[k] += kNoise * z[k];
}

std::vector<std::string> parse_ops(const std::string& strategy) {
  std::vector<std::string> ops;
  if (strategy.empty() || strategy == "none" || strategy == "None") return ops;
  std::stringstream in(strategy);
  std::string op;
  while (std::getline(in, op, '_')) {
    LOCO_CHECK(op == "crop" || op == "scale" || op == "rotate" || op == "noise", "dc_augment: strategy '", strategy,
               "': unknown op '", op, "' (known: crop, scale, rotate, noise)");
    ops.push_back(op);
  }
  LOCO_CHECK(strategy.back() != '_', "dc_augment: strategy '", strategy, "': unknown op '' (a trailing '_')");
  return ops;
}

}  // namespace

Tensor dc_augment(const Tensor& x, const std::string& strategy, Generator& g) {
  const auto ops = parse_ops(strategy);
  if (ops.empty()) return x;
  LOCO_CHECK(x.defined() && x.ndim() == 4 && is_floating(x.dtype()),
             "dc_augment: expected a floating N×C×H×W batch, got ",
             x.defined() ? x.shape().str() : "an undefined tensor");
  NoGradGuard no_grad;
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  std::vector<double> v;
  if (x.dtype() == DType::f64) {
    v = x.to_vector<double>();
  } else {
    const auto f = x.to_vector<float>();
    v.assign(f.begin(), f.end());
  }
  // Per-channel means of the batch as it came in, computed once before any image changes.
  std::vector<double> mean(static_cast<size_t>(c), 0.0);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < h * w; ++k) mean[ch] += v[static_cast<size_t>((s * c + ch) * h * w + k)];
  double cval = 0;
  for (auto& m : mean) {
    m /= static_cast<double>(n * h * w);
    cval += m / static_cast<double>(c);
  }
  for (int64_t s = 0; s < n; ++s) {
    const Image im{c, h, w, v.data() + s * c * h * w};
    const std::string& op = ops[g.below(ops.size())];
    if (op == "crop") crop(im, mean, g);
    else if (op == "scale") scale(im, g);
    else if (op == "rotate") rotate(im, cval, g);
    else noise(im, g);
  }
  if (x.dtype() == DType::f64) return from_vector(v, x.shape(), x.device());
  return from_vector(std::vector<float>(v.begin(), v.end()), x.shape(), x.device());
}

std::string dc_augment_strategy(const std::string& dataset, const std::string& model_eval) {
  if (model_eval == "ConvNetBN") return "crop_noise";  // overrides the MNIST case, as in get_daparam
  if (dataset == "MNIST") return "crop_scale_rotate";
  return "none";
}

}  // namespace loco::condense
