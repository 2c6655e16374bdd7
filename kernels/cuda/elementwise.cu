// CUDA twin of kernels/elementwise.h (f32): unary maps, broadcasting binary maps, the broadcast
// copy (expand) and sum_to. No fixed shape letters: n elements, or a Strided view of at most
// kMaxDims dims already collapsed by the caller (engine/ops/elementwise.cpp).
// - unary_fwd: the op is a template parameter, so unary_apply's switch folds away. float4
//   loads/stores when x and y are both 16-byte aligned (a dim-0 slice may start anywhere),
//   then a scalar tail of n % 4 elements; scalar otherwise.
// - binary_fwd / broadcast_copy: one output per thread, offsets rebuilt from the flat index;
//   the outermost dim needs no division, so the common collapsed 1-dim case costs none.
// - sum_to: no floating-point atomics. Three shapes of work, chosen from the shapes only (so
//   the summation order, hence every bit, repeats from run to run):
//     thread per output  — short reductions, or many outputs whose innermost dim is kept (the
//                          threads of a warp then read adjacent addresses). Walks the reduced
//                          sub-space in the CPU's row-major order, in double: the same sums.
//     warp per output    — many outputs with a long reduction (e.g. a mean over H×W).
//     block(s) per output— few outputs, long reduction (bias gradients, a full sum). When one
//                          block per output would leave the GPU idle, the reduction is cut in
//                          fixed chunks; a second kernel adds the chunk sums in chunk order.
//   All accumulate in double, as the CPU does; warp_sum / block_sum have a fixed order.
// affine's a·x + b: nvcc contracts it into one fma, as GCC does for the CPU twin on an FMA host
// (-march=native, C++ contracts by default), so both round once.
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise.h"
#include "kernels/memory.h"

namespace loco::kernels::cuda {
namespace {

// ---- unary ----

template <UnaryOp OP> __global__ void unary_kernel(float* y, const float* x, int64_t n, double p0, double p1) {
  LOCO_GRID_STRIDE(i, n) y[i] = unary_apply<float>(OP, x[i], p0, p1);
}

template <UnaryOp OP> __global__ void unary_vec4_kernel(float* y, const float* x, int64_t n, double p0, double p1) {
  const int64_t n4 = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  LOCO_GRID_STRIDE(i, n4) {
    float4 v = x4[i];
    v.x = unary_apply<float>(OP, v.x, p0, p1);
    v.y = unary_apply<float>(OP, v.y, p0, p1);
    v.z = unary_apply<float>(OP, v.z, p0, p1);
    v.w = unary_apply<float>(OP, v.w, p0, p1);
    y4[i] = v;
  }
  // The n % 4 trailing elements (at most 3), one each for the first threads of the grid.
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t < n - 4 * n4) y[4 * n4 + t] = unary_apply<float>(OP, x[4 * n4 + t], p0, p1);
}

template <UnaryOp OP> void unary_launch(float* y, const float* x, int64_t n, double p0, double p1) {
  if (n <= 0) return;
  if (aligned16(x) && aligned16(y)) {
    unary_vec4_kernel<OP><<<grid_for(n / 4), kBlock, 0, stream()>>>(y, x, n, p0, p1);
    LOCO_CHECK_LAUNCH("unary_vec4_kernel");
  } else {
    unary_kernel<OP><<<grid_for(n), kBlock, 0, stream()>>>(y, x, n, p0, p1);
    LOCO_CHECK_LAUNCH("unary_kernel");
  }
}

// ---- binary, broadcast copy ----

// Element offsets of a and b for output element o of s (row-major over s.dims).
__device__ __forceinline__ void strided_offsets(const Strided& s, int64_t o, int64_t& oa, int64_t& ob) {
  int64_t rem = o;
  oa = 0;
  ob = 0;
  for (int d = s.ndim - 1; d > 0; --d) {
    const int64_t i = rem % s.dims[d];
    rem /= s.dims[d];
    oa += i * s.sa[d];
    ob += i * s.sb[d];
  }
  if (s.ndim > 0) {  // the outermost index is what remains
    oa += rem * s.sa[0];
    ob += rem * s.sb[0];
  }
}

template <BinaryOp OP>
__global__ void binary_kernel(float* y, const float* a, const float* b, const Strided s, int64_t n) {
  LOCO_GRID_STRIDE(o, n) {
    int64_t oa, ob;
    strided_offsets(s, o, oa, ob);
    y[o] = binary_apply<float>(OP, a[oa], b[ob]);
  }
}

template <BinaryOp OP> void binary_launch(float* y, const float* a, const float* b, const Strided& s) {
  const int64_t n = s.numel();
  if (n <= 0) return;
  binary_kernel<OP><<<grid_for(n), kBlock, 0, stream()>>>(y, a, b, s, n);
  LOCO_CHECK_LAUNCH("binary_kernel");
}

__global__ void broadcast_copy_kernel(float* y, const float* x, const Strided s, int64_t n) {
  LOCO_GRID_STRIDE(o, n) {
    int64_t oa, ob;
    strided_offsets(s, o, oa, ob);
    y[o] = x[oa];
  }
}

// ---- sum_to ----

// The input dims of a sum_to split as the CPU twin splits them: kept dims (in output order) and
// reduced dims (sa == 0 and size > 1, in row-major order), each with its input stride.
struct SumPlan {
  int nk = 0, nr = 0;
  int64_t kdim[kMaxDims] = {}, kstride[kMaxDims] = {};
  int64_t rdim[kMaxDims] = {}, rstride[kMaxDims] = {};
  int64_t red = 1;  // elements summed into each output
};

SumPlan plan_of(const Strided& s) {
  SumPlan p;
  int64_t in_stride[kMaxDims] = {};
  int64_t st = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    in_stride[d] = st;
    st *= s.dims[d];
  }
  for (int d = 0; d < s.ndim; ++d) {
    if (s.sa[d] == 0 && s.dims[d] > 1) {
      p.rdim[p.nr] = s.dims[d];
      p.rstride[p.nr++] = in_stride[d];
      p.red *= s.dims[d];
    } else {
      p.kdim[p.nk] = s.dims[d];
      p.kstride[p.nk++] = in_stride[d];
    }
  }
  return p;
}

