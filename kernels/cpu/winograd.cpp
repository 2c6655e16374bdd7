// Winograd F(m×m, 3×3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for the CPU. An output tile of m×m pixels reads an α×α input patch,
// α = m + 2; in the transformed domain the 3×3 correlation becomes α² independent products
// over channels:  Y = Aᵀ[ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A.
// So a convolution is α² GEMMs (K×C · C×tiles) between an input and an output transform, and
// m²·9 / α² fewer multiply-adds than direct convolution: 2.25× for m = 2, 4× for m = 4, paid
// for with more rounding (m = 4's transforms have entries up to 8 and 1/24).
//
// Layout: U[e] = the transformed weights for e ∈ [0, α²), each packed once per call in the
// micro-tile's A format (kernels/cpu/gemm_tile.h). Tiles (n, tile row, tile column) are taken
// in blocks; a block's transformed input V[e] is written straight in the B-panel format
// (NR tiles wide, channel-major), the products go to M[e] (K × block), and the output
// transform reads M[e] lane-parallel, one packet of tiles at a time. Blocks are independent, so
// every output is computed the same way whatever the thread count or block size.
#include "kernels/cpu/winograd.h"

#include <omp.h>

#include <cstring>

#include "kernels/cpu/gemm_tile.h"

namespace loco::kernels::cpu {
namespace {

// A packet of tiles, with the arithmetic the transforms need. Scalars (the weight transform,
// in double) use the same transform code.
template <class T> struct Lanes {
  using Scalar = T;
  using Packet = typename Tile<T>::Packet;
  Packet p;
  friend Lanes operator+(Lanes a, Lanes b) { return {ei::padd(a.p, b.p)}; }
  friend Lanes operator-(Lanes a, Lanes b) { return {ei::psub(a.p, b.p)}; }
  friend Lanes operator*(T c, Lanes a) { return {ei::pmul(ei::pset1<Packet>(c), a.p)}; }
};

// The three 1-D transforms of F(m, 3): in (Bᵀ·d, α → α), weight (G·g, 3 → α), out (Aᵀ·v,
// α → m); each reads with stride is and writes with stride os. in and out work on Lanes.
template <int m> struct Winograd;

template <> struct Winograd<2> {
  static constexpr int alpha = 4;
  template <class V> static void in(const V* d, int is, V* o, int os) {
    const V d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is];
    o[0] = d0 - d2;
    o[os] = d1 + d2;
    o[2 * os] = d2 - d1;
    o[3 * os] = d1 - d3;
  }
  static void weight(const double* g, int is, double* u, int os) {
    const double g0 = g[0], g1 = g[is], g2 = g[2 * is];
    u[0] = g0;
    u[os] = 0.5 * (g0 + g1 + g2);
    u[2 * os] = 0.5 * (g0 - g1 + g2);
    u[3 * os] = g2;
  }
  template <class V> static void out(const V* v, int is, V* y, int os) {
    const V v1 = v[is], v2 = v[2 * is];
    y[0] = v[0] + v1 + v2;
    y[os] = v1 - v2 - v[3 * is];
  }
};

template <> struct Winograd<4> {
  static constexpr int alpha = 6;
  template <class V> static void in(const V* d, int is, V* o, int os) {
    using S = typename V::Scalar;
    const V d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is], d4 = d[4 * is], d5 = d[5 * is];
    const V d42 = d4 - d2, d13 = d1 - d3;
    o[0] = S(4) * d0 - S(5) * d2 + d4;
    o[os] = (d3 + d4) - S(4) * (d1 + d2);
    o[2 * os] = S(4) * (d1 - d2) + (d4 - d3);
    o[3 * os] = d42 - S(2) * d13;
    o[4 * os] = d42 + S(2) * d13;
    o[5 * os] = S(4) * d1 - S(5) * d3 + d5;
  }
  static void weight(const double* g, int is, double* u, int os) {
    const double g0 = g[0], g1 = g[is], g2 = g[2 * is];
    u[0] = g0 / 4;
    u[os] = -(g0 + g1 + g2) / 6;
    u[2 * os] = -(g0 - g1 + g2) / 6;
    u[3 * os] = g0 / 24 + g1 / 12 + g2 / 6;
    u[4 * os] = g0 / 24 - g1 / 12 + g2 / 6;
    u[5 * os] = g2;
  }
  template <class V> static void out(const V* v, int is, V* y, int os) {
    using S = typename V::Scalar;
    const V s12 = v[is] + v[2 * is], d12 = v[is] - v[2 * is];
    const V s34 = v[3 * is] + v[4 * is], d34 = v[3 * is] - v[4 * is];
    y[0] = v[0] + s12 + s34;
    y[os] = d12 + S(2) * d34;
    y[2 * os] = s12 + S(4) * s34;
    y[3 * os] = d12 + S(8) * d34 + v[5 * is];
  }
};

