// One step of the evaluation protocol's trainer at Fashion-MNIST shape: ConvNet-3 (width 128,
// instance norm, relu, avg pool) on a batch of 256 1×28×28 images, forward + cross-entropy +
// backward + SGD (momentum 0.9, weight decay 5e-4), without and with non-Siamese DSA, and the
// inference forward of 1024 test images. The same units as ../shared/peer's eval_train_step,
// eval_train_step_dsa and test_forward_1024, so the two read side by side.
#include <benchmark/benchmark.h>

#include "condense/augment/augment.h"
#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"

namespace loco {
namespace {

void BM_eval_train_step_cpu(benchmark::State& st) {
  const bool aug = st.range(0) != 0;
  Generator g(3, 0);
  auto net = models::make_network("ConvNet", 1, 10, 28, g);
  Sgd sgd(net->parameters(), {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
  const Tensor x = rand_normal({256, 1, 28, 28}, g);
  std::vector<int64_t> y(256);
  for (int64_t i = 0; i < 256; ++i) y[i] = i % 10;
  const Tensor labels = from_vector(y, {256});
  const auto strategy = condense::DsaStrategy::parse("color_crop_cutout_flip_scale_rotate");
  const double first_loss = cross_entropy(net->forward(x), labels).item_as_double();
  double loss = 0;
  for (auto _ : st) {
    Tensor xb = x;
    if (aug) {
      NoGradGuard data;
      xb = condense::dsa(x, strategy, g, false);
    }
    const Tensor l = cross_entropy(net->forward(xb), labels);
    sgd.zero_grad();
    backward(l);
    sgd.step();
    loss = l.item_as_double();
  }
  // Training on a fixed batch must lower its loss, else the step is wrong and its time meaningless.
  if (!aug && st.iterations() > 3 && !(loss < first_loss)) st.SkipWithError("the loss did not fall");
  st.counters["images/s"] = benchmark::Counter(256.0 * static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_eval_train_step_cpu)->ArgName("dsa")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_test_forward_1024_cpu(benchmark::State& st) {
  Generator g(4, 0);
  auto net = models::make_network("ConvNet", 1, 10, 28, g);
  net->eval();
  const Tensor x = rand_normal({1024, 1, 28, 28}, g);
  for (auto _ : st) {
    NoGradGuard no_grad;
    benchmark::DoNotOptimize(net->forward(x).raw());
  }
  st.counters["images/s"] = benchmark::Counter(1024.0 * static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_test_forward_1024_cpu)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace loco
