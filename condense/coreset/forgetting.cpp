// Forgetting events (Toneva et al., 2019; spec/evaluation.md §3): a 1 → 0 transition of an
// example's correctness between two consecutive presentations. Examples never classified
// correctly count as forgotten infinitely often.
#include <algorithm>

#include "condense/coreset/coreset.h"

namespace loco::condense {

ForgettingCounter::ForgettingCounter(int64_t n)
    : last_(static_cast<size_t>(n), -1), events_(static_cast<size_t>(n), 0), learned_(static_cast<size_t>(n), false) {}

void ForgettingCounter::update(const std::vector<int64_t>& rows, const std::vector<bool>& correct) {
  LOCO_CHECK(rows.size() == correct.size(), "forgetting: ", rows.size(), " rows but ", correct.size(), " results");
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto r = static_cast<size_t>(rows[i]);
    LOCO_CHECK(rows[i] >= 0 && r < last_.size(), "forgetting: row ", rows[i], " outside 0..", last_.size() - 1);
    if (last_[r] == 1 && !correct[i]) ++events_[r];
    if (correct[i]) learned_[r] = true;
    last_[r] = correct[i] ? 1 : 0;
  }
}

std::vector<int64_t> ForgettingCounter::counts() const {
  std::vector<int64_t> c = events_;
  for (size_t i = 0; i < c.size(); ++i)
    if (!learned_[i]) c[i] = kNeverLearned;
  return c;
}

std::vector<int64_t> most_forgotten(const std::vector<int64_t>& rows, const std::vector<int64_t>& counts, int64_t k,
                                    Generator& g) {
  LOCO_CHECK(k >= 0 && k <= static_cast<int64_t>(rows.size()), "forgetting: cannot pick ", k, " of ", rows.size(),
             " images");
  // A random order first, then a stable sort by count: equal counts stay in random order.
  std::vector<int64_t> order;
  for (int64_t i : rand_permutation(static_cast<int64_t>(rows.size()), g)) order.push_back(rows[static_cast<size_t>(i)]);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return counts[static_cast<size_t>(a)] > counts[static_cast<size_t>(b)];
  });
  order.resize(static_cast<size_t>(k));
  return order;
}

}  // namespace loco::condense
