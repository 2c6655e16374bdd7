// CPU twin of kernels/conv2d.h. Shape letters: N batch, C in channels, H×W input, K out
// channels, R×S kernel, P×Q output; as matrices (row-major) w is K×CRS and the im2col matrix of
// one sample is CRS×PQ, so y_n = w·col_n, col_n = wᵀ·dy_n (then col2im), dw = Σ_n dy_n·col_nᵀ.
//
// Why not im2col + Eigen GEMM (the first version): with K = 128 output channels every column
// element is reused only 128 times, so Eigen's per-call packing of w and of the im2col buffer
// cost 15–40% on top of its 8×… register tile, which reaches ~85 GFLOP/s of the ~113 one core
// can do here. The GEMM below packs w once per call, packs the columns straight from a padded
// copy of the image (im2col fused into packing, no CRS×PQ buffer), and runs an 8×2-packet
// register tile written with Eigen's packet primitives (so it follows the ISA: AVX-512, AVX2,
// f32 or f64; kernels/cpu/gemm_tile.h). bench/RESULTS.md has the measurements.
//
// Threads: OpenMP over samples (static), or over column chunks of one sample when N is smaller
// than the team; the weight gradient sums per-thread partials in thread order. All scratch
// (packed panels, padded images, col buffers, dW partials) lives in per-thread buffers that
// grow once and are reused: steady-state calls allocate nothing.
#include "kernels/conv2d.h"

#include <omp.h>

#include <atomic>
#include <cstring>

#include "kernels/cpu/gemm_tile.h"
#include "kernels/cpu/winograd.h"

