// GradCheck / GradGradCheck for the elementwise, reduction and layout ops; CudaVsCpu for their CUDA twins.
#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include <cmath>
#include <functional>
#include <string>

#include "tests/harness/compare.h"
#include "tests/harness/cuda_compare.h"
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

// ---- CudaVsCpu: the CUDA twins of the elementwise, reduction and layout kernels ----
// Shapes: tiny, odd (7×13: no block or float4 multiple), realistic (ConvNet-3 activations on
// 28×28: N=256, C=128) and edge (one element, one row). Each op also runs backward through
// grad(), so the kernels its backward uses (mul, sum_to, expand, index_add, ...) run too.
namespace loco {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::randn32;
using testing::randu32;

// A fresh leaf on the input's storage, so grad() can differentiate with respect to it.
Tensor grad_leaf(const Tensor& t) {
  Tensor x = t.detach();
  x.requires_grad_();
  return x;
}

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
  bool positive;        // domain x > 0 (log, sqrt, rsqrt, pow)
  bool differentiable;  // step records nothing
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"affine", [](const Tensor& x) { return affine(x, -1.5, 0.25); }, false, true},
      {"exp", [](const Tensor& x) { return exp(x); }, false, true},
      {"log", [](const Tensor& x) { return log(x); }, true, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, true, true},
      {"pow", [](const Tensor& x) { return pow(x, 2.5); }, true, true},
      {"relu", [](const Tensor& x) { return relu(x); }, false, true},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.01); }, false, true},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false, true},
      {"swish", [](const Tensor& x) { return swish(x); }, false, true},
      {"step", [](const Tensor& x) { return step(x, 0.5); }, false, false},
  };
}

void expect_unary_matches(const UnaryCase& c, const Shape& s, uint64_t stream) {
  SCOPED_TRACE(std::string(c.name) + " " + s.str());
  Tensor x = c.positive ? randu32(s, stream, 0.25, 3.0) : randn32(s, stream);
  if (!c.positive) {  // one positive element, so relu of a tiny input is not all zeros
    auto v = x.to_vector<float>();
    v[0] = 0.75f;
    x = from_vector(v, s);
  }
  expect_cuda_matches_cpu(
      [&](const V& in) {
        Tensor xl = grad_leaf(in[0]);
        Tensor y = c.f(xl);
        if (!c.differentiable) return V{y};
        return V{y, grad(y, {xl}, {.seed = in[1]})[0]};
      },
      {x, randn32(s, stream + 1)});
}

TEST_F(CudaVsCpu, UnaryOpsForwardAndBackward) {
  uint64_t stream = 100;
  for (const UnaryCase& c : unary_cases())
    for (const Shape& s : {Shape{3}, Shape{7, 13}, Shape{1}, Shape{1 << 16}}) expect_unary_matches(c, s, stream += 2);
  // ConvNet-3's activation on its first feature map, and exp (the softmax's kernel).
  const auto cases = unary_cases();
  for (const UnaryCase& c : cases)
    if (std::string(c.name) == "relu" || std::string(c.name) == "exp")
      expect_unary_matches(c, Shape{256, 128, 28, 28}, stream += 2);
}

TEST_F(CudaVsCpu, UnaryOpsOnAnUnalignedView) {
  // Rows 1..7 of [8, 13] start 13 floats in: not 16-byte aligned, so the scalar path runs.
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = c.positive ? randu32(Shape{8, 13}, 150, 0.25, 3.0) : randn32(Shape{8, 13}, 150);
    expect_cuda_matches_cpu(
        [&](const V& in) {
          Tensor xl = grad_leaf(in[0]);
          Tensor y = c.f(slice(xl, 1, 8));
          if (!c.differentiable) return V{y};
          return V{y, grad(y, {xl}, {.seed = in[1]})[0]};
        },
        {x, randn32(Shape{7, 13}, 151)});
  }
}

