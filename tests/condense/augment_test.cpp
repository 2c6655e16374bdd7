// Augmentation (condense/augment): DSA strategy parsing; identity parameters; flip twice;
// Siamese copies of one Generator giving a real and a synthetic batch the same augmentation;
// shared vs per-sample parameters; what each family does to the input (crop shifts with zero
// fill, cutout zeroes a square of the right size, colour shifts and scales within its ranges,
// scale and rotate keep the centre); GradCheck and GradGradCheck through every family with
// fixed draws; DC's augment (shapes, determinism, crop, rotate, noise, errors) and get_daparam.
// Shape letters: N batch, C channels, H×W image.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <set>

#include "condense/augment/augment.h"
#include "tests/harness/gradcheck.h"

namespace loco::condense {
namespace {

using loco::testing::expect_gradcheck;
using loco::testing::expect_gradgradcheck;
using loco::testing::randn64;
using V = std::vector<Tensor>;

const char* kFamilies[] = {"color", "crop", "cutout", "flip", "scale", "rotate"};
const std::string kFull = "color_crop_cutout_flip_scale_rotate";

// Distinct nonzero values 1.000, 1.001, ... in a random order, so any zero is a fill and any
// match of a shifted window is the one shift.
Tensor distinct_batch(const Shape& s, uint64_t seed) {
  Generator g(seed, 3);
  const auto perm = rand_permutation(s.numel(), g);
  std::vector<double> v(perm.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1.0 + 0.001 * static_cast<double>(perm[i]);
  return from_vector(v, s);
}

Tensor to_f32(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return from_vector(std::vector<float>(v.begin(), v.end()), t.shape());
}

// n copies of image 0 of x.
Tensor repeat_first(const Tensor& x, int64_t n) {
  const auto v = x.to_vector<double>();
  const int64_t k = x.numel() / x.dim(0);
  std::vector<double> out;
  for (int64_t s = 0; s < n; ++s) out.insert(out.end(), v.begin(), v.begin() + k);
  return from_vector(out, Shape{n, x.dim(1), x.dim(2), x.dim(3)});
}

// Whether every sample of y equals sample 0.
bool all_samples_equal(const Tensor& y) {
  const auto v = y.to_vector<double>();
  const size_t k = v.size() / static_cast<size_t>(y.dim(0));
  for (size_t i = k; i < v.size(); ++i)
    if (v[i] != v[i % k]) return false;
  return true;
}

TEST(DsaStrategy, ParsesPrintsAndRejectsUnknownFamilies) {
  const auto s = DsaStrategy::parse(kFull);
  EXPECT_EQ(s.families, (std::vector<std::string>{"color", "crop", "cutout", "flip", "scale", "rotate"}));
  EXPECT_EQ(s.str(), kFull);
  for (const char* none : {"none", "None", ""}) {
    EXPECT_TRUE(DsaStrategy::parse(none).none()) << none;
    EXPECT_EQ(DsaStrategy::parse(none).str(), "none");
  }
  EXPECT_EQ(DsaStrategy::parse("color_crop_cutout_scale_rotate").families.size(), 5u);
  for (const char* bad : {"color_blur", "crop_", "colour"}) {
    try {
      DsaStrategy::parse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      const std::string want = std::string(bad) == "crop_" ? "''" : (std::string(bad) == "colour" ? "colour" : "blur");
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
}

TEST(Dsa, NoneIsTheIdentityAndDrawsNothing) {
  const Tensor x = randn64(Shape{3, 2, 6, 6}, 1);
  Generator g(5, 0);
  const Tensor y = dsa(x, DsaStrategy::parse("none"), g, false);
  EXPECT_EQ(y.to_vector<double>(), x.to_vector<double>());
  EXPECT_EQ(g.offset(), 0u);
}

TEST(Dsa, IdentityParametersGiveTheInputBack) {
  // scale s = 1, rotate 0 (cos 0 = 1, sin 0 = 0) and crop 0 all make p = I·(q − c) + c + 0 = q.
  const int64_t n = 2, h = 7, w = 6;
  const double cw = (w - 1) / 2.0, ch = (h - 1) / 2.0;
  std::vector<float> gv;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        gv.push_back(static_cast<float>(std::cos(0.0) * (j - cw) - std::sin(0.0) * (i - ch) + cw + 0));
        gv.push_back(static_cast<float>(std::sin(0.0) * (j - cw) + 1.0 * (i - ch) + ch + 0));
      }
  const Tensor x = to_f32(randn64(Shape{n, 3, h, w}, 2));
  EXPECT_EQ(grid_sample(x, from_vector(gv, Shape{n, h, w, 2})).to_vector<float>(), x.to_vector<float>());
}

TEST(Dsa, FlipTwiceIsTheIdentity) {
  const Tensor x = to_f32(randn64(Shape{6, 3, 8, 9}, 3));
  const auto flip = DsaStrategy::parse("flip");
  int flipped = 0;
  for (bool shared : {true, false})
    for (uint64_t seed = 0; seed < 6; ++seed) {
      Generator a(seed, 1), b = a;
      const Tensor y = dsa(x, flip, a, shared);
      flipped += y.to_vector<float>() != x.to_vector<float>();
      EXPECT_EQ(dsa(y, flip, b, shared).to_vector<float>(), x.to_vector<float>()) << seed;
    }
  EXPECT_GT(flipped, 0);  // the check above was not vacuous
}

TEST(Dsa, SiameseCopiesAugmentRealAndSyntheticAlike) {
  // The synthetic batch is the first two real images, so "the same augmentation" is checkable
  // image by image even though the batches differ in size.
  const auto s = DsaStrategy::parse(kFull);
  const Tensor real = randn64(Shape{6, 3, 10, 10}, 4);
  const Tensor syn = slice(real, 0, 2).clone();
  for (uint64_t seed = 0; seed < 24; ++seed) {
    Generator gr(seed, 7), gs = gr;
    const auto yr = slice(dsa(real, s, gr, true), 0, 2).to_vector<double>();
    const auto ys = dsa(syn, s, gs, true).to_vector<double>();
    ASSERT_EQ(yr.size(), ys.size());
    for (size_t i = 0; i < yr.size(); ++i) ASSERT_NEAR(yr[i], ys[i], 1e-12) << "seed " << seed << " at " << i;
    EXPECT_EQ(gr.offset(), gs.offset()) << "the two copies drew different amounts";
  }
}

// A process that leaves a class to another rank skips its augmentation but not its draws: the
// generator must end where augmenting any batch of that image shape would leave it.
TEST(Dsa, SkipDrawsExactlyWhatASiameseAugmentationDraws) {
  const Tensor batch = randn64(Shape{5, 3, 10, 10}, 9);
  for (const std::string strategy : {"color", "crop", "cutout", "flip", "scale", "rotate", "color_crop_cutout_flip_scale_rotate"}) {
    const auto s = DsaStrategy::parse(strategy);
    for (uint64_t seed = 0; seed < 16; ++seed) {
      Generator augmented(seed, 3), skipped = augmented;
      dsa(batch, s, augmented, true);
      dsa_skip(3, 10, 10, s, skipped);
      ASSERT_EQ(augmented.offset(), skipped.offset()) << strategy << ", seed " << seed;
    }
  }
  Generator g(1, 2);
  dsa_skip(3, 10, 10, DsaStrategy::parse("none"), g);
  EXPECT_EQ(g.offset(), 0u);
}

TEST(Dsa, SharedAppliesOneParameterSetAndPerSampleVaries) {
  const Tensor x = repeat_first(randn64(Shape{1, 3, 12, 12}, 5), 6);
  for (const char* f : kFamilies) {
    const auto s = DsaStrategy::parse(f);
    bool varied = false;
    for (uint64_t seed = 0; seed < 6; ++seed) {
      Generator g(seed, 2);
      EXPECT_TRUE(all_samples_equal(dsa(x, s, g, true))) << f << " seed " << seed;
      Generator h(seed, 2);
      varied = varied || !all_samples_equal(dsa(x, s, h, false));
    }
    EXPECT_TRUE(varied) << f << ": per-sample parameters never differed";
  }
}

TEST(Dsa, CropShiftsWithZeroFillWithinTheRange) {
  const int64_t n = 8, c = 2, h = 28, w = 28, sh = 4;  // int(28·0.125 + 0.5) = 4
  const Tensor x = distinct_batch(Shape{n, c, h, w}, 6);
  const auto xv = x.to_vector<double>();
  std::set<int64_t> seen_h, seen_w;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Generator g(seed, 4);
    const auto y = dsa(x, DsaStrategy::parse("crop"), g, false).to_vector<double>();
    for (int64_t s = 0; s < n; ++s) {
      std::vector<std::pair<int64_t, int64_t>> matches;
      for (int64_t th = -h / 2; th <= h / 2; ++th)
        for (int64_t tw = -w / 2; tw <= w / 2; ++tw) {
          bool ok = true;
          for (int64_t k = 0; k < c * h * w && ok; ++k) {
            const int64_t ch = k / (h * w), i = k / w % h, j = k % w, si = i + th, sj = j + tw;
            const double want = si >= 0 && si < h && sj >= 0 && sj < w ? xv[((s * c + ch) * h + si) * w + sj] : 0.0;
            ok = y[static_cast<size_t>(s * c * h * w + k)] == want;
          }
          if (ok) matches.emplace_back(th, tw);
        }
      ASSERT_EQ(matches.size(), 1u) << "sample " << s << " is not one zero-filled shift";
      EXPECT_LE(std::abs(matches[0].first), sh);
      EXPECT_LE(std::abs(matches[0].second), sh);
      seen_h.insert(matches[0].first);
      seen_w.insert(matches[0].second);
    }
  }
  // randint is inclusive at both ends: all nine shifts occur on each axis in 80 draws.
  EXPECT_EQ(seen_h.size(), 9u);
  EXPECT_EQ(seen_w.size(), 9u);
}

TEST(Dsa, CutoutZeroesASquareOfTheRightSize) {
  for (int64_t h : {28, 30}) {
    const int64_t n = 8, c = 3, s = static_cast<int64_t>(h * 0.5 + 0.5);  // 14 (even), 15 (odd)
    const Tensor x = distinct_batch(Shape{n, c, h, h}, 7);
    const auto xv = x.to_vector<double>();
    int full = 0;
    std::set<int64_t> centres;
    for (uint64_t seed = 0; seed < 12; ++seed) {
      Generator g(seed, 5);
      const auto y = dsa(x, DsaStrategy::parse("cutout"), g, false).to_vector<double>();
      for (int64_t q = 0; q < n; ++q) {
        int64_t r0 = h, r1 = -1, c0 = h, c1 = -1;
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < h; ++j)
            if (y[static_cast<size_t>((q * c * h + i) * h + j)] == 0) {
              r0 = std::min(r0, i), r1 = std::max(r1, i), c0 = std::min(c0, j), c1 = std::max(c1, j);
            }
        // Every channel is zero exactly on the rectangle and unchanged elsewhere.
        for (int64_t k = 0; k < c * h * h; ++k) {
          const int64_t i = k / h % h, j = k % h;
          const bool in = i >= r0 && i <= r1 && j >= c0 && j <= c1;
          ASSERT_EQ(y[static_cast<size_t>(q * c * h * h + k)], in ? 0.0 : xv[static_cast<size_t>(q * c * h * h + k)]);
        }
        // Some centre o in [0, H + (1 − s mod 2)) gives [o − s/2, o − s/2 + s − 1] ∩ [0, H−1] on each axis.
        auto fits = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
          for (int64_t o = 0; o < h + (1 - s % 2); ++o)
            if (std::max<int64_t>(0, o - s / 2) == lo && std::min(h - 1, o - s / 2 + s - 1) == hi) return o;
          return std::nullopt;
        };
        ASSERT_TRUE(r1 >= 0 && fits(r0, r1) && fits(c0, c1)) << "H " << h << ": rows " << r0 << ".." << r1;
        centres.insert(*fits(r0, r1));
        full += r1 - r0 + 1 == s && c1 - c0 + 1 == s;
      }
    }
    EXPECT_GT(full, 0) << "no full " << s << "x" << s << " square in 96 draws";
    EXPECT_GT(centres.size(), 20u);
  }
}

TEST(Dsa, ColorShiftsAndScalesWithinItsRanges) {
  // C = 1 and constant images: saturation is the identity and contrast sees x − m = 0, so the
  // output is the input plus the brightness shift.
  const Tensor flat = from_vector(std::vector<double>(8 * 25, 0.25), Shape{8, 1, 5, 5});
  double lo = 1, hi = -1;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Generator g(seed, 6);
    const Tensor y = dsa(flat, DsaStrategy::parse("color"), g, false);
    EXPECT_TRUE(all_samples_equal(reshape(slice(y, 0, 1), Shape{25, 1, 1, 1})));
    for (int64_t s = 0; s < 8; ++s) {
      const double b = y.to_vector<double>()[static_cast<size_t>(s * 25)] - 0.25;
      EXPECT_GE(b, -0.5 - 1e-12);
      EXPECT_LT(b, 0.5);
      lo = std::min(lo, b), hi = std::max(hi, b);
    }
  }
  EXPECT_LT(lo, -0.4);
  EXPECT_GT(hi, 0.4);
  // C = 3, spatially constant: each channel's offset from the image mean is scaled by
  // saturation·contrast ∈ [0, 2)·[0.5, 1.5), and the image mean moves by the brightness.
  std::vector<double> v;
  for (int64_t s = 0; s < 4; ++s)
    for (double val : {0.1, -0.3, 0.5}) v.insert(v.end(), 9, val);
  const Tensor x = from_vector(v, Shape{4, 3, 3, 3});
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Generator g(seed, 8);
    const auto y = dsa(x, DsaStrategy::parse("color"), g, false).to_vector<double>();
    for (int64_t s = 0; s < 4; ++s) {
      const double* p = y.data() + s * 27;
      const double m = (p[0] + p[9] + p[18]) / 3, mx = 0.1;  // mx: the input's channel mean
      EXPECT_GE(m - mx, -0.5 - 1e-12);
      EXPECT_LT(m - mx, 0.5);
      const double k = (p[9] - m) / (-0.3 - mx);
      EXPECT_GE(k, -1e-12);
      EXPECT_LT(k, 3.0);
      EXPECT_NEAR(p[18] - m, k * (0.5 - mx), 1e-12);
    }
  }
}

