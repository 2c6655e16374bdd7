#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/rng.h"
#include "kernels/philox.h"
#include "tests/harness/cuda_compare.h"

namespace loco {
namespace {

// Known-answer vectors of Random123's philox4x32_10 (kat_vectors).
TEST(Philox, MatchesRandom123KnownAnswers) {
  auto r = kernels::philox4x32_10(kernels::U32x4{{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  r = kernels::philox4x32_10(kernels::U32x4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(r.v[0], 0x408f276du);
  EXPECT_EQ(r.v[1], 0x41c83b0eu);
  EXPECT_EQ(r.v[2], 0xa20bc7c6u);
  EXPECT_EQ(r.v[3], 0x6d5451fdu);
  r = kernels::philox4x32_10(kernels::U32x4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(r.v[0], 0xd16cfe09u);
  EXPECT_EQ(r.v[1], 0x94fdccebu);
  EXPECT_EQ(r.v[2], 0x5001e420u);
  EXPECT_EQ(r.v[3], 0x24126ea1u);
}

// The documented start of seed 0, stream 0: these are the values a run with --seed 0 sees.
TEST(Rng, DocumentedValuesForSeedZero) {
  Generator g(0, 0);
  auto w = g.words(4);
  EXPECT_EQ(w, (std::vector<uint32_t>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  Generator u(0, 0);
  auto x = rand_uniform(Shape{2}, u).to_vector<float>();
  EXPECT_FLOAT_EQ(x[0], static_cast<float>(0x6627e8d5u >> 8) / 16777216.0f);
  EXPECT_NEAR(x[0], 0.3990464, 1e-6);
  EXPECT_NEAR(x[1], 0.8805202, 1e-6);
}

TEST(Rng, StreamsDiffer) {
  Generator a(7, 0), b(7, 1), c(8, 0);
  auto wa = a.words(16), wb = b.words(16), wc = c.words(16);
  EXPECT_NE(wa, wb);
  EXPECT_NE(wa, wc);
}

TEST(Rng, OffsetsResumeAStreamExactly) {
  Generator whole(3, 5);
  auto all = rand_normal(Shape{40}, whole).to_vector<float>();
  Generator first(3, 5);
  auto head = rand_normal(Shape{12}, first).to_vector<float>();
  Generator resumed(3, 5, first.offset());  // only (seed, stream, offset) carried over
  auto tail = rand_normal(Shape{28}, resumed).to_vector<float>();
  head.insert(head.end(), tail.begin(), tail.end());
  EXPECT_EQ(head, all);
}

TEST(Rng, NormalAndUniformMoments) {
  Generator g(11, 0);
  auto n = rand_normal(Shape{200000}, g, 0.0, 1.0, DType::f64).to_vector<double>();
  double m = 0, v = 0;
  for (double x : n) m += x;
  m /= static_cast<double>(n.size());
  for (double x : n) v += (x - m) * (x - m);
  v /= static_cast<double>(n.size());
  EXPECT_NEAR(m, 0.0, 0.01);
  EXPECT_NEAR(v, 1.0, 0.01);
  auto u = rand_uniform(Shape{200000}, g, -2.0, 3.0).to_vector<float>();
  EXPECT_GE(*std::min_element(u.begin(), u.end()), -2.0f);
  EXPECT_LT(*std::max_element(u.begin(), u.end()), 3.0f);
}

TEST(Rng, PermutationAndSampling) {
  Generator g(1, 2);
  auto p = rand_permutation(100, g);
  auto s = p;
  std::sort(s.begin(), s.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(s[static_cast<size_t>(i)], i);
  auto k = rand_sample(1000, 10, g);
  EXPECT_EQ(k.size(), 10u);
  std::sort(k.begin(), k.end());
  EXPECT_EQ(std::unique(k.begin(), k.end()), k.end());
  // Every position is equally likely: first draws of 0..3 over many permutations.
  std::vector<int> counts(4, 0);
  for (int t = 0; t < 4000; ++t) counts[static_cast<size_t>(rand_permutation(4, g)[0])]++;
  for (int c : counts) EXPECT_NEAR(c, 1000, 120);
  EXPECT_THROW(rand_sample(3, 4, g), Error);
}

}  // namespace
}  // namespace loco

// ---- CudaVsCpu: the CUDA fills give the CPU's stream, bit for bit ----
// Sizes: tiny, odd (a pair cut short for normal, a partial Philox block), 7×13, a realistic
// conv weight (128·128·3·3) and a large fill; offsets not zero (the generator has drawn before).
namespace loco {
namespace {

// Same bytes and same generator position afterwards.
void expect_same_fill(const Tensor& cpu, const Generator& gc, const Tensor& dev, const Generator& gd) {
  ASSERT_EQ(dev.device(), Device::cuda);
  const Tensor back = dev.to(Device::cpu);
  ASSERT_EQ(back.shape(), cpu.shape());
  EXPECT_EQ(std::memcmp(back.raw(), cpu.raw(), cpu.nbytes()), 0) << "CUDA fill differs from the CPU stream";
  EXPECT_EQ(gc.offset(), gd.offset());
}

const Shape kRngShapes[] = {Shape{1}, Shape{3}, Shape{5}, Shape{7, 13}, Shape{128, 128, 3, 3}, Shape{(1 << 20) + 3}};

TEST_F(CudaVsCpu, RandUniformIsTheCpuStream) {
  const std::pair<double, double> ranges[] = {{0.0, 1.0}, {-0.5, 2.0}, {-0.0722, 0.0722}};
  uint64_t stream = 10;
  for (const auto& [lo, hi] : ranges)
    for (const Shape& s : kRngShapes) {
      SCOPED_TRACE(s.str() + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
      Generator gc(0xBEEF, stream), gd(0xBEEF, stream);
      ++stream;
      gc.words(6);  // offset 2, and the next draw starts on a fresh counter as always
      gd.words(6);
      const Tensor c = rand_uniform(s, gc, lo, hi);
      const Tensor d = rand_uniform(s, gd, lo, hi, DType::f32, Device::cuda);
      expect_same_fill(c, gc, d, gd);
    }
}

TEST_F(CudaVsCpu, RandNormalIsTheCpuStream) {
  // Box–Muller in double on both sides; log/sin/cos may differ by an ulp in double, which the
  // cast to float hides unless a value sits at a float rounding boundary (about 1e-8 per
  // value), so the largest fill stays at 2^16 values.
  const std::pair<double, double> params[] = {{0.0, 1.0}, {0.5, 0.02}};
  const Shape shapes[] = {Shape{1}, Shape{3}, Shape{5}, Shape{7, 13}, Shape{(1 << 16) + 1}};
  uint64_t stream = 50;
  for (const auto& [mean, std] : params)
    for (const Shape& s : shapes) {
      SCOPED_TRACE(s.str() + " N(" + std::to_string(mean) + ", " + std::to_string(std) + ")");
      Generator gc(0xBEEF, stream), gd(0xBEEF, stream);
      ++stream;
      gc.words(9);
      gd.words(9);
      const Tensor c = rand_normal(s, gc, mean, std);
      const Tensor d = rand_normal(s, gd, mean, std, DType::f32, Device::cuda);
      expect_same_fill(c, gc, d, gd);
    }
}

}  // namespace
}  // namespace loco
