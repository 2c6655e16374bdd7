// Softmax cross-entropy. log_softmax over dim 1 of [N,K]; cross_entropy takes integer labels
// (i64 [N]) and returns the mean over the batch of −log p[label].
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