TEST(Dsa, ScaleAndRotateKeepTheCentrePixel) {
  // With odd H = W the centre c is a pixel and p = M·0 + c samples it exactly.
  const Tensor x = randn64(Shape{5, 2, 9, 9}, 9);
  const auto xv = x.to_vector<double>();
  for (const char* f : {"scale", "rotate"})
    for (uint64_t seed = 0; seed < 4; ++seed) {
      Generator g(seed, 9);
      const Tensor yt = dsa(x, DsaStrategy::parse(f), g, false);
      const auto y = yt.to_vector<double>();
      EXPECT_NE(y, xv) << f;
      for (int64_t p = 0; p < 10; ++p) EXPECT_EQ(y[static_cast<size_t>(p * 81 + 40)], xv[static_cast<size_t>(p * 81 + 40)]);
    }
}

TEST(GradCheck, DsaFamilies) {
  // Fixed draws: every evaluation starts from a copy of the same Generator.
  const Tensor x = randn64(Shape{2, 3, 6, 7}, 10);
  for (const char* f : kFamilies)
    for (bool shared : {true, false}) {
      SCOPED_TRACE(std::string(f) + (shared ? " shared" : " per-sample"));
      const Generator g0(11, 3);
      expect_gradcheck(
          [&](const V& v) {
            Generator g = g0;
            return dsa(v[0], DsaStrategy::parse(f), g, shared);
          },
          {x});
    }
}

