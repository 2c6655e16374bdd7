// CPU twin of kernels/elementwise.h: OpenMP over the outer dims, contiguous inner loops.
#include "kernels/elementwise.h"

#include <vector>

namespace loco::kernels::cpu {
namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

template <class T, class F> void unary_loop(T* y, const T* x, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// Calls f(out_offset, a_offset, b_offset, inner_len, a_inner_stride, b_inner_stride) for every
// run of the innermost dim, outer runs spread over threads.
template <class F> void for_each_row(const Strided& s, F f) {
  const int last = s.ndim - 1;
  const int64_t inner = s.ndim ? s.dims[last] : 1;
  const int64_t rows = s.ndim ? s.numel() / (inner ? inner : 1) : 1;
  if (inner == 0 || rows == 0) return;
#pragma omp parallel for schedule(static) if (rows * inner > kParallelMin && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, oa = 0, ob = 0;
    for (int d = last - 1; d >= 0; --d) {
      const int64_t i = rem % s.dims[d];
      rem /= s.dims[d];
      oa += i * s.sa[d];
      ob += i * s.sb[d];
    }
    f(r * inner, oa, ob, inner, s.ndim ? s.sa[last] : 0, s.ndim ? s.sb[last] : 0);
  }
}

}  // namespace

template <class T> void unary_fwd(UnaryOp op, T* y, const T* x, int64_t n, double p0, double p1) {
  switch (op) {
#define LOCO_UNARY_CASE(OP) \
  case UnaryOp::OP: unary_loop(y, x, n, [=](T v) { return unary_apply<T>(UnaryOp::OP, v, p0, p1); }); break;
    LOCO_UNARY_CASE(affine) LOCO_UNARY_CASE(exp) LOCO_UNARY_CASE(log) LOCO_UNARY_CASE(sqrt)
    LOCO_UNARY_CASE(rsqrt) LOCO_UNARY_CASE(pow) LOCO_UNARY_CASE(relu) LOCO_UNARY_CASE(leaky_relu)
    LOCO_UNARY_CASE(sigmoid) LOCO_UNARY_CASE(swish) LOCO_UNARY_CASE(step)
#undef LOCO_UNARY_CASE
  }
}

template <class T, BinaryOp OP> static void binary_typed(T* y, const T* a, const T* b, const Strided& s) {
  for_each_row(s, [&](int64_t o, int64_t oa, int64_t ob, int64_t n, int64_t sa, int64_t sb) {
    T* yy = y + o;
    const T* aa = a + oa;
    const T* bb = b + ob;
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; ++i) yy[i] = binary_apply<T>(OP, aa[i], bb[i]);
    } else if (sa == 1 && sb == 0) {
      const T bv = bb[0];
      for (int64_t i = 0; i < n; ++i) yy[i] = binary_apply<T>(OP, aa[i], bv);
    } else if (sa == 0 && sb == 1) {
      const T av = aa[0];
      for (int64_t i = 0; i < n; ++i) yy[i] = binary_apply<T>(OP, av, bb[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) yy[i] = binary_apply<T>(OP, aa[i * sa], bb[i * sb]);
    }
  });
}

template <class T> void binary_fwd(BinaryOp op, T* y, const T* a, const T* b, const Strided& s) {
  switch (op) {
    case BinaryOp::add: binary_typed<T, BinaryOp::add>(y, a, b, s); break;
    case BinaryOp::sub: binary_typed<T, BinaryOp::sub>(y, a, b, s); break;
    case BinaryOp::mul: binary_typed<T, BinaryOp::mul>(y, a, b, s); break;
    case BinaryOp::div: binary_typed<T, BinaryOp::div>(y, a, b, s); break;
    case BinaryOp::mul_positive: binary_typed<T, BinaryOp::mul_positive>(y, a, b, s); break;
  }
}

template <class T> void broadcast_copy(T* y, const T* x, const Strided& s) {
  for_each_row(s, [&](int64_t o, int64_t oa, int64_t, int64_t n, int64_t sa, int64_t) {
    if (sa == 1) {
      for (int64_t i = 0; i < n; ++i) y[o + i] = x[oa + i];
    } else {
      for (int64_t i = 0; i < n; ++i) y[o + i] = x[oa + i * sa];
    }
  });
}

template <class T> void sum_to(T* y, int64_t y_numel, const T* x, const Strided& s) {
  // Split the input dims into kept (output) and reduced ones; each output element walks its
  // reduced sub-space in row-major order, accumulating in double for f32 accuracy.
  int kept[kMaxDims], red[kMaxDims];
  int nk = 0, nr = 0;
  int64_t in_stride[kMaxDims];
  int64_t st = 1;
  for (int d = s.ndim - 1; d >= 0; --d) {
    in_stride[d] = st;
    st *= s.dims[d];
  }
  for (int d = 0; d < s.ndim; ++d) (s.sa[d] == 0 && s.dims[d] > 1 ? red[nr++] : kept[nk++]) = d;
  int64_t red_count = 1;
  for (int i = 0; i < nr; ++i) red_count *= s.dims[red[i]];
  const bool inner_contig = nr > 0 && red[nr - 1] == s.ndim - 1;
  const int64_t inner = inner_contig ? s.dims[s.ndim - 1] : 1;
  const int64_t outer_red = red_count / inner;
#pragma omp parallel for schedule(static) if (y_numel * red_count > kParallelMin && y_numel > 1)
  for (int64_t o = 0; o < y_numel; ++o) {
    int64_t base = 0, rem = o;
    for (int i = nk - 1; i >= 0; --i) {
      const int d = kept[i];
      base += (rem % s.dims[d]) * in_stride[d];
      rem /= s.dims[d];
    }
    double acc = 0;
    for (int64_t r = 0; r < outer_red; ++r) {
      int64_t off = base, rr = r;
      for (int i = nr - 1 - (inner_contig ? 1 : 0); i >= 0; --i) {
        const int d = red[i];
        off += (rr % s.dims[d]) * in_stride[d];
        rr /= s.dims[d];
      }
      const T* p = x + off;
      double run = 0;  // one vectorised run (a lone double chain was 4% of an evaluation step)
#pragma omp simd reduction(+ : run)
      for (int64_t i = 0; i < inner; ++i) run += p[i];
      acc += run;
    }
    y[o] = static_cast<T>(acc);
  }
}

#define LOCO_INSTANTIATE(T)                                                              \
  template void unary_fwd<T>(UnaryOp, T*, const T*, int64_t, double, double);            \
  template void binary_fwd<T>(BinaryOp, T*, const T*, const T*, const Strided&);         \
  template void broadcast_copy<T>(T*, const T*, const Strided&);                         \
  template void sum_to<T>(T*, int64_t, const T*, const Strided&);
LOCO_INSTANTIATE(float)
LOCO_INSTANTIATE(double)
#undef LOCO_INSTANTIATE

}  // namespace loco::kernels::cpu
