// The batched low-rank reconstruction X = A·B per (n, c), A [N,C,H,r], B [N,C,r,W], on the CPU:
// forward (lowrank_reconstruct), forward + backward through the autograd (loss = sum(X·G) with
// a fixed G, gradients of A and B), and a plain copy of the same N·C·H·W floats as the
// reference. Shapes: CIFAR-10-like N=1000, C=3, 32×32, r=2, and Fashion-MNIST N=1000, C=1,
// 28×28, r=2 (PyTorch, same machine class: 3.9 ms for fwd_bwd). Bytes counts the X written.
// Every shape is first checked against a naive loop in double (SkipWithError on a mismatch).
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/rng.h"

namespace loco {
namespace {

struct Case {
  int64_t N, C, H, W, r;
  static Case from(const benchmark::State& st) {
    return {st.range(0), st.range(1), st.range(2), st.range(3), st.range(4)};
  }
  int64_t pixels() const { return N * C * H * W; }
};

struct Inputs {
  Tensor a, b, g;
  explicit Inputs(const Case& c) {
    Generator gen(11, 0);
    a = rand_normal(Shape{c.N, c.C, c.H, c.r}, gen);
    b = rand_normal(Shape{c.N, c.C, c.r, c.W}, gen);
    g = rand_normal(Shape{c.N, c.C, c.H, c.W}, gen);
  }
};

double rel_error(const std::vector<float>& out, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : INFINITY;
}

// Forward X, and with_grads the gradients dA = G·Bᵀ, dB = Aᵀ·G, against loops in double.
bool matches_naive(const Case& c, const Inputs& in, bool with_grads) {
  const auto a = in.a.to_vector<float>(), b = in.b.to_vector<float>(), g = in.g.to_vector<float>();
  std::vector<double> x(static_cast<size_t>(c.pixels())), da(a.size()), db(b.size());
  for (int64_t nc = 0; nc < c.N * c.C; ++nc)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t w = 0; w < c.W; ++w)
        for (int64_t k = 0; k < c.r; ++k) {
          const int64_t ia = (nc * c.H + h) * c.r + k, ib = (nc * c.r + k) * c.W + w, ix = (nc * c.H + h) * c.W + w;
          x[ix] += double(a[ia]) * b[ib];
          da[ia] += double(g[ix]) * b[ib];
          db[ib] += double(a[ia]) * g[ix];
        }
  if (!with_grads) {
    NoGradGuard no_grad;
    return rel_error(lowrank_reconstruct(in.a, in.b).to_vector<float>(), x) <= 1e-5;
  }
  Tensor A = in.a.clone(), B = in.b.clone();
  A.requires_grad_();
  B.requires_grad_();
  const auto gr = grad(sum(mul(lowrank_reconstruct(A, B), in.g)), {A, B});
  return rel_error(gr[0].to_vector<float>(), da) <= 1e-5 && rel_error(gr[1].to_vector<float>(), db) <= 1e-5;
}

void set_counters(benchmark::State& st, const Case& c) {
  st.counters["bytes"] = benchmark::Counter(4.0 * double(c.pixels()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_lowrank_fwd_cpu(benchmark::State& st) {
  const Case c = Case::from(st);
  const Inputs in(c);
  if (!matches_naive(c, in, false)) return st.SkipWithError("lowrank_reconstruct: differs from the naive reference");
  for (auto _ : st) {
    Tensor x = lowrank_reconstruct(in.a, in.b);
    benchmark::DoNotOptimize(x.raw());
  }
  set_counters(st, c);
}

void BM_lowrank_fwd_bwd_cpu(benchmark::State& st) {
  const Case c = Case::from(st);
  const Inputs in(c);
  if (!matches_naive(c, in, true))
    return st.SkipWithError("lowrank_reconstruct backward: differs from the naive reference");
  Tensor A = in.a.clone(), B = in.b.clone();
  A.requires_grad_();
  B.requires_grad_();
  for (auto _ : st) {
    const auto gr = grad(sum(mul(lowrank_reconstruct(A, B), in.g)), {A, B});
    benchmark::DoNotOptimize(gr[0].raw());
    benchmark::DoNotOptimize(gr[1].raw());
  }
  set_counters(st, c);
}

void BM_pixel_copy_cpu(benchmark::State& st) {
  const Case c = Case::from(st);
  const Inputs in(c);
  if (in.g.clone().to_vector<float>() != in.g.to_vector<float>()) return st.SkipWithError("copy: values differ");
  for (auto _ : st) {
    Tensor y = in.g.clone();
    benchmark::DoNotOptimize(y.raw());
  }
  set_counters(st, c);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "C", "H", "W", "r"})
      ->Args({1000, 3, 32, 32, 2})
      ->Args({1000, 1, 28, 28, 2})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}
BENCHMARK(BM_lowrank_fwd_cpu)->Apply(shapes);
BENCHMARK(BM_lowrank_fwd_bwd_cpu)->Apply(shapes);
BENCHMARK(BM_pixel_copy_cpu)->Apply(shapes);

}  // namespace
}  // namespace loco