TEST(GradGradCheck, DsaFamilies) {
  const Tensor x = randn64(Shape{2, 3, 5, 5}, 12);
  for (const char* f : kFamilies) {
    SCOPED_TRACE(f);
    const Generator g0(13, 4);
    expect_gradgradcheck(
        [&](const V& v) {
          Generator g = g0;
          return square(dsa(v[0], DsaStrategy::parse(f), g, false));
        },
        {x});
  }
}

TEST(DcAugment, KeepsShapesAndIsDeterministicForAGenerator) {
  const Tensor x = to_f32(randn64(Shape{6, 3, 16, 16}, 14));
  for (const char* strategy : {"crop_scale_rotate", "crop_noise", "rotate", "scale"}) {
    Generator a(15, 1), b = a;
    const Tensor ya = dc_augment(x, strategy, a), yb = dc_augment(x, strategy, b);
    EXPECT_EQ(ya.shape(), x.shape()) << strategy;
    EXPECT_EQ(ya.dtype(), DType::f32);
    EXPECT_EQ(ya.to_vector<float>(), yb.to_vector<float>()) << strategy;
    EXPECT_NE(ya.to_vector<float>(), x.to_vector<float>()) << strategy;
    EXPECT_FALSE(ya.requires_grad());
  }
  Generator g(1, 0);
  EXPECT_EQ(dc_augment(x, "none", g).to_vector<float>(), x.to_vector<float>());
}

