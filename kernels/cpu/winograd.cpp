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
// in blocks; a block's input is zero-padded once, its transformed input V[e] is written
// straight in the B-panel format (NR tiles wide, channel-major), the products go to M[e]
// (K × block), and the output transform reads M[e] lane-parallel, one packet of tiles at a time.
// Blocks are independent, so every output is computed the same way whatever the thread count or
// block size. The weight gradient (run_bwd_weight) reuses the input transform and sums α²
// products over the tiles.
//
// Measured against im2col in bench/RESULTS.md (2026-12-03); the rule that picks between them is
// conv_algo_for in kernels/cpu/conv2d.cpp.
#include "kernels/cpu/winograd.h"

#include <omp.h>

#include <cstring>
#include <type_traits>

#include "kernels/cpu/gemm_tile.h"

namespace loco::kernels::cpu {
namespace {

// A packet of tiles, with the arithmetic the transforms need (P: an Eigen packet type).
template <class P> struct Lanes {
  using Scalar = typename ei::unpacket_traits<P>::type;
  P p;
  friend Lanes operator+(Lanes a, Lanes b) { return {ei::padd(a.p, b.p)}; }
  friend Lanes operator-(Lanes a, Lanes b) { return {ei::psub(a.p, b.p)}; }
  friend Lanes operator*(Scalar c, Lanes a) { return {ei::pmul(ei::pset1<P>(c), a.p)}; }
  Lanes() = default;  // uninitialised; Lanes{} is 0
  Lanes(P q) : p(q) {}
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
  // The adjoints, for the weight gradient: A·dy (m → α) and Gᵀ·u (α → 3).
  template <class V> static void out_adjoint(const V* y, int is, V* v, int os) {
    const V y0 = y[0], y1 = y[is];
    v[0] = y0;
    v[os] = y0 + y1;
    v[2 * os] = y0 - y1;
    v[3 * os] = V{} - y1;
  }
  static void weight_adjoint(const double* u, int is, double* g, int os) {
    const double s12 = 0.5 * (u[is] + u[2 * is]);
    g[0] = u[0] + s12;
    g[os] = 0.5 * (u[is] - u[2 * is]);
    g[2 * os] = s12 + u[3 * is];
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
    constexpr double r6 = 1.0 / 6, r12 = 1.0 / 12, r24 = 1.0 / 24;
    u[0] = 0.25 * g0;
    u[os] = -r6 * (g0 + g1 + g2);
    u[2 * os] = -r6 * (g0 - g1 + g2);
    u[3 * os] = r24 * g0 + r12 * g1 + r6 * g2;
    u[4 * os] = r24 * g0 - r12 * g1 + r6 * g2;
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
  template <class V> static void out_adjoint(const V* y, int is, V* v, int os) {
    using S = typename V::Scalar;
    const V y0 = y[0], y1 = y[is], y2 = y[2 * is], y3 = y[3 * is];
    const V e02 = y0 + y2, o13 = y1 + y3, e02w = y0 + S(4) * y2, o13w = S(2) * y1 + S(8) * y3;
    v[0] = y0;
    v[os] = e02 + o13;
    v[2 * os] = e02 - o13;
    v[3 * os] = e02w + o13w;
    v[4 * os] = e02w - o13w;
    v[5 * os] = y3;
  }
  static void weight_adjoint(const double* u, int is, double* g, int os) {
    constexpr double r6 = 1.0 / 6, r12 = 1.0 / 12, r24 = 1.0 / 24;
    const double s12 = u[is] + u[2 * is], d12 = u[is] - u[2 * is], s34 = u[3 * is] + u[4 * is], d34 = u[3 * is] - u[4 * is];
    g[0] = 0.25 * u[0] - r6 * s12 + r24 * s34;
    g[os] = -r6 * d12 + r12 * d34;
    g[2 * os] = -r6 * s12 + r6 * s34 + u[5 * is];
  }
};

// The α² slices of a block's scratch start one cache line past a multiple of their size: at
// 128 channels a slice is a multiple of 4 KiB, and 36 streams with that stride all fall into
// the same L1 sets.
template <class T> int64_t skewed(int64_t n) { return n + 64 / static_cast<int64_t>(sizeof(T)); }

// Where a lane of the weight gradient's dy transform reads its m×m tile of dy.
struct TileAt {
  int64_t n = -1, h0 = 0, w0 = 0;  // sample (−1: past the last tile), the tile's first output
};

// The tiles of a shape: rows × cols per image, numbered image by image, row by row.
struct Tiling {
  int64_t rows, cols, per_image, count;
  Tiling(const Conv2dShape& s, int m)
      : rows((s.P + m - 1) / m), cols((s.Q + m - 1) / m), per_image(rows * cols), count(s.N * rows * cols) {}
};

// The input under a block of tiles, zero-padded into planes of (rows·m + 2) × (cols·m + 2)
// (a sample's plane, channel by channel, from sample n0 on): every patch then lies inside its
// plane and is read without bounds checks.
template <class T> struct PaddedBlock {
  const T* base;
  int64_t n0, hp, wp;
};
template <class T, int m>
PaddedBlock<T> pad_block(const T* x, const Conv2dShape& s, const Tiling& tl, int64_t t0, int64_t nt) {
  const int64_t n0 = t0 / tl.per_image, n1 = (t0 + nt - 1) / tl.per_image + 1;
  const int64_t hp = tl.rows * m + 2, wp = tl.cols * m + 2, plane = hp * wp;
  // A row of a patch is read a whole packet wide: up to a packet past the last plane.
  T* xp = scratch<T, 15>(static_cast<size_t>((n1 - n0) * s.C * plane + 2 * Tile<T>::L));
  for (int64_t nc = 0; nc < (n1 - n0) * s.C; ++nc)
    pad_plane(xp + nc * plane, x + (n0 * s.C + nc) * s.hw(), s.H, s.W, hp, wp, s.pad);
  std::fill(xp + (n1 - n0) * s.C * plane, xp + (n1 - n0) * s.C * plane + 2 * Tile<T>::L, T(0));
  return {xp, n0, hp, wp};
}

// The packet the input transform works on: the narrowest one that holds a patch row (α values),
// so S rows of S tiles transpose in registers into S-tile packets of each column. (Zen 4 runs a
// 512-bit operation as two 256-bit halves, so the half packet of f32 costs nothing there.)
template <class T, int a> struct RowPacket {
  using Full = typename Tile<T>::Packet;
  using Half = typename ei::unpacket_traits<Full>::half;
  using type = std::conditional_t<(ei::unpacket_traits<Half>::size >= a), Half, Full>;
  static constexpr int S = ei::unpacket_traits<type>::size;
};

// V = Bᵀ·d·B for tiles [t0, t0 + nt) of x, S tiles at a time: element e of channel c for the
// group of tiles starting at g goes to at(g) + e·se + c·sc, one packet of S lanes (lanes past nt
// are 0). Copying the patches lane by lane (then loading the packet back, which no store
// forwards) cost more than the products at 128 channels; AVX-512 gathers measured slower still.
template <class T, int m, class At>
void input_transform(const T* x, const Conv2dShape& s, const Tiling& tl, int64_t t0, int64_t nt, int64_t se,
                     int64_t sc, At at_group) {
  using W = Winograd<m>;
  constexpr int a = W::alpha, a2 = a * a;
  using P = typename RowPacket<T, a>::type;
  constexpr int S = RowPacket<T, a>::S;
  const PaddedBlock<T> xp = pad_block<T, m>(x, s, tl, t0, nt);
  const int64_t plane = xp.hp * xp.wp;
  for (int64_t g = 0; g < nt; g += S) {
    // Lane l's patch starts base[l] into the padded block (channel 0); lanes past nt read the
    // zeros just past the last plane.
    int64_t base[S];
    for (int l = 0; l < S; ++l) {
      const int64_t t = t0 + g + l, r = t % tl.per_image;
      base[l] = g + l < nt ? ((t / tl.per_image - xp.n0) * s.C * plane + r / tl.cols * m * xp.wp + r % tl.cols * m)
                           : (tl.count > 0 ? ((t0 + nt - 1) / tl.per_image - xp.n0 + 1) * s.C * plane : 0);
    }
    T* vg = at_group(g);
    for (int64_t c = 0; c < s.C; ++c) {
      const T* pc = xp.base + c * plane;
      Lanes<P> dv[a2], tv[a2];
      if constexpr (S >= a) {
        for (int i = 0; i < a; ++i) {
          ei::PacketBlock<P, S> rows;
          for (int l = 0; l < S; ++l) {
            const T* src = g + l < nt ? pc + base[l] + i * xp.wp : xp.base + base[l];
            rows.packet[l] = ei::ploadu<P>(src);
          }
          ei::ptranspose(rows);  // rows.packet[j]: column j of patch row i, lane by lane
          for (int j = 0; j < a; ++j) dv[i * a + j].p = rows.packet[j];
        }
      } else {  // no packet holds a row (f64 without AVX-512): copy lane by lane
        alignas(64) T d[a2][S];
        for (int l = 0; l < S; ++l)
          for (int i = 0; i < a; ++i)
            for (int j = 0; j < a; ++j) d[i * a + j][l] = g + l < nt ? pc[base[l] + i * xp.wp + j] : T(0);
        for (int e = 0; e < a2; ++e) dv[e].p = ei::pload<P>(d[e]);
      }
      for (int j = 0; j < a; ++j) W::in(dv + j, a, tv + j, a);          // Bᵀ·d
      for (int i = 0; i < a; ++i) W::in(tv + i * a, 1, dv + i * a, 1);  // ·B
      for (int e = 0; e < a2; ++e) ei::pstoreu(vg + e * se + c * sc, dv[e].p);
    }
  }
}

template <class T, int m> void run(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s) {
  using W = Winograd<m>;
  using TT = Tile<T>;
  using Packet = typename TT::Packet;
  constexpr int a = W::alpha, a2 = a * a, L = TT::L, NR = TT::NR, MR = TT::MR;
  const int64_t C = s.C, K = s.K, Kp = round_up(K, MR);
  const Tiling tl(s, m);
  const int64_t cols = tl.cols, per_image = tl.per_image, tiles = tl.count;

  // U[e]: K×C for each e, in pack_a's layout (kKc-deep blocks of MR-row panels, rows past K
  // zero). The transform runs in double: it is cheap, and leaves the rounding to the products
  // and the input and output transforms. It goes through u[k·C + c][e] first, so that both
  // passes write in order (straight into the α² matrices, each 4·K·C bytes apart, the stores
  // missed the TLB).
  T* ut = scratch<T, 11>(static_cast<size_t>(a2 * K * C));
#pragma omp parallel for schedule(static)
  for (int64_t kc = 0; kc < K * C; ++kc) {
    double g[9], t[a * 3], u[a2];
    for (int i = 0; i < 9; ++i) g[i] = static_cast<double>(w[kc * 9 + i]);
    for (int j = 0; j < 3; ++j) W::weight(g + j, 3, t + j, 3);  // t = G·g   (α×3)
    for (int i = 0; i < a; ++i) W::weight(t + i * 3, 1, u + i * a, 1);  // u = t·Gᵀ (α×α)
    for (int e = 0; e < a2; ++e) ut[kc * a2 + e] = static_cast<T>(u[e]);
  }
  T* upack = scratch<T, 10>(static_cast<size_t>(a2 * Kp * C));
#pragma omp parallel for schedule(static)
  for (int e = 0; e < a2; ++e) {
    T* d = upack + e * Kp * C;
    for (int64_t pc = 0; pc < C; pc += kKc) {
      const int64_t depth = std::min(kKc, C - pc);
      for (int64_t ir = 0; ir < Kp; ir += MR)
        for (int64_t c = pc; c < pc + depth; ++c)
          for (int i = 0; i < MR; ++i) *d++ = ir + i < K ? ut[((ir + i) * C + c) * a2 + e] : T(0);
    }
  }

  // Blocks of one or two panels, whichever leaves the busiest thread the fewest tiles (a small
  // batch's few blocks otherwise split unevenly: 280 tiles are 5 blocks of 64, 3 on one thread).
  const int64_t threads = omp_get_max_threads();
  auto busiest = [&](int64_t b) { return ((tiles + b - 1) / b + threads - 1) / threads * b; };
  const int64_t block = busiest(NR) < busiest(2 * NR) ? NR : 2 * NR;
  const int64_t blocks = (tiles + block - 1) / block, panels = block / NR;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t ve_stride = skewed<T>(panels * C * NR), me_stride = skewed<T>(Kp * block);
    T* v = scratch<T, 12>(static_cast<size_t>(a2 * ve_stride));   // [e][panel][c][NR]
    T* mo = scratch<T, 13>(static_cast<size_t>(a2 * me_stride));  // [e][k][block]
    const int64_t t0 = b * block, nt = std::min(block, tiles - t0);
    input_transform<T, m>(x, s, tl, t0, nt, ve_stride, NR,
                          [&](int64_t g) { return v + (g / NR * C) * NR + g % NR; });

    // The α² products M[e] = U[e]·V[e], K × nt each.
    for (int e = 0; e < a2; ++e)
      for (int64_t p = 0; p * NR < nt; ++p) {
        const T* ve = v + e * ve_stride + p * C * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, nt - p * NR));
        for (int64_t ir = 0; ir < K; ir += MR)
          for (int64_t pc = 0; pc < C; pc += kKc) {
            const int64_t kc = std::min(kKc, C - pc);
            micro_tile(kc, upack + e * Kp * C + pc * Kp + ir * kc, ve + pc * NR, mo + e * me_stride + ir * block + p * NR,
                       block, pc > 0, static_cast<int>(std::min<int64_t>(MR, K - ir)), nr);
          }
      }

