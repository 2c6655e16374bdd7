// CUDA twin of kernels/grid_sample.h (f32): bilinear resampling with zero padding and its
// adjoint. Shape letters: N batch, C channels, H×W input, Ho×Wo output, P = N·C planes; the
// grid [N, Ho, Wo, 2] is shared by the C planes of a sample.
// - fwd: a gather, one thread per output element (p, o): the four taps of bilinear_taps summed
//   in tap order, as the CPU twin does.
// - bwd_data: the CPU scatters each plane in output order. Here, without atomics, one thread
//   per INPUT pixel q of a plane scans every output o of that plane in increasing o (the grid
//   staged through shared memory in chunks of 256 positions, read by all threads at once) and
//   adds wt_k·dy[o] for each tap k with idx_k == q, in tap order. That is the same list of
//   additions, in the same order, that dx[q] receives on the CPU, so the sums agree bit for bit
//   (both sides contract acc + wt·dy into one fma on an FMA host). A cheap exact pre-test skips
//   positions that cannot reach q: tap column x0 = ⌊p_x⌋ must be q_x − 1 or q_x, i.e.
//   q_x − 1 ≤ p_x < q_x + 1 (and likewise for rows); only those call bilinear_taps.
//   Cost: P·(H·W)·(Ho·Wo) pre-tests (16.7M per 64×64 plane, the largest DSA uses here); the
//   work is in shared-memory reads and compares, a few ms for a thousand 64×64 planes on an
//   H100-class GPU. A CSR of taps per input pixel would be O(P·Ho·Wo) but needs a sort.
#include "kernels/cuda/launch.cuh"
#include "kernels/grid_sample.h"

namespace loco::kernels::cuda {
namespace {

__global__ void grid_sample_fwd_kernel(float* y, const float* x, const float* grid, int64_t c, int64_t h, int64_t w,
                                       int64_t po, int64_t total) {
  LOCO_GRID_STRIDE(e, total) {
    const int64_t p = e / po, o = e - p * po;
    const float* g = grid + (p / c) * po * 2;
    const float* xp = x + p * h * w;
    int64_t idx[4];
    float wt[4];
    bilinear_taps(g[2 * o], g[2 * o + 1], h, w, idx, wt);
    float acc = 0.0f;
    for (int k = 0; k < 4; ++k)
      if (idx[k] >= 0) acc += wt[k] * xp[idx[k]];
    y[e] = acc;
  }
}

// Block b covers plane b / tiles, input pixels [(b % tiles)·256, +256).
__global__ void grid_sample_bwd_data_kernel(float* dx, const float* dy, const float* grid, int64_t c, int64_t h,
                                            int64_t w, int64_t po, int64_t tiles, int64_t blocks) {
  __shared__ float gx[kBlock], gy[kBlock];
  const int64_t hw = h * w;
  for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {  // uniform over the block
    const int64_t p = b / tiles, q = (b - p * tiles) * kBlock + threadIdx.x;
    const bool active = q < hw;
    const int64_t qy = active ? q / w : 0, qx = active ? q - (q / w) * w : 0;
    const float lo_x = static_cast<float>(qx - 1), hi_x = static_cast<float>(qx + 1);
    const float lo_y = static_cast<float>(qy - 1), hi_y = static_cast<float>(qy + 1);
    const float* g = grid + (p / c) * po * 2;
    const float* dyp = dy + p * po;
    float acc = 0.0f;
    for (int64_t o0 = 0; o0 < po; o0 += kBlock) {
      __syncthreads();  // every thread is done with the previous chunk
      const int64_t o = o0 + threadIdx.x;
      if (o < po) {
        gx[threadIdx.x] = g[2 * o];
        gy[threadIdx.x] = g[2 * o + 1];
      }
      __syncthreads();
      const int len = po - o0 < kBlock ? static_cast<int>(po - o0) : kBlock;
      if (!active) continue;
      for (int t = 0; t < len; ++t) {
        const float px = gx[t], py = gy[t];
        if (!(px >= lo_x && px < hi_x && py >= lo_y && py < hi_y)) continue;  // NaN fails too
        int64_t idx[4];
        float wt[4];
        bilinear_taps(px, py, h, w, idx, wt);
        const float d = dyp[o0 + t];
        for (int k = 0; k < 4; ++k)
          if (idx[k] == q) acc += wt[k] * d;
      }
    }
    if (active) dx[p * hw + q] = acc;
  }
}

}  // namespace

void grid_sample_fwd(float* y, const float* x, const float* grid, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t ho, int64_t wo) {
  const int64_t po = ho * wo;
  launch_1d("grid_sample_fwd_kernel", n * c * po, grid_sample_fwd_kernel, y, x, grid, c, h, w, po, n * c * po);
}

void grid_sample_bwd_data(float* dx, const float* dy, const float* grid, int64_t n, int64_t c, int64_t h, int64_t w,
                          int64_t ho, int64_t wo) {
  const int64_t planes = n * c, hw = h * w;
  if (planes <= 0 || hw <= 0) return;
  // Po = 0 still writes dx = 0: every input pixel then receives no tap, as on the CPU.
  const int64_t tiles = ceil_div(hw, kBlock), blocks = planes * tiles;
  const unsigned grid_blocks = static_cast<unsigned>(blocks < kMaxGrid ? blocks : kMaxGrid);
  grid_sample_bwd_data_kernel<<<grid_blocks, kBlock, 0, stream()>>>(dx, dy, grid, c, h, w, ho * wo, tiles, blocks);
  LOCO_CHECK_LAUNCH("grid_sample_bwd_data_kernel");
}

}  // namespace loco::kernels::cuda