TEST(DcAugment, UnknownStrategyThrowsNamingIt) {
  const Tensor x = randn64(Shape{2, 1, 8, 8}, 16);
  Generator g(1, 0);
  try {
    dc_augment(x, "crop_blur", g);
    ADD_FAILURE() << "crop_blur was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blur"), std::string::npos) << e.what();
  }
}

TEST(DcAugment, CropIsAShiftWithChannelMeanPadding) {
  const int64_t n = 8, c = 2, h = 12, w = 12;
  const Tensor x = distinct_batch(Shape{n, c, h, w}, 17);
  const auto xv = x.to_vector<double>();
  double mean[2] = {0, 0};
  for (size_t k = 0; k < xv.size(); ++k) mean[k / (h * w) % c] += xv[k] / (n * h * w);
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    Generator g(seed, 2);
    const auto y = dc_augment(x, "crop", g).to_vector<double>();
    for (int64_t s = 0; s < n; ++s) {
      int matches = 0;
      for (int64_t dr = -4; dr <= 3; ++dr)
        for (int64_t dc = -4; dc <= 3; ++dc) {
          bool ok = true;
          for (int64_t k = 0; k < c * h * w && ok; ++k) {
            const int64_t ch = k / (h * w), si = k / w % h + dr, sj = k % w + dc;
            const double want = si >= 0 && si < h && sj >= 0 && sj < w ? xv[((s * c + ch) * h + si) * w + sj] : mean[ch];
            ok = std::abs(y[static_cast<size_t>(s * c * h * w + k)] - want) < 1e-12;
          }
          if (ok) ++matches, seen.insert(dr), seen.insert(dc);
        }
      EXPECT_EQ(matches, 1) << "sample " << s;
    }
  }
  EXPECT_EQ(*seen.begin(), -4);  // offsets 0..7 from a pad of 4: shifts −4..+3
  EXPECT_EQ(*seen.rbegin(), 3);
}

