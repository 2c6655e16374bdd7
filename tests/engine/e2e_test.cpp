// End-to-end checks of the engine as the methods use it: a small conv net learns a generated
// 4-class problem by SGD, and one gradient-matching step (double backward through the whole
// net) lowers the matching distance.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "engine/rng.h"

namespace loco {
namespace {

constexpr int64_t kClasses = 4, kSide = 8;

// Class k lights up quadrant k of an 8×8 image; noise on top.
void make_data(int64_t per_class, uint64_t stream, Tensor& x, Tensor& y) {
  Generator g(42, stream);
  std::vector<float> px(static_cast<size_t>(kClasses * per_class * kSide * kSide));
  std::vector<int64_t> labels;
  auto noise = rand_normal(Shape{static_cast<int64_t>(px.size())}, g, 0.0, 0.3).to_vector<float>();
  for (int64_t c = 0; c < kClasses; ++c)
    for (int64_t i = 0; i < per_class; ++i) {
      const int64_t n = c * per_class + i;
      labels.push_back(c);
      for (int64_t r = 0; r < kSide; ++r)
        for (int64_t q = 0; q < kSide; ++q) {
          const bool lit = (r < 4) == (c < 2) && (q < 4) == (c % 2 == 0);
          const auto k = static_cast<size_t>((n * kSide + r) * kSide + q);
          px[k] = (lit ? 1.0f : -0.5f) + noise[k];
        }
    }
  x = from_vector(px, Shape{kClasses * per_class, 1, kSide, kSide});
  y = from_vector(labels, Shape{kClasses * per_class});
}

struct TinyNet {
  std::vector<Tensor> params;  // conv1.w, conv1.b, conv2.w, conv2.b, fc.w, fc.b
  bool norm = false;           // instance norm after each conv (the gradient-matching path)

  explicit TinyNet(uint64_t stream, bool with_norm = false) : norm(with_norm) {
    Generator g(7, stream);
    auto uniform = [&](Shape s, double fan_in) {
      const double b = 1.0 / std::sqrt(fan_in);
      Tensor t = rand_uniform(s, g, -b, b);
      t.requires_grad_();
      return t;
    };
    params = {uniform({8, 1, 3, 3}, 9), uniform({8}, 9), uniform({8, 8, 3, 3}, 72), uniform({8}, 72),
              uniform({kClasses, 32}, 32), uniform({kClasses}, 32)};
    if (norm)
      for (int i = 0; i < 2; ++i) {
        params.push_back(full(Shape{8}, 1.0).requires_grad_());
        params.push_back(zeros(Shape{8}).requires_grad_());
      }
  }
  Tensor block(const Tensor& x, int i) const {
    Tensor h = conv2d(x, params[static_cast<size_t>(2 * i)], params[static_cast<size_t>(2 * i + 1)], {.stride = 1, .padding = 1});
    if (norm) h = group_norm(h, 8, params[static_cast<size_t>(6 + 2 * i)], params[static_cast<size_t>(7 + 2 * i)]);
    return avg_pool2(relu(h));
  }
  Tensor forward(const Tensor& x) const { return linear(flatten(block(block(x, 0), 1)), params[4], params[5]); }
};

double accuracy(const Tensor& logits, const Tensor& y) {
  auto p = argmax_rows(logits).to_vector<int64_t>();
  auto t = y.to_vector<int64_t>();
  int64_t ok = 0;
  for (size_t i = 0; i < p.size(); ++i) ok += p[i] == t[i];
  return static_cast<double>(ok) / static_cast<double>(p.size());
}

TEST(EndToEnd, TwoConvNetLearnsGeneratedProblem) {
  Tensor x, y;
  make_data(16, 1, x, y);
  TinyNet net(1);
  Sgd opt(net.params, {.lr = 0.05, .momentum = 0.9});
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    backward(loss);
    opt.step();
    (step == 0 ? first : last) = loss.item<float>();
  }
  EXPECT_LT(last, 0.1 * first) << "loss " << first << " → " << last;
  NoGradGuard ng;
  EXPECT_EQ(accuracy(net.forward(x), y), 1.0);
}

TEST(EndToEnd, GradientMatchingStepLowersTheDistance) {
  Tensor x_real, y_real, x_syn, y_syn;
  make_data(16, 2, x_real, y_real);
  make_data(2, 3, x_syn, y_syn);
  {
    Generator g(5, 0);
    x_syn = rand_normal(x_syn.shape(), g);  // synthetic images start as noise
  }
  x_syn.requires_grad_();
  TinyNet net(2, /*with_norm=*/true);

  auto distance = [&](const Tensor& xs) {
    auto g_real = grad(cross_entropy(net.forward(x_real), y_real), net.params);
    auto g_syn = grad(cross_entropy(net.forward(xs), y_syn), net.params, {.create_graph = true});
    return gm_distance(g_syn, g_real, GmMetric::ours);
  };
  Tensor d0 = distance(x_syn);
  auto dx = grad(d0, {x_syn});
  ASSERT_GT(sum(mul(dx[0], dx[0])).item<float>(), 0.0f) << "no gradient reached the synthetic images";
  Tensor moved = sub(x_syn.detach(), dx[0] * 0.5).requires_grad_();
  Tensor d1 = distance(moved);
  EXPECT_LT(d1.item<float>(), d0.item<float>());
}

}  // namespace
}  // namespace loco