    // Output transform, L tiles at a time; lanes past nt were never written and are dropped.
    for (int64_t g = 0; g < nt; g += L) {
      for (int64_t k = 0; k < K; ++k) {
        Lanes<Packet> mv[a2], tv[m * a], yv[m * m];
        for (int e = 0; e < a2; ++e) mv[e].p = ei::ploadu<Packet>(mo + e * me_stride + k * block + g);
        for (int j = 0; j < a; ++j) W::out(mv + j, a, tv + j, a);          // Aᵀ·M (m×α)
        for (int i = 0; i < m; ++i) W::out(tv + i * a, 1, yv + i * m, 1);  // ·A   (m×m)
        const Packet bk = ei::pset1<Packet>(bias ? bias[k] : T(0));
        const int lanes = static_cast<int>(std::min<int64_t>(L, nt - g));
        // out[l][i·m + j]: tile l's outputs. With m² = L (F(4×4), f32 on AVX-512) a register
        // transpose turns the packets of each output pixel into one packet per tile, whose rows
        // are copied whole; otherwise they are picked lane by lane.
        alignas(64) T out[L][L > m * m ? L : m * m];
        if constexpr (m * m == L) {
          ei::PacketBlock<Packet, L> blk;
          for (int e = 0; e < L; ++e) blk.packet[e] = ei::padd(yv[e].p, bk);
          ei::ptranspose(blk);
          for (int l = 0; l < lanes; ++l) ei::pstore(out[l], blk.packet[l]);
        } else {
          alignas(64) T px[m * m][L];
          for (int e = 0; e < m * m; ++e) ei::pstore(px[e], ei::padd(yv[e].p, bk));
          for (int l = 0; l < lanes; ++l)
            for (int e = 0; e < m * m; ++e) out[l][e] = px[e][l];
        }
        for (int l = 0; l < lanes; ++l) {
          const int64_t t = t0 + g + l, n = t / per_image, r = t % per_image;
          const int64_t p0 = r / cols * m, q0 = r % cols * m;
          const int hi = static_cast<int>(std::min<int64_t>(m, s.P - p0)), wi = static_cast<int>(std::min<int64_t>(m, s.Q - q0));
          T* yt = y + ((n * K + k) * s.P + p0) * s.Q + q0;
          if (wi == m) {
            for (int i = 0; i < hi; ++i) std::memcpy(yt + i * s.Q, out[l] + i * m, m * sizeof(T));
          } else {
            for (int i = 0; i < hi; ++i)
              for (int j = 0; j < wi; ++j) yt[i * s.Q + j] = out[l][i * m + j];
          }
        }
      }
    }
  }
}

