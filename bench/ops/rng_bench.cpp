// The rng family: a normal fill of n = 2^26 floats from the Philox stream (seed 7, stream 3),
// the kernel behind every rand_normal (network initialisation, DSA's draws, the inputs here).
// bytes: the floats written. The CPU twin is checked against Box–Muller written here over the
// first 4096 elements and, over all n, against the moments of N(0, 1) (mean 0 and variance 1,
// each within 1e-3, about 8 standard errors at this n); the CUDA twin against the CPU twin.
#include <cmath>
#include <vector>

#include "bench/harness.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;
constexpr uint64_t kSeed = 7, kStream = 3;

// Element i of the normal stream: pair ⌊i/2⌋ takes words 2⌊i/2⌋ and 2⌊i/2⌋ + 1.
double box_muller(int64_t i) {
  const uint64_t p = static_cast<uint64_t>(i / 2);
  const double u1 = (double(kernels::philox_word(kSeed, kStream, 0, 2 * p)) + 1.0) / 4294967296.0;
  const double u2 = double(kernels::philox_word(kSeed, kStream, 0, 2 * p + 1)) / 4294967296.0;
  const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * M_PI * u2;
  return r * (i % 2 == 0 ? std::cos(a) : std::sin(a));
}

void BM_normal_fill_cpu(benchmark::State& st) {
  const int64_t n = st.range(0);
  std::vector<float> y(static_cast<size_t>(n));
  auto run = [&] { kh::normal_fill<float>(y.data(), n, kSeed, kStream, 0, 0.0, 1.0); };
  run();
  std::vector<double> head(4096);
  for (int64_t i = 0; i < int64_t(head.size()); ++i) head[size_t(i)] = box_muller(i);
  double sum = 0, sq = 0;
  for (float v : y) sum += v, sq += double(v) * v;
  const double mean = sum / double(n), var = sq / double(n) - mean * mean;
  if (!matches(st, std::vector<float>(y.begin(), y.begin() + 4096), head) ||
      !matches(st, {float(mean), float(var)}, std::vector<double>{0.0, 1.0}, 1e-3, "N(0, 1)'s moments"))
    return;
  timed_cpu(st, run, 4.0 * double(n));
}

void fill_shapes(benchmark::internal::Benchmark* b) { b->ArgName("n")->Arg(int64_t(1) << 26); }
BENCHMARK(BM_normal_fill_cpu)->Apply(fill_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_normal_fill_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  auto run = [&] { kc::normal_fill(y.data<float>(), n, kSeed, kStream, 0, 0.0, 1.0); };
  run();
  std::vector<float> ref(static_cast<size_t>(n));
  kh::normal_fill<float>(ref.data(), n, kSeed, kStream, 0, 0.0, 1.0);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 4.0 * double(n));
}
BENCHMARK(BM_normal_fill_cuda)->Apply(fill_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
