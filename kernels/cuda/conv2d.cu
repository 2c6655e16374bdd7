// CUDA twin of kernels/conv2d.h through cuDNN's legacy convolution API: NCHW f32, cross-
// correlation (as the CPU), square stride and padding, no dilation or groups. Shape letters:
// N batch, C input channels, H×W input, K output channels, R×S kernel, P×Q output.
//
// Choices:
// - Descriptors and the three algorithms are made once per shape (every Conv2dShape field and
//   the tf32 flag) and kept in a map; steady-state calls only enqueue work.
// - Algorithms come from cudnnGet*Algorithm_v7 (heuristics), not cudnnFind*: the choice is then
//   a function of shape, device and cuDNN version alone, so two processes pick the same kernels
//   and their results repeat bit for bit (Find times candidates and may pick differently).
//   Only results with determinism == CUDNN_DETERMINISTIC are taken, for all three directions
//   (bwd-filter ALGO_0/ALGO_3 and some bwd-data algorithms reduce with atomics).
// - TF32 off (the default) sets CUDNN_FMA_MATH and accepts only results whose mathType is
//   CUDNN_FMA_MATH: under CUDNN_DEFAULT_MATH cuDNN may run f32 convolutions on TF32 tensor
//   cores on Ampere and newer (the cudnnMathType_t reference: DEFAULT permits TF32, FMA
//   restricts to FMA kernels; PyTorch and Paddle also map allow_tf32 = false to FMA_MATH).
//   TF32 on sets CUDNN_TENSOR_OP_MATH, never _ALLOW_CONVERSION (that may convert to FP16).
// - beta = 0 in every convolution: the output is overwritten and never read (dw is
//   overwritten, not accumulated, as the CPU twin does). The bias (K values, or null) is then
//   added by cudnnAddTensor (a broadcast 1×K×1×1 add, elementwise, so deterministic).
// - Workspace comes from the shared grow-only workspace(bytes); a candidate asking for more
//   than kMaxWorkspace is skipped so one shape cannot pin gigabytes.
#include <array>
#include <climits>
#include <map>
#include <memory>
#include <mutex>

#include "kernels/conv2d.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/memory.h"

namespace loco::kernels::cuda {
namespace {

constexpr size_t kMaxWorkspace = size_t{512} << 20;

// y[n, k, p, q] = bias[k] (or 0): a convolution over zero input channels.
__global__ void conv2d_fill_bias_kernel(float* y, const float* bias, int64_t count, int64_t k_count, int64_t pq) {
  LOCO_GRID_STRIDE(i, count) y[i] = bias ? bias[(i / pq) % k_count] : 0.0f;
}

int to_int(int64_t v, const char* what, const Conv2dShape& s) {
  LOCO_CHECK(v >= 0 && v <= INT_MAX, "conv2d (cuDNN): ", what, " = ", v, " does not fit an int (N", s.N, " C", s.C,
             " ", s.H, "×", s.W, " K", s.K, " ", s.R, "×", s.S, ")");
  return static_cast<int>(v);
}

enum Dir { kFwd = 0, kBwdData = 1, kBwdFilter = 2 };

// One shape's descriptors and, per direction, the chosen algorithm (picked on first use).
struct ConvPlan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;  // bias: 1×K×1×1
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv[3] = {nullptr, nullptr, nullptr};  // one per direction: own math type
  bool ready[3] = {false, false, false};
  size_t ws[3] = {0, 0, 0};
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};

