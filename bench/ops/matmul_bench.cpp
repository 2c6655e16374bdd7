// The matmul family: one GEMM at ConvNet-3's im2col shape and the batched low-rank
// reconstruction X = A·B per (n, c), A [N·C, H, r], B [N·C, r, W], W = H.
//   BM_gemm_fwd_*        M = 128 out channels, K = 128·3·3 = 1152, N = 32·32 = 1024 pixels of
//                        one image; FLOPS = 2·M·N·K. The square SGEMM ceilings are in
//                        ceilings_bench.cpp.
//   BM_lowrank_fwd_*     all N·C products in one bmm; bytes = A, B read + X written
//   BM_lowrank_bwd_*     dA = dX·Bᵀ and dB = Aᵀ·dX, the two products of the backward
//   BM_lowrank_fwd_bwd_cpu  the op through the autograd: loss = sum(X·G), gradients of A and B
// Shapes {NC, H, r}: 1000 Fashion-MNIST images at r = 2 (PyTorch on this machine class: 3.9 ms
// for fwd_bwd), CIFAR-10's 1000×3 planes at r = 2 and r = 8. Shape letters: N batch, C
// channels, H×W image, r rank. The CPU twins are checked against loops in double, the CUDA
// twins against the CPU twins.
#include <vector>

#include "bench/harness.h"
#include "engine/ops.h"
#include "kernels/matmul.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;

void gemm_shapes(benchmark::internal::Benchmark* b) { b->ArgNames({"M", "N", "K"})->Args({128, 1024, 1152}); }

void BM_gemm_fwd_cpu(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const auto a = host_floats(M * K, 1), b = host_floats(K * N, 2);
  std::vector<float> c(static_cast<size_t>(M * N));
  auto run = [&] { kh::gemm(false, false, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, c.data(), N); };
  run();
  if (!matches(st, c, gemm_reference(a, b, M, N, K))) return;
  timed_cpu(st, run, 0, 2.0 * double(M) * double(N) * double(K));
}

struct Lowrank {
  int64_t nc, h, r, w;
  explicit Lowrank(const benchmark::State& st) : nc(st.range(0)), h(st.range(1)), r(st.range(2)), w(st.range(1)) {}
  int64_t a() const { return nc * h * r; }
  int64_t b() const { return nc * r * w; }
  int64_t x() const { return nc * h * w; }
  double fwd_bytes() const { return 4.0 * double(a() + b() + x()); }
  double bwd_bytes() const { return 4.0 * double(2 * x() + 2 * a() + 2 * b()); }
};

// X = A·B, and (with dx) dA = dX·Bᵀ, dB = Aᵀ·dX, in double.
struct LowrankReference {
  std::vector<double> x, da, db;
  LowrankReference(const Lowrank& s, const std::vector<float>& a, const std::vector<float>& b,
                   const std::vector<float>& dx)
      : x(size_t(s.x())), da(size_t(s.a())), db(size_t(s.b())) {
    for (int64_t p = 0; p < s.nc; ++p)
      for (int64_t i = 0; i < s.h; ++i)
        for (int64_t j = 0; j < s.w; ++j)
          for (int64_t k = 0; k < s.r; ++k) {
            const size_t ia = size_t((p * s.h + i) * s.r + k), ib = size_t((p * s.r + k) * s.w + j),
                         ix = size_t((p * s.h + i) * s.w + j);
            x[ix] += double(a[ia]) * b[ib];
            if (dx.empty()) continue;
            da[ia] += double(dx[ix]) * b[ib];
            db[ib] += double(a[ia]) * dx[ix];
          }
  }
};

void BM_lowrank_fwd_cpu(benchmark::State& st) {
  const Lowrank s(st);
  const auto a = host_floats(s.a(), 1), b = host_floats(s.b(), 2);
  std::vector<float> x(size_t(s.x()));
  auto run = [&] { kh::bmm(false, false, s.nc, s.h, s.w, s.r, a.data(), b.data(), x.data()); };
  run();
  if (!matches(st, x, LowrankReference(s, a, b, {}).x)) return;
  timed_cpu(st, run, s.fwd_bytes());
}

void BM_lowrank_bwd_cpu(benchmark::State& st) {
  const Lowrank s(st);
  const auto a = host_floats(s.a(), 1), b = host_floats(s.b(), 2), dx = host_floats(s.x(), 3);
  std::vector<float> da(size_t(s.a())), db(size_t(s.b()));
  auto run = [&] {
    kh::bmm(false, true, s.nc, s.h, s.r, s.w, dx.data(), b.data(), da.data());
    kh::bmm(true, false, s.nc, s.r, s.w, s.h, a.data(), dx.data(), db.data());
  };
  run();
  const LowrankReference ref(s, a, b, dx);
  if (!matches(st, da, ref.da) || !matches(st, db, ref.db)) return;
  timed_cpu(st, run, s.bwd_bytes());
}

