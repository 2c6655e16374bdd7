// The CUDA twins, one kernel at a time, at the shapes loco runs: ConvNet-3 on 32×32 (N 256,
// C = K = 128) and the low-rank reconstruction of 1000 Fashion-MNIST images at r = 2.
// Shape letters: N batch, C channels, H×W image, K out channels / classes, r rank.
// Every benchmark first runs its kernel once on the same inputs as the CPU twin and skips with
// an error when the relative L2 error exceeds 1e-4 (TF32 is off), so a fast wrong kernel never
// gets a number. Timing: CUDA events around each call (UseManualTime), after a warm-up call that
// also settles the cuDNN algorithm choice and the allocator.
// Counters: `bytes` (GB/s of compulsory traffic) or `FLOPS`; the ceilings in the same run are
// BM_copy_cuda (device-to-device copy) and BM_gemm_cuda/M:4096 (cuBLAS SGEMM); the fraction of
// ceiling is computed by bench/device_check.sh from this binary's JSON.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/grid_sample.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/pool.h"
#include "kernels/profile.h"
#include "kernels/random.h"
#include "kernels/sgd.h"
#include "kernels/softmax.h"

namespace loco {
namespace {

namespace kc = kernels::cuda;
namespace kh = kernels::cpu;

// A host vector and its device copy.
struct Buf {
  std::vector<float> h;
  Tensor d;
  explicit Buf(int64_t n, uint64_t stream = 0, double scale = 1.0) {
    Generator g(0xBE7C, stream);
    h = rand_normal(Shape{n}, g, 0.0, scale).to_vector<float>();
    d = from_vector(h, Shape{n}, Device::cuda);
  }
  float* p() const { return d.data<float>(); }
  std::vector<float> back() const { return d.to_vector<float>(); }
};

double rel_error(const std::vector<float>& out, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    num += (double(out[i]) - ref[i]) * (double(out[i]) - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : INFINITY;
}

bool no_gpu(benchmark::State& st) {
  if (cuda_available()) return false;
  st.SkipWithError("no CUDA device visible");
  return true;
}

// Checks `out` against `ref`, then times fn with events. bytes / flops: per call.
template <class F>
void timed(benchmark::State& st, const std::vector<float>& out, const std::vector<float>& ref, F fn, double bytes,
           double flops = 0) {
  if (const double e = rel_error(out, ref); !(e <= 1e-4)) {
    st.SkipWithError(("differs from the CPU twin: relative error " + std::to_string(e)).c_str());
    return;
  }
  fn();  // warm-up
  kc::synchronize();
  for (auto _ : st) st.SetIterationTime(kc::time_ms(fn) / 1e3);
  if (bytes > 0) st.counters["bytes"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  if (flops > 0) st.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- ceilings ----

void BM_copy_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  const Buf x(n, 1);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  copy_bytes(y.raw(), Device::cuda, x.p(), Device::cuda, 4 * static_cast<size_t>(n));
  timed(st, y.to_vector<float>(), x.h, [&] { copy_bytes(y.raw(), Device::cuda, x.p(), Device::cuda, 4 * static_cast<size_t>(n)); },
        8.0 * double(n));
}
BENCHMARK(BM_copy_cuda)->ArgName("n")->Arg(int64_t(1) << 28)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_gemm_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const Buf a(M * K, 1), b(K * N, 2);
  Tensor c = empty(Shape{M * N}, DType::f32, Device::cuda);
  auto run = [&] { kc::gemm(false, false, M, N, K, 1.f, a.p(), K, b.p(), N, 0.f, c.data<float>(), N); };
  run();
  // The CPU reference on the first 64 rows only: a full 4096³ SGEMM on the host takes seconds.
  const int64_t rows = std::min<int64_t>(M, 64);
  std::vector<float> ref(static_cast<size_t>(rows * N));
  kh::gemm<float>(false, false, rows, N, K, 1.f, a.h.data(), K, b.h.data(), N, 0.f, ref.data(), N);
  std::vector<float> out = c.to_vector<float>();
  out.resize(ref.size());
  timed(st, out, ref, run, 4.0 * double(M * K + K * N + M * N), 2.0 * double(M) * double(N) * double(K));
}
BENCHMARK(BM_gemm_cuda)
    ->ArgNames({"M", "N", "K"})
    ->Args({4096, 4096, 4096})
    ->Args({128, 1024, 1152})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---- convolution (cuDNN) ----

kernels::Conv2dShape conv_shape(const benchmark::State& st) {
  kernels::Conv2dShape s;
  s.N = st.range(0);
  s.C = st.range(1);
  s.H = s.W = st.range(2);
  s.K = st.range(3);
  s.R = s.S = 3;
  s.pad = st.range(4);
  s.P = kernels::conv_out_size(s.H, 3, 1, s.pad);
  s.Q = s.P;
  return s;
}

enum class ConvPart { fwd, bwd_data, bwd_weight };

void conv_bench(benchmark::State& st, ConvPart part) {
  if (no_gpu(st)) return;
  const kernels::Conv2dShape s = conv_shape(st);
  const Buf x(s.N * s.C * s.H * s.W, 1), w(s.K * s.C * 9, 2, 0.1), dy(s.N * s.K * s.P * s.Q, 3), bias(s.K, 4);
  const int64_t out_n = part == ConvPart::fwd ? s.N * s.K * s.P * s.Q : part == ConvPart::bwd_data ? x.h.size() : w.h.size();
  Tensor out = empty(Shape{out_n}, DType::f32, Device::cuda);
  std::vector<float> ref(static_cast<size_t>(out_n));
  float* o = out.data<float>();
  std::function<void()> run;
  if (part == ConvPart::fwd) {
    run = [&] { kc::conv2d_fwd(o, x.p(), w.p(), bias.p(), s); };
    kh::conv2d_fwd<float>(ref.data(), x.h.data(), w.h.data(), bias.h.data(), s);
  } else if (part == ConvPart::bwd_data) {
    run = [&] { kc::conv2d_bwd_data(o, dy.p(), w.p(), s); };
    kh::conv2d_bwd_data<float>(ref.data(), dy.h.data(), w.h.data(), s);
  } else {
    run = [&] { kc::conv2d_bwd_weight(o, x.p(), dy.p(), s); };
    kh::conv2d_bwd_weight<float>(ref.data(), x.h.data(), dy.h.data(), s);
  }
  run();
  timed(st, out.to_vector<float>(), ref, run, 0, s.flops());
}
void BM_conv2d_fwd_cuda(benchmark::State& st) { conv_bench(st, ConvPart::fwd); }
void BM_conv2d_bwd_data_cuda(benchmark::State& st) { conv_bench(st, ConvPart::bwd_data); }
void BM_conv2d_bwd_weight_cuda(benchmark::State& st) { conv_bench(st, ConvPart::bwd_weight); }
void conv_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "C", "H", "K", "pad"});
  for (int64_t h : {32, 16, 8}) b->Args({256, 128, h, 128, 1});
  b->Args({256, 1, 28, 128, 3});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_conv2d_fwd_cuda)->Apply(conv_shapes);