TEST(DcAugment, RotateReproducesConstantsAndLinearRampsInside) {
  // A constant batch equals its cval, so the whole rotated canvas is that constant.
  const Tensor flat = from_vector(std::vector<double>(3 * 2 * 28 * 28, 0.7), Shape{3, 2, 28, 28});
  Generator g(3, 0);
  for (double v : dc_augment(flat, "rotate", g).to_vector<double>()) ASSERT_NEAR(v, 0.7, 1e-9);
  // A cubic spline reproduces a linear ramp away from the mirrored border, so near the centre
  // the output is the ramp at the rotated position, for exactly one angle in −45..44.
  const int64_t h = 28;
  std::vector<double> ramp;
  for (int64_t s = 0; s < 4; ++s)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < h; ++j) ramp.push_back(0.1 * i - 0.05 * j + 0.3);
  const Tensor x = from_vector(ramp, Shape{4, 1, h, h});
  Generator r(4, 0);
  const auto y = dc_augment(x, "rotate", r).to_vector<double>();
  for (int64_t s = 0; s < 4; ++s) {
    int matches = 0;
    for (int64_t deg = -45; deg < 45; ++deg) {
      const double a = deg * std::numbers::pi / 180, co = std::cos(a), si = std::sin(a);
      const double oh = std::floor(h * (co + std::abs(si)) + 0.5), c_out = (oh - 1) / 2, c_in = (h - 1) / 2.0;
      const double off = std::floor((oh - h) / 2);
      bool ok = true;
      for (int64_t i = 0; i < h && ok; ++i)
        for (int64_t j = 0; j < h && ok; ++j) {
          const double dr = i + off - c_out, dc = j + off - c_out;
          const double pr = co * dr + si * dc + c_in, pc = -si * dr + co * dc + c_in;
          if (std::hypot(pr - c_in, pc - c_in) > 3.5) continue;
          ok = std::abs(y[static_cast<size_t>((s * h + i) * h + j)] - (0.1 * pr - 0.05 * pc + 0.3)) < 1e-5;
        }
      matches += ok;
    }
    EXPECT_EQ(matches, 1) << "image " << s;
  }
}

TEST(DcAugment, NoiseHasTheRightScale) {
  const Tensor x = randn64(Shape{4, 3, 32, 32}, 18);
  Generator g(5, 0);
  const auto y = dc_augment(x, "noise", g).to_vector<double>(), xv = x.to_vector<double>();
  double s1 = 0, s2 = 0;
  for (size_t k = 0; k < y.size(); ++k) s1 += y[k] - xv[k], s2 += (y[k] - xv[k]) * (y[k] - xv[k]);
  const double m = s1 / y.size(), sd = std::sqrt(s2 / y.size() - m * m);
  EXPECT_NEAR(sd, 0.001, 0.0001);
  EXPECT_NEAR(m, 0.0, 0.0001);
}

TEST(DcAugment, StrategyFollowsGetDaparam) {
  EXPECT_EQ(dc_augment_strategy("MNIST", "ConvNet"), "crop_scale_rotate");
  EXPECT_EQ(dc_augment_strategy("MNIST", "ConvNetBN"), "crop_noise");
  EXPECT_EQ(dc_augment_strategy("FashionMNIST", "ConvNet"), "none");
  EXPECT_EQ(dc_augment_strategy("CIFAR10", "ConvNetBN"), "crop_noise");
  EXPECT_EQ(dc_augment_strategy("CIFAR10", "ConvNet"), "none");
}

}  // namespace
}  // namespace loco::condense
