// Counter-based random numbers: Philox4x32-10 addressed by (seed, stream, offset). A Generator
// is a cursor into one stream; every draw advances its offset by the 128-bit counters it used
// (⌈n/4⌉ for n values), so a saved (seed, stream, offset) resumes a stream exactly, and the CPU
// and CUDA fill the same values for the same address.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace loco {

class Generator {
 public:
  Generator(uint64_t seed = 0, uint64_t stream = 0, uint64_t offset = 0)
      : seed_(seed), stream_(stream), offset_(offset) {}

  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t offset() const { return offset_; }

  // The next n raw 32-bit words.
  std::vector<uint32_t> words(int64_t n);
  // A uniform integer in [0, n) (n ≥ 1), unbiased (Lemire's method with rejection).
  uint64_t below(uint64_t n);
  double uniform();  // one double in [0, 1)

  // Reserves n words and returns the offset they start at (for device fills).
  uint64_t advance(int64_t n) {
    const uint64_t at = offset_;
    offset_ += static_cast<uint64_t>((n + 3) / 4);
    return at;
  }

 private:
  uint64_t seed_, stream_, offset_;
};

// Tensors of i.i.d. draws. uniform: [lo, hi); normal: Box–Muller on word pairs.
Tensor rand_uniform(const Shape& s, Generator& g, double lo = 0.0, double hi = 1.0, DType t = DType::f32,
                    Device d = Device::cpu);
Tensor rand_normal(const Shape& s, Generator& g, double mean = 0.0, double std = 1.0, DType t = DType::f32,
                   Device d = Device::cpu);
// A uniformly random permutation of 0..n-1 (Fisher–Yates).
std::vector<int64_t> rand_permutation(int64_t n, Generator& g);
// k distinct values of 0..n-1, uniformly, in draw order (k ≤ n).
std::vector<int64_t> rand_sample(int64_t n, int64_t k, Generator& g);

}  // namespace loco
