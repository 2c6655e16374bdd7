// What every parameterisation shares: budgets, initialisation names, labels, real-image
// sampling, and the factory that picks PixelSet (pixel_set.cpp) or LowRankSet (lowrank_set.cpp).
#include "condense/param/synset.h"

#include <cmath>

#include "dist/dist.h"
#include "engine/ops.h"

namespace loco::condense {

Budget parse_budget(const std::string& s) {
  if (s == "same-memory" || s == "sm") return Budget::same_memory;
  if (s == "same-images" || s == "si") return Budget::same_images;
  LOCO_FAIL("--budget: expected same-memory or same-images, got '", s, "'");
}
const char* budget_name(Budget b) { return b == Budget::same_memory ? "same-memory" : "same-images"; }

int64_t lowrank_images_per_class(int64_t ipc, int64_t h, int64_t w, int64_t rank, Budget b) {
  LOCO_CHECK(ipc >= 1 && rank >= 1 && rank < std::min(h, w), "low-rank budget: ipc ", ipc, " and rank ", rank,
             " for ", h, "×", w, " images (need ipc ≥ 1 and 1 ≤ rank < ", std::min(h, w), ")");
  if (b == Budget::same_images) return ipc;
  return std::max<int64_t>(1, ipc * h * w / (rank * (h + w)));
}

int64_t lowrank_images_per_class_reference(int64_t ipc, int64_t h, int64_t w, int64_t rank) {
  return ipc * static_cast<int64_t>(static_cast<double>(h * w) / static_cast<double>(h * rank + w * rank));
}

void gather_classes(SyntheticSet& set) {
  for (Tensor p : set.parameters()) dist::allgather_blocks(p, set.classes());
}

Init parse_init(const std::string& s) {
  if (s == "noise") return Init::noise;
  if (s == "real") return Init::real;
  LOCO_FAIL("--init: expected noise or real, got '", s, "'");
}
const char* init_name(Init i) { return i == Init::noise ? "noise" : "real"; }

SyntheticSet::SyntheticSet(int64_t classes, int64_t per_class, Device d) : classes_(classes), per_class_(per_class) {
  std::vector<int64_t> y;
  for (int64_t c = 0; c < classes; ++c) y.insert(y.end(), static_cast<size_t>(per_class), c);
  labels_ = from_vector(y, Shape({classes * per_class}), d);
}

Tensor real_init_images(const Dataset& real, const ClassIndex& index, int64_t classes, int64_t n, Generator& g) {
  for (int64_t c = 0; c < classes; ++c)
    LOCO_CHECK(static_cast<int64_t>(index.rows(c).size()) >= n, "--init real: class ", c, " of ", real.name, " has ",
               index.rows(c).size(), " images, fewer than the ", n, " the set needs");
  return real.images(index.sample(0, classes, n, g));
}

std::unique_ptr<SyntheticSet> make_synthetic_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                                 Generator& g) {
  LOCO_CHECK(s.classes >= 1 && s.per_class >= 1, "synthetic set: ", s.classes, " classes × ", s.per_class,
             " images per class");
  LOCO_CHECK(s.rank >= 0 && s.rank < std::min(s.height, s.width), "--rank ", s.rank, " must be below min(H, W) = ",
             std::min(s.height, s.width), " for ", s.height, "×", s.width, " images");
  LOCO_CHECK(s.init != Init::real || (real && index), "--init real needs the real training images");
  return s.rank == 0 ? make_pixel_set(s, real, index, g) : make_lowrank_set(s, real, index, g);
}

}  // namespace loco::condense
