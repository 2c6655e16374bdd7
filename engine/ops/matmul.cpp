// Matrix-product ops: matmul (2-D), bmm (3-D, batch first), lowrank_reconstruct (N·C products
// H×r · r×W in one op) and linear (composed: matmul with trans_b, then add). Kernels live in
// kernels/matmul.h. Backward of C = op(A)·op(B) with dC:
//   dA = dC·op(B)ᵀ (or its transpose when trans_a), dB = op(A)ᵀ·dC (or its transpose when
//   trans_b), each one matmul/bmm with transposes, so the backward is itself differentiable.
#include "engine/ops/matmul.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/op_util.h"
#include "kernels/matmul.h"

namespace loco {

using detail::dispatch_float;

namespace {

// Rows and columns of op(X) for a matrix X stored rows×cols.
struct OpDims {
  int64_t rows, cols;
};
OpDims op_dims(int64_t rows, int64_t cols, bool trans) { return trans ? OpDims{cols, rows} : OpDims{rows, cols}; }

// dA, dB of C = op(A)·op(B) through `prod` (matmul or bmm): see the file comment.
template <class Prod>
std::vector<Tensor> product_grads(const Prod& prod, const Tensor& a, const Tensor& b, bool ta, bool tb,
                                  const Tensor& dy, const NeedsGrad& n) {
  Tensor da, db;
  if (n[0]) da = ta ? prod(b, dy, tb, true) : prod(dy, b, false, !tb);
  if (n[1]) db = tb ? prod(dy, a, true, ta) : prod(a, dy, !ta, false);
  return {da, db};
}

// The forward product of bmm / lowrank_reconstruct: y[batch, M, N] = op(a)·op(b) per item.
Tensor bmm_forward(const Tensor& a, const Tensor& b, bool ta, bool tb, int64_t batch, int64_t M, int64_t N,
                   int64_t K, const Shape& out, const char* name) {
  Tensor y = empty(out, a.dtype(), a.device());
  dispatch_float(a.dtype(), name, [&]<class T>() {
    LOCO_DISPATCH(a.device(), T, bmm, ta, tb, batch, M, N, K, a.data<T>(), b.data<T>(), y.data<T>());
  });
  return y;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  detail::check_same(a, b, "matmul");
  detail::check_ndim(a, 2, "matmul", "a");
  detail::check_ndim(b, 2, "matmul", "b");
  const OpDims oa = op_dims(a.dim(0), a.dim(1), ta), ob = op_dims(b.dim(0), b.dim(1), tb);
  LOCO_CHECK(oa.cols == ob.rows, "matmul: inner dims differ: a ", a.shape(), ta ? "^T" : "", " · b ", b.shape(),
             tb ? "^T" : "");
  const int64_t M = oa.rows, N = ob.cols, K = oa.cols;
  Tensor y = empty(Shape{M, N}, a.dtype(), a.device());
  dispatch_float(a.dtype(), "matmul", [&]<class T>() {
    LOCO_DISPATCH(a.device(), T, gemm, ta, tb, M, N, K, T(1), a.data<T>(), a.dim(1), b.data<T>(), b.dim(1), T(0),
                  y.data<T>(), N);
  });
  return record("matmul", y, {a, b}, [a, b, ta, tb](const Tensor& dy, const NeedsGrad& n) {
    return product_grads([](const Tensor& x, const Tensor& z, bool tx, bool tz) { return matmul(x, z, tx, tz); },
                         a, b, ta, tb, dy, n);
  });
}

Tensor bmm(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  detail::check_same(a, b, "bmm");
  detail::check_ndim(a, 3, "bmm", "a");
  detail::check_ndim(b, 3, "bmm", "b");
  LOCO_CHECK(a.dim(0) == b.dim(0), "bmm: batch sizes differ: a ", a.shape(), ", b ", b.shape());
  const OpDims oa = op_dims(a.dim(1), a.dim(2), ta), ob = op_dims(b.dim(1), b.dim(2), tb);
  LOCO_CHECK(oa.cols == ob.rows, "bmm: inner dims differ: a ", a.shape(), ta ? "^T" : "", " · b ", b.shape(),
             tb ? "^T" : "");
  const int64_t batch = a.dim(0), M = oa.rows, N = ob.cols, K = oa.cols;
  Tensor y = bmm_forward(a, b, ta, tb, batch, M, N, K, Shape{batch, M, N}, "bmm");
  return record("bmm", y, {a, b}, [a, b, ta, tb](const Tensor& dy, const NeedsGrad& n) {
    return product_grads([](const Tensor& x, const Tensor& z, bool tx, bool tz) { return bmm(x, z, tx, tz); }, a, b,
                         ta, tb, dy, n);
  });
}

Tensor lowrank_reconstruct(const Tensor& a, const Tensor& b) {
  detail::check_same(a, b, "lowrank_reconstruct");
  detail::check_ndim(a, 4, "lowrank_reconstruct", "A [N,C,H,r]");
  detail::check_ndim(b, 4, "lowrank_reconstruct", "B [N,C,r,W]");
  LOCO_CHECK(a.dim(0) == b.dim(0) && a.dim(1) == b.dim(1) && a.dim(3) == b.dim(2),
             "lowrank_reconstruct: A [N,C,H,r] ", a.shape(), " and B [N,C,r,W] ", b.shape(), " do not match");
  const int64_t N = a.dim(0), C = a.dim(1), H = a.dim(2), r = a.dim(3), W = b.dim(3);
  Tensor y = bmm_forward(a, b, false, false, N * C, H, W, r, Shape{N, C, H, W}, "lowrank_reconstruct");
  return record("lowrank_reconstruct", y, {a, b}, [a, b](const Tensor& dy, const NeedsGrad& n) {
    const int64_t nc = a.dim(0) * a.dim(1);
    const Tensor a3 = reshape(a, Shape{nc, a.dim(2), a.dim(3)}), b3 = reshape(b, Shape{nc, b.dim(2), b.dim(3)});
    const Tensor dy3 = reshape(dy, Shape{nc, a.dim(2), b.dim(3)});
    Tensor da, db;
    if (n[0]) da = reshape(bmm(dy3, b3, false, true), a.shape());  // dX·Bᵀ
    if (n[1]) db = reshape(bmm(a3, dy3, true, false), b.shape());  // Aᵀ·dX
    return std::vector<Tensor>{da, db};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  detail::check_same(x, w, "linear");
  detail::check_ndim(x, 2, "linear", "x [N,in]");
  detail::check_ndim(w, 2, "linear", "w [out,in]");
  LOCO_CHECK(x.dim(1) == w.dim(1), "linear: x [N,in] ", x.shape(), " does not match w [out,in] ", w.shape());
  Tensor y = matmul(x, w, false, true);
  if (!bias.defined()) return y;
  detail::check_same(x, bias, "linear");
  LOCO_CHECK(bias.ndim() == 1 && bias.dim(0) == w.dim(0), "linear: bias ", bias.shape(), " does not match w [out,in] ",
             w.shape());
  return add(y, bias);
}

}  // namespace loco
