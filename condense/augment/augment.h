// Augmentation (spec/augmentation.md): DSA's differentiable augmentations and DC's
// non-differentiable evaluation augmentation. Images are N×C×H×W in normalised space.
//
// Siamese sharing is a property of the Generator, not of a flag: the reference reseeds torch
// with the same seed before augmenting a class's real and synthetic batch, so both get the same
// family and parameters. Here the caller passes two copies of one Generator (same seed, stream
// and offset) to the two dsa() calls with `shared` set, and they draw the same values.
//
// Shape letters: N batch, C channels, H×W image.
#pragma once
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace loco::condense {

// A DSA strategy: families in the order written, from "color_crop_cutout_flip_scale_rotate".
// "none", "None" and "" give the empty strategy (identity). An unknown family throws naming it.
struct DsaStrategy {
  std::vector<std::string> families;
  static DsaStrategy parse(const std::string& s);
  bool none() const { return families.empty(); }
  std::string str() const;
};

// DiffAugment in mode 'S': one family drawn uniformly from the strategy, then all of its ops.
// shared = true (Siamese): one parameter set for the whole batch; false (the reference's
// seed −1): per-sample parameters. Differentiable with respect to x (also with create_graph).
Tensor dsa(const Tensor& x, const DsaStrategy& s, Generator& g, bool shared);
// Moves g past exactly the draws dsa(x, s, g, true) makes for any batch x of C×H×W images
// (Siamese draws are one set per batch, whatever its size), augmenting nothing: a process that
// leaves a class to another rank keeps its generator in step with one that augments it.
void dsa_skip(int64_t channels, int64_t height, int64_t width, const DsaStrategy& s, Generator& g);

// DC's augment(): per image, one op drawn from the strategy ("crop_scale_rotate",
// "crop_noise", ...; "none" is the identity). Not differentiable: runs on data, records nothing.
Tensor dc_augment(const Tensor& x, const std::string& strategy, Generator& g);

// get_daparam's strategy: "crop_noise" for model ConvNetBN, "crop_scale_rotate" for MNIST,
// else "none" (FashionMNIST stays "none").
std::string dc_augment_strategy(const std::string& dataset, const std::string& model_eval);

}  // namespace loco::condense