namespace loco::kernels::cpu {
namespace {

// d[0:len) = s[0:len) for the short runs of im2col packing (a libc memcpy call costs more).
template <class T> inline void copy_run(T* d, const T* s, int len) {
  using Packet = typename Tile<T>::Packet;
  using Half = typename ei::unpacket_traits<Packet>::half;
  constexpr int L = Tile<T>::L, Lh = ei::unpacket_traits<Half>::size;
  int u = 0;
  for (; u + L <= len; u += L) ei::pstoreu(d + u, ei::ploadu<Packet>(s + u));
  if constexpr (Lh < L)
    for (; u + Lh <= len; u += Lh) ei::pstoreu(d + u, ei::ploadu<Half>(s + u));
  for (; u < len; ++u) d[u] = s[u];
}

// C[:, j0:j1) (=, or += when acc) Apacked (M×Kd) · B, B delivered one kc×nc block at a time by
// pack_b(dst, k0, kc, j0, nc) as NR-wide, k-major, zero-padded panels.
template <class T, class PackB>
void gemm_cols(T* c, int64_t ldc, int64_t M, int64_t Kd, int64_t j0, int64_t j1, const T* apack, bool acc,
               PackB& pack_b) {
  using TT = Tile<T>;
  const int64_t Mp = round_up(M, TT::MR);
  T* bbuf = scratch<T, 0>(static_cast<size_t>(kKc * round_up(kNc, TT::NR)));
  for (int64_t jc = j0; jc < j1; jc += kNc) {
    const int64_t nc = std::min(kNc, j1 - jc);
    for (int64_t pc = 0; pc < Kd; pc += kKc) {
      const int64_t kc = std::min(kKc, Kd - pc);
      pack_b(bbuf, pc, kc, jc, nc);
      // Rows outermost: the output is written as MR streams along j (jr outermost writes M
      // streams 128 bytes at a time, 2× slower when kc is small, e.g. the first layer's 9).
      for (int64_t ir = 0; ir < M; ir += TT::MR)
        for (int64_t jr = 0; jr < nc; jr += TT::NR)
          micro_tile(kc, apack + pc * Mp + ir * kc, bbuf + jr * kc, c + ir * ldc + jc + jr, ldc, acc || pc > 0,
                     static_cast<int>(std::min<int64_t>(TT::MR, M - ir)),
                     static_cast<int>(std::min<int64_t>(TT::NR, nc - jr)));
    }
  }
}

// The image of one sample, zero-padded (or cropped, for a negative pad) to exactly the
// (P−1)·stride + R rows and (Q−1)·stride + S columns the kernel reads.
struct Padded {
  int64_t Hp, Wp;
};
template <class T> Padded pad_image(T* xp, const T* x, const Conv2dShape& s) {
  const Padded g{(s.P - 1) * s.stride + s.R, (s.Q - 1) * s.stride + s.S};
  for (int64_t c = 0; c < s.C; ++c) pad_plane(xp + c * g.Hp * g.Wp, x + c * s.hw(), s.H, s.W, g.Hp, g.Wp, s.pad);
  return g;
}

// im2col of one padded image into a CRS×PQ matrix, for the Eigen routes below.
template <class T> void im2col_rows(T* col, const T* xp, const Padded& g, const Conv2dShape& s) {
  for (int64_t j = 0; j < s.crs(); ++j) {
    const int64_t c = j / (s.R * s.S), r = j / s.S % s.R, t = j % s.S;
    const T* base = xp + (c * g.Hp + r) * g.Wp + t;
    for (int64_t p = 0; p < s.P; ++p) {
      T* d = col + j * s.pq() + p * s.Q;
      const T* src = base + p * s.stride * g.Wp;
      if (s.stride == 1) {
        copy_run(d, src, static_cast<int>(s.Q));
      } else {
        for (int64_t q = 0; q < s.Q; ++q) d[q] = src[q * s.stride];
      }
    }
  }
}

// Eigen, for products whose C·R·S side is under one NR-wide panel (the first layer's 9):
// there the 8×NR tile wastes most of its width and Eigen's 48×4 measured 1.2–1.7× faster.
template <class T> using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> bool narrow(int64_t crs) { return crs < Tile<T>::NR; }

// d[0:Len) = s[0:Len) for a compile-time Len of half a packet or whole packets.
template <class T, int Len> inline void copy_fixed(T* d, const T* s) {
  using Packet = typename Tile<T>::Packet;
  using Half = typename ei::unpacket_traits<Packet>::half;
  constexpr int L = Tile<T>::L;
  if constexpr (Len % L == 0) {
#pragma GCC unroll 4
    for (int u = 0; u < Len; u += L) ei::pstoreu(d + u, ei::ploadu<Packet>(s + u));
  } else if constexpr (ei::unpacket_traits<Half>::size == Len) {
    ei::pstoreu(d, ei::ploadu<Half>(s));
  } else {  // SSE: the "half" packet is the full one
    for (int u = 0; u < Len; ++u) d[u] = s[u];
  }
}

// B = im2col(padded image): B[(c·R + r)·S + s][p·Q + q] = xp[c][p·stride + r][q·stride + s].
template <class T> struct Im2colB {
  const T* xp;
  Padded g;
  int64_t R, S, stride, Q;

  // A panel made of NR/Len whole runs of Len columns, run t starting at src0 + t·step.
  template <int Len> void panel_fixed(T* pd, int64_t k0, int64_t kc, int64_t src0, int64_t step) const {
    constexpr int NR = Tile<T>::NR;
    int64_t c = k0 / (R * S), r = k0 / S % R, s = k0 % S;
    for (int64_t k = 0; k < kc; ++k) {
      const T* base = xp + (c * g.Hp + r) * g.Wp + s + src0;
#pragma GCC unroll 4
      for (int t = 0; t < NR / Len; ++t) copy_fixed<T, Len>(pd + k * NR + t * Len, base + t * step);
      if (++s == S) {
        s = 0;
        if (++r == R) r = 0, ++c;
      }
    }
  }

  void operator()(T* dst, int64_t k0, int64_t kc, int64_t j0, int64_t nc) const {
    constexpr int NR = Tile<T>::NR, L = Tile<T>::L;
    struct Seg {
      int off, len;
      int64_t src;
    } seg[NR];
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
      T* pd = dst + jr * kc;
      const int64_t p0 = (j0 + jr) / Q, q0 = (j0 + jr) % Q;
      // Fast paths for stride 1 and a full panel: inside one output row, or whole rows of a
      // power-of-two width (8×8, 16×16 maps): every k copies the same runs.
      if (stride == 1 && nr == NR) {
        if (q0 + NR <= Q) {
          panel_fixed<NR>(pd, k0, kc, p0 * g.Wp + q0, 0);
          continue;
        }
        if (q0 == 0 && Q == L) {
          panel_fixed<L>(pd, k0, kc, p0 * g.Wp, g.Wp);
          continue;
        }
        if constexpr (L % 2 == 0) {
          if (q0 == 0 && 2 * Q == L) {
            panel_fixed<L / 2>(pd, k0, kc, p0 * g.Wp, g.Wp);
            continue;
          }
        }
      }
      // General case: the panel's columns split into runs along one output row p.
      int nseg = 0;
      for (int o = 0; o < nr;) {
        const int64_t j = j0 + jr + o, p = j / Q, q = j % Q;
        const int len = static_cast<int>(std::min<int64_t>(nr - o, Q - q));
        seg[nseg++] = {o, len, p * stride * g.Wp + q * stride};
        o += len;
      }
      int64_t c = k0 / (R * S), r = k0 / S % R, s = k0 % S;
      for (int64_t k = 0; k < kc; ++k) {
        const T* base = xp + (c * g.Hp + r) * g.Wp + s;
        T* row = pd + k * NR;
        for (int t = 0; t < nseg; ++t) {
          const T* src = base + seg[t].src;
          T* d = row + seg[t].off;
          if (stride == 1) {
            copy_run(d, src, seg[t].len);
          } else {
            for (int u = 0; u < seg[t].len; ++u) d[u] = src[u * stride];
          }
        }
        for (int u = nr; u < NR; ++u) row[u] = T(0);
        if (++s == S) {
          s = 0;
          if (++r == R) r = 0, ++c;
        }
      }
    }
  }
};

// B = a plain row-major matrix with ld columns per row.
template <class T> struct DenseB {
  const T* b;
  int64_t ld;
  void operator()(T* dst, int64_t k0, int64_t kc, int64_t j0, int64_t nc) const {
    constexpr int NR = Tile<T>::NR;
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int64_t nr = std::min<int64_t>(NR, nc - jr);
      T* pd = dst + jr * kc;
      for (int64_t k = 0; k < kc; ++k) {
        std::memcpy(pd + k * NR, b + (k0 + k) * ld + j0 + jr, static_cast<size_t>(nr) * sizeof(T));
        std::fill(pd + k * NR + nr, pd + (k + 1) * NR, T(0));
      }
    }
  }
};