  ConvPlan(const Conv2dShape& s, bool tf32) {
    const int n = to_int(s.N, "N", s), c = to_int(s.C, "C", s), h = to_int(s.H, "H", s), wd = to_int(s.W, "W", s);
    const int k = to_int(s.K, "K", s), r = to_int(s.R, "R", s), sw = to_int(s.S, "S", s);
    const int p = to_int(s.P, "P", s), q = to_int(s.Q, "Q", s);
    const int stride = to_int(s.stride, "stride", s), pad = to_int(s.pad, "pad", s);
    to_int(s.N * s.C * s.hw(), "N·C·H·W", s);  // cuDNN's legacy API indexes tensors in int
    to_int(s.N * s.K * s.pq(), "N·K·P·Q", s);
    LOCO_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    LOCO_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    LOCO_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias));
    LOCO_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    LOCO_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, wd));
    LOCO_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, k, p, q));
    LOCO_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, k, 1, 1));
    LOCO_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, r, sw));
    for (auto& cd : conv) {
      LOCO_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
      LOCO_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd, pad, pad, stride, stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                       CUDNN_DATA_FLOAT));
      LOCO_CUDNN_CHECK(cudnnSetConvolutionMathType(cd, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    }
    int on = 0, ok = 0, op = 0, oq = 0;
    LOCO_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv[kFwd], x, w, &on, &ok, &op, &oq));
    LOCO_CHECK(on == n && ok == k && op == p && oq == q, "conv2d (cuDNN): output ", on, "×", ok, "×", op, "×", oq,
               " differs from the expected ", n, "×", k, "×", p, "×", q);
  }
  ~ConvPlan() {  // status ignored: nothing to do about a failure at exit
    for (auto cd : conv)
      if (cd) cudnnDestroyConvolutionDescriptor(cd);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
  ConvPlan(const ConvPlan&) = delete;
  ConvPlan& operator=(const ConvPlan&) = delete;
};

// A heuristic result we may run: it works, repeats bit for bit, and with TF32 off runs on FMA.
template <class Perf> bool acceptable(const Perf& pf, bool tf32) {
  if (pf.status != CUDNN_STATUS_SUCCESS || pf.determinism != CUDNN_DETERMINISTIC) return false;
  if (pf.memory > kMaxWorkspace) return false;
  return tf32 ? pf.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : pf.mathType == CUDNN_FMA_MATH;
}

// The first acceptable result in heuristic order, or `fallback` (deterministic, FMA) if none.
// Leaves the descriptor's math type set to the one the chosen algorithm was ranked with.
template <class Perf, class Algo>
Algo pick(const Perf* perf, int count, bool tf32, Algo fallback, cudnnConvolutionDescriptor_t cd) {
  for (int i = 0; i < count; ++i) {
    if (!acceptable(perf[i], tf32)) continue;
    LOCO_CUDNN_CHECK(cudnnSetConvolutionMathType(cd, perf[i].mathType));
    return perf[i].algo;
  }
  LOCO_CUDNN_CHECK(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH));
  return fallback;
}

void choose_fwd(ConvPlan& pl, bool tf32) {
  int max = 0, got = 0;
  LOCO_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn(), &max));
  std::unique_ptr<cudnnConvolutionFwdAlgoPerf_t[]> perf(new cudnnConvolutionFwdAlgoPerf_t[max > 0 ? max : 1]);
  LOCO_CUDNN_CHECK(
      cudnnGetConvolutionForwardAlgorithm_v7(cudnn(), pl.x, pl.w, pl.conv[kFwd], pl.y, max, &got, perf.get()));
  pl.fwd = pick(perf.get(), got, tf32, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, pl.conv[kFwd]);
  LOCO_CUDNN_CHECK(
      cudnnGetConvolutionForwardWorkspaceSize(cudnn(), pl.x, pl.w, pl.conv[kFwd], pl.y, pl.fwd, &pl.ws[kFwd]));
  pl.ready[kFwd] = true;
}

void choose_bwd_data(ConvPlan& pl, bool tf32) {
  int max = 0, got = 0;
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnn(), &max));
  std::unique_ptr<cudnnConvolutionBwdDataAlgoPerf_t[]> perf(new cudnnConvolutionBwdDataAlgoPerf_t[max > 0 ? max : 1]);
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn(), pl.w, pl.y, pl.conv[kBwdData], pl.x, max,
                                                               &got, perf.get()));
  pl.bwd_data = pick(perf.get(), got, tf32, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, pl.conv[kBwdData]);
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn(), pl.w, pl.y, pl.conv[kBwdData], pl.x,
                                                                pl.bwd_data, &pl.ws[kBwdData]));
  pl.ready[kBwdData] = true;
}

