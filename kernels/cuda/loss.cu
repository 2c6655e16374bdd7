// CUDA twin of kernels/loss.h (f32). Shape letters: N rows (samples), K classes (10–200).
// - log_softmax_fwd, argmax_rows: one warp per row (rows are short: a lane takes ⌈K/32⌉
//   elements), 8 rows per block. The max ignores NaN the way the CPU's std::max(mx, v) does
//   (a NaN still poisons the sum, hence the row, as on the CPU); exp, the sum and log in
//   double, as the CPU; warp reductions in a fixed order.
// - cross_entropy_fwd: ONE block of 1024 threads for the whole batch, so the mean needs no
//   atomics: warp w takes rows w, w + 32, ...; lane 0 keeps its warp's sum of per-row losses in
//   double; block_sum adds the warps in order. A fixed order, hence bit-reproducible; it differs
//   from the CPU's row-order sum only by double rounding. N is a batch (≤ a few thousand).
// - pick_fwd: one thread per row; unpick_fwd: one thread per element (0, or v[i] at the label).
// - argmax_rows: the CPU keeps the first index of the largest value and never moves to a NaN
//   (a NaN at index 0 is never left). Each lane scans its elements in order; the lanes combine
//   by (larger value, then smaller index); a NaN at index 0 (or an all-NaN row) gives 0.
#include <cmath>

#include "kernels/cuda/launch.cuh"
#include "kernels/loss.h"

namespace loco::kernels::cuda {
namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kRowsPerBlock = kBlock / kWarp;
constexpr int kLossThreads = 1024;

// log Σ_j exp(x_j) of one row, shifted by the row max; every lane of the warp gets it.
__device__ double row_log_sum_exp(const float* x, int64_t k, int lane) {
  float mx = -INFINITY;
  for (int64_t j = lane; j < k; j += kWarp) {
    const float v = x[j];
    mx = mx < v ? v : mx;  // std::max(mx, v): a NaN never replaces mx
  }
  mx = __shfl_sync(kFull, warp_max(mx), 0);
  if (isinf(mx)) return mx;  // all −inf (or a +inf): no finite shift exists
  const double m = mx;
  double s = 0;
  for (int64_t j = lane; j < k; j += kWarp) s += exp(static_cast<double>(x[j]) - m);
  s = __shfl_sync(kFull, warp_sum(s), 0);
  return m + log(s);
}

__global__ void log_softmax_fwd_kernel(float* y, const float* x, int64_t n, int64_t k) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / kWarp; i < n;
       i += static_cast<int64_t>(gridDim.x) * kRowsPerBlock) {  // uniform over the warp
    const float* xr = x + i * k;
    const double lse = row_log_sum_exp(xr, k, lane);
    for (int64_t j = lane; j < k; j += kWarp) y[i * k + j] = static_cast<float>(static_cast<double>(xr[j]) - lse);
  }
}

__global__ void cross_entropy_fwd_kernel(float* loss, const float* x, const int64_t* labels, int64_t n, int64_t k) {
  __shared__ double shared[kWarp];
  const int lane = threadIdx.x % kWarp;
  const int warps = blockDim.x / kWarp;
  double acc = 0;  // meaningful on lane 0 only
  for (int64_t i = threadIdx.x / kWarp; i < n; i += warps) {
    const float* xr = x + i * k;
    const double lse = row_log_sum_exp(xr, k, lane);
    if (lane == 0) acc += lse - static_cast<double>(xr[labels[i]]);
  }
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(acc / static_cast<double>(n));
}

__global__ void pick_fwd_kernel(float* y, const float* x, const int64_t* labels, int64_t n, int64_t k) {
  LOCO_GRID_STRIDE(i, n) y[i] = x[i * k + labels[i]];
}

__global__ void unpick_fwd_kernel(float* y, const float* v, const int64_t* labels, int64_t n, int64_t k) {
  LOCO_GRID_STRIDE(e, n * k) {
    const int64_t i = e / k, j = e - i * k;
    y[e] = j == labels[i] ? v[i] : 0.0f;
  }
}

__global__ void argmax_rows_kernel(int64_t* out, const float* x, int64_t n, int64_t k) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kRowsPerBlock) + threadIdx.x / kWarp; i < n;
       i += static_cast<int64_t>(gridDim.x) * kRowsPerBlock) {  // uniform over the warp
    const float* xr = x + i * k;
    float bv = 0.0f;
    int64_t bi = -1;  // none yet
    for (int64_t j = lane; j < k; j += kWarp) {
      const float v = xr[j];
      if (!isnan(v) && (bi < 0 || v > bv)) {
        bv = v;
        bi = j;
      }
    }
    // A max under a total order ((value, −index), "none" lowest): every lane ends with it.
    for (int o = kWarp / 2; o > 0; o /= 2) {
      const float ov = __shfl_xor_sync(kFull, bv, o);
      const int64_t oi = __shfl_xor_sync(kFull, bi, o);
      if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) {
        bv = ov;
        bi = oi;
      }
    }
    if (lane == 0) out[i] = bi < 0 || isnan(xr[0]) ? 0 : bi;
  }
}

unsigned rows_grid(int64_t n) { return grid_for(n, kRowsPerBlock); }

}  // namespace

void log_softmax_fwd(float* y, const float* x, int64_t n, int64_t k) {
  if (n <= 0 || k <= 0) return;
  log_softmax_fwd_kernel<<<rows_grid(n), kBlock, 0, stream()>>>(y, x, n, k);
  LOCO_CHECK_LAUNCH("log_softmax_fwd_kernel");
}

void cross_entropy_fwd(float* loss, const float* x, const int64_t* labels, int64_t n, int64_t k) {
  // Launched even for n == 0: the loss is then 0/0 = NaN, as on the CPU. k ≥ 1 (checked by the op).
  cross_entropy_fwd_kernel<<<1, kLossThreads, 0, stream()>>>(loss, x, labels, n, k);
  LOCO_CHECK_LAUNCH("cross_entropy_fwd_kernel");
}

void pick_fwd(float* y, const float* x, const int64_t* labels, int64_t n, int64_t k) {
  launch_1d("pick_fwd_kernel", n, pick_fwd_kernel, y, x, labels, n, k);
}

void unpick_fwd(float* y, const float* v, const int64_t* labels, int64_t n, int64_t k) {
  launch_1d("unpick_fwd_kernel", n * k, unpick_fwd_kernel, y, v, labels, n, k);
}

void argmax_rows(int64_t* out, const float* x, int64_t n, int64_t k) {
  if (n <= 0) return;
  argmax_rows_kernel<<<rows_grid(n), kBlock, 0, stream()>>>(out, x, n, k);
  LOCO_CHECK_LAUNCH("argmax_rows_kernel");
}

}  // namespace loco::kernels::cuda
