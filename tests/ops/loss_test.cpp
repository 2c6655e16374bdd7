// Tests of the loss family: log-softmax and cross-entropy against naive loops (f64 and f32,
// large logits), pick/unpick adjoints, argmax, label errors, GradCheck and GradGradCheck.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/harness/cuda_compare.h"
#include "tests/harness/gradcheck.h"

namespace loco {
namespace {

using testing::expect_gradcheck;
using testing::expect_gradgradcheck;
using testing::randn64;
using V = std::vector<Tensor>;

std::vector<double> naive_log_softmax(const std::vector<double>& x, int64_t n, int64_t k) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < n; ++i) {
    double mx = x[i * k];
    for (int64_t j = 1; j < k; ++j) mx = std::max(mx, x[i * k + j]);
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(x[i * k + j] - mx);
    for (int64_t j = 0; j < k; ++j) y[i * k + j] = x[i * k + j] - mx - std::log(s);
  }
  return y;
}

Tensor to_f32(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return from_vector(std::vector<float>(v.begin(), v.end()), t.shape());
}

// Labels of a 4-sample, 5-class batch, with a repeated class.
Tensor labels4() { return from_vector<int64_t>({2, 0, 4, 4}, Shape{4}); }

TEST(LossForward, LogSoftmaxAndCrossEntropyMatchNaive) {
  // Row 1 holds logits near 1000: exp would overflow without the max shift.
  Tensor x = randn64(Shape{4, 5}, 1, 2.0);
  auto xv = x.to_vector<double>();
  for (int64_t j = 0; j < 5; ++j) xv[5 + j] += 1000.0;
  x = from_vector(xv, Shape{4, 5});
  const auto ref = naive_log_softmax(xv, 4, 5);
  const auto y = log_softmax(x).to_vector<double>();
  const auto y32 = log_softmax(to_f32(x)).to_vector<float>();
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_NEAR(y[i], ref[i], 1e-12);
    EXPECT_NEAR(y32[i], ref[i], 1e-4);  // f32 rounds the 1000-sized logits to ~6e-5
  }
  const auto lab = labels4().to_vector<int64_t>();
  double ce = 0;
  for (int64_t i = 0; i < 4; ++i) ce -= ref[static_cast<size_t>(i * 5 + lab[i])];
  ce /= 4;
  EXPECT_NEAR(cross_entropy(x, labels4()).item<double>(), ce, 1e-12);
  EXPECT_NEAR(cross_entropy(to_f32(x), labels4()).item<float>(), ce, 1e-4);
  EXPECT_EQ(cross_entropy(x, labels4()).shape(), Shape{});
}

TEST(LossForward, PickUnpickAndArgmax) {
  const Tensor x = from_vector<double>({0, 1, 2, 3, 4,  //
                                        5, 9, 9, 1, 0,  //
                                        -1, -2, -3, -4, -0.5,  //
                                        7, 7, 7, 7, 7},
                                       Shape{4, 5});
  EXPECT_EQ(pick(x, labels4()).to_vector<double>(), (std::vector<double>{2, 5, -0.5, 7}));
  const auto u = unpick(from_vector<double>({1, 2, 3, 4}, Shape{4}), labels4(), 5).to_vector<double>();
  EXPECT_EQ(u, (std::vector<double>{0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4}));
  // Ties go to the first index.
  EXPECT_EQ(argmax_rows(x).to_vector<int64_t>(), (std::vector<int64_t>{4, 1, 4, 0}));
  EXPECT_EQ(argmax_rows(to_f32(x)).to_vector<int64_t>(), (std::vector<int64_t>{4, 1, 4, 0}));
}

TEST(LossForward, BadLabelsNameTheLabelAndK) {
  const Tensor x = randn64(Shape{3, 4}, 2);
  try {
    cross_entropy(x, from_vector<int64_t>({1, 7, 0}, Shape{3}));
    ADD_FAILURE() << "no error for label 7 of 4 classes";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("label 7"), std::string::npos) << m;
    EXPECT_NE(m.find("4 classes"), std::string::npos) << m;
  }
  EXPECT_THROW(pick(x, from_vector<int64_t>({0, -1, 0}, Shape{3})), Error);
  EXPECT_THROW(unpick(randn64(Shape{3}, 3), from_vector<int64_t>({0, 4, 0}, Shape{3}), 4), Error);
  EXPECT_THROW(cross_entropy(x, from_vector<int64_t>({0, 1}, Shape{2})), Error);  // wrong length
  EXPECT_THROW(cross_entropy(randn64(Shape{3, 4, 1}, 4), from_vector<int64_t>({0, 1, 2}, Shape{3})), Error);
}

TEST(GradCheck, LogSoftmax) {
  expect_gradcheck([](const V& v) { return log_softmax(v[0]); }, {randn64(Shape{4, 5}, 10)});
}

TEST(GradCheck, PickAndUnpick) {
  expect_gradcheck([](const V& v) { return pick(v[0], labels4()); }, {randn64(Shape{4, 5}, 11)});
  expect_gradcheck([](const V& v) { return unpick(v[0], labels4(), 5); }, {randn64(Shape{4}, 12)});
}

