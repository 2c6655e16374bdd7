// The pooling family: 2×2 / stride-2 average pooling, forward and its adjoint, over ConvNet-3's
// 256·128 planes of 32×32 (CIFAR) and 28×28 (Fashion-MNIST). Shape letters: P = N·C planes,
// H×W input, H/2×W/2 output. bytes: the input plane read and the quarter-size one written (or
// the reverse). The CPU twins are checked against plain loops, the CUDA twins against the CPU.
#include <vector>

#include "bench/harness.h"
#include "kernels/pool.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;
constexpr int64_t kPlanes = 256 * 128;

// y[p, i, j] = mean of x[p, 2i..2i+1, 2j..2j+1]
std::vector<double> avg_fwd_reference(const std::vector<float>& x, int64_t h) {
  const int64_t ho = h / 2;
  std::vector<double> y(size_t(kPlanes * ho * ho));
  for (int64_t p = 0; p < kPlanes; ++p)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < ho; ++j) {
        const float* q = x.data() + (p * h + 2 * i) * h + 2 * j;
        y[size_t((p * ho + i) * ho + j)] = (double(q[0]) + q[1] + q[h] + q[h + 1]) / 4;
      }
  return y;
}

// dx[p, a, b] = dy[p, a/2, b/2] / 4 (h even: no dropped row or column)
std::vector<double> avg_bwd_reference(const std::vector<float>& dy, int64_t h) {
  const int64_t ho = h / 2;
  std::vector<double> dx(size_t(kPlanes * h * h));
  for (int64_t p = 0; p < kPlanes; ++p)
    for (int64_t a = 0; a < h; ++a)
      for (int64_t b = 0; b < h; ++b) dx[size_t((p * h + a) * h + b)] = dy[size_t((p * ho + a / 2) * ho + b / 2)] / 4.0;
  return dx;
}

void BM_avg_pool2_fwd_cpu(benchmark::State& st) {
  const int64_t h = st.range(0);
  const auto x = host_floats(kPlanes * h * h, 1);
  std::vector<float> y(size_t(kPlanes * (h / 2) * (h / 2)));
  auto run = [&] { kh::avg_pool2_fwd<float>(y.data(), x.data(), kPlanes, h, h); };
  run();
  if (!matches(st, y, avg_fwd_reference(x, h))) return;
  timed_cpu(st, run, 5.0 * double(kPlanes * h * h));
}

void BM_avg_pool2_bwd_cpu(benchmark::State& st) {
  const int64_t h = st.range(0);
  const auto dy = host_floats(kPlanes * (h / 2) * (h / 2), 1);
  std::vector<float> dx(size_t(kPlanes * h * h));
  auto run = [&] { kh::avg_pool2_bwd<float>(dx.data(), dy.data(), kPlanes, h, h); };
  run();
  if (!matches(st, dx, avg_bwd_reference(dy, h))) return;
  timed_cpu(st, run, 5.0 * double(kPlanes * h * h));
}

void pool_shapes(benchmark::internal::Benchmark* b) { b->ArgName("H")->Arg(32)->Arg(28); }

BENCHMARK(BM_avg_pool2_fwd_cpu)->Apply(pool_shapes)->Apply(on_cpu);
BENCHMARK(BM_avg_pool2_bwd_cpu)->Apply(pool_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_avg_pool2_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t h = st.range(0);
  const Buf x(kPlanes * h * h, 1);
  Tensor y = empty(Shape{kPlanes * (h / 2) * (h / 2)}, DType::f32, Device::cuda);
  auto run = [&] { kc::avg_pool2_fwd(y.data<float>(), x.p(), kPlanes, h, h); };
  run();
  std::vector<float> ref(size_t(kPlanes * (h / 2) * (h / 2)));
  kh::avg_pool2_fwd<float>(ref.data(), x.h.data(), kPlanes, h, h);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 5.0 * double(kPlanes * h * h));
}

void BM_avg_pool2_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t h = st.range(0);
  const Buf dy(kPlanes * (h / 2) * (h / 2), 1);
  Tensor dx = empty(Shape{kPlanes * h * h}, DType::f32, Device::cuda);
  auto run = [&] { kc::avg_pool2_bwd(dx.data<float>(), dy.p(), kPlanes, h, h); };
  run();
  std::vector<float> ref(size_t(kPlanes * h * h));
  kh::avg_pool2_bwd<float>(ref.data(), dy.h.data(), kPlanes, h, h);
  if (!matches_cpu_twin(st, dx.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 5.0 * double(kPlanes * h * h));
}

BENCHMARK(BM_avg_pool2_fwd_cuda)->Apply(pool_shapes)->Apply(on_cuda);
BENCHMARK(BM_avg_pool2_bwd_cuda)->Apply(pool_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
