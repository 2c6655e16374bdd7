// The loss family (softmax / cross-entropy) over rows of logits [N, K]: N samples, K classes.
// Shapes: 65536 rows of 10 (Fashion-MNIST, CIFAR-10) and 100 classes (CIFAR-100), and one
// evaluation batch of 256 over TinyImageNet's 200. bytes: logits read (+ log-probs written).
// The CPU twins are checked against loops in double, the CUDA twins against the CPU twins.
#include <algorithm>
#include <cmath>
#include <vector>

#include "bench/harness.h"
#include "kernels/loss.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;

std::vector<double> log_softmax_reference(const std::vector<float>& x, int64_t n, int64_t k) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* r = x.data() + i * k;
    const double m = *std::max_element(r, r + k);
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(r[j] - m);
    for (int64_t j = 0; j < k; ++j) y[size_t(i * k + j)] = r[j] - m - std::log(s);
  }
  return y;
}

std::vector<int64_t> labels_of(int64_t n, int64_t k) {
  std::vector<int64_t> l(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) l[size_t(i)] = (i * 7) % k;
  return l;
}

void BM_log_softmax_fwd_cpu(benchmark::State& st) {
  const int64_t n = st.range(0), k = st.range(1);
  const auto x = host_floats(n * k, 1);
  std::vector<float> y(x.size());
  auto run = [&] { kh::log_softmax_fwd<float>(y.data(), x.data(), n, k); };
  run();
  if (!matches(st, y, log_softmax_reference(x, n, k))) return;
  timed_cpu(st, run, 8.0 * double(n * k));
}

void BM_cross_entropy_fwd_cpu(benchmark::State& st) {
  const int64_t n = st.range(0), k = st.range(1);
  const auto x = host_floats(n * k, 1);
  const auto labels = labels_of(n, k);
  std::vector<float> loss(1);
  auto run = [&] { kh::cross_entropy_fwd<float>(loss.data(), x.data(), labels.data(), n, k); };
  run();
  const auto lp = log_softmax_reference(x, n, k);
  std::vector<double> ref(1);
  for (int64_t i = 0; i < n; ++i) ref[0] -= lp[size_t(i * k + labels[size_t(i)])] / double(n);
  if (!matches(st, loss, ref)) return;
  timed_cpu(st, run, 4.0 * double(n * k) + 8.0 * double(n));
}

void log_softmax_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "K"})->Args({65536, 10})->Args({65536, 100})->Args({256, 200});
}
void cross_entropy_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "K"})->Args({65536, 10})->Args({256, 10});
}

BENCHMARK(BM_log_softmax_fwd_cpu)->Apply(log_softmax_shapes)->Apply(on_cpu);
BENCHMARK(BM_cross_entropy_fwd_cpu)->Apply(cross_entropy_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_log_softmax_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0), k = st.range(1);
  const Buf x(n * k, 1);
  Tensor y = empty(Shape{n * k}, DType::f32, Device::cuda);
  auto run = [&] { kc::log_softmax_fwd(y.data<float>(), x.p(), n, k); };
  run();
  std::vector<float> ref(size_t(n * k));
  kh::log_softmax_fwd<float>(ref.data(), x.h.data(), n, k);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 8.0 * double(n * k));
}

void BM_cross_entropy_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0), k = st.range(1);
  const Buf x(n * k, 1);
  const auto labels = labels_of(n, k);
  const Tensor ld = from_vector(labels, Shape{n}, Device::cuda);
  Tensor loss = empty(Shape{1}, DType::f32, Device::cuda);
  auto run = [&] { kc::cross_entropy_fwd(loss.data<float>(), x.p(), ld.data<int64_t>(), n, k); };
  run();
  std::vector<float> ref(1);
  kh::cross_entropy_fwd<float>(ref.data(), x.h.data(), labels.data(), n, k);
  if (!matches_cpu_twin(st, loss.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 4.0 * double(n * k) + 8.0 * double(n));
}

BENCHMARK(BM_log_softmax_fwd_cuda)->Apply(log_softmax_shapes)->Apply(on_cuda);
BENCHMARK(BM_cross_entropy_fwd_cuda)->Apply(cross_entropy_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
