// Tests of the pixels family (gather_normalise): ToTensor + Normalize in f32 bit for bit, row
// gathers with repeats, errors that name the op, and the CUDA twin equal to the CPU bit for bit
// (the contract's promise: a dataset kept as bytes gives the same floats on either device).
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine/ops/pixels.h"
#include "tests/harness/cuda_compare.h"

namespace loco {
namespace {

// u8 [n, c, h, w] holding every byte value (i·37 mod 256 walks all 256 of them).
Tensor byte_images(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<uint8_t> v(static_cast<size_t>(n * c * h * w));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 37) % 256);
  return from_vector(v, Shape{n, c, h, w});
}

const std::vector<float> kMean = {0.4914f, 0.4822f, 0.4465f}, kStd = {0.2023f, 0.1994f, 0.2010f};

TEST(Pixels, GatherNormaliseIsToTensorNormalizeInF32) {
  const int64_t n = 5, c = 3, h = 4, w = 6;
  const Tensor x = byte_images(n, c, h, w);
  const std::vector<int64_t> rows = {4, 0, 2, 2};
  const Tensor y = gather_normalise(x, from_vector(rows, Shape{4}), kMean, kStd);
  ASSERT_EQ(y.shape(), (Shape{4, c, h, w}));
  ASSERT_EQ(y.dtype(), DType::f32);
  const auto xv = x.to_vector<uint8_t>();
  const auto yv = y.to_vector<float>();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t k = 0; k < c * h * w; ++k) {
      const int64_t ch = k / (h * w);
      const uint8_t v = xv[static_cast<size_t>(rows[i] * c * h * w + k)];
      const float want = (static_cast<float>(v) / 255.0f - kMean[ch]) / kStd[ch];
      const float got = yv[static_cast<size_t>(i * c * h * w + k)];
      ASSERT_EQ(std::memcmp(&got, &want, sizeof(float)), 0) << "row " << i << " element " << k << ": " << got
                                                            << " vs " << want;
    }
}

TEST(Pixels, ErrorsNameTheOp) {
  const Tensor x = byte_images(3, 1, 2, 2);
  const Tensor rows = from_vector(std::vector<int64_t>{0, 2}, Shape{2});
  auto fails = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what()).find("gather_normalise") != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(fails([&] { gather_normalise(full(Shape{3, 1, 2, 2}, 0.5), rows, {0.5f}, {0.5f}); }));  // f32
  EXPECT_TRUE(fails([&] { gather_normalise(x, from_vector(std::vector<int64_t>{3}, Shape{1}), {0.5f}, {0.5f}); }));
  EXPECT_TRUE(fails([&] { gather_normalise(x, rows, {0.5f, 0.5f}, {0.5f, 0.5f}); }));  // 2 means, 1 channel
  EXPECT_TRUE(fails([&] { gather_normalise(x, rows, {0.5f}, {0.0f}); }));              // std 0
}

// Odd sizes (7 images of 3×13×5, 11 rows with repeats), so no block size divides the work.
TEST_F(CudaVsCpu, GatherNormaliseIsBitEqual) {
  const Tensor x = byte_images(7, 3, 13, 5);
  const Tensor rows = from_vector(std::vector<int64_t>{6, 0, 3, 3, 1, 5, 2, 4, 6, 0, 1}, Shape{11});
  testing::expect_cuda_matches_cpu([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{gather_normalise(in[0], in[1], kMean, kStd)};
  }, {x, rows}, {.tol = 0});
}

}  // namespace
}  // namespace loco
