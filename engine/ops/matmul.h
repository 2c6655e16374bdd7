// Matrix products. matmul: [M,K]·[K,N] with optional transposes; bmm: the same over a
// leading batch dim; lowrank_reconstruct: X = A·B for every (n, c), A [N,C,H,r], B [N,C,r,W];
// linear: x·Wᵀ + b with W [out,in] as PyTorch stores it.
// Backward closure: each is bilinear and its backward is made of matmul/bmm with transposes:
// matmul → matmul; bmm → bmm; lowrank_reconstruct → bmm, reshape; linear is composed of
// matmul and add (bias), so it records no node of its own.
#pragma once
#include "engine/tensor.h"

namespace loco {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
Tensor lowrank_reconstruct(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

}  // namespace loco
