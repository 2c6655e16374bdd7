// The evaluation protocol on a tiny generated problem: real learning, the E+1-epoch schedule,
// reproducibility from the seed, and clear errors.
#include <gtest/gtest.h>

#include <cmath>

#include "condense/eval/protocol.h"
#include "models/networks.h"
#include "tests/harness/tiny_data.h"

namespace loco::condense {
namespace {

TEST(Protocol, TrainedNetworkBeatsChanceByFar) {
  const auto d = testing::tiny_dataset(20, 10);
  Generator init(1, 0), g(1, 1);
  auto net = models::make_network("ConvNetW32", 1, 10, 28, init);
  const double before = test_accuracy(*net, d.test);
  TrainSchedule s{.epochs = 20, .batch = 64};
  const TrainResult r = train_network(*net, d.train, s, g);
  const double after = test_accuracy(*net, d.test);
  EXPECT_GT(after, 0.8) << "before training " << before;
  EXPECT_GT(r.last_epoch_accuracy, 0.8);
  EXPECT_GT(r.seconds, 0.0);
}

TEST(Protocol, RunsEPlusOneEpochsOfMinibatches) {
  const auto d = testing::tiny_dataset(10, 1);  // 100 images: batches of 64 and 36
  Generator init(2, 0), g(2, 1);
  auto net = models::make_network("ConvNetW32", 1, 10, 28, init);
  int64_t calls = 0, epochs_done = 0, last_total = 0, rows_seen = 0;
  const TrainSchedule s{.epochs = 3, .batch = 64};
  int64_t epoch_calls = 0;
  train_network(
      *net, d.train, s, g,
      [&](const Progress& p) {
        ++calls;
        epochs_done += p.epoch_done;
        last_total = p.total;
        EXPECT_EQ(p.step, calls);
        EXPECT_EQ(p.epochs, 4);
      },
      [&](const std::vector<int64_t>& rows, const Tensor& logits) {
        rows_seen += static_cast<int64_t>(rows.size());
        EXPECT_EQ(logits.shape(), (Shape{static_cast<int64_t>(rows.size()), 10}));
      },
      [&](models::Module& m, const EpochEnd& e) {
        ++epoch_calls;
        EXPECT_EQ(&m, net.get());
        EXPECT_EQ(e.epoch, epoch_calls);
        EXPECT_EQ(e.epochs, 4);
        EXPECT_GT(e.loss, 0.0);
      });
  EXPECT_EQ(epoch_calls, 4);
  EXPECT_EQ(epochs_done, 4);  // the reference's `for ep in range(Epoch + 1)`
  EXPECT_EQ(calls, 8);
  EXPECT_EQ(last_total, 8);
  EXPECT_EQ(rows_seen, 400);
}

TEST(Protocol, EvaluateSetRepeatsFromItsSeedAndAddsModelsWithoutChangingTheFirst) {
  const auto d = testing::tiny_dataset(3, 5);
  EvalOptions o{.model = "ConvNetW32", .num_eval = 1, .train = {.epochs = 4}, .seed = 5};
  const EvalResult a = evaluate_set(d.train, d.test, o);
  const EvalResult b = evaluate_set(d.train, d.test, o);
  o.num_eval = 2;
  const EvalResult c = evaluate_set(d.train, d.test, o);
  ASSERT_EQ(a.accuracies.size(), 1u);
  ASSERT_EQ(c.accuracies.size(), 2u);
  EXPECT_EQ(a.accuracies, b.accuracies);
  EXPECT_EQ(a.accuracies[0], c.accuracies[0]);
  EXPECT_EQ(c.model, "ConvNetW32");
  EXPECT_EQ(c.epochs, 4);
  double m, s;
  mean_std(c.accuracies, m, s);
  EXPECT_DOUBLE_EQ(c.mean, m);
  EXPECT_DOUBLE_EQ(c.std, s);
}

TEST(Protocol, EpochHookSeesEveryNetworkAndEpochAndTheLastNetworkIsKept) {
  const auto d = testing::tiny_dataset(2, 2);
  const EvalOptions o{.model = "ConvNetW32", .num_eval = 2, .train = {.epochs = 2}, .seed = 3};
  std::vector<std::pair<int64_t, int64_t>> seen;
  const models::Module* last = nullptr;
  const EvalResult r = evaluate_set(d.train, d.test, o, {}, [&](models::Module& net, const EpochEnd& e) {
    seen.emplace_back(e.network, e.epoch);
    last = &net;
    EXPECT_GE(test_accuracy(net, d.test), 0.0);  // a hook may test the network on the way
  });
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {0, 2}, {0, 3}, {1, 1}, {1, 2}, {1, 3}}));
  ASSERT_TRUE(r.last_network);
  EXPECT_EQ(r.last_network.get(), last);
  // Testing inside the hook draws nothing from the training streams: the result is unchanged.
  EXPECT_EQ(r.accuracies, evaluate_set(d.train, d.test, o).accuracies);
}

TEST(Protocol, MeanAndPopulationStd) {
  double m, s;
  mean_std({0.5, 0.7, 0.9}, m, s);
  EXPECT_NEAR(m, 0.7, 1e-12);
  EXPECT_NEAR(s, std::sqrt(0.08 / 3), 1e-12);  // np.std: ddof 0
}

TEST(Protocol, BadInputsThrowNamingTheFault) {
  const auto d = testing::tiny_dataset(1, 1);
  EvalOptions o{.model = "ConvNetW32", .num_eval = 0};
  EXPECT_THROW(
      try { evaluate_set(d.train, d.test, o); } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--num-eval"), std::string::npos) << e.what();
        throw;
      },
      Error);
  o.num_eval = 1;
  o.model = "NoSuchNet";
  EXPECT_THROW(evaluate_set(d.train, d.test, o), Error);
  o.model = "ConvNetW32";
  const Tensor wrong = zeros({10, 1, 32, 32});
  EXPECT_THROW(evaluate_set(Dataset::of_images(wrong, d.train.labels, 10), d.test, o), Error);
}

}  // namespace
}  // namespace loco::condense
