// numpy's legacy shuffle: for i = n−1 … 1, j = a uniform draw from 0..i by masking 32-bit
// MT19937 outputs to the smallest all-ones mask ≥ i and rejecting values above i; swap x[i], x[j].
// std::mt19937(seed) is numpy's init_genrand(seed).
#include "cl/splits.h"

#include <random>

#include "engine/check.h"

namespace loco::cl {

std::vector<int64_t> numpy_permutation(int64_t n, uint32_t seed) {
  std::mt19937 mt(seed);
  std::vector<int64_t> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    uint64_t mask = static_cast<uint64_t>(i);
    for (int s = 1; s < 64; s <<= 1) mask |= mask >> s;
    uint64_t j;
    do j = static_cast<uint64_t>(mt()) & mask;
    while (j > static_cast<uint64_t>(i));
    std::swap(x[static_cast<size_t>(i)], x[static_cast<size_t>(j)]);
  }
  return x;
}

std::vector<int64_t> TaskSplit::seen_after(int64_t t) const {
  LOCO_CHECK(t >= 0 && t < static_cast<int64_t>(tasks.size()), "task ", t, " of ", tasks.size());
  std::vector<int64_t> seen;
  for (int64_t k = 0; k <= t; ++k) seen.insert(seen.end(), tasks[k].begin(), tasks[k].end());
  return seen;
}

TaskSplit split_classes(int64_t classes, int64_t tasks, uint32_t seed) {
  LOCO_CHECK(tasks >= 1 && tasks <= classes && classes % tasks == 0, "--tasks ", tasks, " must divide the ", classes,
             " classes into equal tasks");
  TaskSplit s;
  s.class_order = numpy_permutation(classes, seed);
  const int64_t per = classes / tasks;
  for (int64_t t = 0; t < tasks; ++t)
    s.tasks.emplace_back(s.class_order.begin() + t * per, s.class_order.begin() + (t + 1) * per);
  return s;
}

}  // namespace loco::cl
