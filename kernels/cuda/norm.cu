// CUDA twin of kernels/norm.h: group norm (instance norm is G = C, layer norm a [N, C·H·W, 1]
// view with G = 1) and training batch norm, forward and fused backward, f32 data with double
// accumulation as on the CPU. Shape letters: N batch, C channels, S = H·W, G groups, Cg = C/G;
// row (n, g) of group norm is Cg·S contiguous elements, channel k of batch norm is N runs of S.
//
// Why this shape of kernels:
// - Group norm: one block per row. Statistics in one pass of shifted sums (shifted by the
//   row's first element, as the CPU, so a large mean does not cancel the variance), then the
//   output from the same block (the row is still in L1/L2). No [N, G] round trip.
// - Batch norm: a channel holds N·S values (200k at ConvNet-BN's 256×28×28) and C may be 3, so
//   one block per channel would leave most of the GPU idle. Each channel is cut into a fixed
//   number of chunks (a function of the shape only), a block per (channel, chunk) writes a
//   partial sum pair, a thread per channel adds its chunks in order, then a flat kernel applies
//   the per-channel coefficients.
// - dγ, dβ of group norm (sums over N per channel): when S ≥ 32 the row kernel writes per-(n, c)
//   partials and a thread per channel adds them over n in order; when S < 32 (layer norm: S = 1,
//   C = C·H·W) a thread per channel reads dy and x directly (coalesced across channels).
// Every reduction is block_sum or a serial loop in a fixed order: no atomics, so two runs agree
// bit for bit. Element loops step (i / S, i mod S) incrementally instead of dividing (64-bit
// division costs more than the load it indexes).
#include <algorithm>

#include "kernels/cuda/launch.cuh"
#include "kernels/norm.h"

namespace loco::kernels::cuda {
namespace {

constexpr int64_t kPerChannelMinS = kWarp;   // group norm bwd: per-channel block sums from here
constexpr int64_t kBnChunk = 16384;          // batch norm: elements per (channel, chunk) block
constexpr int64_t kBnMaxChunks = 64;

// Tracks, for a flat index i advanced by a fixed step, q = i / s, j = i mod s and
// k = (i / s) mod c without dividing in the loop (s, c > 0). The carry from j adds at most 1 to
// q and k, and k + dk + 1 < 2c, so one conditional subtraction keeps k in range.
struct Cursor {
  int64_t q, j, k;
  int64_t dq, dj, dk;
  int64_t s, c;
  __device__ Cursor(int64_t i, int64_t step, int64_t s_, int64_t c_) : s(s_), c(c_) {
    q = i / s;
    j = i - q * s;
    k = q % c;
    dq = step / s;
    dj = step - dq * s;
    dk = dq % c;
  }
  __device__ void advance() {
    q += dq;
    j += dj;
    k += dk;
    if (j >= s) {
      j -= s;
      ++q;
      ++k;
    }
    if (k >= c) k -= c;
  }
};

// max(v, 0) that keeps a NaN (std::max(v, 0.0) on the CPU returns v when v is NaN).
__device__ __forceinline__ double clamp0(double v) { return v < 0.0 ? 0.0 : v; }

// Threads per block for rows of `len` elements: a multiple of 32 (block_sum), at most 256.
int block_for(int64_t len) {
  const int64_t b = std::max<int64_t>(kWarp, std::min<int64_t>(kBlock, ceil_div(len, kWarp) * kWarp));
  return static_cast<int>(b);
}

// One block per row or per channel: the count must fit gridDim.x.
void check_grid(int64_t blocks, const char* what) {
  LOCO_CHECK(blocks <= 0x7fffffff, what, ": ", blocks, " blocks exceed the CUDA grid limit");
}

// ---- group norm ----

// One block per row r = (n, g) of len = Cg·S elements.
__global__ void group_norm_fwd_kernel(float* y, float* mean, float* rstd, const float* x, const float* gamma,
                                      const float* beta, int64_t s, int64_t g, int64_t cg, int64_t len,
                                      double eps) {
  __shared__ double sh[kWarp];
  const int64_t r = blockIdx.x;
  const float* xr = x + r * len;
  const double shift = len > 0 ? static_cast<double>(xr[0]) : 0.0;
  double s1 = 0, s2 = 0;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) {
    const double v = static_cast<double>(xr[i]) - shift;
    s1 += v;
    s2 += v * v;
  }
  s1 = block_sum(s1, sh);
  s2 = block_sum(s2, sh);
  const double total = static_cast<double>(len);
  const double m = s1 / total;
  const double mu = shift + m;
  const double rs = 1.0 / sqrt(clamp0(s2 / total - m * m) + eps);
  if (threadIdx.x == 0) {
    mean[r] = static_cast<float>(mu);
    rstd[r] = static_cast<float>(rs);
  }
  if (len == 0) return;
  const int64_t c0 = (r % g) * cg;
  float* yr = y + r * len;
  Cursor at(threadIdx.x, blockDim.x, s, 1);  // at.q: channel within the group
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x, at.advance()) {
    const int64_t k = c0 + at.q;
    const double ga = gamma ? static_cast<double>(gamma[k]) : 1.0;
    const double be = beta ? static_cast<double>(beta[k]) : 0.0;
    yr[i] = static_cast<float>((static_cast<double>(xr[i]) - mu) * (rs * ga) + be);
  }
}

