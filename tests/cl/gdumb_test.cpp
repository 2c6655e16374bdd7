// GDumb: task subsets, memories within their byte budget, training on the memory only, and a
// tiny generated run that beats chance after every task.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <set>

#include "cl/gdumb.h"
#include "condense/presets.h"
#include "tests/harness/scratch_dir.h"
#include "tests/harness/tiny_data.h"

namespace loco::cl {
namespace {

namespace fs = std::filesystem;

using Gdumb = testing::ScratchDirTest;

TEST_F(Gdumb, ClassSubsetKeepsOnlyTheClassesAskedFor) {
  const auto d = testing::tiny_dataset(4, 1);
  const condense::Dataset s = class_subset(d.train, {7, 2}, true);
  EXPECT_EQ(s.classes, 2);
  EXPECT_EQ(s.size(), 8);
  const auto y = s.labels.to_vector<int64_t>();
  const auto all = d.train.labels.to_vector<int64_t>();
  EXPECT_EQ(std::set<int64_t>(y.begin(), y.end()), (std::set<int64_t>{0, 1}));
  const condense::Dataset k = class_subset(d.train, {7, 2}, false);
  EXPECT_EQ(k.classes, 10);
  const auto ky = k.labels.to_vector<int64_t>();
  EXPECT_EQ(std::set<int64_t>(ky.begin(), ky.end()), (std::set<int64_t>{2, 7}));
  EXPECT_THROW(class_subset(d.train, {10}, true), Error);
}

TEST_F(Gdumb, MemoriesStayWithinTheirBytesAndKeepTheClassIds) {
  const auto d = testing::tiny_dataset(10, 1);
  const std::string dir = path("memory");
  for (const char* method : {"random", "lodm", "dm"}) {
    SCOPED_TRACE(method);
    MemoryOptions o{.method = method, .memory_per_class = 1};
    if (std::string(method) != "random")
      o.condense = condense::resolve_condense({.method = method, .ipc = 1, .iterations = 2, .batch_real = 4,
                                               .init = "real", .model = "ConvNetW32"},
                                              condense::dataset_info("FashionMNIST"));
    const Memory m = fill_memory(d.train, {3, 8}, o, 5, dir);
    EXPECT_LE(m.floats_stored, 2 * 1 * 784) << "over the budget of one full image per class";
    const auto y = m.labels.to_vector<int64_t>();
    EXPECT_EQ(std::set<int64_t>(y.begin(), y.end()), (std::set<int64_t>{3, 8}));
    EXPECT_EQ(m.images.dim(0), static_cast<int64_t>(y.size()));
    EXPECT_EQ(m.images.dim(0), std::string(method) == "lodm" ? 14 : 2);  // 7 rank-2 images in one image's bytes
  }
}

TEST_F(Gdumb, TrainsOnTheMemoryAndBeatsChanceAfterEveryTask) {
  const auto d = testing::tiny_dataset(12, 6);
  const std::string dir = path("run");
  const GdumbOptions o{.tasks = 5, .seeds = 2, .seed = 1,
                       .eval = {.model = "ConvNetW32", .num_eval = 1, .train = {.epochs = 15}}};
  const GdumbCurve c = run_gdumb(d, {{.method = "random", .memory_per_class = 3}}, o, dir).at(0);
  ASSERT_EQ(c.steps.size(), 10u);
  ASSERT_EQ(c.mean.size(), 5u);
  for (const auto& s : c.steps) {
    SCOPED_TRACE("seed " + std::to_string(s.seed_index) + " task " + std::to_string(s.task));
    EXPECT_EQ(s.classes_seen, 2 * (s.task + 1));
    EXPECT_EQ(s.memory_images, 3 * s.classes_seen) << "GDumb must train on the memory only";
    EXPECT_LE(s.memory_floats, 3 * s.classes_seen * 784);
    ASSERT_EQ(s.accuracies.size(), 1u);
    EXPECT_GT(s.accuracies[0], 1.0 / static_cast<double>(s.classes_seen) + 0.25);
  }
}

}  // namespace
}  // namespace loco::cl
