// Coresets: herding's pick order, forgetting's event counts on a hand-made sequence, and the
// three methods end to end on a tiny generated problem.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "condense/coreset/coreset.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "models/networks.h"
#include "tests/harness/tiny_data.h"

namespace loco::condense {
namespace {

TEST(Herding, PicksTheSampleNearestTheMeanFirstThenMatchesTheRunningMean) {
  // Mean (1, 1). Row 2 is nearest it. Then the target is 2μ − f2 = (1.1, 0.9): row 0 (1.5, 0.5)
  // is at 0.32 (squared), row 4 (0.4, 1) at 0.5, row 1 (2, 0) at 1.62.
  const Tensor f = from_vector<float>({1.5f, 0.5f, 2.0f, 0.0f, 0.9f, 1.1f, 0.2f, 2.4f, 0.4f, 1.0f}, {5, 2});
  const auto picks = herding_select(f, 5);
  ASSERT_EQ(picks.size(), 5u);
  EXPECT_EQ(picks[0], 2);
  EXPECT_EQ(picks[1], 0);
  EXPECT_EQ(std::set<int64_t>(picks.begin(), picks.end()).size(), 5u);
  EXPECT_THROW(herding_select(f, 6), Error);
}

TEST(Forgetting, CountsOneToZeroTransitionsAndNeverLearnedIsMaximal) {
  ForgettingCounter c(4);
  // Presentations, one minibatch each: rows in varying order.
  c.update({0, 1, 2, 3}, {true, false, true, false});
  c.update({3, 2, 1, 0}, {true, true, false, false});   // row 0 forgets (1 → 0)
  c.update({0, 2}, {true, true});
  c.update({1, 3, 0, 2}, {false, false, false, true});  // rows 0 and 3 forget
  const auto n = c.counts();
  EXPECT_EQ(n[0], 2);
  EXPECT_EQ(n[1], ForgettingCounter::kNeverLearned);
  EXPECT_EQ(n[2], 0);
  EXPECT_EQ(n[3], 1);
  EXPECT_THROW(c.update({4}, {true}), Error);
  EXPECT_THROW(c.update({0, 1}, {true}), Error);
}

TEST(Forgetting, MostForgottenTakesTheHighestCountsAndBreaksTiesAtRandom) {
  const std::vector<int64_t> counts = {0, 5, 1, 5, 5, 3, 0};
  const std::vector<int64_t> rows = {0, 1, 2, 3, 4, 5, 6};
  std::set<std::vector<int64_t>> orders;
  for (uint64_t s = 0; s < 16; ++s) {
    Generator g(s, 0);
    const auto top = most_forgotten(rows, counts, 4, g);
    ASSERT_EQ(top.size(), 4u);
    EXPECT_EQ(std::set<int64_t>(top.begin(), top.begin() + 3), (std::set<int64_t>{1, 3, 4}));
    EXPECT_EQ(top[3], 5);
    orders.insert(top);
  }
  EXPECT_GT(orders.size(), 1u) << "ties were always broken the same way";
}

TEST(Coreset, EveryMethodPicksDistinctRowsOfEachClassInClassMajorOrder) {
  const auto d = testing::tiny_dataset(12, 1);
  const auto labels = d.train.labels.to_vector<int64_t>();
  for (const auto& method : coreset_methods()) {
    SCOPED_TRACE(method);
    const CoresetOptions o{.method = method, .ipc = 3, .seed = 4, .model = "ConvNetW32", .epochs = 1};
    const Coreset cs = select_coreset(d.train, o);
    ASSERT_EQ(cs.rows.size(), 30u);
    EXPECT_EQ(std::set<int64_t>(cs.rows.begin(), cs.rows.end()).size(), 30u);
    const auto y = cs.labels.to_vector<int64_t>();
    for (size_t i = 0; i < cs.rows.size(); ++i) {
      EXPECT_EQ(y[i], static_cast<int64_t>(i / 3));
      EXPECT_EQ(labels[static_cast<size_t>(cs.rows[i])], y[i]);
    }
    EXPECT_EQ(cs.images.shape(), (Shape{30, 1, 28, 28}));
    const auto img = cs.images.to_vector<float>(), all = d.train.images(0, d.train.size()).to_vector<float>();
    for (int64_t p = 0; p < 784; ++p) EXPECT_EQ(img[static_cast<size_t>(784 + p)], all[static_cast<size_t>(cs.rows[1] * 784 + p)]);
    EXPECT_EQ(select_coreset(d.train, o).rows, cs.rows) << "not reproducible from the seed";
    EXPECT_EQ(cs.forgetting_events.size(), method == "forgetting" ? 30u : 0u);
  }
}

TEST(Coreset, HerdingUsesSavedFeatureWeights) {
  const auto d = testing::tiny_dataset(8, 1);
  Generator init(9, 0);
  auto net = models::make_network("ConvNetW32", 1, 10, 28, init);
  const std::string path = ::testing::TempDir() + "loco_feature_weights.safetensors";
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t i = 0; i < net->parameters().size(); ++i) named.emplace_back(net->parameter_names()[i], net->parameters()[i]);
  save_safetensors(path, named);
  const CoresetOptions o{.method = "herding", .ipc = 2, .model = "ConvNetW32", .feature_weights = path};
  const Coreset cs = select_coreset(d.train, o);
  // The same picks from the same network's features, computed here.
  const ClassIndex index(d.train.labels, 10);
  NoGradGuard no_grad;
  for (int64_t c = 0; c < 10; ++c) {
    const auto& rows = index.rows(c);
    const Tensor f = net->embed(d.train.images(rows));
    const auto picks = herding_select(f, 2);
    EXPECT_EQ(cs.rows[static_cast<size_t>(2 * c)], rows[static_cast<size_t>(picks[0])]);
    EXPECT_EQ(cs.rows[static_cast<size_t>(2 * c + 1)], rows[static_cast<size_t>(picks[1])]);
  }
  try {
    select_coreset(d.train, {.method = "herding", .ipc = 2, .model = "ConvNet", .feature_weights = path});
    ADD_FAILURE() << "weights of another architecture were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(Coreset, BadRequestsNameTheFault) {
  const auto d = testing::tiny_dataset(2, 1);
  auto expect = [&](const CoresetOptions& o, const std::string& part) {
    try {
      select_coreset(d.train, o);
      ADD_FAILURE() << "no error for " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect({.method = "kcenter", .ipc = 1}, "kcenter");
  expect({.method = "random", .ipc = 3}, "fewer than --ipc 3");
  expect({.method = "random", .ipc = 0}, "--ipc");
}

}  // namespace
}  // namespace loco::condense
