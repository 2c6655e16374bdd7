// Class-incremental splits: numpy's permutation bit for bit (the spec's tables), disjoint
// tasks covering every class, clear errors.
#include <gtest/gtest.h>

#include <set>

#include "cl/splits.h"
#include "engine/check.h"

namespace loco::cl {
namespace {

TEST(Splits, ClassOrderIsNumpysLegacyPermutation) {
  // spec/continual.md §1: CIFAR-10 orders for seeds 0..4, and the well-known seed 42.
  const std::vector<std::vector<int64_t>> cifar10 = {{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}, {2, 9, 6, 4, 0, 3, 1, 7, 8, 5},
                                                     {4, 1, 5, 0, 7, 2, 3, 6, 9, 8}, {5, 4, 1, 2, 9, 6, 7, 0, 3, 8},
                                                     {3, 8, 4, 9, 2, 6, 0, 1, 5, 7}};
  for (uint32_t s = 0; s < 5; ++s) EXPECT_EQ(numpy_permutation(10, s), cifar10[s]) << "seed " << s;
  EXPECT_EQ(numpy_permutation(10, 42), (std::vector<int64_t>{8, 1, 5, 0, 7, 2, 9, 4, 3, 6}));
  const auto c100 = numpy_permutation(100, 0);  // CIFAR-100 seed 0 starts 26 86 2 55 75 …
  EXPECT_EQ(std::vector<int64_t>(c100.begin(), c100.begin() + 6), (std::vector<int64_t>{26, 86, 2, 55, 75, 93}));
  EXPECT_EQ(c100.back(), 44);
}

TEST(Splits, TasksAreDisjointAndCoverEveryClass) {
  for (int64_t tasks : {1, 2, 5, 10}) {
    const TaskSplit s = split_classes(10, tasks, 3);
    ASSERT_EQ(static_cast<int64_t>(s.tasks.size()), tasks);
    std::set<int64_t> all;
    for (const auto& t : s.tasks) {
      EXPECT_EQ(static_cast<int64_t>(t.size()), 10 / tasks);
      for (int64_t c : t) EXPECT_TRUE(all.insert(c).second) << "class " << c << " in two tasks";
    }
    EXPECT_EQ(all.size(), 10u);
    EXPECT_EQ(s.seen_after(tasks - 1), s.class_order);
  }
  EXPECT_EQ(split_classes(10, 5, 0).tasks[1], (std::vector<int64_t>{4, 9}));
  EXPECT_THROW(split_classes(10, 3, 0), Error);
  EXPECT_THROW(split_classes(10, 0, 0), Error);
  EXPECT_THROW(split_classes(10, 5, 0).seen_after(5), Error);
}

}  // namespace
}  // namespace loco::cl