// One block per row. Row sums a = Σ dy·γ and b = rstd·Σ dy·γ·(x − m), then
// dx = dy·rstd·γ + (x − m)·(−rstd²·b/len) + (−rstd·a/len), as the CPU.
// per_channel (S ≥ 32): the sums go channel by channel and part[n·C + c] = Σ_s dy,
// part[N·C + n·C + c] = rstd·Σ_s dy·(x − m) are written when part is not null.
// Otherwise one flat pass over the row (part must be null).
__global__ void group_norm_bwd_row_kernel(float* dx, double* part, const float* dy, const float* x,
                                          const float* mean, const float* rstd, const float* gamma, int64_t n,
                                          int64_t c, int64_t s, int64_t g, int64_t cg, int64_t len,
                                          bool per_channel) {
  __shared__ double sh[kWarp];
  const int64_t r = blockIdx.x, nn = r / g, c0 = (r % g) * cg;
  const float* xr = x + r * len;
  const float* dyr = dy + r * len;
  const double m = static_cast<double>(mean[r]), rs = static_cast<double>(rstd[r]);
  double a = 0, b = 0;
  if (per_channel) {
    for (int64_t k = 0; k < cg; ++k) {
      double t1 = 0, t2 = 0;
      for (int64_t j = threadIdx.x; j < s; j += blockDim.x) {
        const double d = static_cast<double>(dyr[k * s + j]);
        t1 += d;
        t2 += d * (static_cast<double>(xr[k * s + j]) - m);
      }
      t1 = block_sum(t1, sh);
      t2 = block_sum(t2, sh);
      const double sdyxh = rs * t2;
      if (part && threadIdx.x == 0) {
        part[nn * c + c0 + k] = t1;
        part[n * c + nn * c + c0 + k] = sdyxh;
      }
      const double ga = gamma ? static_cast<double>(gamma[c0 + k]) : 1.0;
      a += ga * t1;
      b += ga * sdyxh;
    }
  } else if (len > 0) {
    Cursor at(threadIdx.x, blockDim.x, s, 1);
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x, at.advance()) {
      const double d = static_cast<double>(dyr[i]) * (gamma ? static_cast<double>(gamma[c0 + at.q]) : 1.0);
      a += d;
      b += d * (static_cast<double>(xr[i]) - m);
    }
    a = block_sum(a, sh);
    b = rs * block_sum(b, sh);
  }
  if (!dx || len == 0) return;
  const double total = static_cast<double>(len);
  const double k2 = -rs * rs * (b / total), k3 = -rs * (a / total);
  float* dxr = dx + r * len;
  Cursor at(threadIdx.x, blockDim.x, s, 1);
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x, at.advance()) {
    const double ga = gamma ? static_cast<double>(gamma[c0 + at.q]) : 1.0;
    dxr[i] = static_cast<float>(static_cast<double>(dyr[i]) * (rs * ga) + (static_cast<double>(xr[i]) - m) * k2 +
                                k3);
  }
}