// B = im2colᵀ: B[p·Q + q][(c·R + r)·S + s] = xp[c][p·stride + r][q·stride + s] (for dw).
// Each of a panel's NR columns is an im2col row, copied contiguously into a staging buffer and
// then transposed L×L packets at a time (scalar strided stores cost ~25% of the GEMM).
template <class T> struct Im2colTB {
  const T* xp;  // padded images of consecutive samples, `plane` apart
  Padded g;
  int64_t R, S, stride, P, Q, plane;
  void operator()(T* dst, int64_t k0, int64_t kc, int64_t j0, int64_t nc) const {
    using Packet = typename Tile<T>::Packet;
    constexpr int NR = Tile<T>::NR, L = Tile<T>::L;
    const int64_t kcp = round_up(kc, L);
    T* tmp = scratch<T, 5>(static_cast<size_t>(NR * round_up(kKc, L)));
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
      for (int jj = 0; jj < NR; ++jj) {
        T* row = tmp + jj * kcp;
        if (jj >= nr) {
          std::fill(row, row + kcp, T(0));
          continue;
        }
        const int64_t j = j0 + jr + jj, c = j / (R * S), r = j / S % R, s = j % S;
        // k runs over (sample, p, q); base moves to the next sample's image after row P − 1.
        const T* base = xp + k0 / Q / P * plane + (c * g.Hp + r) * g.Wp + s;
        int64_t p = k0 / Q % P, q = k0 % Q, k = 0;
        auto next_row = [&] {
          if (++p == P) p = 0, base += plane;
        };
        if (stride == 1 && q == 0) {  // whole rows of 8×8 and 16×16 maps at fixed length
          if (Q == L) {
            for (; k + L <= kc; k += L, next_row()) copy_fixed<T, L>(row + k, base + p * g.Wp);
          } else if constexpr (L % 2 == 0) {
            if (2 * Q == L)
              for (; k + L / 2 <= kc; k += L / 2, next_row()) copy_fixed<T, L / 2>(row + k, base + p * g.Wp);
          }
        }
        for (; k < kc; q = 0, next_row()) {  // one run along output row p at a time
          const int64_t len = std::min(kc - k, Q - q);
          const T* src = base + p * stride * g.Wp + q * stride;
          if (stride == 1) {
            copy_run(row + k, src, static_cast<int>(len));
          } else {
            for (int64_t u = 0; u < len; ++u) row[k + u] = src[u * stride];
          }
          k += len;
        }
        std::fill(row + kc, row + kcp, T(0));
      }
      T* pd = dst + jr * kc;
      for (int64_t kb = 0; kb < kc; kb += L) {
        for (int jb = 0; jb < NR; jb += L) {
          ei::PacketBlock<Packet, L> blk;
          for (int i = 0; i < L; ++i) blk.packet[i] = ei::pload<Packet>(tmp + (jb + i) * kcp + kb);
          ei::ptranspose(blk);
          const int rows = static_cast<int>(std::min<int64_t>(L, kc - kb));
          for (int i = 0; i < rows; ++i) ei::pstore(pd + (kb + i) * NR + jb, blk.packet[i]);
        }
      }
    }
  }
};

