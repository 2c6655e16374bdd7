#include "engine/ops/layout.h"

#include "engine/ops/op_util.h"
#include "kernels/layout.h"

namespace loco {

using detail::dispatch_float;

Tensor reshape(const Tensor& x, const Shape& s_in) {
  std::vector<int64_t> d = s_in.dims();
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == -1) {
      LOCO_CHECK(infer < 0, "reshape: more than one -1 in ", s_in);
      infer = static_cast<int64_t>(i);
    } else {
      known *= d[i];
    }
  }
  if (infer >= 0) {
    LOCO_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape ", x.shape(), " to ", s_in);
    d[static_cast<size_t>(infer)] = x.numel() / known;
  }
  const Shape s(std::move(d));
  LOCO_CHECK(s.numel() == x.numel(), "reshape: cannot reshape ", x.shape(), " (", x.numel(), " elements) to ", s);
  Tensor y = view_of(x, s);
  if (!is_floating(x.dtype())) return y;
  return record("reshape", y, {x}, [xs = x.shape()](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{reshape(dy, xs)};
  });
}

Tensor flatten(const Tensor& x) {
  LOCO_CHECK(x.ndim() >= 1, "flatten: a 0-dim tensor has no batch dim");
  return reshape(x, Shape{x.dim(0), -1});
}

Tensor slice(const Tensor& x, int64_t begin, int64_t end) {
  LOCO_CHECK(x.ndim() >= 1 && 0 <= begin && begin <= end && end <= x.dim(0), "slice: rows [", begin, ", ", end,
             ") out of range for shape ", x.shape());
  std::vector<int64_t> d = x.shape().dims();
  const int64_t row = x.numel() / std::max<int64_t>(x.dim(0), 1);
  d[0] = end - begin;
  Tensor y = view_of(x, Shape(d), static_cast<size_t>(begin * row));
  if (!is_floating(x.dtype())) return y;
  y = record("slice", y, {x}, [begin, rows = x.dim(0)](const Tensor& dy, const NeedsGrad&) {
    // Recording (double backward): the padded gradient, an op of its own. Otherwise the rows
    // alone; the tape adds them in place (Node::row_offset).
    return std::vector<Tensor>{grad_enabled() ? pad_rows(dy, begin, rows) : dy};
  });
  if (y.grad_fn()) y.grad_fn()->row_offset = begin;
  return y;
}

Tensor pad_rows(const Tensor& x, int64_t begin, int64_t rows) {
  detail::check_floating(x, "pad_rows");
  LOCO_CHECK(begin >= 0 && begin + x.dim(0) <= rows, "pad_rows: ", x.dim(0), " rows at ", begin,
             " do not fit in ", rows);
  std::vector<int64_t> d = x.shape().dims();
  d[0] = rows;
  Tensor y = zeros(Shape(d), x.dtype(), x.device());
  const size_t row_bytes = x.dim(0) ? x.nbytes() / static_cast<size_t>(x.dim(0)) : 0;
  copy_bytes(static_cast<char*>(y.raw()) + begin * row_bytes, y.device(), x.raw(), x.device(), x.nbytes());
  return record("pad_rows", y, {x}, [begin, n = x.dim(0)](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{slice(dy, begin, begin + n)};
  });
}

Tensor concat(const std::vector<Tensor>& xs) {
  LOCO_CHECK(!xs.empty(), "concat: no tensors");
  const Tensor& x0 = xs[0];
  LOCO_CHECK(x0.ndim() >= 1, "concat: 0-dim tensor");
  int64_t rows = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    LOCO_CHECK(x.dtype() == x0.dtype() && x.device() == x0.device() && x.ndim() == x0.ndim(), "concat: tensor ", i,
               " (", x.dtype(), " ", x.shape(), ") does not match tensor 0 (", x0.dtype(), " ", x0.shape(), ")");
    for (int64_t k = 1; k < x.ndim(); ++k)
      LOCO_CHECK(x.dim(k) == x0.dim(k), "concat: tensor ", i, " has shape ", x.shape(), ", tensor 0 has ", x0.shape());
    rows += x.dim(0);
  }
  std::vector<int64_t> d = x0.shape().dims();
  d[0] = rows;
  Tensor y = empty(Shape(d), x0.dtype(), x0.device());
  size_t off = 0;
  for (const Tensor& x : xs) {
    copy_bytes(static_cast<char*>(y.raw()) + off, y.device(), x.raw(), x.device(), x.nbytes());
    off += x.nbytes();
  }
  if (!is_floating(x0.dtype())) return y;
  std::vector<int64_t> starts;
  int64_t r = 0;
  for (const Tensor& x : xs) {
    starts.push_back(r);
    r += x.dim(0);
  }
  starts.push_back(r);
  return record("concat", y, xs, [starts](const Tensor& dy, const NeedsGrad& n) {
    std::vector<Tensor> g(starts.size() - 1);
    for (size_t i = 0; i + 1 < starts.size(); ++i)
      if (n[i]) g[i] = slice(dy, starts[i], starts[i + 1]);
    return g;
  });
}

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  detail::check_floating(x, "gather_rows");
  LOCO_CHECK(x.ndim() >= 1, "gather_rows: 0-dim input");
  detail::check_index(index, x.dim(0), "gather_rows");
  std::vector<int64_t> d = x.shape().dims();
  d[0] = index.numel();
  Tensor y = empty(Shape(d), x.dtype(), x.device());
  const int64_t row = x.dim(0) ? x.numel() / x.dim(0) : 0;
  dispatch_float(x.dtype(), "gather_rows", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, gather_rows, y.data<T>(), x.data<T>(), index.data<int64_t>(), index.numel(), row);
  });
  return record("gather_rows", y, {x}, [index, rows = x.dim(0)](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{index_add_rows(dy, index, rows)};
  });
}

Tensor index_add_rows(const Tensor& src, const Tensor& index, int64_t rows) {
  detail::check_floating(src, "index_add_rows");
  detail::check_index(index, rows, "index_add_rows");
  LOCO_CHECK(src.ndim() >= 1 && src.dim(0) == index.numel(), "index_add_rows: ", src.shape(), " rows for ",
             index.numel(), " indices");
  std::vector<int64_t> d = src.shape().dims();
  d[0] = rows;
  Tensor y = zeros(Shape(d), src.dtype(), src.device());
  const int64_t row = src.dim(0) ? src.numel() / src.dim(0) : 0;
  dispatch_float(src.dtype(), "index_add_rows", [&]<class T>() {
    LOCO_DISPATCH(src.device(), T, index_add_rows, y.data<T>(), src.data<T>(), index.data<int64_t>(), index.numel(), row);
  });
  return record("index_add_rows", y, {src}, [index](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{gather_rows(dy, index)};
  });
}

Tensor transpose_last2(const Tensor& x) {
  detail::check_floating(x, "transpose_last2");
  LOCO_CHECK(x.ndim() >= 2, "transpose_last2: needs at least 2 dims, got ", x.shape());
  std::vector<int64_t> d = x.shape().dims();
  const int64_t m = d[d.size() - 2], n = d[d.size() - 1];
  std::swap(d[d.size() - 2], d[d.size() - 1]);
  Tensor y = empty(Shape(d), x.dtype(), x.device());
  const int64_t b = x.numel() / std::max<int64_t>(m * n, 1);
  dispatch_float(x.dtype(), "transpose_last2", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, transpose_last2, y.data<T>(), x.data<T>(), b, m, n);
  });
  return record("transpose_last2", y, {x}, [](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{transpose_last2(dy)};
  });
}

}  // namespace loco