TEST(GradCheck, CrossEntropy) {
  expect_gradcheck([](const V& v) { return cross_entropy(v[0], labels4()); }, {randn64(Shape{4, 5}, 13, 2.0)});
}

TEST(GradGradCheck, CrossEntropy) {
  expect_gradgradcheck([](const V& v) { return cross_entropy(v[0], labels4()); }, {randn64(Shape{4, 5}, 14, 2.0)});
  expect_gradgradcheck([](const V& v) { return log_softmax(v[0]); }, {randn64(Shape{3, 4}, 15)});
  // pick/unpick are linear: square them so their backwards are differentiated too.
  expect_gradgradcheck([](const V& v) { return square(pick(v[0], labels4())); }, {randn64(Shape{4, 5}, 16)});
  expect_gradgradcheck([](const V& v) { return square(unpick(v[0], labels4(), 5)); }, {randn64(Shape{4}, 17)});
}

}  // namespace
}  // namespace loco

// ---- CudaVsCpu: the CUDA twins of the softmax / cross-entropy kernels ----
// K = 10, 100, 200 (the datasets' class counts), an odd 7×13, a row longer than 32 lanes × 4,
// and the edge N = 1. Backward through grad() runs unpick, exp, log_softmax, sum and the
// elementwise kernels on the device too.
namespace loco {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::randn32;

Tensor loss_leaf(const Tensor& t) {
  Tensor x = t.detach();
  x.requires_grad_();
  return x;
}

Tensor random_labels(int64_t n, int64_t k, uint64_t stream) {
  Generator g(0x1AB, stream);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& l : v) l = static_cast<int64_t>(g.below(static_cast<uint64_t>(k)));
  return from_vector(v, Shape{n});
}

// Logits with scale 3; row 0 shifted by +1000, which only the max shift survives.
Tensor shifted_logits(int64_t n, int64_t k, uint64_t stream) {
  auto v = randn32(Shape{n, k}, stream, 3.0).to_vector<float>();
  for (int64_t j = 0; j < k; ++j) v[static_cast<size_t>(j)] += 1000.0f;
  return from_vector(v, Shape{n, k});
}

const std::pair<int64_t, int64_t> kLossShapes[] = {{7, 13}, {256, 10}, {256, 100}, {256, 200}, {1, 10}, {3, 1000}};

TEST_F(CudaVsCpu, LogSoftmaxForwardAndBackward) {
  uint64_t stream = 100;
  for (const auto& [n, k] : kLossShapes) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(k));
    expect_cuda_matches_cpu(
        [](const V& in) {
          Tensor x = loss_leaf(in[0]);
          Tensor y = log_softmax(x);
          return V{y, grad(y, {x}, {.seed = in[1]})[0]};
        },
        {shifted_logits(n, k, stream), randn32(Shape{n, k}, stream + 1)});
    stream += 2;
  }
}

TEST_F(CudaVsCpu, CrossEntropyForwardAndBackward) {
  uint64_t stream = 200;
  for (const auto& [n, k] : kLossShapes) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(k));
    expect_cuda_matches_cpu(
        [](const V& in) {
          Tensor x = loss_leaf(in[0]);
          Tensor loss = cross_entropy(x, in[1]);
          return V{loss, grad(loss, {x})[0]};
        },
        {shifted_logits(n, k, stream), random_labels(n, k, stream)});
    ++stream;
  }
}

TEST_F(CudaVsCpu, PickAndUnpickForwardAndBackward) {
  uint64_t stream = 300;
  for (const auto& [n, k] : kLossShapes) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(k));
    expect_cuda_matches_cpu(
        [k = k](const V& in) {
          Tensor x = loss_leaf(in[0]), v = loss_leaf(in[2]);
          Tensor p = pick(x, in[1]);         // backward: unpick
          Tensor u = unpick(v, in[1], k);    // backward: pick
          return V{p, grad(p, {x}, {.seed = in[2]})[0], u, grad(u, {v}, {.seed = in[0]})[0]};
        },
        {randn32(Shape{n, k}, stream), random_labels(n, k, stream), randn32(Shape{n}, stream + 1)});
    stream += 2;
  }
}

TEST_F(CudaVsCpu, ArgmaxRowsWithTiesAndNaN) {
  uint64_t stream = 400;
  for (const auto& [n, k] : kLossShapes) {
    SCOPED_TRACE(std::to_string(n) + "x" + std::to_string(k));
    // Values in {0, 1, 2, 3}: most rows have ties, which go to the first index.
    auto v = testing::randu32(Shape{n, k}, stream++, 0.0, 4.0).to_vector<float>();
    for (float& e : v) e = std::floor(e);
    if (n > 2) {
      v[0] = NAN;                                  // a NaN at index 0 is never left: 0
      v[static_cast<size_t>(k + k / 2)] = NAN;     // elsewhere it is never taken
    } else {
      v[3] = v[7] = 5.0f;  // a tie for the maximum: 3, never 0 (an all-zero reference says nothing)
    }
    // Exact: an index is right or wrong (tol 0).
    expect_cuda_matches_cpu([](const V& in) { return V{argmax_rows(in[0])}; }, {from_vector(v, Shape{n, k})},
                            {.tol = 0.0});
  }
}

}  // namespace
}  // namespace loco