BENCHMARK(BM_conv2d_bwd_data_cuda)->Apply(conv_shapes);
BENCHMARK(BM_conv2d_bwd_weight_cuda)->Apply(conv_shapes);

// ---- low-rank reconstruction: all N·C products A[H×r]·B[r×W] in one launch ----

void BM_lowrank_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t nc = st.range(0), H = st.range(1), r = st.range(2), W = H;
  const Buf a(nc * H * r, 1), b(nc * r * W, 2);
  Tensor x = empty(Shape{nc * H * W}, DType::f32, Device::cuda);
  auto run = [&] { kc::bmm(false, false, nc, H, W, r, a.p(), b.p(), x.data<float>()); };
  run();
  std::vector<float> ref(static_cast<size_t>(nc * H * W));
  kh::bmm<float>(false, false, nc, H, W, r, a.h.data(), b.h.data(), ref.data());
  timed(st, x.to_vector<float>(), ref, run, 4.0 * double(nc * (H * r + r * W + H * W)));
}
// dA = dX·Bᵀ and dB = Aᵀ·dX: the two products of the backward.
void BM_lowrank_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t nc = st.range(0), H = st.range(1), r = st.range(2), W = H;
  const Buf a(nc * H * r, 1), b(nc * r * W, 2), dx(nc * H * W, 3);
  Tensor da = empty(Shape{nc * H * r}, DType::f32, Device::cuda), db = empty(Shape{nc * r * W}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::bmm(false, true, nc, H, r, W, dx.p(), b.p(), da.data<float>());
    kc::bmm(true, false, nc, r, W, H, a.p(), dx.p(), db.data<float>());
  };
  run();
  std::vector<float> ra(static_cast<size_t>(nc * H * r)), rb(static_cast<size_t>(nc * r * W));
  kh::bmm<float>(false, true, nc, H, r, W, dx.h.data(), b.h.data(), ra.data());
  kh::bmm<float>(true, false, nc, r, W, H, a.h.data(), dx.h.data(), rb.data());
  std::vector<float> out = da.to_vector<float>(), ob = db.to_vector<float>(), ref = ra;
  out.insert(out.end(), ob.begin(), ob.end());
  ref.insert(ref.end(), rb.begin(), rb.end());
  timed(st, out, ref, run, 4.0 * double(nc * (2 * H * W + 2 * H * r + 2 * r * W)));
}
void lowrank_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"NC", "H", "r"})->Args({1000, 28, 2})->Args({3000, 32, 2})->Args({3000, 32, 8});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_lowrank_fwd_cuda)->Apply(lowrank_shapes);
BENCHMARK(BM_lowrank_bwd_cuda)->Apply(lowrank_shapes);

