// Class-incremental task splits (spec/continual.md §1): the K classes in a random order from a
// seed, cut into T tasks of K/T consecutive classes. The order is numpy's legacy
// `np.random.seed(s); np.random.permutation(K)` (MT19937 and its masked-rejection shuffle),
// so loco's tasks for seed s are the reference's (CIFAR-10 seed 0: 2 8 4 9 1 6 7 3 0 5).
//
// Shape letters: K classes, T tasks.
#pragma once
#include <cstdint>
#include <vector>

namespace loco::cl {

// numpy.random.RandomState(seed).permutation(n), exactly.
std::vector<int64_t> numpy_permutation(int64_t n, uint32_t seed);

struct TaskSplit {
  std::vector<int64_t> class_order;        // all K classes, in the order they arrive
  std::vector<std::vector<int64_t>> tasks;  // T disjoint blocks of K/T classes
  // The classes of tasks 0..t, in arrival order.
  std::vector<int64_t> seen_after(int64_t t) const;
};

// Throws naming K and T unless 1 ≤ T ≤ K and T divides K.
TaskSplit split_classes(int64_t classes, int64_t tasks, uint32_t seed);

}  // namespace loco::cl
