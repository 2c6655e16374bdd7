// Ops that move data without arithmetic: reshape, slices and concatenation along dim 0,
// row gather by index and its adjoint (index_add), and the transpose of the last two dims.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace loco {

Tensor reshape(const Tensor& x, const Shape& s);  // a view; one dim may be -1
Tensor flatten(const Tensor& x);                   // [N, ...] → [N, rest]
// Rows [begin, end) of dim 0: a view.
Tensor slice(const Tensor& x, int64_t begin, int64_t end);
Tensor concat(const std::vector<Tensor>& xs);      // along dim 0
// y[i] = x[index[i]] along dim 0; index is an i64 tensor of any length.
Tensor gather_rows(const Tensor& x, const Tensor& index);
// y = zeros(rows × x.shape[1:]); y[index[i]] += src[i].
Tensor index_add_rows(const Tensor& src, const Tensor& index, int64_t rows);
// Zero-fills a tensor of `rows` rows and writes x at rows [begin, begin+x.rows): slice's adjoint.
Tensor pad_rows(const Tensor& x, int64_t begin, int64_t rows);
// Swaps the last two dims (a copy).
Tensor transpose_last2(const Tensor& x);

}  // namespace loco