void choose_bwd_filter(ConvPlan& pl, bool tf32) {
  int max = 0, got = 0;
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnn(), &max));
  std::unique_ptr<cudnnConvolutionBwdFilterAlgoPerf_t[]> perf(
      new cudnnConvolutionBwdFilterAlgoPerf_t[max > 0 ? max : 1]);
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnn(), pl.x, pl.y, pl.conv[kBwdFilter], pl.w, max,
                                                                 &got, perf.get()));
  pl.bwd_filter = pick(perf.get(), got, tf32, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, pl.conv[kBwdFilter]);
  LOCO_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn(), pl.x, pl.y, pl.conv[kBwdFilter], pl.w,
                                                                  pl.bwd_filter, &pl.ws[kBwdFilter]));
  pl.ready[kBwdFilter] = true;
}

// The plan of shape s under the current tf32 flag, with direction `dir` chosen.
ConvPlan& plan_for(const Conv2dShape& s, Dir dir) {
  using Key = std::array<int64_t, 12>;
  static std::mutex mu;
  static std::map<Key, std::unique_ptr<ConvPlan>> plans;
  const bool tf = tf32();
  const Key key{s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride, s.pad, s.P, s.Q, tf ? 1 : 0};
  std::lock_guard<std::mutex> lock(mu);
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, std::make_unique<ConvPlan>(s, tf)).first;
  ConvPlan& pl = *it->second;
  if (!pl.ready[dir]) {
    if (dir == kFwd) choose_fwd(pl, tf);
    if (dir == kBwdData) choose_bwd_data(pl, tf);
    if (dir == kBwdFilter) choose_bwd_filter(pl, tf);
  }
  return pl;
}

}  // namespace

void conv2d_fwd(float* y, const float* x, const float* w, const float* bias, const Conv2dShape& s) {
  const int64_t count = s.N * s.K * s.pq();
  if (count == 0) return;
  if (s.C == 0) {  // no input channels: y is the bias alone (cuDNN rejects empty tensors)
    conv2d_fill_bias_kernel<<<grid_for(count), kBlock, 0, stream()>>>(y, bias, count, s.K, s.pq());
    LOCO_CHECK_LAUNCH("conv2d_fill_bias_kernel");
    return;
  }
  ConvPlan& pl = plan_for(s, kFwd);
  const float one = 1.0f, zero = 0.0f;
  LOCO_CUDNN_CHECK(cudnnConvolutionForward(cudnn(), &one, pl.x, x, pl.w, w, pl.conv[kFwd], pl.fwd,
                                           workspace(pl.ws[kFwd]), pl.ws[kFwd], &zero, pl.y, y));
  if (bias) LOCO_CUDNN_CHECK(cudnnAddTensor(cudnn(), &one, pl.bias, bias, &one, pl.y, y));
}

void conv2d_bwd_data(float* dx, const float* dy, const float* w, const Conv2dShape& s) {
  const int64_t count = s.N * s.C * s.hw();
  if (count == 0) return;
  if (s.K == 0) {  // no output channels: the input gradient is zero
    memset_bytes(dx, 0, static_cast<size_t>(count) * sizeof(float));
    return;
  }
  ConvPlan& pl = plan_for(s, kBwdData);
  const float one = 1.0f, zero = 0.0f;
  LOCO_CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn(), &one, pl.w, w, pl.y, dy, pl.conv[kBwdData], pl.bwd_data,
                                                workspace(pl.ws[kBwdData]), pl.ws[kBwdData], &zero, pl.x, dx));
}

void conv2d_bwd_weight(float* dw, const float* x, const float* dy, const Conv2dShape& s) {
  const int64_t count = s.K * s.crs();
  if (count == 0) return;
  if (s.N == 0) {  // a sum over no samples
    memset_bytes(dw, 0, static_cast<size_t>(count) * sizeof(float));
    return;
  }
  ConvPlan& pl = plan_for(s, kBwdFilter);
  const float one = 1.0f, zero = 0.0f;
  LOCO_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn(), &one, pl.x, x, pl.y, dy, pl.conv[kBwdFilter],
                                                  pl.bwd_filter, workspace(pl.ws[kBwdFilter]), pl.ws[kBwdFilter],
                                                  &zero, pl.w, dw));
}

}  // namespace loco::kernels::cuda
