// Sgd (engine/optim/sgd.h): PyTorch's update rule checked against the formula step by step,
// per-parameter first steps and skipping, checkpoint round trip of the momentum buffers,
// convergence on a quadratic, and the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>

#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "engine/rng.h"
#include "tests/harness/cuda_compare.h"

namespace loco {
namespace {

template <class T> Tensor leaf(const std::vector<T>& v) {
  Tensor t = from_vector(v, Shape{static_cast<int64_t>(v.size())});
  t.requires_grad_();
  return t;
}
template <class T> void set_grad(Tensor& p, const std::vector<T>& g) {
  p.set_grad(from_vector(g, Shape{static_cast<int64_t>(g.size())}));
}

// The reference rule, written out per element in T (torch.optim.SGD, dampening 0, no Nesterov).
template <class T> struct Reference {
  std::vector<T> p, buf;
  bool started = false;
  void step(const std::vector<T>& grad, T lr, T momentum, T wd) {
    for (size_t i = 0; i < p.size(); ++i) {
      T g = grad[i];
      if (wd != 0) g = g + wd * p[i];
      if (momentum != 0) {
        if (!started) buf.push_back(g);
        else buf[i] = momentum * buf[i] + g;
        g = buf[i];
      }
      p[i] = p[i] - lr * g;
    }
    started = true;
  }
};

template <class T> void three_steps_match_the_formula() {
  const std::vector<std::vector<T>> grads = {{T(1.0), T(-2.0), T(0.5), T(0.0)},
                                             {T(0.25), T(3.0), T(-1.5), T(2.0)},
                                             {T(-0.75), T(0.5), T(1.0), T(-4.0)}};
  const std::vector<T> p0 = {T(0.5), T(-1.0), T(2.0), T(0.125)};
  const T lr = T(0.1), momentum = T(0.9), wd = T(0.01);
  Tensor p = leaf(p0);
  Sgd opt({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  Reference<T> ref{p0, {}};
  for (const auto& g : grads) {
    set_grad(p, g);
    opt.step();
    ref.step(g, lr, momentum, wd);
    auto got = p.to_vector<T>();
    auto buf = opt.momentum_buffers()[0].to_vector<T>();
    // Not bit-exact: -march=native may contract a·b + c into an FMA in one place and not the other.
    const double ulps = std::is_same_v<T, float> ? 1e-6 : 1e-14;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], ref.p[i], ulps * (1 + std::abs(ref.p[i]))) << "element " << i;
      EXPECT_NEAR(buf[i], ref.buf[i], ulps * (1 + std::abs(ref.buf[i]))) << "element " << i;
    }
  }
  // Element 0 by hand, so a wrong reference cannot pass: d1 = 1 + 0.01·0.5 = 1.005,
  // p1 = 0.5 − 0.1·1.005 = 0.3995; d2 = 0.25 + 0.01·0.3995 = 0.253995, b2 = 0.9·1.005 + d2
  // = 1.158495, p2 = 0.3995 − 0.1158495 = 0.2836505; d3 = −0.75 + 0.002836505 = −0.747163495,
  // b3 = 0.9·1.158495 − 0.747163495 = 0.295482005, p3 = 0.2836505 − 0.0295482005 = 0.2541022995.
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  EXPECT_NEAR(p.to_vector<T>()[0], 0.2541022995, tol);
  EXPECT_NEAR(opt.momentum_buffers()[0].to_vector<T>()[0], 0.295482005, tol);
}

TEST(Sgd, ThreeStepsWithMomentumAndWeightDecayF64) { three_steps_match_the_formula<double>(); }
TEST(Sgd, ThreeStepsWithMomentumAndWeightDecayF32) { three_steps_match_the_formula<float>(); }

TEST(Sgd, FirstStepBufferIsTheGradient) {
  Tensor p = leaf<double>({1.0, 2.0, 3.0});
  Sgd opt({p}, {.lr = 0.5, .momentum = 0.9});
  EXPECT_FALSE(opt.momentum_buffers()[0].defined());
  set_grad<double>(p, {0.2, -0.4, 0.6});
  opt.step();
  EXPECT_EQ(opt.momentum_buffers()[0].to_vector<double>(), (std::vector<double>{0.2, -0.4, 0.6}));
  auto v = p.to_vector<double>();
  EXPECT_DOUBLE_EQ(v[0], 0.9);
  EXPECT_DOUBLE_EQ(v[1], 2.2);
  EXPECT_DOUBLE_EQ(v[2], 2.7);
}

TEST(Sgd, PlainSgdKeepsNoBuffersAndAppliesWeightDecay) {
  Tensor p = leaf<double>({1.0, -2.0});
  Sgd opt({p}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad<double>(p, {1.0, 1.0});
  opt.step();
  EXPECT_FALSE(opt.momentum_buffers()[0].defined());
  auto v = p.to_vector<double>();
  EXPECT_DOUBLE_EQ(v[0], 1.0 - 0.1 * (1.0 + 0.5 * 1.0));
  EXPECT_DOUBLE_EQ(v[1], -2.0 - 0.1 * (1.0 + 0.5 * -2.0));
}

TEST(Sgd, SkipsParametersWithoutGradient) {
  Tensor a = leaf<double>({1.0, 2.0}), b = leaf<double>({3.0, 4.0});
  Sgd opt({a, b}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  set_grad<double>(a, {1.0, 1.0});
  opt.step();
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{3.0, 4.0})) << "weight decay must not touch b";
  EXPECT_TRUE(opt.momentum_buffers()[0].defined());
  EXPECT_FALSE(opt.momentum_buffers()[1].defined());
  // b's first step comes later and still starts its buffer at g (+ wd·p), not momentum·0 + g.
  set_grad<double>(b, {2.0, -2.0});
  opt.step();
  auto buf = opt.momentum_buffers()[1].to_vector<double>();
  EXPECT_DOUBLE_EQ(buf[0], 2.3);
  EXPECT_DOUBLE_EQ(buf[1], -1.6);
}

TEST(Sgd, StepIsNotRecordedAndZeroGradDropsGradients) {
  Tensor p = leaf<float>({1.0f, 2.0f});
  Sgd opt({p}, {.lr = 0.1, .momentum = 0.5});
  backward(sum(square(p)));
  ASSERT_TRUE(p.grad().defined());
  opt.step();
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  auto v = p.to_vector<float>();
  EXPECT_FLOAT_EQ(v[0], 0.8f);
  EXPECT_FLOAT_EQ(v[1], 1.6f);
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

TEST(Sgd, LearningRateCanChange) {
  Tensor p = leaf<double>({1.0});
  Sgd opt({p}, {.lr = 0.1});
  opt.set_lr(0.01);
  EXPECT_EQ(opt.lr(), 0.01);
  set_grad<double>(p, {1.0});
  opt.step();
  EXPECT_DOUBLE_EQ(p.item<double>(), 0.99);
  EXPECT_THROW(opt.set_lr(-1.0), Error);
}

// A checkpoint that saves parameters and buffers after step 1 and resumes in a fresh optimiser
// must land exactly where an uninterrupted run does.
TEST(Sgd, MomentumBuffersRoundTripThroughACheckpoint) {
  const std::vector<std::vector<double>> grads = {{1.0, -1.0}, {0.5, 2.0}, {-3.0, 0.25}};
  const SgdOptions o{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3};
  Tensor a = leaf<double>({0.3, 0.7});
  Sgd full_run({a}, o);
  for (const auto& g : grads) {
    set_grad(a, g);
    full_run.step();
  }
  Tensor b = leaf<double>({0.3, 0.7});
  std::vector<double> saved_p, saved_buf;
  {
    Sgd first({b}, o);
    set_grad(b, grads[0]);
    first.step();
    saved_p = b.to_vector<double>();
    saved_buf = first.momentum_buffers()[0].to_vector<double>();
  }
  Tensor c = leaf(saved_p);
  Sgd resumed({c}, o);
  resumed.set_momentum_buffers({from_vector(saved_buf, Shape{2})});
  for (size_t s = 1; s < grads.size(); ++s) {
    set_grad(c, grads[s]);
    resumed.step();
  }
  EXPECT_EQ(c.to_vector<double>(), a.to_vector<double>());
  EXPECT_EQ(resumed.momentum_buffers()[0].to_vector<double>(), full_run.momentum_buffers()[0].to_vector<double>());
}

TEST(Sgd, MinimisesASquaredDistance) {
  Generator g(3, 0);
  Tensor t = rand_normal(Shape{4, 5}, g);
  Tensor p = rand_normal(Shape{4, 5}, g);
  p.requires_grad_();
  Sgd opt({p}, {.lr = 0.05, .momentum = 0.9});
  float first = 0, last = 0;
  for (int it = 0; it < 200; ++it) {
    opt.zero_grad();
    Tensor loss = sum(square(sub(p, t)));
    backward(loss);
    opt.step();
    (it == 0 ? first : last) = loss.item<float>();
  }
  ASSERT_GT(first, 1.0f);
  EXPECT_LT(last, 1e-8f * first);
  auto pv = p.to_vector<float>(), tv = t.to_vector<float>();
  for (size_t i = 0; i < pv.size(); ++i) EXPECT_NEAR(pv[i], tv[i], 1e-4) << "element " << i;
}

TEST(Sgd, RejectsBadArguments) {
  Tensor p = leaf<double>({1.0, 2.0});
  EXPECT_THROW(Sgd({p}, {.lr = -0.1}), Error);
  EXPECT_THROW(Sgd({p}, {.lr = 0.1, .momentum = -0.5}), Error);
  EXPECT_THROW(Sgd({p}, {.lr = 0.1, .weight_decay = std::nan("")}), Error);
  EXPECT_THROW(Sgd({p, p}, {.lr = 0.1}), Error);
  EXPECT_THROW(Sgd({Tensor()}, {.lr = 0.1}), Error);
  EXPECT_THROW(Sgd({from_vector<int64_t>({1, 2}, Shape{2})}, {.lr = 0.1}), Error);
  Tensor non_leaf = mul(p, p);
  EXPECT_THROW(Sgd({non_leaf}, {.lr = 0.1}), Error);

  Sgd opt({p}, {.lr = 0.1, .momentum = 0.9});
  EXPECT_THROW(opt.set_momentum_buffers({}), Error);
  EXPECT_THROW(opt.set_momentum_buffers({zeros(Shape{3}, DType::f64)}), Error);
  EXPECT_THROW(opt.set_momentum_buffers({zeros(Shape{2}, DType::f32)}), Error);
  p.set_grad(zeros(Shape{3}, DType::f64));
  try {
    opt.step();
    ADD_FAILURE() << "a gradient of the wrong shape was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[3]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loco

// ---- CudaVsCpu: the CUDA SGD kernel against the CPU one ----
// Three steps (a first step that fills the momentum buffer, then two that read it) with and
// without momentum (no buffer: the kernel gets a null pointer) and weight decay, on a tiny,
// an odd (7×13), a realistic (ConvNet-3's 128·128·3·3 conv weight) and a one-element parameter.
namespace loco {
namespace {

TEST_F(CudaVsCpu, SgdStepsWithAndWithoutMomentum) {
  const SgdOptions options[] = {{.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4},
                                {.lr = 0.1, .momentum = 0.5, .weight_decay = 0.0},
                                {.lr = 0.05, .momentum = 0.0, .weight_decay = 5e-4},
                                {.lr = 0.05, .momentum = 0.0, .weight_decay = 0.0}};
  const Shape shapes[] = {Shape{3}, Shape{7, 13}, Shape{128, 128, 3, 3}, Shape{1}};
  uint64_t stream = 100;
  for (const SgdOptions& o : options)
    for (const Shape& s : shapes) {
      SCOPED_TRACE(s.str() + " lr " + std::to_string(o.lr) + " momentum " + std::to_string(o.momentum) + " wd " +
                   std::to_string(o.weight_decay));
      testing::expect_cuda_matches_cpu(
          [&o](const std::vector<Tensor>& in) {
            Tensor p = in[0].clone();
            Sgd opt({p}, o);
            for (int k = 0; k < 3; ++k) {
              p.set_grad(in[1] * (1.0 + 0.5 * k));  // a new gradient each step
              opt.step();
            }
            std::vector<Tensor> out{p};
            if (o.momentum != 0.0) out.push_back(opt.momentum_buffers()[0]);
            return out;
          },
          {testing::randn32(s, stream), testing::randn32(s, stream + 1)});
      stream += 2;
    }
}

}  // namespace
}  // namespace loco
