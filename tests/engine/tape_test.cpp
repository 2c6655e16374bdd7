#include <gtest/gtest.h>

#include "engine/ops.h"

namespace loco {
namespace {

Tensor leaf(std::vector<double> v) {
  Tensor t = from_vector(v, Shape{static_cast<int64_t>(v.size())});
  t.requires_grad_();
  return t;
}

TEST(Tape, GradientsAccumulateForTensorsUsedTwice) {
  Tensor x = leaf({1.0, 2.0, 3.0});
  Tensor y = sum(mul(x, x) + x);  // dy/dx = 2x + 1
  backward(y);
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3.0, 5.0, 7.0}));
  backward(sum(x * 2.0));  // accumulates into the same leaf
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5.0, 7.0, 9.0}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

// slice's backward adds its rows into one gradient in place (Node::row_offset): several slices
// of one leaf and of one intermediate, overlapping ones, and an intermediate whose gradient
// also arrives whole from elsewhere (so the walk must copy before adding into it).
TEST(Tape, SlicesOfOneTensorShareOneGradient) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6});
  Tensor h = x * 3.0;  // an intermediate
  Tensor y = sum(slice(x, 0, 2) * 2.0) + sum(slice(x, 1, 4)) + sum(square(slice(h, 4, 6))) + sum(h * 0.5) +
             sum(slice(h, 0, 1));
  backward(y);
  // d/dx: slices of x give 2,3,1,1,0,0; h = 3x gives 3·(0.5 + [1,0,0,0,0,0] + 2h·[0,0,0,0,1,1]).
  const std::vector<double> want = {2 + 3 * 1.5, 3 + 1.5, 1 + 1.5, 1 + 1.5, 1.5 + 3 * 2 * 15, 1.5 + 3 * 2 * 18};
  EXPECT_EQ(x.grad().to_vector<double>(), want);
  // Recording (double backward) takes the padded, differentiable path and agrees.
  Tensor z = leaf({1, 2, 3, 4, 5, 6});
  auto g = grad(sum(slice(z, 0, 2) * 2.0) + sum(slice(z, 1, 4)) + sum(square(slice(z * 3.0, 4, 6))) +
                    sum((z * 3.0) * 0.5) + sum(slice(z * 3.0, 0, 1)),
                {z}, {.create_graph = true});
  EXPECT_EQ(g[0].to_vector<double>(), want);
  EXPECT_TRUE(g[0].requires_grad());
}

TEST(Tape, DoubleBackwardThroughCreateGraph) {
  Tensor x = leaf({0.5, -1.5});
  Tensor y = sum(mul(mul(x, x), x));  // Σ x³
  auto g = grad(y, {x}, {.create_graph = true});  // 3x²
  ASSERT_TRUE(g[0].requires_grad());
  auto gg = grad(sum(g[0]), {x});  // 6x
  EXPECT_NEAR(gg[0].to_vector<double>()[0], 3.0, 1e-12);
  EXPECT_NEAR(gg[0].to_vector<double>()[1], -9.0, 1e-12);
}

TEST(Tape, BackwardWithoutCreateGraphIsNotRecorded) {
  Tensor x = leaf({0.5, -1.5});
  auto g = grad(sum(mul(x, x)), {x});
  EXPECT_FALSE(g[0].requires_grad());
}

TEST(Tape, NoGradScopeRecordsNothing) {
  Tensor x = leaf({1.0});
  Tensor y;
  {
    NoGradGuard ng;
    y = x * 3.0;
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(backward(sum(y)), Error);
}

TEST(Tape, NonScalarNeedsASeed) {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = x * 3.0;
  try {
    backward(y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a scalar"), std::string::npos) << e.what();
  }
  backward(y, {.seed = from_vector<double>({1.0, -1.0}, Shape{2})});
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3.0, -3.0}));
}

TEST(Tape, GradOfUnreachableInputIsAnError) {
  Tensor x = leaf({1.0}), z = leaf({2.0});
  EXPECT_THROW(grad(sum(x * 2.0), {z}), Error);
  auto g = grad(sum(x * 2.0), {z}, {.allow_unused = true});
  EXPECT_FALSE(g[0].defined());
}

TEST(Tape, GradWithRespectToAnIntermediate) {
  Tensor x = leaf({1.0, 2.0});
  Tensor h = x * 3.0;
  Tensor y = sum(mul(h, h));
  auto g = grad(y, {h});  // 2h
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{6.0, 12.0}));
}

TEST(Tape, ShapeErrorsNameTheOpAndShapes) {
  Tensor a = zeros(Shape{2, 3}), b = zeros(Shape{4});
  try {
    add(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("[2,3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  }
}

TEST(Allocator, SteadyStateReusesBlocks) {
  { Tensor warm = zeros(Shape{1 << 20}); }
  const auto before = allocator_stats(Device::cpu).os_allocs;
  for (int i = 0; i < 10; ++i) Tensor t = zeros(Shape{1 << 20});
  EXPECT_EQ(allocator_stats(Device::cpu).os_allocs, before);
}

}  // namespace
}  // namespace loco