// The adjoint of im2col: x[c][ih][iw] += col[(c·R + r)·S + s][p·Q + q] (x zeroed by the caller).
template <class T> void col2im(T* x, const T* col, const Conv2dShape& s) {
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t t = 0; t < s.S; ++t) {
        const T* row = col + ((c * s.R + r) * s.S + t) * s.pq();
        // Columns q whose input column iw = q·stride − pad + t lies inside [0, W).
        const int64_t q0 = std::clamp<int64_t>((s.pad - t + s.stride - 1) / s.stride, 0, s.Q);
        const int64_t q1 = std::clamp<int64_t>((s.W + s.pad - t + s.stride - 1) / s.stride, q0, s.Q);
        for (int64_t p = 0; p < s.P; ++p) {
          const int64_t ih = p * s.stride - s.pad + r;
          if (ih < 0 || ih >= s.H) continue;
          const T* in = row + p * s.Q;
          T* out = x + (c * s.H + ih) * s.W;
          for (int64_t q = q0; q < q1; ++q) out[q * s.stride - s.pad + t] += in[q];
        }
      }
}

// Runs f(n, j0, j1) over every sample n and column range of it, spread over the threads: whole
// samples when there are enough, otherwise each sample cut into NR-aligned column chunks.
template <class T, class F> void for_sample_chunks(int64_t N, int64_t cols, F f) {
  const int64_t threads = omp_get_max_threads();
  const int64_t per = N >= threads ? 1 : std::min((threads + N - 1) / N, (cols + Tile<T>::NR - 1) / Tile<T>::NR);
  const int64_t width = round_up((cols + per - 1) / per, Tile<T>::NR);
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < N * per; ++item) {
    const int64_t n = item / per, j0 = item % per * width;
    if (j0 < cols) f(n, j0, std::min(cols, j0 + width));
  }
}

// y = conv(x, w) + bias with w already packed; also the stride-1 input gradient, as the
// convolution of dy with the flipped, transposed weight.
template <class T> void conv_packed(T* y, const T* x, const T* wpack, const T* bias, const Conv2dShape& s) {
  const int64_t pq = s.pq(), crs = s.crs();
  for_sample_chunks<T>(s.N, pq, [&](int64_t n, int64_t j0, int64_t j1) {
    T* xp = scratch<T, 1>(static_cast<size_t>(s.C * ((s.P - 1) * s.stride + s.R) * ((s.Q - 1) * s.stride + s.S)));
    const Padded g = pad_image(xp, x + n * s.C * s.hw(), s);
    Im2colB<T> b{xp, g, s.R, s.S, s.stride, s.Q};
    T* yn = y + n * s.K * pq;
    gemm_cols(yn, pq, s.K, crs, j0, j1, wpack, false, b);
    if (bias)
      for (int64_t k = 0; k < s.K; ++k)
        for (int64_t j = j0; j < j1; ++j) yn[k * pq + j] += bias[k];
  });
}