// dw = ∂⟨dy, conv(x, w)⟩/∂w: with M = A·dy_tile·Aᵀ (dy zero past the output) and V the input
// transform, dU[e] = Σ_tiles M[e] · V[e]ᵀ (K × C, α² products over the tiles), dw = Gᵀ·dU·G.
// Each thread sums a fixed, contiguous range of tile blocks into its own dU, and the partials
// are added in thread order: a given thread count always gives the same bits (as im2col's).
template <class T, int m> void run_bwd_weight(T* dw, const T* x, const T* dy, const Conv2dShape& s) {
  using W = Winograd<m>;
  using Packet = typename Tile<T>::Packet;
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Strided = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  constexpr int a = W::alpha, a2 = a * a, L = Tile<T>::L;
  constexpr int64_t block = 128;  // tiles per product: deep enough for Eigen's packing to pay
  const int64_t C = s.C, K = s.K, kc_all = K * C;
  const Tiling tl(s, m);
  const int64_t blocks = (tl.count + block - 1) / block;
  const int threads = omp_get_max_threads();
  T* part = scratch<T, 14>(static_cast<size_t>(threads) * static_cast<size_t>(a2 * kc_all));
  int team = 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp single
    team = omp_get_num_threads();
    const int64_t th = omp_get_thread_num(), b0 = blocks * th / team, b1 = blocks * (th + 1) / team;
    T* du = part + th * a2 * kc_all;  // [e][k][c]
    std::fill(du, du + a2 * kc_all, T(0));
    const int64_t ve_stride = skewed<T>(C * block), me_stride = skewed<T>(K * block);
    T* v = scratch<T, 12>(static_cast<size_t>(a2 * ve_stride));   // [e][c][block]
    T* dm = scratch<T, 13>(static_cast<size_t>(a2 * me_stride));  // [e][k][block]
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t0 = b * block, nt = std::min(block, tl.count - t0);
      input_transform<T, m>(x, s, tl, t0, nt, ve_stride, block, [&](int64_t g) { return v + g; });
      // M = A·dy·Aᵀ, L tiles at a time (lanes past nt are 0, so they add nothing).
      for (int64_t g = 0; g < nt; g += L) {
        TileAt at[L];
        for (int l = 0; l < L && g + l < nt; ++l) {
          const int64_t t = t0 + g + l, r = t % tl.per_image;
          at[l] = {t / tl.per_image, r / tl.cols * m, r % tl.cols * m};
        }
        for (int64_t k = 0; k < K; ++k) {
          alignas(64) T d[m * m][L];
          for (int l = 0; l < L; ++l) {
            const bool live = at[l].n >= 0;
            const T* p = live ? dy + ((at[l].n * K + k) * s.P + at[l].h0) * s.Q + at[l].w0 : nullptr;
            for (int i = 0; i < m; ++i)
              for (int j = 0; j < m; ++j)
                d[i * m + j][l] = live && at[l].h0 + i < s.P && at[l].w0 + j < s.Q ? p[i * s.Q + j] : T(0);
          }
          Lanes<Packet> yv[m * m], tv[a * m], mv[a2];
          for (int e = 0; e < m * m; ++e) yv[e].p = ei::pload<Packet>(d[e]);
          for (int j = 0; j < m; ++j) W::out_adjoint(yv + j, m, tv + j, m);      // A·dy   (α×m)
          for (int i = 0; i < a; ++i) W::out_adjoint(tv + i * m, 1, mv + i * a, 1);  // ·Aᵀ (α×α)
          for (int e = 0; e < a2; ++e) ei::pstoreu(dm + e * me_stride + k * block + g, mv[e].p);
        }
      }
      const int64_t live = round_up(nt, L);  // whole packets: the zero lanes past nt add nothing
      for (int e = 0; e < a2; ++e) {
        Eigen::Map<Mat> due(du + e * kc_all, K, C);
        const Strided me(dm + e * me_stride, K, live, Eigen::OuterStride<>(block));
        const Strided ve(v + e * ve_stride, C, live, Eigen::OuterStride<>(block));
        due.noalias() += me * ve.transpose();
      }
    }