// Where a block's lane of tiles reads its patch and writes its outputs.
struct TileAt {
  int64_t n = -1, h0 = 0, w0 = 0;  // sample (−1: past the last tile), patch origin (may be < 0)
};

template <class T, int m> void run(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s) {
  using W = Winograd<m>;
  using TT = Tile<T>;
  using Packet = typename TT::Packet;
  constexpr int a = W::alpha, a2 = a * a, L = TT::L, NR = TT::NR, MR = TT::MR;
  const int64_t C = s.C, K = s.K, Kp = round_up(K, MR);
  const int64_t rows = (s.P + m - 1) / m, cols = (s.Q + m - 1) / m, per_image = rows * cols;
  const int64_t tiles = s.N * per_image;

  // U[e]: K×C for each e, written straight in pack_a's layout (kKc-deep blocks of MR-row
  // panels, rows past K zero). The transform runs in double: it is cheap, and leaves the
  // rounding to the products and the input and output transforms.
  T* upack = scratch<T, 10>(static_cast<size_t>(a2 * Kp * C));
#pragma omp parallel for schedule(static)
  for (int64_t kc = 0; kc < Kp * C; ++kc) {
    const int64_t k = kc / C, c = kc % C;
    const int64_t pc = c / kKc * kKc, depth = std::min(kKc, C - pc);
    T* dst = upack + pc * Kp + k / MR * MR * depth + (c - pc) * MR + k % MR;
    if (k >= K) {
      for (int e = 0; e < a2; ++e) dst[e * Kp * C] = T(0);
      continue;
    }
    double g[9], t[a * 3], u[a2];
    for (int i = 0; i < 9; ++i) g[i] = static_cast<double>(w[kc * 9 + i]);
    for (int j = 0; j < 3; ++j) W::weight(g + j, 3, t + j, 3);  // t = G·g   (α×3)
    for (int i = 0; i < a; ++i) W::weight(t + i * 3, 1, u + i * a, 1);  // u = t·Gᵀ (α×α)
    for (int e = 0; e < a2; ++e) dst[e * Kp * C] = static_cast<T>(u[e]);
  }

  // Blocks of whole panels; smaller ones when there are too few to keep every thread busy.
  const int64_t threads = omp_get_max_threads();
  const int64_t block = std::clamp<int64_t>(round_up((tiles + threads - 1) / threads, NR), NR, 2 * NR);
  const int64_t blocks = (tiles + block - 1) / block, panels = block / NR;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    T* v = scratch<T, 12>(static_cast<size_t>(a2 * panels * C * NR));  // [e][panel][c][NR]
    T* mo = scratch<T, 13>(static_cast<size_t>(a2 * Kp * block));      // [e][k][block]
    const int64_t t0 = b * block, nt = std::min(block, tiles - t0);

    // Input transform, L tiles at a time.
    for (int64_t g = 0; g < nt; g += L) {
      TileAt at[L];
      bool inside = true;
      for (int l = 0; l < L; ++l) {
        const int64_t t = t0 + g + l;
        if (g + l >= nt) {
          inside = false;
          continue;
        }
        const int64_t r = t % per_image;
        at[l] = {t / per_image, r / cols * m - s.pad, r % cols * m - s.pad};
        inside = inside && at[l].h0 >= 0 && at[l].w0 >= 0 && at[l].h0 + a <= s.H && at[l].w0 + a <= s.W;
      }
      T* vg = v + (g / NR * C) * NR + g % NR;
      for (int64_t c = 0; c < C; ++c) {
        alignas(64) T d[a2][L];
        if (inside) {
          for (int l = 0; l < L; ++l) {
            const T* p = x + ((at[l].n * C + c) * s.H + at[l].h0) * s.W + at[l].w0;
            for (int i = 0; i < a; ++i)
              for (int j = 0; j < a; ++j) d[i * a + j][l] = p[i * s.W + j];
          }
        } else {
          for (int l = 0; l < L; ++l)
            for (int i = 0; i < a; ++i)
              for (int j = 0; j < a; ++j) {
                const int64_t h = at[l].h0 + i, ww = at[l].w0 + j;
                d[i * a + j][l] = at[l].n >= 0 && h >= 0 && h < s.H && ww >= 0 && ww < s.W
                                      ? x[((at[l].n * C + c) * s.H + h) * s.W + ww]
                                      : T(0);
              }
        }
        Lanes<T> dv[a2], tv[a2];
        for (int e = 0; e < a2; ++e) dv[e].p = ei::pload<Packet>(d[e]);
        for (int j = 0; j < a; ++j) W::in(dv + j, a, tv + j, a);          // Bᵀ·d
        for (int i = 0; i < a; ++i) W::in(tv + i * a, 1, dv + i * a, 1);  // ·B
        for (int e = 0; e < a2; ++e) ei::pstoreu(vg + (e * panels * C + c) * NR, dv[e].p);
      }
    }

    // The α² products M[e] = U[e]·V[e], K × nt each.
    for (int e = 0; e < a2; ++e)
      for (int64_t p = 0; p * NR < nt; ++p) {
        const T* ve = v + (e * panels + p) * C * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, nt - p * NR));
        for (int64_t ir = 0; ir < K; ir += MR)
          for (int64_t pc = 0; pc < C; pc += kKc) {
            const int64_t kc = std::min(kKc, C - pc);
            micro_tile(kc, upack + e * Kp * C + pc * Kp + ir * kc, ve + pc * NR, mo + (e * Kp + ir) * block + p * NR,
                       block, pc > 0, static_cast<int>(std::min<int64_t>(MR, K - ir)), nr);
          }
      }

    // Output transform, L tiles at a time; lanes past nt were never written and are dropped.
    for (int64_t g = 0; g < nt; g += L) {
      for (int64_t k = 0; k < K; ++k) {
        Lanes<T> mv[a2], tv[m * a], yv[m * m];
        for (int e = 0; e < a2; ++e) mv[e].p = ei::ploadu<Packet>(mo + (e * Kp + k) * block + g);
        for (int j = 0; j < a; ++j) W::out(mv + j, a, tv + j, a);          // Aᵀ·M (m×α)
        for (int i = 0; i < m; ++i) W::out(tv + i * a, 1, yv + i * m, 1);  // ·A   (m×m)
        alignas(64) T out[m * m][L];
        const Packet bk = ei::pset1<Packet>(bias ? bias[k] : T(0));
        for (int e = 0; e < m * m; ++e) ei::pstore(out[e], ei::padd(yv[e].p, bk));
        const int lanes = static_cast<int>(std::min<int64_t>(L, nt - g));
        for (int l = 0; l < lanes; ++l) {
          const int64_t t = t0 + g + l, n = t / per_image, r = t % per_image;
          const int64_t p0 = r / cols * m, q0 = r % cols * m;
          const int hi = static_cast<int>(std::min<int64_t>(m, s.P - p0)), wi = static_cast<int>(std::min<int64_t>(m, s.Q - q0));
          T* yt = y + ((n * K + k) * s.P + p0) * s.Q + q0;
          for (int i = 0; i < hi; ++i)
            for (int j = 0; j < wi; ++j) yt[i * s.Q + j] = out[i * m + j][l];
        }
      }
    }
  }
}

}  // namespace

bool winograd_fits(const Conv2dShape& s) { return s.R == 3 && s.S == 3 && s.stride == 1 && s.pad <= 2; }

template <class T> void winograd_conv3x3(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s, int m) {
  if (m == 2) {
    run<T, 2>(y, x, w, bias, s);
  } else {
    run<T, 4>(y, x, w, bias, s);
  }
}

template void winograd_conv3x3<float>(float*, const float*, const float*, const float*, const Conv2dShape&, int);
template void winograd_conv3x3<double>(double*, const double*, const double*, const double*, const Conv2dShape&, int);

}  // namespace loco::kernels::cpu