// dw[:, j0:j1) = Σ_{n0 ≤ n < n1} dy_n · im2col(x_n)ᵀ[:, j0:j1) (dw is K×CRS), single-threaded.
// The reduction runs over (n, p, q); small maps take several samples per packed block, so a
// tile sums kKc products between stores (one 8×8 sample alone gives only 64).
template <class T>
void dw_range(T* dw, const T* x, const T* dy, const Conv2dShape& s, int64_t n0, int64_t n1, int64_t j0, int64_t j1) {
  using TT = Tile<T>;
  const int64_t crs = s.crs(), pq = s.pq(), kpq = s.K * pq;
  const int64_t group = std::max<int64_t>(1, kKc / pq);
  const int64_t plane = s.C * ((s.P - 1) * s.stride + s.R) * ((s.Q - 1) * s.stride + s.S);
  T* apack = scratch<T, 3>(static_cast<size_t>(round_up(s.K, TT::MR) * kKc));
  T* bbuf = scratch<T, 0>(static_cast<size_t>(kKc * round_up(kNc, TT::NR)));
  T* xp = scratch<T, 1>(static_cast<size_t>(group * plane));
  if (narrow<T>(crs)) {
    T* col = scratch<T, 2>(static_cast<size_t>(crs * pq));
    Eigen::Map<RowMat<T>> d(dw, s.K, crs);
    for (int64_t n = n0; n < n1; ++n) {
      im2col_rows(col, xp, pad_image(xp, x + n * s.C * s.hw(), s), s);
      const Eigen::Map<const RowMat<T>> dyn(dy + n * kpq, s.K, pq), cn(col, crs, pq);
      if (n == n0) {
        d.middleCols(j0, j1 - j0).noalias() = dyn * cn.middleRows(j0, j1 - j0).transpose();
      } else {
        d.middleCols(j0, j1 - j0).noalias() += dyn * cn.middleRows(j0, j1 - j0).transpose();
      }
    }
    return;
  }
  for (int64_t n = n0; n < n1; n += group) {
    const int64_t gn = std::min(group, n1 - n), len = gn * pq;
    Padded g{};
    for (int64_t u = 0; u < gn; ++u) g = pad_image(xp + u * plane, x + (n + u) * s.C * s.hw(), s);
    const Im2colTB<T> b{xp, g, s.R, s.S, s.stride, s.P, s.Q, plane};
    const T* arows = dy + n * kpq;  // A = [dy_n | dy_n+1 | …], K × len
    if (gn > 1) {
      T* cat = scratch<T, 7>(static_cast<size_t>(s.K * len));
      for (int64_t k = 0; k < s.K; ++k)
        for (int64_t u = 0; u < gn; ++u)
          std::memcpy(cat + k * len + u * pq, dy + (n + u) * kpq + k * pq, static_cast<size_t>(pq) * sizeof(T));
      arows = cat;
    }
    for (int64_t pc = 0; pc < len; pc += kKc) {
      const int64_t kc = std::min(kKc, len - pc);
      pack_a(apack, arows + pc, len, s.K, kc);
      for (int64_t jc = j0; jc < j1; jc += kNc) {
        const int64_t nc = std::min(kNc, j1 - jc);
        b(bbuf, pc, kc, jc, nc);
        for (int64_t ir = 0; ir < s.K; ir += TT::MR)
          for (int64_t jr = 0; jr < nc; jr += TT::NR)
            micro_tile(kc, apack + ir * kc, bbuf + jr * kc, dw + ir * crs + jc + jr, crs, n > n0 || pc > 0,
                       static_cast<int>(std::min<int64_t>(TT::MR, s.K - ir)),
                       static_cast<int>(std::min<int64_t>(TT::NR, nc - jr)));
      }
    }
  }
}

std::atomic<ConvAlgo> g_algo{ConvAlgo::automatic};
std::atomic<int64_t> g_calls[4];

// a, counted as one more convolution run by it (conv_algo_calls).
ConvAlgo counted(ConvAlgo a) {
  g_calls[static_cast<int>(a)].fetch_add(1, std::memory_order_relaxed);
  return a;
}

// The forward convolution of shape s by the algorithm the setting gives it.
template <class T> void conv_any(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s, const T* wpack) {
  const ConvAlgo a = counted(conv_algo_for(s));
  if (a == ConvAlgo::im2col) {
    conv_packed(y, x, wpack, bias, s);
  } else {
    winograd_conv3x3(y, x, w, bias, s, a == ConvAlgo::winograd2 ? 2 : 4);
  }
}

}  // namespace

