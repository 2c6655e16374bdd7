// Elementwise ops. Binary ops broadcast NumPy-style (shapes aligned from the right, size-1
// dims stretch); their backward reduces with sum_to back to each input's shape.
// Backward closure: add/sub/mul/div/affine/exp/log/sqrt/rsqrt/pow/sigmoid/swish are built
// from these same ops; relu and leaky_relu use step(), a constant (no gradient).
#pragma once
#include "engine/tensor.h"

namespace loco {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// y += x in place for equal shapes; never recorded. For accumulators the caller owns (the
// tape's gradient sums): y must not be an input some recorded op still needs.
void add_into(const Tensor& y, const Tensor& x);
// a·x + b with scalar a, b: the scalar forms of add, sub, mul, div and neg.
Tensor affine(const Tensor& x, double a, double b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor pow(const Tensor& x, double p);
Tensor square(const Tensor& x);
Tensor relu(const Tensor& x);
// relu's backward: dy where x > 0, else 0 (dy·step(x) in one pass); differentiable in dy.
Tensor relu_backward(const Tensor& dy, const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor swish(const Tensor& x);
// 1 where x > 0 else 0 (below: `below` instead of 0). A constant: it records nothing.
Tensor step(const Tensor& x, double below = 0.0);

// The broadcast shape of a and b, or an error naming the op and both shapes.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return affine(x, 1.0, s); }
inline Tensor operator+(double s, const Tensor& x) { return affine(x, 1.0, s); }
inline Tensor operator-(const Tensor& x, double s) { return affine(x, 1.0, -s); }
inline Tensor operator-(double s, const Tensor& x) { return affine(x, -1.0, s); }
inline Tensor operator*(const Tensor& x, double s) { return affine(x, s, 0.0); }
inline Tensor operator*(double s, const Tensor& x) { return affine(x, s, 0.0); }
inline Tensor operator/(const Tensor& x, double s) { return affine(x, 1.0 / s, 0.0); }

}  // namespace loco
