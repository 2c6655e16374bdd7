// Tests of the loss family: log-softmax and cross-entropy against naive loops (f64 and f32,
// large logits), pick/unpick adjoints, argmax, label errors, GradCheck and GradGradCheck.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

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