// What a LoDM step pays for its images: the recorded forward, then both gradients by the tape.
void BM_lowrank_fwd_bwd_cpu(benchmark::State& st) {
  const Lowrank s(st);
  const auto av = host_floats(s.a(), 1), bv = host_floats(s.b(), 2), gv = host_floats(s.x(), 3);
  Tensor a = from_vector(av, Shape{s.nc, 1, s.h, s.r}), b = from_vector(bv, Shape{s.nc, 1, s.r, s.w});
  const Tensor g = from_vector(gv, Shape{s.nc, 1, s.h, s.w});
  a.requires_grad_();
  b.requires_grad_();
  auto run = [&] { return grad(sum(mul(lowrank_reconstruct(a, b), g)), {a, b}); };
  const auto gr = run();
  const LowrankReference ref(s, av, bv, gv);
  if (!matches(st, gr[0].to_vector<float>(), ref.da) || !matches(st, gr[1].to_vector<float>(), ref.db)) return;
  timed_cpu(st, [&] { benchmark::DoNotOptimize(run()[0].raw()); }, s.fwd_bytes() + s.bwd_bytes());
}

void lowrank_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"NC", "H", "r"})->Args({1000, 28, 2})->Args({3000, 32, 2})->Args({3000, 32, 8});
}

BENCHMARK(BM_gemm_fwd_cpu)->Apply(gemm_shapes)->Apply(on_cpu);
BENCHMARK(BM_lowrank_fwd_cpu)->Apply(lowrank_shapes)->Apply(on_cpu);
BENCHMARK(BM_lowrank_bwd_cpu)->Apply(lowrank_shapes)->Apply(on_cpu);
BENCHMARK(BM_lowrank_fwd_bwd_cpu)->Apply(lowrank_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_gemm_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const Buf a(M * K, 1), b(K * N, 2);
  Tensor c = empty(Shape{M * N}, DType::f32, Device::cuda);
  auto run = [&] { kc::gemm(false, false, M, N, K, 1.f, a.p(), K, b.p(), N, 0.f, c.data<float>(), N); };
  run();
  std::vector<float> ref(static_cast<size_t>(M * N));
  kh::gemm(false, false, M, N, K, 1.f, a.h.data(), K, b.h.data(), N, 0.f, ref.data(), N);
  if (!matches_cpu_twin(st, c.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 4.0 * double(M * K + K * N + M * N), 2.0 * double(M) * double(N) * double(K));
}

void BM_lowrank_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const Lowrank s(st);
  const Buf a(s.a(), 1), b(s.b(), 2);
  Tensor x = empty(Shape{s.x()}, DType::f32, Device::cuda);
  auto run = [&] { kc::bmm(false, false, s.nc, s.h, s.w, s.r, a.p(), b.p(), x.data<float>()); };
  run();
  std::vector<float> ref(size_t(s.x()));
  kh::bmm(false, false, s.nc, s.h, s.w, s.r, a.h.data(), b.h.data(), ref.data());
  if (!matches_cpu_twin(st, x.to_vector<float>(), ref)) return;
  timed_cuda(st, run, s.fwd_bytes());
}

void BM_lowrank_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const Lowrank s(st);
  const Buf a(s.a(), 1), b(s.b(), 2), dx(s.x(), 3);
  Tensor da = empty(Shape{s.a()}, DType::f32, Device::cuda), db = empty(Shape{s.b()}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::bmm(false, true, s.nc, s.h, s.r, s.w, dx.p(), b.p(), da.data<float>());
    kc::bmm(true, false, s.nc, s.r, s.w, s.h, a.p(), dx.p(), db.data<float>());
  };
  run();
  std::vector<float> ra(size_t(s.a())), rb(size_t(s.b()));
  kh::bmm(false, true, s.nc, s.h, s.r, s.w, dx.h.data(), b.h.data(), ra.data());
  kh::bmm(true, false, s.nc, s.r, s.w, s.h, a.h.data(), dx.h.data(), rb.data());
  if (!matches_cpu_twin(st, da.to_vector<float>(), ra) || !matches_cpu_twin(st, db.to_vector<float>(), rb)) return;
  timed_cuda(st, run, s.bwd_bytes());
}

BENCHMARK(BM_gemm_fwd_cuda)->Apply(gemm_shapes)->Apply(on_cuda);
BENCHMARK(BM_lowrank_fwd_cuda)->Apply(lowrank_shapes)->Apply(on_cuda);
BENCHMARK(BM_lowrank_bwd_cuda)->Apply(lowrank_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
