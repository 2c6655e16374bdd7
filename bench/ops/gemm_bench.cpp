// SGEMM on the CPU (kernels::cpu::gemm: Eigen, one static block per thread): the ceiling the
// conv2d kernels are compared with. Shapes: 1024³, and ConvNet-3's im2col GEMM for one 32×32
// image, M = 128 out channels, K = 128·3·3 = 1152, N = 32·32 = 1024 pixels.
// T:0 uses every OpenMP thread (the default); T:1 is one thread, for the scaling.
// FLOPS counts 2·M·N·K per call. Each shape is first checked against a naive loop in double on
// a sample of rows (SkipWithError on a mismatch).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "engine/rng.h"
#include "kernels/matmul.h"

namespace loco {
namespace {

std::vector<float> random_floats(int64_t n, uint64_t stream) {
  Generator g(7, stream);
  return rand_normal(Shape{n}, g).to_vector<float>();
}

// Relative L2 error of every 61st row of C = A·B against a loop in double.
double sampled_error(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c, int64_t M,
                     int64_t N, int64_t K) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < M; i += 61)
    for (int64_t j = 0; j < N; ++j) {
      double ref = 0;
      for (int64_t k = 0; k < K; ++k) ref += double(a[i * K + k]) * b[k * N + j];
      const double out = c[i * N + j];
      if (!std::isfinite(out)) return INFINITY;
      num += (out - ref) * (out - ref);
      den += ref * ref;
    }
  return den > 0 ? std::sqrt(num / den) : INFINITY;
}

void BM_gemm_cpu(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const int threads = st.range(3) > 0 ? static_cast<int>(st.range(3)) : omp_get_max_threads();
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  const auto a = random_floats(M * K, 1), b = random_floats(K * N, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  kernels::cpu::gemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N);
  if (!(sampled_error(a, b, c, M, N, K) <= 1e-5)) {
    st.SkipWithError("gemm: result differs from the naive reference");
    omp_set_num_threads(saved);
    return;
  }
  for (auto _ : st) {
    kernels::cpu::gemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  st.counters["FLOPS"] = benchmark::Counter(2.0 * double(M) * double(N) * double(K),
                                            benchmark::Counter::kIsIterationInvariantRate);
  st.counters["threads"] = threads;
  omp_set_num_threads(saved);
}
BENCHMARK(BM_gemm_cpu)
    ->ArgNames({"M", "N", "K", "T"})
    ->Args({1024, 1024, 1024, 0})
    ->Args({128, 1024, 1152, 0})
    ->Args({1024, 1024, 1024, 1})
    ->Args({128, 1024, 1152, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace loco
