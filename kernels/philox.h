// Philox4x32-10 (Salmon et al., SC'11), the counter-based generator behind engine/rng.
// Key = the run seed (2×32 bits); counter = (offset lo, offset hi, stream lo, stream hi).
// The same LOCO_HD functions run on the CPU and the GPU, so both produce the same stream.
#pragma once
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

struct U32x4 {
  uint32_t v[4];
};

LOCO_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

LOCO_HD U32x4 philox4x32_10(U32x4 ctr, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(0xD2511F53u, ctr.v[0], hi0, lo0);
    mulhilo32(0xCD9E8D57u, ctr.v[2], hi1, lo1);
    ctr = U32x4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return ctr;
}

// The 32-bit word number i of the (seed, stream) sequence starting at counter `offset`.
LOCO_HD uint32_t philox_word(uint64_t seed, uint64_t stream, uint64_t offset, uint64_t i) {
  const uint64_t c = offset + i / 4;
  U32x4 ctr{{static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), static_cast<uint32_t>(stream),
             static_cast<uint32_t>(stream >> 32)}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)).v[i % 4];
}

// [0, 1) with 24 random bits: exactly representable in f32.
LOCO_HD float uniform_f32(uint32_t u) { return static_cast<float>(u >> 8) * (1.0f / 16777216.0f); }
// [0, 1) with 32 random bits, for f64.
LOCO_HD double uniform_f64(uint32_t u) { return static_cast<double>(u) * (1.0 / 4294967296.0); }

}  // namespace loco::kernels
