// The register-tiled GEMM pieces the CPU convolutions share (kernels/cpu/conv2d.cpp for
// im2col, kernels/cpu/winograd.cpp for the Winograd products): a packed-A panel format, an
// MR×NR micro-tile written with Eigen's packet primitives (so it follows the ISA: AVX-512, AVX2,
// f32 or f64) and per-thread scratch. Internal to kernels/cpu: everything here has internal
// linkage, so each file's scratch slots are its own.
#pragma once

// Eigen's packet types (__m512, …) carry attributes GCC drops when they are template arguments,
// and GCC 12 takes the _mm512_undefined_ps() inside AVX-512 shuffles (Eigen's GEMM and
// transposes) for uninitialised reads. Both are false alarms.
#pragma GCC diagnostic ignored "-Wignored-attributes"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace loco::kernels::cpu {
namespace {

namespace ei = Eigen::internal;

template <class T> struct Tile {
  using Packet = typename ei::packet_traits<T>::type;
  static constexpr int L = ei::unpacket_traits<Packet>::size;
  static constexpr int NP = 2;  // packets per tile row
  static constexpr int NR = NP * L;
  // 8 rows × 2 packets = 16 accumulators fit 32 vector registers; 6 rows where there are 16.
  static constexpr int MR = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 6;
};
constexpr int64_t kKc = 256;  // depth of one packed block: a kKc×NR column panel fills L1
constexpr int64_t kNc = 256;  // columns per packed block (kKc×kNc stays in L2)

// Per-thread scratch, grown on demand and kept. Slot tells apart buffers alive at once.
template <class T, int Slot> T* scratch(size_t n) {
  thread_local std::vector<T, Eigen::aligned_allocator<T>> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// c[MR×NR tile] (=, or += when acc) a_panel(kc×MR) · b_panel(kc×NR); mr×nr of it is stored.
template <class T>
void micro_tile(int64_t kc, const T* __restrict a, const T* __restrict b, T* c, int64_t ldc, bool acc, int mr, int nr) {
  using TT = Tile<T>;
  using Packet = typename TT::Packet;
  constexpr int MR = TT::MR, NP = TT::NP, L = TT::L;
  Packet r[MR][NP];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) r[i][j] = ei::pset1<Packet>(T(0));
  for (int64_t k = 0; k < kc; ++k) {
    Packet bv[NP];
#pragma GCC unroll 2
    for (int j = 0; j < NP; ++j) bv[j] = ei::pload<Packet>(b + k * TT::NR + j * L);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const Packet av = ei::pset1<Packet>(a[k * MR + i]);
#pragma GCC unroll 2
      for (int j = 0; j < NP; ++j) r[i][j] = ei::pmadd(av, bv[j], r[i][j]);
    }
  }
  if (mr == MR && nr == TT::NR) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int j = 0; j < NP; ++j) {
        T* p = c + i * ldc + j * L;
        ei::pstoreu(p, acc ? ei::padd(ei::ploadu<Packet>(p), r[i][j]) : r[i][j]);
      }
    return;
  }
  alignas(64) T tmp[MR][TT::NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NP; ++j) ei::pstore(&tmp[i][j * L], r[i][j]);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[i * ldc + j] = acc ? c[i * ldc + j] + tmp[i][j] : tmp[i][j];
}

// Packs the row-major M×Kd matrix src (row stride lda) as kKc-deep blocks of MR-row panels,
// rows past M zero: block pc starts at pc·Mp, its panel ir at pc·Mp + ir·kc, each k-major.
// MR×MR blocks are transposed in registers when MR is a packet or half-packet wide (scalar
// strided stores made packing dy 40% of the first layer's weight gradient).
template <class T> void pack_a(T* dst, const T* src, int64_t lda, int64_t M, int64_t Kd) {
  using Packet = typename Tile<T>::Packet;
  using Half = typename ei::unpacket_traits<Packet>::half;
  constexpr int MR = Tile<T>::MR;
  using Block = std::conditional_t<MR == Tile<T>::L, Packet, Half>;
  if constexpr (ei::unpacket_traits<Block>::size == MR) {
    const int64_t Mp = round_up(M, MR);
    for (int64_t pc = 0; pc < Kd; pc += kKc) {
      const int64_t kc = std::min(kKc, Kd - pc);
      for (int64_t ir = 0; ir + MR <= M; ir += MR) {
        T* d = dst + pc * Mp + ir * kc;
        const T* a = src + ir * lda + pc;
        int64_t k = 0;
        for (; k + MR <= kc; k += MR) {
          ei::PacketBlock<Block, MR> blk;
          for (int i = 0; i < MR; ++i) blk.packet[i] = ei::ploadu<Block>(a + i * lda + k);
          ei::ptranspose(blk);
          for (int i = 0; i < MR; ++i) ei::pstoreu(d + (k + i) * MR, blk.packet[i]);
        }
        for (; k < kc; ++k)
          for (int i = 0; i < MR; ++i) d[k * MR + i] = a[i * lda + k];
      }
    }
    if (M % MR == 0) return;
  }
  // Scalar path: every panel, or only the last partial one after the vector path.
  const int64_t full = ei::unpacket_traits<Block>::size == MR ? M / MR * MR : 0;
  const int64_t Mp = round_up(M, MR);
  for (int64_t pc = 0; pc < Kd; pc += kKc) {
    const int64_t kc = std::min(kKc, Kd - pc);
    for (int64_t ir = full; ir < Mp; ir += MR) {
      T* d = dst + pc * Mp + ir * kc;
      for (int i = 0; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = ir + i < M ? src[(ir + i) * lda + pc + k] : T(0);
    }
  }
}


// dst (hp × wp) = the H × W plane src shifted by pad rows and columns, zero outside it (a
// negative pad crops): the padded copy both convolution routes read without bounds checks.
template <class T> void pad_plane(T* dst, const T* src, int64_t H, int64_t W, int64_t hp, int64_t wp, int64_t pad) {
  for (int64_t i = 0; i < hp; ++i) {
    T* d = dst + i * wp;
    const int64_t ih = i - pad;
    if (ih < 0 || ih >= H) {
      std::fill(d, d + wp, T(0));
      continue;
    }
    const int64_t j0 = std::clamp<int64_t>(pad, 0, wp), j1 = std::clamp<int64_t>(W + pad, j0, wp);
    std::fill(d, d + j0, T(0));
    std::memcpy(d + j0, src + ih * W + (j0 - pad), static_cast<size_t>(j1 - j0) * sizeof(T));
    std::fill(d + j1, d + wp, T(0));
  }
}

}  // namespace
}  // namespace loco::kernels::cpu
