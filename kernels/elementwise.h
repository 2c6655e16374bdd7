// Contract of the elementwise family: unary maps, binary maps with broadcasting, the
// broadcast copy (expand) and the sum down to a broadcast-compatible shape (sum_to).
// Shapes are given as a Strided view: the output dims and, per input, element strides
// (0 on a broadcast dim). Dims are already collapsed by the caller (kMaxDims at most).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/hd.h"

namespace loco::kernels {

constexpr int kMaxDims = 8;

struct Strided {
  int ndim = 0;
  int64_t dims[kMaxDims] = {};
  int64_t sa[kMaxDims] = {};  // strides of input a (elements); 0 where a broadcasts
  int64_t sb[kMaxDims] = {};  // strides of input b
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= dims[i];
    return n;
  }
};

enum class UnaryOp { affine, exp, log, sqrt, rsqrt, pow, relu, leaky_relu, sigmoid, swish, step };
// mul_positive: a·(b > 0 ? 1 : 0), relu's backward in one pass (dy·step(x) took two and a mask).
enum class BinaryOp { add, sub, mul, div, mul_positive };

// p0, p1: the op's scalars (affine: a, b; pow: p; leaky_relu: slope; step: value below 0).
template <class T> LOCO_HD T unary_apply(UnaryOp op, T x, double p0, double p1) {
  switch (op) {
    case UnaryOp::affine: return static_cast<T>(p0) * x + static_cast<T>(p1);
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return T(1) / std::sqrt(x);
    case UnaryOp::pow: return std::pow(x, static_cast<T>(p0));
    case UnaryOp::relu: return x > T(0) ? x : T(0);
    case UnaryOp::leaky_relu: return x > T(0) ? x : static_cast<T>(p0) * x;
    case UnaryOp::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryOp::swish: return x / (T(1) + std::exp(-x));
    case UnaryOp::step: return x > T(0) ? T(1) : static_cast<T>(p1);
  }
  return x;
}

template <class T> LOCO_HD T binary_apply(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::mul_positive: return a * (b > T(0) ? T(1) : T(0));
  }
  return a;
}

namespace cpu {
template <class T> void unary_fwd(UnaryOp op, T* y, const T* x, int64_t n, double p0, double p1);
// y[o] = a[o·sa] ∘ b[o·sb] over the output dims of s.
template <class T> void binary_fwd(BinaryOp op, T* y, const T* a, const T* b, const Strided& s);
// y[o] = x[o·sa] over the output dims of s (sb unused).
template <class T> void broadcast_copy(T* y, const T* x, const Strided& s);
// y[k] = Σ x[i] over the input dims of s that are reduced: s.dims are the input dims, sa the
// output strides (0 on reduced dims). Deterministic: a fixed summation order per output.
template <class T> void sum_to(T* y, int64_t y_numel, const T* x, const Strided& s);
}  // namespace cpu

#ifdef LOCO_HAS_CUDA
namespace cuda {
void unary_fwd(UnaryOp op, float* y, const float* x, int64_t n, double p0, double p1);
void binary_fwd(BinaryOp op, float* y, const float* a, const float* b, const Strided& s);
void broadcast_copy(float* y, const float* x, const Strided& s);
void sum_to(float* y, int64_t y_numel, const float* x, const Strided& s);
}  // namespace cuda
#endif

}  // namespace loco::kernels