TEST_F(CudaVsCpu, BinaryOpsWithBroadcastingForwardAndBackward) {
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Binary> ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  const std::pair<Shape, Shape> shapes[] = {
      {Shape{7, 13}, Shape{7, 13}},      {Shape{7, 13}, Shape{13}},        {Shape{7, 1}, Shape{1, 13}},
      {Shape{2, 3, 4, 5}, Shape{1, 3, 1, 1}}, {Shape{}, Shape{7, 13}},   {Shape{3, 1, 5}, Shape{4, 1}},
      {Shape{1}, Shape{1}},              {Shape{256, 128, 28, 28}, Shape{1, 128, 1, 1}}};
  uint64_t stream = 200;
  for (const auto& [sa, sb] : shapes)
    for (const auto& [name, op] : ops) {
      SCOPED_TRACE(std::string(name) + " " + sa.str() + " " + sb.str());
      const Shape out = broadcast_shape(sa, sb, name);
      const bool big = out.numel() > (1 << 20);
      if (big && std::string(name) != "mul") continue;  // one realistic case keeps the test short
      expect_cuda_matches_cpu(
          [&](const V& in) {
            Tensor a = grad_leaf(in[0]), b = grad_leaf(in[1]);
            Tensor y = op(a, b);
            const auto g = grad(y, {a, b}, {.seed = in[2]});
            return V{y, g[0], g[1]};
          },
          {randn32(sa, stream), randu32(sb, stream + 1, 0.5, 2.0), randn32(out, stream + 2)});
      stream += 3;
    }
}

TEST_F(CudaVsCpu, SumAndMeanOverDims) {
  // Each reduction shape picks a different CUDA strategy: a thread per output (short sums, or
  // many outputs with the innermost dim kept), a warp per output, one block per output, and
  // blocks over chunks of one output with a second pass (a full sum).
  struct Case {
    Shape s;
    std::vector<int64_t> dims;  // empty: all
    bool keepdim, mean;
  };
  const Case cases[] = {
      {Shape{7, 13}, {}, false, false},          {Shape{7, 13}, {0}, false, false},
      {Shape{7, 13}, {1}, true, true},           {Shape{2, 3, 4, 5}, {0, 2}, true, false},
      {Shape{64, 8192}, {0}, false, false},      {Shape{256, 10}, {0}, false, false},
      {Shape{1}, {}, false, false},              {Shape{1, 1, 5}, {2}, false, true},
      {Shape{256, 128, 28, 28}, {0, 2, 3}, true, false},  // a norm's per-channel sum: blocks
      {Shape{256, 128, 28, 28}, {2, 3}, false, true},     // per-(sample, channel) mean: warps
      {Shape{256, 128, 28, 28}, {0}, false, false},       // innermost kept: threads
      {Shape{256, 128, 28, 28}, {}, false, true},         // everything: chunked blocks
  };
  uint64_t stream = 300;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.s.str() + " over " + std::to_string(c.dims.size()) + " dims");
    expect_cuda_matches_cpu(
        [&](const V& in) {
          Tensor x = grad_leaf(in[0]);
          Tensor y = c.dims.empty() ? (c.mean ? mean(x) : sum(x))
                                    : (c.mean ? mean(x, c.dims, c.keepdim) : sum(x, c.dims, c.keepdim));
          // The seed has y's shape; its backward is expand (broadcast_copy).
          Tensor dy = full(y.shape(), 0.5, DType::f32, x.device()) + 0.25;
          return V{y, grad(y, {x}, {.seed = dy})[0]};
        },
        {randn32(c.s, stream++)});
  }
}

TEST_F(CudaVsCpu, ExpandAndSumTo) {
  const std::pair<Shape, Shape> cases[] = {{Shape{3, 1}, Shape{4, 3, 5}},
                                           {Shape{1, 13}, Shape{7, 13}},
                                           {Shape{}, Shape{7, 13}},
                                           {Shape{1, 128, 1, 1}, Shape{256, 128, 28, 28}},
                                           {Shape{1}, Shape{1}}};
  uint64_t stream = 400;
  for (const auto& [small, large] : cases) {
    SCOPED_TRACE(small.str() + " <-> " + large.str());
    expect_cuda_matches_cpu(
        [&](const V& in) {
          Tensor a = grad_leaf(in[0]), b = grad_leaf(in[1]);
          Tensor e = expand(a, large), s = sum_to(b, small);
          return V{e, grad(e, {a}, {.seed = in[1]})[0], s, grad(s, {b}, {.seed = in[0]})[0]};
        },
        {randn32(small, stream), randn32(large, stream + 1)});
    stream += 2;
  }
}