void set_conv_algo(ConvAlgo a) { g_algo.store(a); }
ConvAlgo conv_algo() { return g_algo.load(); }
void conv_algo_calls(int64_t out[4]) {
  for (int i = 0; i < 4; ++i) out[i] = g_calls[i].load();
}

ConvAlgo conv_algo_for(const Conv2dShape& s, bool weight_gradient) {
  const ConvAlgo a = g_algo.load(std::memory_order_relaxed);
  if (a == ConvAlgo::im2col || !winograd_fits(s)) return ConvAlgo::im2col;
  if (a != ConvAlgo::automatic) return a;
  // The measured rule (bench/RESULTS.md, 2026-12-03, the table of every shape and direction).
  // Below 16 channels on either side the α² products are too thin to pay for the transforms
  // (3→128 at 32×32: im2col 2–2.4× faster than F(4×4); 16→16: F(4×4) 1.06× forward, 1.4× weight
  // gradient). The forward and input gradient: F(4×4) from 8×8 maps up (128→128: 1.9–2.7× im2col),
  // F(2×2) below, where one F(4×4) tile is mostly padding (512→512 at 4×4: F(2×2) 2.6–2.7×,
  // F(4×4) 1.3–1.5×). The weight gradient sums its products over tiles and gains less: F(4×4)
  // from 16×16 up (1.4–1.7×), F(2×2) at 8×8 (128→128: 1.2×, F(4×4) 1.05×), im2col below (512→512
  // at 4×4: F(2×2) 0.87×).
  if (s.C < 16 || s.K < 16) return ConvAlgo::im2col;
  const int64_t side = std::min(s.P, s.Q);
  if (!weight_gradient) return side < 8 ? ConvAlgo::winograd2 : ConvAlgo::winograd4;
  return side < 8 ? ConvAlgo::im2col : side < 16 ? ConvAlgo::winograd2 : ConvAlgo::winograd4;
}

template <class T> void conv2d_fwd(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s) {
  if (conv_algo_for(s) != ConvAlgo::im2col) {
    conv_any(y, x, w, bias, s, static_cast<const T*>(nullptr));
    return;
  }
  const int64_t crs = s.crs();
  T* wpack = scratch<T, 3>(static_cast<size_t>(round_up(s.K, Tile<T>::MR) * crs));
  pack_a(wpack, w, crs, s.K, crs);
  conv_any(y, x, w, bias, s, wpack);
}

template <class T> void conv2d_bwd_data(T* dx, const T* dy, const T* w, const Conv2dShape& s) {
  const int64_t crs = s.crs(), rs = s.R * s.S, pq = s.pq();
  // Two routes with the same multiply-adds: stride 1 convolves dy with the flipped weight
  // (M = C rows, no scatter) under padding R − 1 − pad (one value, so R = S), otherwise
  // col = wᵀ·dy_n then col2im (M = CRS rows). With few input channels (the first layer) the
  // first wastes most of each MR-row tile; the 1.15 is col2im's pass.
  const int64_t MR = Tile<T>::MR;
  const double flipped_cost = static_cast<double>(round_up(s.C, MR) * s.K * rs * s.hw());
  const double col2im_cost = 1.15 * static_cast<double>(round_up(crs, MR) * s.K * pq);
  const Conv2dShape f{s.N, s.K, s.P, s.Q, s.C, s.R, s.S, 1, s.R - 1 - s.pad, s.H, s.W};
  const bool flippable = s.stride == 1 && s.R == s.S && s.pad <= s.R - 1;
  const bool winograd = flippable && conv_algo_for(f) != ConvAlgo::im2col;
  if (winograd || (flippable && flipped_cost <= col2im_cost)) {
    const int64_t krs = s.K * rs;
    // wf[c][(k·R + r)·S + t] = w[k][c][R−1−r][S−1−t], C×KRS.
    T* wf = scratch<T, 6>(static_cast<size_t>(s.C * krs));
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t i = 0; i < rs; ++i) wf[c * krs + k * rs + i] = w[(k * s.C + c) * rs + (rs - 1 - i)];
    T* wpack = nullptr;
    if (!winograd) {
      wpack = scratch<T, 3>(static_cast<size_t>(round_up(s.C, MR) * krs));
      pack_a(wpack, wf, krs, s.C, krs);
    }
    conv_any(dx, dy, wf, static_cast<const T*>(nullptr), f, static_cast<const T*>(wpack));
    return;
  }
  counted(ConvAlgo::im2col);
  T* wpack = nullptr;
  if (!narrow<T>(crs)) {
    T* wt = scratch<T, 6>(static_cast<size_t>(crs * s.K));  // wᵀ, CRS×K
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t i = 0; i < crs; ++i) wt[i * s.K + k] = w[k * crs + i];
    wpack = scratch<T, 3>(static_cast<size_t>(round_up(crs, MR) * s.K));
    pack_a(wpack, wt, s.K, crs, s.K);
  }
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < s.N; ++n) {
    T* col = scratch<T, 2>(static_cast<size_t>(crs * pq));
    if (narrow<T>(crs)) {
      Eigen::Map<RowMat<T>>(col, crs, pq).noalias() =
          Eigen::Map<const RowMat<T>>(w, s.K, crs).transpose() * Eigen::Map<const RowMat<T>>(dy + n * s.K * pq, s.K, pq);
    } else {
      DenseB<T> b{dy + n * s.K * pq, pq};
      gemm_cols(col, pq, crs, s.K, 0, pq, wpack, false, b);
    }
    T* dxn = dx + n * s.C * s.hw();
    std::fill(dxn, dxn + s.C * s.hw(), T(0));
    col2im(dxn, col, s);
  }
}

