// DSA, DiffAugment in mode 'S' (spec/augmentation.md §1–4): one family per call, drawn
// uniformly, then all of its ops with ParamDiffAug's defaults. Colour ops are compositions of
// engine ops (means not detached); crop, flip, scale and rotate build a constant sampling grid
// and go through grid_sample; cutout multiplies by a constant mask. Every op is differentiable
// with respect to x, also under create_graph, because each is built from recorded ops.
// Shape letters: N batch, C channels, H×W image.
#include <cmath>
#include <numbers>
#include <sstream>

#include "condense/augment/augment.h"
#include "engine/ops.h"

namespace loco::condense {
namespace {

// ParamDiffAug's defaults (spec §1).
constexpr double kProbFlip = 0.5;
constexpr double kRatioScale = 1.2;
constexpr double kRatioRotate = 15.0;  // degrees
constexpr double kRatioCropPad = 0.125;
constexpr double kRatioCutout = 0.5;
constexpr double kBrightness = 1.0;
constexpr double kSaturation = 2.0;
constexpr double kContrast = 0.5;

const std::vector<std::string>& known_families() {
  static const std::vector<std::string> k = {"color", "crop", "cutout", "flip", "scale", "rotate"};
  return k;
}

// In a shared (Siamese) call one value is drawn and used for the whole batch, never N of which
// the first is kept: the real and the synthetic batch differ in N, and their two Generators must
// stay in step for every later draw.
std::vector<double> draw_uniform(Generator& g, int64_t n, bool shared) {
  if (shared) return std::vector<double>(static_cast<size_t>(n), g.uniform());
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& e : v) e = g.uniform();
  return v;
}

// torch.randint(lo, hi + 1): inclusive on both ends.
std::vector<int64_t> draw_int(Generator& g, int64_t lo, int64_t hi, int64_t n, bool shared) {
  const auto span = static_cast<uint64_t>(hi - lo + 1);
  if (shared) return std::vector<int64_t>(static_cast<size_t>(n), lo + static_cast<int64_t>(g.below(span)));
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = lo + static_cast<int64_t>(g.below(span));
  return v;
}

// Host values as a constant tensor of x's dtype on x's device.
Tensor constant_like(const std::vector<double>& v, const Shape& s, const Tensor& x) {
  if (x.dtype() == DType::f64) return from_vector(v, s, x.device());
  LOCO_CHECK(x.dtype() == DType::f32, "dsa: expected an f32 or f64 batch, got ", x.dtype());
  return from_vector(std::vector<float>(v.begin(), v.end()), s, x.device());
}

// One value per sample, broadcast over C, H, W.
Tensor per_sample(const std::vector<double>& v, const Tensor& x) {
  return constant_like(v, Shape{x.dim(0), 1, 1, 1}, x);
}

// p = M·(q − c) + c + t in pixel units, q = (j, i) the output pixel, c = ((W−1)/2, (H−1)/2).
// For non-square images the off-diagonal terms are rescaled by the aspect ratio, which is what
// affine_grid with align_corners=True does (spec §4); for square ones the ratio is exactly 1.
struct Affine {
  double m00 = 1, m01 = 0, m10 = 0, m11 = 1;
  double tx = 0, ty = 0;
};

Tensor affine_grid(const std::vector<Affine>& a, const Tensor& x) {
  const int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
  const double cw = static_cast<double>(w - 1) / 2, ch = static_cast<double>(h - 1) / 2;
  const double rx = ch > 0 ? cw / ch : 0.0, ry = cw > 0 ? ch / cw : 0.0;
  std::vector<double> v(static_cast<size_t>(n * h * w * 2));
  size_t k = 0;
  for (int64_t s = 0; s < n; ++s) {
    const Affine& m = a[static_cast<size_t>(s)];
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        const double qx = static_cast<double>(j) - cw, qy = static_cast<double>(i) - ch;
        v[k++] = cw + m.m00 * qx + m.m01 * qy * rx + m.tx;
        v[k++] = ch + m.m10 * qx * ry + m.m11 * qy + m.ty;
      }
  }
  return constant_like(v, Shape{n, h, w, 2}, x);
}

// x ← (x − m)·f + m, m not detached: the gradient flows through the mean too.
Tensor blend_with_mean(const Tensor& x, const Tensor& m, const std::vector<double>& f) {
  return add(mul(sub(x, m), per_sample(f, x)), m);
}

Tensor color(const Tensor& x, Generator& g, bool shared) {
  const int64_t n = x.dim(0);
  std::vector<double> b = draw_uniform(g, n, shared);
  for (auto& e : b) e = (e - 0.5) * kBrightness;
  Tensor y = add(x, per_sample(b, x));
  std::vector<double> fs = draw_uniform(g, n, shared);
  for (auto& e : fs) e *= kSaturation;
  y = blend_with_mean(y, mean(y, {1}, true), fs);  // identity for C = 1, but the draw still happens
  std::vector<double> fc = draw_uniform(g, n, shared);
  for (auto& e : fc) e += kContrast;
  return blend_with_mean(y, mean(y, {1, 2, 3}, true), fc);
}

