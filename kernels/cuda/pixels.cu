// CUDA twin of kernels/pixels.h: one output element per thread, the shared formula computed in
// place (IEEE division, as on the CPU, so both twins give the same bits). Reads are bytes and
// writes are floats, so the kernel is bound by the float writes; rows of a gather are whole
// images, contiguous in the source. Shape letters as in the contract.
#include "kernels/cuda/launch.cuh"
#include "kernels/pixels.h"

namespace loco::kernels::cuda {
namespace {

__global__ void gather_normalise_kernel(float* y, const uint8_t* x, const int64_t* rows, int64_t n, int64_t p,
                                        PixelNorm norm) {
  const int64_t image = norm.channels * p;
  LOCO_GRID_STRIDE(e, n * image) {
    const int64_t i = e / image, k = e - i * image, c = k / p;
    y[e] = normalise_pixel(x[rows[i] * image + k], norm.mean[c], norm.std[c]);
  }
}

}  // namespace

void gather_normalise(float* y, const uint8_t* x, const int64_t* rows, int64_t n, int64_t p, PixelNorm norm) {
  launch_1d("gather_normalise_kernel", n * norm.channels * p, gather_normalise_kernel, y, x, rows, n, p, norm);
}

}  // namespace loco::kernels::cuda
