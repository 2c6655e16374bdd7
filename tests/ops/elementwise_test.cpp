// GradCheck / GradGradCheck for the elementwise, reduction and layout ops.
#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::rand_away_from_zero;
using testing::randn64;
using testing::randu64;
using V = std::vector<Tensor>;

TEST(GradCheck, BinaryOpsWithBroadcasting) {
  const Tensor a = randn64(Shape{2, 3, 4, 5}, 1);
  const Tensor per_channel = randu64(Shape{1, 3, 1, 1}, 2, 0.5, 2.0);
  const Tensor scalar = randu64(Shape{}, 3, 0.5, 2.0);
  const Tensor row = randu64(Shape{5}, 4, 0.5, 2.0);
  for (const Tensor& b : {a * 0.5 + 2.0, per_channel, scalar, row}) {
    expect_gradcheck([](const V& x) { return add(x[0], x[1]); }, {a, b});
    expect_gradcheck([](const V& x) { return sub(x[0], x[1]); }, {a, b});
    expect_gradcheck([](const V& x) { return mul(x[0], x[1]); }, {a, b});
    expect_gradcheck([](const V& x) { return div(x[0], x[1]); }, {a, b});
    expect_gradcheck([](const V& x) { return div(x[1], x[0] * 0.1 + 3.0); }, {a, b});
  }
}

TEST(GradCheck, UnaryOps) {
  const Tensor x = randn64(Shape{3, 7}, 5);
  const Tensor pos = randu64(Shape{3, 7}, 6, 0.5, 3.0);
  const Tensor kinked = rand_away_from_zero(Shape{3, 7}, 7);
  expect_gradcheck([](const V& v) { return affine(v[0], -1.5, 0.25); }, {x});
  expect_gradcheck([](const V& v) { return neg(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return exp(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return log(v[0]); }, {pos});
  expect_gradcheck([](const V& v) { return sqrt(v[0]); }, {pos});
  expect_gradcheck([](const V& v) { return rsqrt(v[0]); }, {pos});
  expect_gradcheck([](const V& v) { return pow(v[0], 2.5); }, {pos});
  expect_gradcheck([](const V& v) { return sigmoid(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return swish(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return relu(v[0]); }, {kinked});
  expect_gradcheck([](const V& v) { return leaky_relu(v[0], 0.01); }, {kinked});
}

TEST(GradCheck, Reductions) {
  const Tensor x = randn64(Shape{2, 3, 4, 5}, 8);
  expect_gradcheck([](const V& v) { return sum(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return mean(v[0]); }, {x});
  expect_gradcheck([](const V& v) { return sum(v[0], {0, 2, 3}); }, {x});
  expect_gradcheck([](const V& v) { return mean(v[0], {1}, true); }, {x});
  expect_gradcheck([](const V& v) { return sum(v[0], {-1}); }, {x});
  expect_gradcheck([](const V& v) { return expand(v[0], Shape{4, 3, 5}); }, {randn64(Shape{3, 1}, 9)});
  expect_gradcheck([](const V& v) { return sum_to(v[0], Shape{1, 3, 1, 5}); }, {x});
}

TEST(GradCheck, LayoutOps) {
  const Tensor x = randn64(Shape{5, 2, 3}, 10);
  const Tensor idx = from_vector<int64_t>({4, 0, 4, 2}, Shape{4});
  expect_gradcheck([](const V& v) { return reshape(v[0], Shape{-1, 6}); }, {x});
  expect_gradcheck([](const V& v) { return slice(v[0], 1, 4); }, {x});
  expect_gradcheck([](const V& v) { return concat({v[0], slice(v[1], 0, 2), v[0]}); }, {x, randn64(Shape{3, 2, 3}, 11)});
  expect_gradcheck([&](const V& v) { return gather_rows(v[0], idx); }, {x});
  expect_gradcheck([&](const V& v) { return index_add_rows(v[0], idx, 6); }, {randn64(Shape{4, 3}, 12)});
  expect_gradcheck([](const V& v) { return pad_rows(v[0], 2, 8); }, {x});
  expect_gradcheck([](const V& v) { return transpose_last2(v[0]); }, {x});
}

TEST(GradGradCheck, Relu) {
  // relu's second derivative is zero; through a product the cross terms are not.
  expect_gradgradcheck([](const V& v) { return mul(relu(v[0]), v[1]); },
                       {rand_away_from_zero(Shape{4, 5}, 13), randn64(Shape{4, 5}, 14)});
}

TEST(GradGradCheck, SmoothUnaryAndBinary) {
  const Tensor x = randn64(Shape{3, 4}, 15);
  const Tensor pos = randu64(Shape{3, 4}, 16, 0.5, 2.0);
  expect_gradgradcheck([](const V& v) { return sigmoid(v[0]); }, {x});
  expect_gradgradcheck([](const V& v) { return swish(v[0]); }, {x});
  expect_gradgradcheck([](const V& v) { return exp(v[0]); }, {x});
  expect_gradgradcheck([](const V& v) { return log(v[0]); }, {pos});
  expect_gradgradcheck([](const V& v) { return sqrt(v[0]); }, {pos});
  expect_gradgradcheck([](const V& v) { return rsqrt(v[0]); }, {pos});
  expect_gradgradcheck([](const V& v) { return div(v[0], v[1]); }, {x, pos});
  expect_gradgradcheck([](const V& v) { return mul(v[0], expand(v[1], Shape{3, 4})); }, {x, randn64(Shape{1, 4}, 17)});
  expect_gradgradcheck([](const V& v) { return mul(sum(mul(v[0], v[0]), {1}, true), v[0]); }, {x});
}

TEST(Elementwise, ForwardValuesF32) {
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor b = from_vector<float>({10, 20, 30}, Shape{3});
  EXPECT_EQ(add(a, b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(sum(a, {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(a, {1}).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(relu(a - 3.5).to_vector<float>(), (std::vector<float>{0, 0, 0, 0.5, 1.5, 2.5}));
  EXPECT_THROW(add(a, from_vector<float>({1, 2}, Shape{2})), Error);
}

}  // namespace
}  // namespace loco

namespace loco {
namespace {
// The harness itself must catch a wrong backward: a doubled gradient fails gradcheck.
Tensor wrong_square(const Tensor& x) {
  Tensor y = mul(x.detach(), x.detach());
  return record("wrong_square", y, {x}, [x](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{mul(dy, x) * 4.0};
  });
}
TEST(GradCheckHarness, CatchesAWrongBackward) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    testing::expect_gradcheck([](const V& v) { return wrong_square(v[0]); }, {testing::randn64(Shape{3}, 1)});
  }
  EXPECT_GT(failures.size(), 0);
}
}  // namespace
}  // namespace loco
