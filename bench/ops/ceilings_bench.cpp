// The ceilings every kernel's rate is read against, measured in the same run as the kernels:
// a copy (bytes/s: read + write) and a large SGEMM (FLOP/s). bench/device_table.py divides each
// CUDA kernel's `bytes` by BM_copy_ceiling_cuda's and its `FLOPS` by BM_gemm_ceiling_cuda's.
//   copy  CPU: one memcpy of 64 MiB (well past the caches); CUDA: a 1 GiB device-to-device copy
//   gemm  CPU: Eigen SGEMM 1024³ on every OpenMP thread (T:0) and on one (T:1, for the
//         scaling); CUDA: cuBLAS SGEMM 4096³, TF32 off
// The family's own GEMM shapes (ConvNet-3's im2col) are BM_gemm_fwd_* in matmul_bench.cpp.
#include <omp.h>

#include <vector>

#include "bench/harness.h"
#include "kernels/matmul.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;

void BM_copy_ceiling_cpu(benchmark::State& st) {
  const int64_t n = st.range(0);
  const auto x = host_floats(n, 1);
  std::vector<float> y(x.size());
  auto run = [&] { copy_bytes(y.data(), Device::cpu, x.data(), Device::cpu, 4 * x.size()); };
  run();
  if (!matches(st, y, x, 0)) return;
  timed_cpu(st, run, 8.0 * double(n));
}

// M, N, K; T: OpenMP threads (0: all).
void BM_gemm_ceiling_cpu(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const int saved = omp_get_max_threads();
  const int threads = st.range(3) > 0 ? static_cast<int>(st.range(3)) : saved;
  const auto a = host_floats(M * K, 1), b = host_floats(K * N, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  auto run = [&] { kh::gemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N); };
  omp_set_num_threads(threads);
  run();
  const int64_t rows = 64;
  if (matches(st, std::vector<float>(c.begin(), c.begin() + rows * N), gemm_reference(a, b, rows, N, K)))
    timed_cpu(st, run, 0, 2.0 * double(M) * double(N) * double(K));
  omp_set_num_threads(saved);
  st.counters["threads"] = threads;
}

BENCHMARK(BM_copy_ceiling_cpu)->ArgName("n")->Arg(int64_t(1) << 24)->Apply(on_cpu);
BENCHMARK(BM_gemm_ceiling_cpu)
    ->ArgNames({"M", "N", "K", "T"})
    ->Args({1024, 1024, 1024, 0})
    ->Args({1024, 1024, 1024, 1})
    ->Apply(on_cpu)
    ->Unit(benchmark::kMillisecond);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_copy_ceiling_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  const Buf x(n, 1);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  auto run = [&] { copy_bytes(y.raw(), Device::cuda, x.p(), Device::cuda, 4 * static_cast<size_t>(n)); };
  run();
  if (!matches_cpu_twin(st, y.to_vector<float>(), x.h)) return;
  timed_cuda(st, run, 8.0 * double(n));
}

void BM_gemm_ceiling_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const Buf a(M * K, 1), b(K * N, 2);
  Tensor c = empty(Shape{M * N}, DType::f32, Device::cuda);
  auto run = [&] { kc::gemm(false, false, M, N, K, 1.f, a.p(), K, b.p(), N, 0.f, c.data<float>(), N); };
  run();
  const int64_t rows = 64;
  std::vector<float> out = c.to_vector<float>();
  out.resize(static_cast<size_t>(rows * N));
  if (!matches(st, out, gemm_reference(a.h, b.h, rows, N, K), 1e-4)) return;
  timed_cuda(st, run, 4.0 * double(M * K + K * N + M * N), 2.0 * double(M) * double(N) * double(K));
}

BENCHMARK(BM_copy_ceiling_cuda)->ArgName("n")->Arg(int64_t(1) << 28)->Apply(on_cuda);
BENCHMARK(BM_gemm_ceiling_cuda)->ArgNames({"M", "N", "K"})->Args({4096, 4096, 4096})->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
