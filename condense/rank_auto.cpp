#include "condense/rank_auto.h"

#include <algorithm>
#include <limits>

#include "condense/param/synset.h"
#include "engine/autograd/tape.h"
#include "engine/ops.h"

namespace loco::condense {
namespace {

// Distances are computed for this many held-out rows at a time, so memory stays bounded by
// about 64 MiB of scores whatever the set's size (TinyImageNet at rank 1 is 320 000 images).
constexpr int64_t kMaxScores = int64_t{16} << 20;

// 1-NN accuracy of rows `held` (labels held_labels) against `refs` [M, D] labelled ref_labels.
double nn_accuracy(const Tensor& held, const std::vector<int64_t>& held_labels, const Tensor& refs,
                   const std::vector<int64_t>& ref_labels) {
  const int64_t m = refs.dim(0), d = refs.dim(1), nv = held.dim(0);
  const Tensor norms = sum(square(refs), {1});  // ‖p‖²; ‖v‖² is the same for every p of a row
  const float* pn = norms.data<float>();
  const int64_t chunk = std::max<int64_t>(1, kMaxScores / std::max<int64_t>(m, 1));
  int64_t right = 0;
  for (int64_t b = 0; b < nv; b += chunk) {
    const int64_t e = std::min(nv, b + chunk);
    const Tensor dots = matmul(reshape(slice(held, b, e), {e - b, d}), refs, false, true);  // [e−b, M]
    const float* s = dots.data<float>();
    for (int64_t i = 0; i < e - b; ++i) {
      int64_t best = 0;
      float best_d = std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < m; ++j) {
        const float dist = pn[j] - 2.0f * s[i * m + j];
        if (dist < best_d) best_d = dist, best = j;
      }
      right += ref_labels[static_cast<size_t>(best)] == held_labels[static_cast<size_t>(b + i)];
    }
  }
  return static_cast<double>(right) / static_cast<double>(nv);
}

}  // namespace

RankChoice choose_rank(const Dataset& train, const ClassIndex& index, int64_t ipc, uint64_t seed,
                       int64_t max_images_per_class, int64_t held_out_per_class) {
  LOCO_CHECK(ipc >= 1, "--rank auto: --ipc must be ≥ 1, got ", ipc);
  NoGradGuard no_grad;
  const int64_t k = index.classes(), h = train.height(), w = train.width();
  const int64_t d = train.channels() * h * w;
  RankChoice out;
  std::vector<int64_t> ranks;
  // A rank is a candidate only when its images fit the memory: the budget function keeps one
  // image per class even when a single one costs more than ipc full images.
  for (int64_t r = 1; r < std::min(h, w); r *= 2) {
    const int64_t n = lowrank_images_per_class(ipc, h, w, r, Budget::same_memory);
    if (n >= 1 && n * r * (h + w) <= ipc * h * w && n <= max_images_per_class) ranks.push_back(r);
  }
  LOCO_CHECK(!ranks.empty(), "--rank auto: at --ipc ", ipc, " no rank below min(H, W) = ", std::min(h, w),
             " affords an image per class within the memory and at most ", max_images_per_class,
             " (the smallest class, for real initialisation)");
  const int64_t most = lowrank_images_per_class(ipc, h, w, ranks.front(), Budget::same_memory);
  // About 2000 held-out images in all, at most held_out_per_class of each class.
  const int64_t v = std::max<int64_t>(1, std::min(held_out_per_class, 2000 / k));
  out.held_out_per_class = v;

  Generator g(seed, kStreamRankAuto);
  std::vector<std::vector<int64_t>> pool(static_cast<size_t>(k));  // each class's candidates, in draw order
  std::vector<int64_t> held_rows, held_labels;
  for (int64_t c = 0; c < k; ++c) {
    const std::vector<int64_t> drawn = index.sample(c, c + 1, v + most, g);
    LOCO_CHECK(drawn.size() >= 2, "--rank auto: class ", c, " has ", drawn.size(),
               " training images; the proxy needs two (one to hold out, one to keep)");
    const size_t held = std::min<size_t>(static_cast<size_t>(v), drawn.size() / 2);
    held_rows.insert(held_rows.end(), drawn.begin(), drawn.begin() + static_cast<std::ptrdiff_t>(held));
    held_labels.insert(held_labels.end(), held, c);
    pool[static_cast<size_t>(c)].assign(drawn.begin() + static_cast<std::ptrdiff_t>(held), drawn.end());
  }
  const Tensor held = train.images(held_rows).to(Device::cpu);

  double best = -1;
  for (const int64_t r : ranks) {
    RankCandidate cand{.rank = r, .images_per_class = lowrank_images_per_class(ipc, h, w, r, Budget::same_memory)};
    std::vector<int64_t> rows, labels;
    for (int64_t c = 0; c < k; ++c) {
      const auto& p = pool[static_cast<size_t>(c)];
      const size_t n = std::min(p.size(), static_cast<size_t>(cand.images_per_class));
      rows.insert(rows.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
      labels.insert(labels.end(), n, c);
    }
    const Tensor x = train.images(rows).to(Device::cpu);
    Tensor a, b;
    truncated_svd_factors(x, r, a, b);
    const Tensor approx = reshape(lowrank_reconstruct(a, b), {x.dim(0), d});
    cand.energy = sum(square(approx)).item_as_double() / sum(square(x)).item_as_double();
    cand.nn_accuracy = nn_accuracy(held, held_labels, approx, labels);
    if (cand.nn_accuracy > best) best = cand.nn_accuracy, out.rank = r;
    out.candidates.push_back(cand);
  }
  return out;
}

}  // namespace loco::condense
