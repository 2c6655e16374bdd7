// The elementwise family at the sizes a ConvNet-3 step touches (N 256, C 128, H×W maps):
//   BM_unary_fwd_*   relu over n floats (a block multiple and an odd n)
//   BM_binary_fwd_*  y[N,C,H,W] = x + bias[C]: the broadcasting add after a convolution
//   BM_sum_to_*      Σ over N, H, W down to [C]: the bias gradient
// bytes: compulsory traffic per call. The CPU twins are checked against plain loops in double,
// the CUDA twins against the CPU twins.
#include <algorithm>
#include <vector>

#include "bench/harness.h"
#include "kernels/elementwise.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;

// [N, C, H·W] with the second operand (a) broadcast along N and H·W, or (b) reduced onto C.
struct BiasShape {
  int64_t n = 256, c = 128, hw;
  explicit BiasShape(const benchmark::State& st) : hw(st.range(0) * st.range(0)) {}
  int64_t numel() const { return n * c * hw; }
  // The add: out and x dense, bias strided (0, 1, 0).
  kernels::Strided add() const {
    kernels::Strided s;
    s.ndim = 3;
    const int64_t dims[3] = {n, c, hw}, sa[3] = {c * hw, hw, 1}, sb[3] = {0, 1, 0};
    for (int i = 0; i < 3; ++i) s.dims[i] = dims[i], s.sa[i] = sa[i], s.sb[i] = sb[i];
    return s;
  }
  // The reduction: input dims, output strides (0 on the reduced N and H·W).
  kernels::Strided reduce() const {
    kernels::Strided s;
    s.ndim = 3;
    const int64_t dims[3] = {n, c, hw}, sa[3] = {0, 1, 0};
    for (int i = 0; i < 3; ++i) s.dims[i] = dims[i], s.sa[i] = sa[i];
    return s;
  }
};

void BM_unary_fwd_cpu(benchmark::State& st) {
  const int64_t n = st.range(0);
  const auto x = host_floats(n, 1);
  std::vector<float> y(static_cast<size_t>(n)), ref(static_cast<size_t>(n));
  auto run = [&] { kh::unary_fwd<float>(kernels::UnaryOp::relu, y.data(), x.data(), n, 0, 0); };
  run();
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = std::max(x[i], 0.f);
  if (!matches(st, y, ref)) return;
  timed_cpu(st, run, 8.0 * double(n));
}

void BM_binary_fwd_cpu(benchmark::State& st) {
  const BiasShape s(st);
  const auto x = host_floats(s.numel(), 1), b = host_floats(s.c, 2);
  std::vector<float> y(size_t(s.numel())), ref(y.size());
  const kernels::Strided st3 = s.add();
  auto run = [&] { kh::binary_fwd<float>(kernels::BinaryOp::add, y.data(), x.data(), b.data(), st3); };
  run();
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = x[i] + b[(i / size_t(s.hw)) % size_t(s.c)];
  if (!matches(st, y, ref)) return;
  timed_cpu(st, run, 8.0 * double(s.numel()));
}

void BM_sum_to_cpu(benchmark::State& st) {
  const BiasShape s(st);
  const auto x = host_floats(s.numel(), 1);
  std::vector<float> y(size_t(s.c));
  std::vector<double> ref(size_t(s.c));
  const kernels::Strided st3 = s.reduce();
  auto run = [&] { kh::sum_to<float>(y.data(), s.c, x.data(), st3); };
  run();
  for (size_t i = 0; i < x.size(); ++i) ref[(i / size_t(s.hw)) % size_t(s.c)] += x[i];
  if (!matches(st, y, ref)) return;
  timed_cpu(st, run, 4.0 * double(s.numel()));
}

void unary_shapes(benchmark::internal::Benchmark* b) { b->ArgName("n")->Arg(int64_t(1) << 26)->Arg(1000003); }
void bias_shapes(benchmark::internal::Benchmark* b) { b->ArgName("H")->Arg(32)->Arg(8); }

BENCHMARK(BM_unary_fwd_cpu)->Apply(unary_shapes)->Apply(on_cpu);
BENCHMARK(BM_binary_fwd_cpu)->Apply(bias_shapes)->Apply(on_cpu);
BENCHMARK(BM_sum_to_cpu)->Apply(bias_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_unary_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  const Buf x(n, 1);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  auto run = [&] { kc::unary_fwd(kernels::UnaryOp::relu, y.data<float>(), x.p(), n, 0, 0); };
  run();
  std::vector<float> ref(static_cast<size_t>(n));
  kh::unary_fwd<float>(kernels::UnaryOp::relu, ref.data(), x.h.data(), n, 0, 0);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 8.0 * double(n));
}

void BM_binary_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const BiasShape s(st);
  const Buf x(s.numel(), 1), b(s.c, 2);
  const kernels::Strided st3 = s.add();
  Tensor y = empty(Shape{s.numel()}, DType::f32, Device::cuda);
  auto run = [&] { kc::binary_fwd(kernels::BinaryOp::add, y.data<float>(), x.p(), b.p(), st3); };
  run();
  std::vector<float> ref(size_t(s.numel()));
  kh::binary_fwd<float>(kernels::BinaryOp::add, ref.data(), x.h.data(), b.h.data(), st3);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 8.0 * double(s.numel()));
}

void BM_sum_to_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const BiasShape s(st);
  const Buf x(s.numel(), 1);
  const kernels::Strided st3 = s.reduce();
  Tensor y = empty(Shape{s.c}, DType::f32, Device::cuda);
  auto run = [&] { kc::sum_to(y.data<float>(), s.c, x.p(), st3); };
  run();
  std::vector<float> ref(size_t(s.c));
  kh::sum_to<float>(ref.data(), s.c, x.h.data(), st3);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 4.0 * double(s.numel()));
}

BENCHMARK(BM_unary_fwd_cuda)->Apply(unary_shapes)->Apply(on_cuda);
BENCHMARK(BM_binary_fwd_cuda)->Apply(bias_shapes)->Apply(on_cuda);
BENCHMARK(BM_sum_to_cuda)->Apply(bias_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
