// Winograd convolution for the CPU's 3×3, stride-1 shapes (kernels/cpu/winograd.cpp). The
// im2col + GEMM route in kernels/cpu/conv2d.cpp stays the reference; conv2d.cpp decides which
// runs (ConvAlgo in kernels/conv2d.h).
#pragma once
#include "kernels/conv2d.h"

namespace loco::kernels::cpu {

// Whether Winograd can run this shape at all: a 3×3 kernel, stride 1, padding at most 2.
bool winograd_fits(const Conv2dShape& s);

// y = conv(x, w) + bias (bias: K values or null) by Winograd F(m×m, 3×3), m = 2 or 4, for a
// shape winograd_fits. Every output is computed the same way whatever the thread count.
template <class T> void winograd_conv3x3(T* y, const T* x, const T* w, const T* bias, const Conv2dShape& s, int m);
// dw = ∂⟨dy, conv(x, w)⟩/∂w (overwritten) by the same transforms; for a fixed thread count the
// summation order over tiles is fixed, so two runs agree bit for bit.
template <class T> void winograd_conv3x3_bwd_weight(T* dw, const T* x, const T* dy, const Conv2dShape& s, int m);

}  // namespace loco::kernels::cpu