// Offset of flat index i over dims[0..n) with the given input strides (last dim fastest).
__device__ __forceinline__ int64_t offset_of(const int64_t* dims, const int64_t* strides, int n, int64_t i) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += (i % dims[d]) * strides[d];
    i /= dims[d];
  }
  return off;
}
__device__ __forceinline__ int64_t kept_offset(const SumPlan& p, int64_t o) { return offset_of(p.kdim, p.kstride, p.nk, o); }
__device__ __forceinline__ int64_t reduced_offset(const SumPlan& p, int64_t r) {
  return offset_of(p.rdim, p.rstride, p.nr, r);
}

// One output per thread: an odometer over the reduced dims (last fastest), the CPU's order.
__global__ void sum_to_thread_kernel(float* y, int64_t y_numel, const float* x, const SumPlan p) {
  LOCO_GRID_STRIDE(o, y_numel) {
    int64_t idx[kMaxDims] = {};
    int64_t off = kept_offset(p, o);
    double acc = 0;
    for (int64_t r = 0; r < p.red; ++r) {
      acc += x[off];
      for (int i = p.nr - 1; i >= 0; --i) {
        off += p.rstride[i];
        if (++idx[i] < p.rdim[i]) break;
        off -= p.rdim[i] * p.rstride[i];
        idx[i] = 0;
      }
    }
    y[o] = static_cast<float>(acc);
  }
}

// One output per warp; lane l sums reduced elements l, l + 32, ... then a fixed-order warp_sum.
__global__ void sum_to_warp_kernel(float* y, int64_t y_numel, const float* x, const SumPlan p) {
  const int lane = threadIdx.x % kWarp;
  const int64_t per_block = blockDim.x / kWarp;
  for (int64_t o = blockIdx.x * per_block + threadIdx.x / kWarp; o < y_numel; o += gridDim.x * per_block) {
    const int64_t base = kept_offset(p, o);
    double acc = 0;
    for (int64_t r = lane; r < p.red; r += kWarp) acc += x[base + reduced_offset(p, r)];
    acc = warp_sum(acc);
    if (lane == 0) y[o] = static_cast<float>(acc);
  }
}

// Block b sums chunk b % chunks of output b / chunks: reduced elements [c·len, (c+1)·len).
// With one chunk it writes y; otherwise the chunk sum goes to partial[b] for sum_to_finish_kernel.
__global__ void sum_to_block_kernel(float* y, double* partial, const float* x, const SumPlan p, int64_t chunks,
                                    int64_t chunk_len) {
  __shared__ double shared[kWarp];
  const int64_t o = blockIdx.x / chunks, c = blockIdx.x % chunks;
  const int64_t base = kept_offset(p, o);
  const int64_t r0 = c * chunk_len, r1 = r0 + chunk_len < p.red ? r0 + chunk_len : p.red;
  double acc = 0;
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) acc += x[base + reduced_offset(p, r)];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) {
    if (chunks == 1) y[o] = static_cast<float>(acc);
    else partial[blockIdx.x] = acc;
  }
}

__global__ void sum_to_finish_kernel(float* y, int64_t y_numel, const double* partial, int64_t chunks) {
  LOCO_GRID_STRIDE(o, y_numel) {
    double acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += partial[o * chunks + c];
    y[o] = static_cast<float>(acc);
  }
}

