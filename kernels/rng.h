// Contract of the rng family: fill a buffer from the Philox stream (seed, stream) starting
// at counter `offset`. Element i uses word i (uniform) or words 2⌊i/2⌋, 2⌊i/2⌋+1 (normal).
// The Philox math both twins share is kernels/philox.h; the Generator is engine/rng.h.
#pragma once
#include <cstdint>

namespace loco::kernels {
namespace cpu {
template <class T> void uniform_fill(T* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double lo, double hi);
template <class T> void normal_fill(T* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double mean, double std);
}  // namespace cpu
#ifdef LOCO_HAS_CUDA
namespace cuda {
void uniform_fill(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double lo, double hi);
void normal_fill(float* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double mean, double std);
}  // namespace cuda
#endif
}  // namespace loco::kernels