// ---- elementwise and reductions ----

void BM_unary_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  const Buf x(n, 1);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  auto run = [&] { kc::unary_fwd(kernels::UnaryOp::relu, y.data<float>(), x.p(), n, 0, 0); };
  run();
  std::vector<float> ref(static_cast<size_t>(n));
  kh::unary_fwd<float>(kernels::UnaryOp::relu, ref.data(), x.h.data(), n, 0, 0);
  timed(st, y.to_vector<float>(), ref, run, 8.0 * double(n));
}
BENCHMARK(BM_unary_fwd_cuda)->ArgName("n")->Arg(int64_t(1) << 26)->Arg(1000003)->UseManualTime()->Unit(benchmark::kMicrosecond);

// y[N,C,H,W] = x + bias[C]: the broadcasting add after a convolution.
void BM_binary_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t N = 256, C = 128, HW = st.range(0) * st.range(0);
  const Buf x(N * C * HW, 1), b(C, 2);
  kernels::Strided s;
  s.ndim = 3;
  const int64_t dims[3] = {N, C, HW}, sa[3] = {C * HW, HW, 1}, sb[3] = {0, 1, 0};
  for (int i = 0; i < 3; ++i) s.dims[i] = dims[i], s.sa[i] = sa[i], s.sb[i] = sb[i];
  Tensor y = empty(Shape{N * C * HW}, DType::f32, Device::cuda);
  auto run = [&] { kc::binary_fwd(kernels::BinaryOp::add, y.data<float>(), x.p(), b.p(), s); };
  run();
  std::vector<float> ref(static_cast<size_t>(N * C * HW));
  kh::binary_fwd<float>(kernels::BinaryOp::add, ref.data(), x.h.data(), b.h.data(), s);
  timed(st, y.to_vector<float>(), ref, run, 8.0 * double(N * C * HW));
}
BENCHMARK(BM_binary_fwd_cuda)->ArgName("H")->Arg(32)->Arg(8)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Σ over N, H, W down to [C]: the bias gradient.
void BM_sum_to_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t N = 256, C = 128, HW = st.range(0) * st.range(0);
  const Buf x(N * C * HW, 1);
  kernels::Strided s;
  s.ndim = 3;
  const int64_t dims[3] = {N, C, HW}, sa[3] = {0, 1, 0};
  for (int i = 0; i < 3; ++i) s.dims[i] = dims[i], s.sa[i] = sa[i];
  Tensor y = empty(Shape{C}, DType::f32, Device::cuda);
  auto run = [&] { kc::sum_to(y.data<float>(), C, x.p(), s); };
  run();
  std::vector<float> ref(static_cast<size_t>(C));
  kh::sum_to<float>(ref.data(), C, x.h.data(), s);
  timed(st, y.to_vector<float>(), ref, run, 4.0 * double(N * C * HW));
}
BENCHMARK(BM_sum_to_cuda)->ArgName("H")->Arg(32)->Arg(8)->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---- norms: instance norm (G = C) at ConvNet-3's first block ----