// Mode thresholds: a warp per output pays off once a reduction spans a few warps' worth of
// loads; a block per output only when there are too few outputs to fill the GPU with warps.
constexpr int64_t kThreadRed = 32;        // at most this many terms: one thread per output
constexpr int64_t kManyOutputs = 4096;    // enough outputs for thread/warp mode to fill the GPU
constexpr int64_t kBlocksWanted = 132 * 4;
constexpr int64_t kMinChunk = kBlock * 16;  // terms per chunk: each thread adds at least 16

}  // namespace

void unary_fwd(UnaryOp op, float* y, const float* x, int64_t n, double p0, double p1) {
  switch (op) {
#define LOCO_UNARY_CASE(OP) \
  case UnaryOp::OP: unary_launch<UnaryOp::OP>(y, x, n, p0, p1); break;
    LOCO_UNARY_CASE(affine) LOCO_UNARY_CASE(exp) LOCO_UNARY_CASE(log) LOCO_UNARY_CASE(sqrt)
    LOCO_UNARY_CASE(rsqrt) LOCO_UNARY_CASE(pow) LOCO_UNARY_CASE(relu) LOCO_UNARY_CASE(leaky_relu)
    LOCO_UNARY_CASE(sigmoid) LOCO_UNARY_CASE(swish) LOCO_UNARY_CASE(step)
#undef LOCO_UNARY_CASE
  }
}

void binary_fwd(BinaryOp op, float* y, const float* a, const float* b, const Strided& s) {
  switch (op) {
    case BinaryOp::add: binary_launch<BinaryOp::add>(y, a, b, s); break;
    case BinaryOp::sub: binary_launch<BinaryOp::sub>(y, a, b, s); break;
    case BinaryOp::mul: binary_launch<BinaryOp::mul>(y, a, b, s); break;
    case BinaryOp::div: binary_launch<BinaryOp::div>(y, a, b, s); break;
    case BinaryOp::mul_positive: binary_launch<BinaryOp::mul_positive>(y, a, b, s); break;
  }
}

void broadcast_copy(float* y, const float* x, const Strided& s) {
  const int64_t n = s.numel();
  if (n <= 0) return;
  broadcast_copy_kernel<<<grid_for(n), kBlock, 0, stream()>>>(y, x, s, n);
  LOCO_CHECK_LAUNCH("broadcast_copy_kernel");
}

void sum_to(float* y, int64_t y_numel, const float* x, const Strided& s) {
  if (y_numel <= 0) return;
  if (s.numel() == 0) {  // an empty input sums to zeros
    fill(y, 0.0f, y_numel);
    return;
  }
  const SumPlan p = plan_of(s);
  const bool inner_kept = s.ndim == 0 || s.sa[s.ndim - 1] != 0 || s.dims[s.ndim - 1] == 1;
  if (p.red <= kThreadRed || (inner_kept && y_numel >= kManyOutputs)) {
    sum_to_thread_kernel<<<grid_for(y_numel), kBlock, 0, stream()>>>(y, y_numel, x, p);
    LOCO_CHECK_LAUNCH("sum_to_thread_kernel");
  } else if (y_numel >= kManyOutputs / 4) {
    sum_to_warp_kernel<<<grid_for(y_numel * kWarp), kBlock, 0, stream()>>>(y, y_numel, x, p);
    LOCO_CHECK_LAUNCH("sum_to_warp_kernel");
  } else {
    // Chunks per output: enough blocks to fill the GPU, but each chunk at least kMinChunk terms.
    int64_t chunks = ceil_div(kBlocksWanted, y_numel);
    const int64_t most = p.red / kMinChunk;
    if (chunks > most) chunks = most;
    if (chunks < 1) chunks = 1;
    const int64_t chunk_len = ceil_div(p.red, chunks);
    chunks = ceil_div(p.red, chunk_len);  // no empty trailing chunk
    double* partial = nullptr;
    if (chunks > 1) partial = static_cast<double*>(workspace(sizeof(double) * static_cast<size_t>(y_numel * chunks)));
    sum_to_block_kernel<<<static_cast<unsigned>(y_numel * chunks), kBlock, 0, stream()>>>(y, partial, x, p, chunks,
                                                                                          chunk_len);
    LOCO_CHECK_LAUNCH("sum_to_block_kernel");
    if (chunks > 1) {
      sum_to_finish_kernel<<<grid_for(y_numel), kBlock, 0, stream()>>>(y, y_numel, partial, chunks);
      LOCO_CHECK_LAUNCH("sum_to_finish_kernel");
    }
  }
}

}  // namespace loco::kernels::cuda