// dβ[c] = Σ_n part[n·C + c], dγ[c] = Σ_n part[N·C + n·C + c], n in order; a thread per channel.
__global__ void group_norm_affine_from_part_kernel(float* dgamma, float* dbeta, const double* part, int64_t n,
                                                   int64_t c) {
  LOCO_GRID_STRIDE(k, c) {
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      s1 += part[i * c + k];
      s2 += part[n * c + i * c + k];
    }
    if (dbeta) dbeta[k] = static_cast<float>(s1);
    if (dgamma) dgamma[k] = static_cast<float>(s2);
  }
}

// The same sums straight from dy and x (S < 32): a thread per channel, n in order, per sample
// Σ_s dy and rstd·Σ_s dy·(x − m) as the CPU's rows do.
__global__ void group_norm_affine_direct_kernel(float* dgamma, float* dbeta, const float* dy, const float* x,
                                                const float* mean, const float* rstd, int64_t n, int64_t c,
                                                int64_t s, int64_t g, int64_t cg) {
  LOCO_GRID_STRIDE(k, c) {
    const int64_t grp = k / cg;
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = i * g + grp;
      const double m = static_cast<double>(mean[r]), rs = static_cast<double>(rstd[r]);
      const float* dyp = dy + (i * c + k) * s;
      const float* xp = x + (i * c + k) * s;
      double t1 = 0, t2 = 0;
      for (int64_t j = 0; j < s; ++j) {
        const double d = static_cast<double>(dyp[j]);
        t1 += d;
        t2 += d * (static_cast<double>(xp[j]) - m);
      }
      s1 += t1;
      s2 += rs * t2;
    }
    if (dbeta) dbeta[k] = static_cast<float>(s1);
    if (dgamma) dgamma[k] = static_cast<float>(s2);
  }
}

// ---- batch norm ----

struct BnChunks {
  int64_t count, per;  // chunks per channel, elements per chunk (the last may be short)
};
BnChunks bn_chunks(int64_t total) {
  const int64_t count = std::max<int64_t>(1, std::min(kBnMaxChunks, ceil_div(total, kBnChunk)));
  return {count, ceil_div(total, count)};
}

// Block (channel k, chunk): the pair of sums over its elements of channel k, to
// part[(k·chunks + chunk)·2 + {0, 1}]. Forward: Σ (x − x₀), Σ (x − x₀)² with x₀ the channel's
// first element. Backward: Σ dy, Σ dy·(x − mean[k]).
template <bool Bwd>
__global__ void batch_norm_partial_kernel(double* part, const float* x, const float* dy, const float* mean,
                                          int64_t n, int64_t c, int64_t s, int64_t per) {
  __shared__ double sh[kWarp];
  const int64_t k = blockIdx.x, chunk = blockIdx.y, total = n * s;
  const int64_t start = chunk * per, end = start + per < total ? start + per : total;
  const double shift = Bwd ? static_cast<double>(mean[k]) : (total > 0 ? static_cast<double>(x[k * s]) : 0.0);
  double s1 = 0, s2 = 0;
  if (start + threadIdx.x < end) {
    Cursor at(start + threadIdx.x, blockDim.x, s, 1);  // at.q: sample, at.j: position in the plane
    for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x, at.advance()) {
      const int64_t idx = (at.q * c + k) * s + at.j;
      const double v = static_cast<double>(x[idx]) - shift;
      if (Bwd) {
        const double d = static_cast<double>(dy[idx]);
        s1 += d;
        s2 += d * v;
      } else {
        s1 += v;
        s2 += v * v;
      }
    }
  }
  s1 = block_sum(s1, sh);
  s2 = block_sum(s2, sh);
  if (threadIdx.x == 0) {
    part[(k * gridDim.y + chunk) * 2] = s1;
    part[(k * gridDim.y + chunk) * 2 + 1] = s2;
  }
}