// Indices into `rows` rows, with repeats (drawn with replacement).
Tensor random_index(int64_t n, int64_t rows, uint64_t stream) {
  Generator g(0x1D5, stream);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& i : v) i = static_cast<int64_t>(g.below(static_cast<uint64_t>(rows)));
  return from_vector(v, Shape{n});
}

TEST_F(CudaVsCpu, GatherRowsAndIndexAddWithRepeatedIndices) {
  struct Case {
    Shape x;
    Tensor index;
  };
  const Case cases[] = {
      {Shape{10, 3}, from_vector<int64_t>({4, 0, 4, 2, 9, 4}, Shape{6})},  // D = 3: scalar path
      {Shape{5, 2, 4}, from_vector<int64_t>({1, 1, 3}, Shape{3})},         // D = 8: float4 path
      {Shape{1, 1}, from_vector<int64_t>({0, 0, 0}, Shape{3})},            // edge: one element
      {Shape{50, 300}, random_index(700, 50, 1)},  // many repeats; > 256 indices, > 256 columns
      {Shape{1000, 784}, random_index(256, 1000, 2)},  // a batch of 28×28 images
  };
  uint64_t stream = 500;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " by " + std::to_string(c.index.numel()) + " indices");
    std::vector<int64_t> src = c.x.dims();
    src[0] = c.index.numel();
    expect_cuda_matches_cpu(
        [&](const V& in) {
          Tensor x = grad_leaf(in[0]), s = grad_leaf(in[2]);
          Tensor y = gather_rows(x, in[1]);                // backward: index_add_rows
          Tensor z = index_add_rows(s, in[1], c.x[0]);    // backward: gather_rows
          return V{y, grad(y, {x}, {.seed = in[2]})[0], z, grad(z, {s}, {.seed = in[0]})[0]};
        },
        {randn32(c.x, stream), c.index, randn32(Shape(src), stream + 1)});
    stream += 2;
  }
}

TEST_F(CudaVsCpu, TransposeLast2) {
  uint64_t stream = 600;
  for (const Shape& s : {Shape{3, 7, 13}, Shape{2, 33, 65}, Shape{256, 28, 28}, Shape{1, 1, 1}, Shape{1, 5}}) {
    SCOPED_TRACE(s.str());
    std::vector<int64_t> t = s.dims();
    std::swap(t[t.size() - 1], t[t.size() - 2]);
    expect_cuda_matches_cpu(
        [](const V& in) {
          Tensor x = grad_leaf(in[0]);
          Tensor y = transpose_last2(x);
          return V{y, grad(y, {x}, {.seed = in[1]})[0]};
        },
        {randn32(s, stream), randn32(Shape(t), stream + 1)});
    stream += 2;
  }
}

}  // namespace
}  // namespace loco

namespace loco::testing {
namespace {

// The comparison helpers themselves: a report that says where two results part, and an
// expect_close that fails on the cases that would otherwise pass silently.
TEST(Harness, MismatchReportNamesTheWorstIndexAndTheFirstPairs) {
  const Tensor ref = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Tensor out = from_vector(std::vector<float>{1, 2.5f, 3, 4, 5, 9}, Shape{2, 3});
  const std::string r = mismatch_report(out, ref);
  EXPECT_NE(r.find("worst |out − ref| 3 at index 5 [1,2]"), std::string::npos) << r;
  EXPECT_NE(r.find("[0,1] 2.5 vs 2"), std::string::npos) << r;
  EXPECT_NEAR(rel_error(out, ref), std::sqrt(0.25 + 9.0) / std::sqrt(91.0), 1e-12);
  EXPECT_EQ(rel_error(ref, ref), 0.0);
  EXPECT_TRUE(std::isinf(rel_error(out, zeros(Shape{2, 3}))));
  EXPECT_EQ(max_abs_diff(out, ref), 3.0);
  EXPECT_NONFATAL_FAILURE(expect_close(out, ref, 1e-3, "x"), "worst |out − ref| 3 at index 5");
  EXPECT_FATAL_FAILURE(expect_close(from_vector(std::vector<float>{1, 2}, Shape{2}), zeros(Shape{2}), 1.0, "z"),
                       "all zeros");
}

}  // namespace
}  // namespace loco::testing