void BM_group_norm_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t N = 256, C = 128, S = st.range(0) * st.range(0), G = st.range(1);
  const Buf x(N * C * S, 1), ga(C, 2), be(C, 3);
  Tensor y = empty(Shape{N * C * S}, DType::f32, Device::cuda), m = empty(Shape{N * G}, DType::f32, Device::cuda),
         rs = empty(Shape{N * G}, DType::f32, Device::cuda);
  auto run = [&] { kc::group_norm_fwd(y.data<float>(), m.data<float>(), rs.data<float>(), x.p(), ga.p(), be.p(), N, C, S, G, 1e-5); };
  run();
  std::vector<float> ref(static_cast<size_t>(N * C * S)), rm(static_cast<size_t>(N * G)), rr(static_cast<size_t>(N * G));
  kh::group_norm_fwd<float>(ref.data(), rm.data(), rr.data(), x.h.data(), ga.h.data(), be.h.data(), N, C, S, G, 1e-5);
  timed(st, y.to_vector<float>(), ref, run, 8.0 * double(N * C * S));
}
void BM_group_norm_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t N = 256, C = 128, S = st.range(0) * st.range(0), G = st.range(1);
  const Buf x(N * C * S, 1), ga(C, 2), be(C, 3), dy(N * C * S, 4);
  std::vector<float> y(static_cast<size_t>(N * C * S)), m(static_cast<size_t>(N * G)), r(static_cast<size_t>(N * G));
  kh::group_norm_fwd<float>(y.data(), m.data(), r.data(), x.h.data(), ga.h.data(), be.h.data(), N, C, S, G, 1e-5);
  const Tensor md = from_vector(m, Shape{N * G}, Device::cuda), rd = from_vector(r, Shape{N * G}, Device::cuda);
  Tensor dx = empty(Shape{N * C * S}, DType::f32, Device::cuda), dg = empty(Shape{C}, DType::f32, Device::cuda),
         db = empty(Shape{C}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::group_norm_bwd(dx.data<float>(), dg.data<float>(), db.data<float>(), dy.p(), x.p(), md.data<float>(),
                       rd.data<float>(), ga.p(), N, C, S, G);
  };
  run();
  std::vector<float> ref(static_cast<size_t>(N * C * S)), rg(static_cast<size_t>(C)), rb(static_cast<size_t>(C));
  kh::group_norm_bwd<float>(ref.data(), rg.data(), rb.data(), dy.h.data(), x.h.data(), m.data(), r.data(), ga.h.data(), N,
                            C, S, G);
  timed(st, dx.to_vector<float>(), ref, run, 12.0 * double(N * C * S));
}
void norm_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"H", "G"})->Args({32, 128})->Args({8, 128})->Args({32, 1});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_group_norm_fwd_cuda)->Apply(norm_shapes);
BENCHMARK(BM_group_norm_bwd_cuda)->Apply(norm_shapes);

// ---- pooling ----

void BM_avg_pool2_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t planes = 256 * 128, h = st.range(0);
  const Buf x(planes * h * h, 1);
  Tensor y = empty(Shape{planes * (h / 2) * (h / 2)}, DType::f32, Device::cuda);
  auto run = [&] { kc::avg_pool2_fwd(y.data<float>(), x.p(), planes, h, h); };
  run();
  std::vector<float> ref(static_cast<size_t>(planes * (h / 2) * (h / 2)));
  kh::avg_pool2_fwd<float>(ref.data(), x.h.data(), planes, h, h);
  timed(st, y.to_vector<float>(), ref, run, 5.0 * double(planes * h * h));
}
void BM_avg_pool2_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t planes = 256 * 128, h = st.range(0);
  const Buf dy(planes * (h / 2) * (h / 2), 1);
  Tensor dx = empty(Shape{planes * h * h}, DType::f32, Device::cuda);
  auto run = [&] { kc::avg_pool2_bwd(dx.data<float>(), dy.p(), planes, h, h); };
  run();
  std::vector<float> ref(static_cast<size_t>(planes * h * h));
  kh::avg_pool2_bwd<float>(ref.data(), dy.h.data(), planes, h, h);
  timed(st, dx.to_vector<float>(), ref, run, 5.0 * double(planes * h * h));
}
BENCHMARK(BM_avg_pool2_fwd_cuda)->ArgName("H")->Arg(32)->Arg(28)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_avg_pool2_bwd_cuda)->ArgName("H")->Arg(32)->Arg(28)->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---- softmax cross-entropy ----

void BM_log_softmax_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0), k = st.range(1);
  const Buf x(n * k, 1);
  Tensor y = empty(Shape{n * k}, DType::f32, Device::cuda);
  auto run = [&] { kc::log_softmax_fwd(y.data<float>(), x.p(), n, k); };
  run();
  std::vector<float> ref(static_cast<size_t>(n * k));
  kh::log_softmax_fwd<float>(ref.data(), x.h.data(), n, k);
  timed(st, y.to_vector<float>(), ref, run, 8.0 * double(n * k));
}
BENCHMARK(BM_log_softmax_fwd_cuda)
    ->ArgNames({"N", "K"})
    ->Args({65536, 10})
    ->Args({65536, 100})
    ->Args({256, 200})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_cross_entropy_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0), k = st.range(1);
  const Buf x(n * k, 1);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = (i * 7) % k;
  const Tensor ld = from_vector(labels, Shape{n}, Device::cuda);
  Tensor loss = empty(Shape{1}, DType::f32, Device::cuda);
  auto run = [&] { kc::cross_entropy_fwd(loss.data<float>(), x.p(), ld.data<int64_t>(), n, k); };
  run();
  std::vector<float> ref(1);
  kh::cross_entropy_fwd<float>(ref.data(), x.h.data(), labels.data(), n, k);
  timed(st, loss.to_vector<float>(), ref, run, 4.0 * double(n * k) + 8.0 * double(n));
}
BENCHMARK(BM_cross_entropy_fwd_cuda)
    ->ArgNames({"N", "K"})
    ->Args({65536, 10})
    ->Args({256, 10})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---- DSA's affine sampling ----

