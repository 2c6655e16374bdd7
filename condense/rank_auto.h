// --rank auto (issue 13, item 7; beyond the paper, whose conclusion names adaptive rank as
// future work): the rank a low-rank set gets for a fixed byte budget, chosen by a cheap proxy
// measured on the real training images before any condensation.
//
// The proxy. A same-memory budget of K full images per class buys n(r) = ⌊K·H·W/(r·(H+W))⌋
// images of rank r: a higher rank keeps more of each image, a lower one affords more images.
// For each candidate r (1, 2, 4, … below min(H, W) whose n(r) ≥ 1 images fit the memory) the
// proxy builds exactly what real initialisation would: n(r) real images of each class, each
// plane replaced by its
// rank-r truncated SVD, and scores that set by the accuracy of the 1-nearest-neighbour
// classifier it defines (Euclidean, on normalised pixels) over held-out real images of every
// class. The highest score wins; a tie goes to the lower rank. Held-out and candidate images are
// disjoint, and the candidates of rank r are the first n(r) of one draw per class, so every
// rank is scored on the same images (common random numbers: differences are not draw noise).
// Also reported, not used: the energy each rank keeps (share of the images' squared norm).
//
// What it sees is the initial set, not the condensed one, and 1-NN, not a trained network:
// the README compares its choice with the best measured rank.
//
// Shape letters: K classes, n images per class, C channels, H×W image, r rank.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "condense/data/dataset.h"
#include "engine/rng.h"

namespace loco::condense {

// Stream of the run seed the proxy's draws come from (distinct from every other stream).
constexpr uint64_t kStreamRankAuto = 10u << 20;

struct RankCandidate {
  int64_t rank = 0;
  int64_t images_per_class = 0;
  double energy = 0;        // Σ‖rank-r approximation‖² / Σ‖image‖² over the candidate images
  double nn_accuracy = 0;   // 1-NN accuracy of the held-out images against the candidate set
};

struct RankChoice {
  int64_t rank = 0;
  int64_t held_out_per_class = 0;
  std::vector<RankCandidate> candidates;  // ascending rank
};

// ipc: the budget (K full images per class, same-memory). held_out_per_class images of each
// class are scored (fewer when a class has too few images for both roles). Throws naming the
// budget when no rank is a candidate or a class has fewer than two images.
// max_images_per_class: ranks whose n(r) exceeds it are no candidates (real initialisation
// cannot draw more images than the smallest class has).
RankChoice choose_rank(const Dataset& train, const ClassIndex& index, int64_t ipc, uint64_t seed,
                       int64_t max_images_per_class = std::numeric_limits<int64_t>::max(), int64_t held_out_per_class = 200);

}  // namespace loco::condense