#pragma omp barrier
    // Partials in thread order, then dw = Gᵀ·dU·G per (k, c).
#pragma omp for schedule(static)
    for (int64_t kc = 0; kc < kc_all; ++kc) {
      double u[a2], t[3 * a], g[9];
      for (int e = 0; e < a2; ++e) {
        T acc = part[e * kc_all + kc];
        for (int q = 1; q < team; ++q) acc += part[q * a2 * kc_all + e * kc_all + kc];
        u[e] = static_cast<double>(acc);
      }
      for (int j = 0; j < a; ++j) W::weight_adjoint(u + j, a, t + j, a);  // Gᵀ·u (3×α)
      for (int i = 0; i < 3; ++i) W::weight_adjoint(t + i * a, 1, g + i * 3, 1);  // ·G (3×3)
      for (int i = 0; i < 9; ++i) dw[kc * 9 + i] = static_cast<T>(g[i]);
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

template <class T> void winograd_conv3x3_bwd_weight(T* dw, const T* x, const T* dy, const Conv2dShape& s, int m) {
  if (m == 2) {
    run_bwd_weight<T, 2>(dw, x, dy, s);
  } else {
    run_bwd_weight<T, 4>(dw, x, dy, s);
  }
}

template void winograd_conv3x3<float>(float*, const float*, const float*, const float*, const Conv2dShape&, int);
template void winograd_conv3x3<double>(double*, const double*, const double*, const double*, const Conv2dShape&, int);
template void winograd_conv3x3_bwd_weight<float>(float*, const float*, const float*, const Conv2dShape&, int);
template void winograd_conv3x3_bwd_weight<double>(double*, const double*, const double*, const Conv2dShape&, int);

}  // namespace loco::kernels::cpu
