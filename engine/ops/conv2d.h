// 2-D convolution (cross-correlation, NCHW, square stride and padding, no dilation or groups)
// and its two backward convolutions as ops of their own. The three are bilinear and close
// each other under differentiation:
//   conv2d(x, w)              → dx = conv2d_bwd_data(dy, w),  dw = conv2d_bwd_weight(x, dy)
//   conv2d_bwd_data(dy, w)    → d(dy) = conv2d(g, w),         dw = conv2d_bwd_weight(g, dy)
//   conv2d_bwd_weight(x, dy)  → dx = conv2d_bwd_data(dy, g),  d(dy) = conv2d(x, g)
// and the optional bias (K values) of conv2d gets db = sum(dy, {0, 2, 3}).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace loco {

struct Conv2dOpts {
  int64_t stride = 1;
  int64_t padding = 0;
};

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), Conv2dOpts o = {});
// The gradient with respect to the input, for an input of spatial size in_h × in_w.
Tensor conv2d_bwd_data(const Tensor& dy, const Tensor& w, int64_t in_h, int64_t in_w, Conv2dOpts o = {});
// The gradient with respect to the weight, for a kh × kw kernel.
Tensor conv2d_bwd_weight(const Tensor& x, const Tensor& dy, int64_t kh, int64_t kw, Conv2dOpts o = {});

// The CPU algorithm for 3×3, stride-1 convolutions (`--conv-algo`): "auto" (per shape, the
// measured rule), "im2col" (the reference), "winograd2" or "winograd4" (kernels/conv2d.h).
// Throws, naming the choices, on any other name.
void set_conv_algo(const std::string& name);
std::string conv_algo();
// How many CPU convolutions (forward, input and weight gradient) each algorithm ran in this process.
std::vector<std::pair<std::string, int64_t>> conv_algo_calls();

}  // namespace loco
