// A tiny generated problem in Fashion-MNIST's shape (1×28×28, 10 classes) for tests that must
// show real learning quickly: class k is a bright 6×6 block at its own place on a noisy dark
// background, so a ConvNet separates the classes within a few epochs.
#pragma once
#include <cstdint>
#include <string>

#include "condense/data/dataset.h"

namespace loco::testing {

// per_class images of each class, interleaved (labels 0,1,..,9,0,1,..), normalised with
// Fashion-MNIST's mean and std like the real reader.
condense::DatasetPair tiny_dataset(int64_t train_per_class, int64_t test_per_class, uint64_t seed = 7);
// The same images as the four plain IDX files of Fashion-MNIST in dir (created when missing).
void write_tiny_idx(const std::string& dir, int64_t train_per_class, int64_t test_per_class, uint64_t seed = 7);

}  // namespace loco::testing
