// What the op benchmarks share (bench/ops/<op>_bench.cpp, one binary: bench/ops_bench).
// A benchmark is BM_<kernel>_<cpu|cuda>, the CPU and CUDA twins registered side by side over
// the same shapes. Each one first computes its result once and compares it with a reference
// (a naive loop in double for the CPU twins, the CPU twin for the CUDA ones); on a mismatch it
// skips with SkipWithError, so a fast wrong kernel never gets a number. Then it times:
//   CPU   wall time (UseRealTime: OpenMP threads would inflate CPU time), via on_cpu
//   CUDA  CUDA events around each call after a warm-up call (UseManualTime), via on_cuda
// Counters, per call: `bytes` (compulsory traffic, reported as bytes/s) and `FLOPS`.
#pragma once
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/tensor.h"

namespace loco::bench {

// n floats ~ N(0, scale²) from Philox (seed 0xBE7C, `stream`): one stream per input tensor.
std::vector<float> host_floats(int64_t n, uint64_t stream, double scale = 1.0);

// ‖out − ref‖ / ‖ref‖ accumulated in double; ∞ when ‖ref‖ = 0, sizes differ or out holds a
// non-finite value, so an empty or poisoned result cannot pass.
double rel_error(const std::vector<float>& out, const std::vector<float>& ref);
double rel_error(const std::vector<float>& out, const std::vector<double>& ref);

// False, with st skipped ("differs from <what>: relative error e"), when the relative error e
// is above tol (or NaN); matches() computes e from out and ref.
bool within(benchmark::State& st, double e, double tol, const char* what);
bool matches(benchmark::State& st, const std::vector<float>& out, const std::vector<double>& ref,
             double tol = 1e-5, const char* what = "the reference");
bool matches(benchmark::State& st, const std::vector<float>& out, const std::vector<float>& ref,
             double tol = 1e-5, const char* what = "the reference");

// C[0:rows, :] = A[0:rows, :]·B in double, A M×K and B K×N row-major: the GEMM reference on the
// first rows only (a full 4096³ on the host takes seconds).
std::vector<double> gemm_reference(const std::vector<float>& a, const std::vector<float>& b, int64_t rows,
                                   int64_t n, int64_t k);

// The `bytes` and `FLOPS` counters (per call; either may be 0 for none).
void set_rates(benchmark::State& st, double bytes, double flops = 0);

// The timing loop of a CPU twin: fn once untimed, then per iteration, its writes kept
// (ClobberMemory).
void timed_cpu(benchmark::State& st, const std::function<void()>& fn, double bytes, double flops = 0);

// Registration: the timing mode and unit of each side. BENCHMARK(f)->Apply(shapes)->Apply(on_cpu).
void on_cpu(benchmark::internal::Benchmark* b);
void on_cuda(benchmark::internal::Benchmark* b);

#ifdef LOCO_HAS_CUDA
// A host vector and its device copy: the inputs of a CUDA twin and of its CPU reference.
struct Buf {
  std::vector<float> h;
  Tensor d;
  explicit Buf(int64_t n, uint64_t stream = 0, double scale = 1.0);
  float* p() const { return d.data<float>(); }
  std::vector<float> back() const { return d.to_vector<float>(); }
};

// True, with st skipped ("no CUDA device visible"), when this process sees no GPU.
bool no_gpu(benchmark::State& st);

// matches() against the CPU twin, at the CUDA tolerance (1e-4 relative, TF32 off).
bool matches_cpu_twin(benchmark::State& st, const std::vector<float>& out, const std::vector<float>& ref);

// The timing loop of a CUDA twin: one warm-up call (cuDNN's algorithm choice, the allocator),
// then each call between two CUDA events.
void timed_cuda(benchmark::State& st, const std::function<void()>& fn, double bytes, double flops = 0);
#endif

}  // namespace loco::bench