// An affine grid that scales by 1.2 and shifts, in input pixel coordinates (x, y) per output.
std::vector<float> affine_grid(int64_t n, int64_t h, int64_t w) {
  std::vector<float> g(static_cast<size_t>(n * h * w * 2));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const size_t o = static_cast<size_t>(((i * h + y) * w + x) * 2);
        g[o] = 1.2f * float(x) - 2.5f + 0.01f * float(i % 7);
        g[o + 1] = 0.9f * float(y) + 1.5f - 0.02f * float(i % 5);
      }
  return g;
}

void BM_grid_sample_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = 256, c = st.range(0), h = st.range(1), w = h;
  const Buf x(n * c * h * w, 1);
  const auto gh = affine_grid(n, h, w);
  const Tensor gd = from_vector(gh, Shape{int64_t(gh.size())}, Device::cuda);
  Tensor y = empty(Shape{n * c * h * w}, DType::f32, Device::cuda);
  auto run = [&] { kc::grid_sample_fwd(y.data<float>(), x.p(), gd.data<float>(), n, c, h, w, h, w); };
  run();
  std::vector<float> ref(static_cast<size_t>(n * c * h * w));
  kh::grid_sample_fwd<float>(ref.data(), x.h.data(), gh.data(), n, c, h, w, h, w);
  timed(st, y.to_vector<float>(), ref, run, 4.0 * double(n * c * h * w * 2 + n * h * w * 2));
}
void BM_grid_sample_bwd_data_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = 256, c = st.range(0), h = st.range(1), w = h;
  const Buf dy(n * c * h * w, 1);
  const auto gh = affine_grid(n, h, w);
  const Tensor gd = from_vector(gh, Shape{int64_t(gh.size())}, Device::cuda);
  Tensor dx = empty(Shape{n * c * h * w}, DType::f32, Device::cuda);
  auto run = [&] { kc::grid_sample_bwd_data(dx.data<float>(), dy.p(), gd.data<float>(), n, c, h, w, h, w); };
  run();
  std::vector<float> ref(static_cast<size_t>(n * c * h * w));
  kh::grid_sample_bwd_data<float>(ref.data(), dy.h.data(), gh.data(), n, c, h, w, h, w);
  timed(st, dx.to_vector<float>(), ref, run, 4.0 * double(n * c * h * w * 2 + n * h * w * 2));
}
void grid_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "H"})->Args({1, 28})->Args({3, 32});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_grid_sample_fwd_cuda)->Apply(grid_shapes);
BENCHMARK(BM_grid_sample_bwd_data_cuda)->Apply(grid_shapes);

// ---- Philox and SGD ----

void BM_normal_fill_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  Tensor y = empty(Shape{n}, DType::f32, Device::cuda);
  auto run = [&] { kc::normal_fill(y.data<float>(), n, 7, 3, 0, 0.0, 1.0); };
  run();
  std::vector<float> ref(static_cast<size_t>(n));
  kh::normal_fill<float>(ref.data(), n, 7, 3, 0, 0.0, 1.0);
  timed(st, y.to_vector<float>(), ref, run, 4.0 * double(n));
}
BENCHMARK(BM_normal_fill_cuda)->ArgName("n")->Arg(int64_t(1) << 26)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_sgd_step_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  Buf p(n, 1), g(n, 2), buf(n, 3);
  std::vector<float> rp = p.h, rbuf = buf.h;
  kc::sgd_step(p.p(), g.p(), buf.p(), n, 0.01, 0.9, 5e-4, false);
  kh::sgd_step<float>(rp.data(), g.h.data(), rbuf.data(), n, 0.01, 0.9, 5e-4, false);
  timed(st, p.back(), rp, [&] { kc::sgd_step(p.p(), g.p(), buf.p(), n, 0.01, 0.9, 5e-4, false); }, 20.0 * double(n));
}
BENCHMARK(BM_sgd_step_cuda)->ArgName("n")->Arg(int64_t(1) << 24)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace loco
