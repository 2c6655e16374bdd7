// Contract of the conv2d family: 2-D cross-correlation over NCHW tensors with a KCRS weight,
// square stride and padding, no dilation or groups, and its two backward convolutions.
// Shape letters: N batch, C input channels, H×W input image, K output channels, R×S kernel,
// P×Q output image. The differentiable ops live in engine/ops/conv2d.cpp.
#pragma once
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

struct Conv2dShape {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input x: N×C×H×W
  int64_t K = 0, R = 0, S = 0;         // weight w: K×C×R×S
  int64_t stride = 1, pad = 0;
  int64_t P = 0, Q = 0;                // output y: N×K×P×Q
  int64_t crs() const { return C * R * S; }
  int64_t hw() const { return H * W; }
  int64_t pq() const { return P * Q; }
  // Multiply-adds of one convolution (the forward and each backward cost the same), times 2.
  double flops() const { return 2.0 * static_cast<double>(N * K) * static_cast<double>(crs() * pq()); }
};

// The output size along one axis, or ≤ 0 when the kernel does not fit.
LOCO_HD int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}

// The CPU algorithm for the convolutions Winograd can run (3×3, stride 1, padding ≤ 2): the
// forward, the input gradient (through the flipped weight) and the weight gradient, each by
// the shape of its forward convolution. im2col is the reference. winograd2 and winograd4 are F(2×2, 3×3) and
// F(4×4, 3×3): 2.25× and 4× fewer multiply-adds, more rounding (the bounds are in
// tests/ops/winograd_test.cpp). automatic picks per shape by the rule in kernels/cpu/conv2d.cpp,
// measured in bench/RESULTS.md. One setting for the process (`--conv-algo`); a fixed setting
// and thread count give the same bits on every run.
enum class ConvAlgo : uint8_t { automatic, im2col, winograd2, winograd4 };
inline constexpr ConvAlgo kConvAlgos[] = {ConvAlgo::automatic, ConvAlgo::im2col, ConvAlgo::winograd2, ConvAlgo::winograd4};
inline const char* conv_algo_name(ConvAlgo a) {
  switch (a) {
    case ConvAlgo::automatic: return "auto";
    case ConvAlgo::im2col: return "im2col";
    case ConvAlgo::winograd2: return "winograd2";
    case ConvAlgo::winograd4: return "winograd4";
  }
  return "?";
}

namespace cpu {
void set_conv_algo(ConvAlgo a);
ConvAlgo conv_algo();
// The algorithm the setting gives the forward convolution of shape s, or (weight_gradient) its
// weight gradient (never automatic). The input gradient is the forward of the flipped shape.
ConvAlgo conv_algo_for(const Conv2dShape& s, bool weight_gradient = false);
// How many CPU convolutions (forward, input and weight gradient) each algorithm has run in this
// process, indexed like kConvAlgos (automatic stays 0): what report.json records as in use.
void conv_algo_calls(int64_t out[4]);

// y = conv(x, w) + bias (bias: K values, or null for none).
template <class T> void conv2d_fwd(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s);
// dx = ∂⟨dy, conv(x, w)⟩/∂x (overwritten).
template <class T> void conv2d_bwd_data(T* dx, const T* dy, const T* w, const Conv2dShape& s);
// dw = ∂⟨dy, conv(x, w)⟩/∂w (overwritten, not accumulated). Deterministic: for a given thread
// count the summation order over samples is fixed, so two runs agree bit for bit.
template <class T> void conv2d_bwd_weight(T* dw, const T* x, const T* dy, const Conv2dShape& s);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void conv2d_fwd(float* y, const float* x, const float* w, const float* bias, const Conv2dShape& s);
void conv2d_bwd_data(float* dx, const float* dy, const float* w, const Conv2dShape& s);
void conv2d_bwd_weight(float* dw, const float* x, const float* dy, const Conv2dShape& s);
}  // namespace cuda
#endif

}  // namespace loco::kernels
