// CUDA twin of kernels/layout.h (f32). Shape letters: R rows of D elements (n_index of them
// indexed); B batches of M×N matrices for the transpose.
// - gather_rows: one element per thread; float4 when D % 4 == 0 and both buffers are 16-byte
//   aligned (every row then starts aligned too).
// - index_add_rows: indices may repeat and no row count is passed, so no destination-indexed
//   grid and no atomics. One block per source row i; only the block holding the FIRST
//   occurrence of destination r = index[i] works. It collects, chunk by chunk with ballots, the
//   later positions k with index[k] == r, in increasing k, and adds src[k, :] into y[r, :]; each
//   thread owns the columns j ≡ thread (mod block). Every y element therefore gets the CPU's
//   additions in the CPU's order (index order), so the result is the CPU's, bit for bit. Cost:
//   O(n_index² / block) index reads in all, plus one pass over src.
// - transpose_last2: 32×32 tiles through shared memory (padded a column against bank
//   conflicts), so both the read of x and the write of y are coalesced.
#include "kernels/cuda/launch.cuh"
#include "kernels/layout.h"

namespace loco::kernels::cuda {
namespace {

template <class V> __global__ void gather_rows_kernel(V* y, const V* x, const int64_t* index, int64_t n_index, int64_t d) {
  LOCO_GRID_STRIDE(e, n_index * d) {
    const int64_t i = e / d, j = e - i * d;
    y[e] = x[index[i] * d + j];
  }
}

__global__ void index_add_rows_kernel(float* y, const float* src, const int64_t* index, int64_t n_index, int64_t d) {
  __shared__ int64_t hits[kBlock];          // positions of this chunk whose destination is r, in order
  __shared__ int warp_hits[kBlock / kWarp];  // how many of them each warp found
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  for (int64_t i = blockIdx.x; i < n_index; i += gridDim.x) {  // uniform over the block
    const int64_t r = index[i];
    bool seen = false;
    for (int64_t k = threadIdx.x; k < i; k += blockDim.x) seen = seen || index[k] == r;
    if (__syncthreads_or(seen)) continue;  // an earlier block owns row r
    float* yr = y + r * d;
    for (int64_t c0 = i; c0 < n_index; c0 += blockDim.x) {
      const int64_t k = c0 + threadIdx.x;
      const bool hit = k < n_index && index[k] == r;
      const unsigned ballot = __ballot_sync(0xffffffffu, hit);
      if (lane == 0) warp_hits[warp] = __popc(ballot);
      __syncthreads();
      int before = 0, total = 0;
      for (int w = 0; w < kBlock / kWarp; ++w) {
        before += w < warp ? warp_hits[w] : 0;
        total += warp_hits[w];
      }
      if (hit) hits[before + __popc(ballot & ((1u << lane) - 1u))] = k;
      __syncthreads();
      for (int h = 0; h < total; ++h) {
        const float* sr = src + hits[h] * d;
        for (int64_t j = threadIdx.x; j < d; j += blockDim.x) yr[j] += sr[j];
      }
      __syncthreads();  // hits and warp_hits are rewritten by the next chunk
    }
  }
}

constexpr int kTile = 32, kTileRows = 8;

__global__ void transpose_last2_kernel(float* y, const float* x, int64_t m, int64_t n, int64_t tiles_m,
                                       int64_t tiles_n, int64_t tiles) {
  __shared__ float tile[kTile][kTile + 1];
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {  // uniform over the block
    const int64_t k = t / (tiles_m * tiles_n), rest = t - k * tiles_m * tiles_n;
    const int64_t i0 = rest / tiles_n * kTile, j0 = rest % tiles_n * kTile;
    const float* xb = x + k * m * n;
    float* yb = y + k * m * n;
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {  // tile[r][c] = x[i0 + r, j0 + c]
      const int64_t i = i0 + r, j = j0 + threadIdx.x;
      if (i < m && j < n) tile[r][threadIdx.x] = xb[i * n + j];
    }
    __syncthreads();
    for (int r = threadIdx.y; r < kTile; r += kTileRows) {  // y[j0 + r, i0 + c] = x[i0 + c, j0 + r]
      const int64_t j = j0 + r, i = i0 + threadIdx.x;
      if (i < m && j < n) yb[j * m + i] = tile[threadIdx.x][r];
    }
    __syncthreads();  // the tile is refilled by the next iteration
  }
}

}  // namespace

void gather_rows(float* y, const float* x, const int64_t* index, int64_t n_index, int64_t d) {
  if (n_index <= 0 || d <= 0) return;
  if (d % 4 == 0 && aligned16(y) && aligned16(x)) {
    launch_1d("gather_rows_kernel<float4>", n_index * (d / 4), gather_rows_kernel<float4>, reinterpret_cast<float4*>(y),
              reinterpret_cast<const float4*>(x), index, n_index, d / 4);
  } else {
    launch_1d("gather_rows_kernel", n_index * d, gather_rows_kernel<float>, y, x, index, n_index, d);
  }
}

void index_add_rows(float* y, const float* src, const int64_t* index, int64_t n_index, int64_t d) {
  if (n_index <= 0 || d <= 0) return;
  const unsigned grid = static_cast<unsigned>(n_index < kMaxGrid ? n_index : kMaxGrid);
  index_add_rows_kernel<<<grid, kBlock, 0, stream()>>>(y, src, index, n_index, d);
  LOCO_CHECK_LAUNCH("index_add_rows_kernel");
}

void transpose_last2(float* y, const float* x, int64_t b, int64_t m, int64_t n) {
  if (b <= 0 || m <= 0 || n <= 0) return;
  const int64_t tiles_m = ceil_div(m, kTile), tiles_n = ceil_div(n, kTile), tiles = b * tiles_m * tiles_n;
  const unsigned grid = static_cast<unsigned>(tiles < kMaxGrid ? tiles : kMaxGrid);
  transpose_last2_kernel<<<grid, dim3(kTile, kTileRows), 0, stream()>>>(y, x, m, n, tiles_m, tiles_n, tiles);
  LOCO_CHECK_LAUNCH("transpose_last2_kernel");
}

}  // namespace loco::kernels::cuda
