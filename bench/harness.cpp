#include "bench/harness.h"

#include <cmath>
#include <string>

#include "engine/rng.h"
#include "kernels/profile.h"

namespace loco::bench {

std::vector<float> host_floats(int64_t n, uint64_t stream, double scale) {
  Generator g(0xBE7C, stream);
  return rand_normal(Shape{n}, g, 0.0, scale).to_vector<float>();
}

namespace {
template <class R> double rel_error_of(const std::vector<float>& out, const std::vector<R>& ref) {
  if (out.size() != ref.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    const double d = double(out[i]) - double(ref[i]);
    num += d * d;
    den += double(ref[i]) * double(ref[i]);
  }
  return den > 0 ? std::sqrt(num / den) : INFINITY;
}
}  // namespace

bool within(benchmark::State& st, double e, double tol, const char* what) {
  if (e <= tol) return true;  // false for NaN too
  st.SkipWithError(("differs from " + std::string(what) + ": relative error " + std::to_string(e)).c_str());
  return false;
}

double rel_error(const std::vector<float>& out, const std::vector<float>& ref) { return rel_error_of(out, ref); }
double rel_error(const std::vector<float>& out, const std::vector<double>& ref) { return rel_error_of(out, ref); }

bool matches(benchmark::State& st, const std::vector<float>& out, const std::vector<double>& ref, double tol,
             const char* what) {
  return within(st, rel_error(out, ref), tol, what);
}
bool matches(benchmark::State& st, const std::vector<float>& out, const std::vector<float>& ref, double tol,
             const char* what) {
  return within(st, rel_error(out, ref), tol, what);
}

std::vector<double> gemm_reference(const std::vector<float>& a, const std::vector<float>& b, int64_t rows,
                                   int64_t n, int64_t k) {
  std::vector<double> c(static_cast<size_t>(rows * n));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const double aip = a[static_cast<size_t>(i * k + p)];
      for (int64_t j = 0; j < n; ++j) c[static_cast<size_t>(i * n + j)] += aip * b[static_cast<size_t>(p * n + j)];
    }
  return c;
}

void set_rates(benchmark::State& st, double bytes, double flops) {
  if (bytes > 0) st.counters["bytes"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  if (flops > 0) st.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

void timed_cpu(benchmark::State& st, const std::function<void()>& fn, double bytes, double flops) {
  // One untimed call first: the first allocates the outputs' pages and grows the kernels'
  // scratch, which at N = 256 and 32×32 cost as much as the convolution when only a few
  // calls are timed.
  fn();
  for (auto _ : st) {
    fn();
    benchmark::ClobberMemory();
  }
  set_rates(st, bytes, flops);
}

void on_cpu(benchmark::internal::Benchmark* b) { b->UseRealTime()->Unit(benchmark::kMicrosecond); }
void on_cuda(benchmark::internal::Benchmark* b) { b->UseManualTime()->Unit(benchmark::kMicrosecond); }

#ifdef LOCO_HAS_CUDA
Buf::Buf(int64_t n, uint64_t stream, double scale) : h(host_floats(n, stream, scale)) {
  d = from_vector(h, Shape{n}, Device::cuda);
}

bool no_gpu(benchmark::State& st) {
  if (cuda_available()) return false;
  st.SkipWithError("no CUDA device visible");
  return true;
}

bool matches_cpu_twin(benchmark::State& st, const std::vector<float>& out, const std::vector<float>& ref) {
  return matches(st, out, ref, 1e-4, "the CPU twin");
}

void timed_cuda(benchmark::State& st, const std::function<void()>& fn, double bytes, double flops) {
  fn();
  kernels::cuda::synchronize();
  for (auto _ : st) st.SetIterationTime(kernels::cuda::time_ms(fn) / 1e3);
  set_rates(st, bytes, flops);
}
#endif

}  // namespace loco::bench