template <class T> void conv2d_bwd_weight(T* dw, const T* x, const T* dy, const Conv2dShape& s) {
  if (const ConvAlgo a = counted(conv_algo_for(s, /*weight_gradient=*/true)); a != ConvAlgo::im2col) {
    winograd_conv3x3_bwd_weight(dw, x, dy, s, a == ConvAlgo::winograd2 ? 2 : 4);
    return;
  }
  constexpr int64_t NR = Tile<T>::NR;
  const int64_t crs = s.crs(), kcrs = s.K * crs, panels = (crs + NR - 1) / NR;
  const int threads = omp_get_max_threads();
  if (threads == 1) {
    dw_range(dw, x, dy, s, 0, s.N, 0, crs);
    return;
  }
  if (s.N < threads && panels >= threads) {
    // Fewer samples than threads: each thread owns a range of dw's columns instead.
#pragma omp parallel num_threads(threads)
    {
      const int64_t t = omp_get_thread_num(), team = omp_get_num_threads();
      const int64_t j0 = std::min(crs, panels * t / team * NR), j1 = std::min(crs, panels * (t + 1) / team * NR);
      if (j0 < j1) dw_range(dw, x, dy, s, 0, s.N, j0, j1);
    }
    return;
  }
  // A partial dw per thread over a fixed range of samples, summed in thread order: a given
  // thread count always gives the same bits. (Owning column ranges instead needs no partials
  // and is independent of the thread count, but measured 4–7% slower at ConvNet-3's shapes:
  // every thread packs every sample's dy.)
  T* part = scratch<T, 4>(static_cast<size_t>(threads) * static_cast<size_t>(kcrs));
  int team = 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp single
    team = omp_get_num_threads();
    const int64_t t = omp_get_thread_num(), n0 = s.N * t / team, n1 = s.N * (t + 1) / team;
    T* pt = part + t * kcrs;
    if (n0 < n1) {
      dw_range(pt, x, dy, s, n0, n1, 0, crs);
    } else {
      std::fill(pt, pt + kcrs, T(0));
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < kcrs; ++i) {
      T acc = part[i];
      for (int u = 1; u < team; ++u) acc += part[u * kcrs + i];
      dw[i] = acc;
    }
  }
}

#define LOCO_CONV2D_INSTANTIATE(T)                                                    \
  template void conv2d_fwd<T>(T*, const T*, const T*, const T*, const Conv2dShape&); \
  template void conv2d_bwd_data<T>(T*, const T*, const T*, const Conv2dShape&);      \
  template void conv2d_bwd_weight<T>(T*, const T*, const T*, const Conv2dShape&);
LOCO_CONV2D_INSTANTIATE(float)
LOCO_CONV2D_INSTANTIATE(double)
#undef LOCO_CONV2D_INSTANTIATE

}  // namespace loco::kernels::cpu