// A thread per channel: adds its chunks in order, writes mean, biased var, rstd and the output
// coefficients y = (x − coef[0])·coef[1] + coef[2] (mean, rstd·γ, β in double).
__global__ void batch_norm_fwd_finish_kernel(float* mean, float* var, float* rstd, double* coef, const double* part,
                                             const float* x, const float* gamma, const float* beta, int64_t c,
                                             int64_t s, int64_t total, int64_t chunks, double eps) {
  LOCO_GRID_STRIDE(k, c) {
    double s1 = 0, s2 = 0;
    for (int64_t t = 0; t < chunks; ++t) {
      s1 += part[(k * chunks + t) * 2];
      s2 += part[(k * chunks + t) * 2 + 1];
    }
    const double shift = total > 0 ? static_cast<double>(x[k * s]) : 0.0;
    const double tot = static_cast<double>(total);
    const double m = s1 / tot, v = clamp0(s2 / tot - m * m);
    const double mu = shift + m, rs = 1.0 / sqrt(v + eps);
    mean[k] = static_cast<float>(mu);
    var[k] = static_cast<float>(v);
    rstd[k] = static_cast<float>(rs);
    coef[3 * k] = mu;
    coef[3 * k + 1] = rs * (gamma ? static_cast<double>(gamma[k]) : 1.0);
    coef[3 * k + 2] = beta ? static_cast<double>(beta[k]) : 0.0;
  }
}

// A thread per channel: dβ = Σ dy, dγ = rstd·Σ dy·(x − m), and the dx coefficients
// dx = dy·coef[0] + (x − m)·coef[1] + coef[2], as the CPU.
__global__ void batch_norm_bwd_finish_kernel(float* dgamma, float* dbeta, double* coef, const double* part,
                                             const float* rstd, const float* gamma, int64_t c, int64_t total,
                                             int64_t chunks) {
  LOCO_GRID_STRIDE(k, c) {
    double s1 = 0, s2 = 0;
    for (int64_t t = 0; t < chunks; ++t) {
      s1 += part[(k * chunks + t) * 2];
      s2 += part[(k * chunks + t) * 2 + 1];
    }
    const double rs = static_cast<double>(rstd[k]), sdyxh = rs * s2, tot = static_cast<double>(total);
    if (dbeta) dbeta[k] = static_cast<float>(s1);
    if (dgamma) dgamma[k] = static_cast<float>(sdyxh);
    const double ga = gamma ? static_cast<double>(gamma[k]) : 1.0;
    coef[3 * k] = ga * rs;
    coef[3 * k + 1] = -ga * rs * rs * sdyxh / tot;
    coef[3 * k + 2] = -ga * rs * s1 / tot;
  }
}

// y = (x − coef[0])·coef[1] + coef[2] per channel, over all N·C·S elements.
__global__ void batch_norm_fwd_apply_kernel(float* y, const float* x, const double* coef, int64_t count, int64_t c,
                                            int64_t s) {
  const int64_t first = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (first >= count) return;
  Cursor at(first, static_cast<int64_t>(gridDim.x) * blockDim.x, s, c);  // at.k: channel
  LOCO_GRID_STRIDE(i, count) {
    const double* co = coef + 3 * at.k;
    y[i] = static_cast<float>((static_cast<double>(x[i]) - co[0]) * co[1] + co[2]);
    at.advance();
  }
}

// dx = dy·coef[0] + (x − mean)·coef[1] + coef[2] per channel.
__global__ void batch_norm_bwd_apply_kernel(float* dx, const float* dy, const float* x, const float* mean,
                                            const double* coef, int64_t count, int64_t c, int64_t s) {
  const int64_t first = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (first >= count) return;
  Cursor at(first, static_cast<int64_t>(gridDim.x) * blockDim.x, s, c);
  LOCO_GRID_STRIDE(i, count) {
    const double* co = coef + 3 * at.k;
    dx[i] = static_cast<float>(static_cast<double>(dy[i]) * co[0] +
                               (static_cast<double>(x[i]) - static_cast<double>(mean[at.k])) * co[1] + co[2]);
    at.advance();
  }
}

// Scratch for batch norm: the partial pairs, then 3 coefficients per channel (all double).
struct BnScratch {
  double* part;
  double* coef;
};
BnScratch bn_scratch(int64_t c, int64_t chunks) {
  const size_t npart = static_cast<size_t>(c * chunks * 2), ncoef = static_cast<size_t>(3 * c);
  double* base = static_cast<double*>(workspace((npart + ncoef) * sizeof(double)));
  return {base, base + npart};
}

}  // namespace

void group_norm_fwd(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                    int64_t n, int64_t c, int64_t s, int64_t g, double eps) {
  const int64_t rows = n * g;
  if (rows == 0) return;
  check_grid(rows, "group_norm_fwd");
  const int64_t cg = c / g, len = cg * s;
  group_norm_fwd_kernel<<<static_cast<unsigned>(rows), block_for(len), 0, stream()>>>(y, mean, rstd, x, gamma,
                                                                                     beta, s, g, cg, len, eps);
  LOCO_CHECK_LAUNCH("group_norm_fwd_kernel");
}