Tensor crop(const Tensor& x, Generator& g, bool shared) {
  const int64_t n = x.dim(0);
  const auto sh = static_cast<int64_t>(static_cast<double>(x.dim(2)) * kRatioCropPad + 0.5);
  const auto sw = static_cast<int64_t>(static_cast<double>(x.dim(3)) * kRatioCropPad + 0.5);
  const auto th = draw_int(g, -sh, sh, n, shared);
  const auto tw = draw_int(g, -sw, sw, n, shared);
  std::vector<Affine> a(static_cast<size_t>(n));
  for (size_t s = 0; s < a.size(); ++s) {
    a[s].tx = static_cast<double>(tw[s]);
    a[s].ty = static_cast<double>(th[s]);
  }
  return grid_sample(x, affine_grid(a, x));
}

Tensor cutout(const Tensor& x, Generator& g, bool shared) {
  const int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
  const auto sh = static_cast<int64_t>(static_cast<double>(h) * kRatioCutout + 0.5);
  const auto sw = static_cast<int64_t>(static_cast<double>(w) * kRatioCutout + 0.5);
  // randint(0, H + (1 − s mod 2)): the centre may sit one past the last row when s is even.
  const auto oh = draw_int(g, 0, h + (1 - sh % 2) - 1, n, shared);
  const auto ow = draw_int(g, 0, w + (1 - sw % 2) - 1, n, shared);
  std::vector<double> mask(static_cast<size_t>(n * h * w), 1.0);
  for (int64_t s = 0; s < n; ++s) {
    const int64_t r0 = std::max<int64_t>(0, oh[s] - sh / 2), r1 = std::min(h - 1, oh[s] - sh / 2 + sh - 1);
    const int64_t c0 = std::max<int64_t>(0, ow[s] - sw / 2), c1 = std::min(w - 1, ow[s] - sw / 2 + sw - 1);
    for (int64_t i = r0; i <= r1; ++i)
      for (int64_t j = c0; j <= c1; ++j) mask[static_cast<size_t>((s * h + i) * w + j)] = 0.0;
  }
  return mul(x, constant_like(mask, Shape{n, 1, h, w}, x));
}

Tensor flip(const Tensor& x, Generator& g, bool shared) {
  const auto u = draw_uniform(g, x.dim(0), shared);
  std::vector<Affine> a(u.size());
  for (size_t s = 0; s < a.size(); ++s)
    if (u[s] < kProbFlip) a[s].m00 = -1;  // p_x = W − 1 − j, exactly
  return grid_sample(x, affine_grid(a, x));
}

Tensor scale(const Tensor& x, Generator& g, bool shared) {
  const double lo = 1.0 / kRatioScale, span = kRatioScale - lo;
  const auto sx = draw_uniform(g, x.dim(0), shared);
  const auto sy = draw_uniform(g, x.dim(0), shared);
  std::vector<Affine> a(sx.size());
  for (size_t s = 0; s < a.size(); ++s) {
    a[s].m00 = sx[s] * span + lo;
    a[s].m11 = sy[s] * span + lo;
  }
  return grid_sample(x, affine_grid(a, x));
}

Tensor rotate(const Tensor& x, Generator& g, bool shared) {
  const auto u = draw_uniform(g, x.dim(0), shared);
  std::vector<Affine> a(u.size());
  for (size_t s = 0; s < a.size(); ++s) {
    const double phi = (u[s] - 0.5) * 2 * kRatioRotate / 180 * std::numbers::pi;
    a[s].m00 = std::cos(phi);
    a[s].m01 = -std::sin(phi);
    a[s].m10 = std::sin(phi);
    a[s].m11 = std::cos(phi);
  }
  return grid_sample(x, affine_grid(a, x));
}

}  // namespace

DsaStrategy DsaStrategy::parse(const std::string& s) {
  DsaStrategy out;
  if (s.empty() || s == "none" || s == "None") return out;
  std::stringstream in(s);
  std::string f;
  while (std::getline(in, f, '_')) {
    bool known = false;
    for (const auto& k : known_families()) known = known || f == k;
    LOCO_CHECK(known, "DSA strategy '", s, "': unknown family '", f,
               "' (known: color, crop, cutout, flip, scale, rotate)");
    out.families.push_back(f);
  }
  // getline drops a trailing empty field, so "crop_" would pass as "crop".
  LOCO_CHECK(s.back() != '_', "DSA strategy '", s, "': unknown family '' (a trailing '_')");
  return out;
}

std::string DsaStrategy::str() const {
  if (families.empty()) return "none";
  std::string s;
  for (size_t i = 0; i < families.size(); ++i) s += (i ? "_" : "") + families[i];
  return s;
}

Tensor dsa(const Tensor& x, const DsaStrategy& s, Generator& g, bool shared) {
  if (s.none()) return x;
  LOCO_CHECK(x.defined() && x.ndim() == 4 && is_floating(x.dtype()), "dsa: expected a floating N×C×H×W batch, got ",
             x.defined() ? x.shape().str() : "an undefined tensor");
  const std::string& f = s.families[g.below(s.families.size())];
  if (f == "color") return color(x, g, shared);
  if (f == "crop") return crop(x, g, shared);
  if (f == "cutout") return cutout(x, g, shared);
  if (f == "flip") return flip(x, g, shared);
  if (f == "scale") return scale(x, g, shared);
  if (f == "rotate") return rotate(x, g, shared);
  LOCO_FAIL("dsa: unknown family '", f, "' (known: color, crop, cutout, flip, scale, rotate)");
}

void dsa_skip(int64_t channels, int64_t height, int64_t width, const DsaStrategy& s, Generator& g) {
  if (s.none()) return;
  NoGradGuard no_grad;
  dsa(zeros(Shape{1, channels, height, width}), s, g, true);
}

}  // namespace loco::condense
