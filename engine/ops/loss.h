// Softmax cross-entropy. log_softmax over dim 1 of [N,K]; cross_entropy takes integer labels
// (i64 [N], each in [0, K)) and returns the mean over the batch of −log p[label].
// Backward closure: log_softmax → {exp, log_softmax, sum, mul, sub}; pick ↔ unpick (adjoints);
// cross_entropy (one fused node) → {exp, log_softmax, unpick, sub, mul}.
#pragma once
#include "engine/tensor.h"

namespace loco {

Tensor log_softmax(const Tensor& logits);
// y[i] = x[i, label[i]] for x [N,K]; its adjoint scatters into zeros.
Tensor pick(const Tensor& x, const Tensor& labels);
Tensor unpick(const Tensor& v, const Tensor& labels, int64_t classes);
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
// Row-wise argmax of [N,K] as i64 [N] (no gradient).
Tensor argmax_rows(const Tensor& x);

}  // namespace loco