void group_norm_bwd(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                    const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t s, int64_t g) {
  const bool want_affine = dgamma || dbeta;
  const int64_t rows = n * g, cg = g > 0 ? c / g : 0, len = cg * s;
  const bool per_channel = s >= kPerChannelMinS;
  double* part = nullptr;
  if (want_affine && per_channel && rows > 0)
    part = static_cast<double*>(workspace(static_cast<size_t>(2 * n * c) * sizeof(double)));
  if (rows > 0 && (dx || part)) {
    check_grid(rows, "group_norm_bwd");
    group_norm_bwd_row_kernel<<<static_cast<unsigned>(rows), block_for(per_channel ? s : len), 0, stream()>>>(
        dx, part, dy, x, mean, rstd, gamma, n, c, s, g, cg, len, per_channel);
    LOCO_CHECK_LAUNCH("group_norm_bwd_row_kernel");
  }
  if (!want_affine || c == 0) return;
  if (part) {
    group_norm_affine_from_part_kernel<<<grid_for(c), kBlock, 0, stream()>>>(dgamma, dbeta, part, n, c);
    LOCO_CHECK_LAUNCH("group_norm_affine_from_part_kernel");
  } else {
    group_norm_affine_direct_kernel<<<grid_for(c), kBlock, 0, stream()>>>(dgamma, dbeta, dy, x, mean, rstd, n, c,
                                                                          s, g, cg);
    LOCO_CHECK_LAUNCH("group_norm_affine_direct_kernel");
  }
}

void batch_norm_fwd(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                    const float* beta, int64_t n, int64_t c, int64_t s, double eps) {
  if (c == 0) return;
  const int64_t total = n * s;
  check_grid(c, "batch_norm_fwd");
  const BnChunks ch = bn_chunks(total);
  const BnScratch w = bn_scratch(c, ch.count);
  batch_norm_partial_kernel<false><<<dim3(static_cast<unsigned>(c), static_cast<unsigned>(ch.count)), kBlock, 0,
                                     stream()>>>(w.part, x, nullptr, nullptr, n, c, s, ch.per);
  LOCO_CHECK_LAUNCH("batch_norm_partial_kernel<fwd>");
  batch_norm_fwd_finish_kernel<<<grid_for(c), kBlock, 0, stream()>>>(mean, var, rstd, w.coef, w.part, x, gamma,
                                                                     beta, c, s, total, ch.count, eps);
  LOCO_CHECK_LAUNCH("batch_norm_fwd_finish_kernel");
  const int64_t count = total * c;
  if (count == 0) return;
  batch_norm_fwd_apply_kernel<<<grid_for(count), kBlock, 0, stream()>>>(y, x, w.coef, count, c, s);
  LOCO_CHECK_LAUNCH("batch_norm_fwd_apply_kernel");
}

void batch_norm_bwd(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                    const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t s) {
  if (c == 0) return;
  const int64_t total = n * s;
  check_grid(c, "batch_norm_bwd");
  const BnChunks ch = bn_chunks(total);
  const BnScratch w = bn_scratch(c, ch.count);
  batch_norm_partial_kernel<true><<<dim3(static_cast<unsigned>(c), static_cast<unsigned>(ch.count)), kBlock, 0,
                                    stream()>>>(w.part, x, dy, mean, n, c, s, ch.per);
  LOCO_CHECK_LAUNCH("batch_norm_partial_kernel<bwd>");
  batch_norm_bwd_finish_kernel<<<grid_for(c), kBlock, 0, stream()>>>(dgamma, dbeta, w.coef, w.part, rstd, gamma, c,
                                                                     total, ch.count);
  LOCO_CHECK_LAUNCH("batch_norm_bwd_finish_kernel");
  const int64_t count = total * c;
  if (!dx || count == 0) return;
  batch_norm_bwd_apply_kernel<<<grid_for(count), kBlock, 0, stream()>>>(dx, dy, x, mean, w.coef, count, c, s);
  LOCO_CHECK_LAUNCH("batch_norm_bwd_apply_kernel");
}

}  // namespace loco::kernels::cuda
