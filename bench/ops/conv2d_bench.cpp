// The conv2d family at ConvNet-3's shapes: batch 256, 128→128 channels, 3×3 with padding 1 on
// 32×32, 16×16 and 8×8 maps, and the Fashion-MNIST first layer (1→128, 28×28, padding 3); on
// the CPU also wider and thinner ones (VGG11 / ResNet18 widths, CIFAR's 3-channel first
// layer), each under every algorithm that can run it (the `algo` argument, kConvAlgos' index).
// Shape letters: N batch, C in channels, H×W input, K out channels.
//   CPU   the ops (engine/ops/conv2d: im2col + GEMM, or Winograd for fwd and dx), each first
//         checked against a naive loop at N = 1 and the same C, H, K, pad;
//         BM_conv2d_fwd_bwd_cpu is a training step's forward, dx, dw and db through the tape
//   CUDA  the cuDNN kernels, each first checked against its CPU twin at the full shape
// FLOPS counts 2·N·K·C·R·S·P·Q per convolution (three for fwd_bwd). bench/torch_conv_ref.py
// times PyTorch at the same shapes; bench/RESULTS.md has both.
#include <functional>
#include <map>
#include <tuple>

#include "bench/harness.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "kernels/conv2d.h"

namespace loco::bench {
namespace {

struct Case {
  int64_t N, C, H, K, pad;
  // with_algo: a sixth argument picks the CPU algorithm (an index into kernels::kConvAlgos).
  static Case from(const benchmark::State& st, bool with_algo = false) {
    kernels::cpu::set_conv_algo(with_algo ? kernels::kConvAlgos[st.range(5)] : kernels::ConvAlgo::automatic);
    return {st.range(0), st.range(1), st.range(2), st.range(3), st.range(4)};
  }
  int64_t P() const { return H + 2 * pad - 3 + 1; }
  double flops() const { return 2.0 * static_cast<double>(N * K * C * 9) * static_cast<double>(P() * P()); }
  Conv2dOpts opts() const { return {.stride = 1, .padding = pad}; }
};

enum class Which { fwd, bwd_data, bwd_weight };

// Relative L2 error of conv2d / bwd_data / bwd_weight against a naive loop in double, at N = 1.
double naive_error(const Case& c0, Which which) {
  const Case c{1, c0.C, c0.H, c0.K, c0.pad};
  const int64_t P = c.P();
  Generator g(42, 0);
  const Tensor x = rand_normal(Shape{1, c.C, c.H, c.H}, g), w = rand_normal(Shape{c.K, c.C, 3, 3}, g, 0.0, 0.1);
  const Tensor dy = rand_normal(Shape{1, c.K, P, P}, g);
  const auto xv = x.to_vector<float>(), wv = w.to_vector<float>(), dyv = dy.to_vector<float>();
  std::vector<double> ref(which == Which::fwd ? dyv.size() : which == Which::bwd_data ? xv.size() : wv.size());
  for (int64_t k = 0; k < c.K; ++k)
    for (int64_t ch = 0; ch < c.C; ++ch)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < P; ++q)
          for (int64_t r = 0; r < 3; ++r)
            for (int64_t s = 0; s < 3; ++s) {
              const int64_t ih = p - c.pad + r, iw = q - c.pad + s;
              if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.H) continue;
              const int64_t yi = (k * P + p) * P + q, wi = ((k * c.C + ch) * 3 + r) * 3 + s, xi = (ch * c.H + ih) * c.H + iw;
              if (which == Which::fwd) ref[yi] += double(xv[xi]) * wv[wi];
              if (which == Which::bwd_data) ref[xi] += double(dyv[yi]) * wv[wi];
              if (which == Which::bwd_weight) ref[wi] += double(dyv[yi]) * xv[xi];
            }
  NoGradGuard no_grad;
  const Tensor out = which == Which::fwd        ? conv2d(x, w, Tensor(), c.opts())
                     : which == Which::bwd_data ? conv2d_bwd_data(dy, w, c.H, c.H, c.opts())
                                                : conv2d_bwd_weight(x, dy, 3, 3, c.opts());
  return rel_error(out.to_vector<float>(), ref);
}

// Checks each (shape, direction) once per process; false (and the benchmark skipped) on a mismatch.
bool checked(benchmark::State& st, const Case& c, std::initializer_list<Which> whichs) {
  static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int, kernels::ConvAlgo>, double> seen;
  for (Which which : whichs) {
    auto key = std::make_tuple(c.C, c.H, c.K, c.pad, static_cast<int>(which), kernels::cpu::conv_algo());
    if (!seen.count(key)) seen[key] = naive_error(c, which);
    if (!within(st, seen[key], 1e-5, "a naive loop at N = 1")) return false;
  }
  return true;
}

struct Inputs {
  Tensor x, w, b, dy;
  explicit Inputs(const Case& c) {
    Generator g(1, 0);
    x = rand_normal(Shape{c.N, c.C, c.H, c.H}, g);
    w = rand_normal(Shape{c.K, c.C, 3, 3}, g, 0.0, 0.05);
    b = rand_normal(Shape{c.K}, g);
    dy = rand_normal(Shape{c.N, c.K, c.P(), c.P()}, g);
  }
};

void BM_conv2d_fwd_cpu(benchmark::State& st) {
  const Case c = Case::from(st, true);
  if (!checked(st, c, {Which::fwd})) return;
  const Inputs in(c);
  NoGradGuard no_grad;
  timed_cpu(st, [&] { benchmark::DoNotOptimize(conv2d(in.x, in.w, in.b, c.opts()).raw()); }, 0, c.flops());
}

void BM_conv2d_bwd_data_cpu(benchmark::State& st) {
  const Case c = Case::from(st, true);
  if (!checked(st, c, {Which::bwd_data})) return;
  const Inputs in(c);
  NoGradGuard no_grad;
  timed_cpu(st, [&] { benchmark::DoNotOptimize(conv2d_bwd_data(in.dy, in.w, c.H, c.H, c.opts()).raw()); }, 0,
            c.flops());
}

void BM_conv2d_bwd_weight_cpu(benchmark::State& st) {
  const Case c = Case::from(st, true);
  if (!checked(st, c, {Which::bwd_weight})) return;
  const Inputs in(c);
  NoGradGuard no_grad;
  timed_cpu(st, [&] { benchmark::DoNotOptimize(conv2d_bwd_weight(in.x, in.dy, 3, 3, c.opts()).raw()); }, 0,
            c.flops());
}

// What a training step pays: the recorded forward, then dx, dw and db through the tape.
void BM_conv2d_fwd_bwd_cpu(benchmark::State& st) {
  const Case c = Case::from(st, true);
  if (!checked(st, c, {Which::fwd, Which::bwd_data, Which::bwd_weight})) return;
  Inputs in(c);
  in.x.requires_grad_();
  in.w.requires_grad_();
  in.b.requires_grad_();
  auto step = [&] {
    const Tensor y = conv2d(in.x, in.w, in.b, c.opts());
    auto g = grad(y, {in.x, in.w, in.b}, {.seed = in.dy});
    benchmark::DoNotOptimize(g[0].raw());
  };
  timed_cpu(st, step, 0, 3 * c.flops());
}

// {N, C, H, K, pad}: ConvNet-3's 128→128 layers and the Fashion-MNIST first layer.
void conv_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "C", "H", "K", "pad"});
  for (int64_t h : {32, 16, 8}) b->Args({256, 128, h, 128, 1});
  b->Args({256, 1, 28, 128, 3});
}
// The CPU runs: ConvNet-3's shapes and wider ones of VGG11 and ResNet18 (batch 64) under each
// algorithm that can run them (the last argument, kConvAlgos' index: 0 auto, 1 im2col,
// 2 winograd2, 3 winograd4). fwd_bwd compares auto with im2col.
void conv_shapes_cpu(benchmark::internal::Benchmark* b, std::initializer_list<int64_t> algos) {
  b->ArgNames({"N", "C", "H", "K", "pad", "algo"});
  const std::vector<std::vector<int64_t>> shapes = {{256, 128, 32, 128, 1}, {256, 128, 16, 128, 1},
                                                    {256, 128, 8, 128, 1},  {64, 64, 32, 64, 1},
                                                    {64, 256, 8, 256, 1},   {64, 512, 4, 512, 1},
                                                    {256, 3, 32, 128, 1},   {256, 16, 32, 16, 1},
                                                    {256, 32, 16, 32, 1}};
  for (const auto& sh : shapes)
    for (int64_t a : algos) b->Args({sh[0], sh[1], sh[2], sh[3], sh[4], a});
  b->Args({256, 1, 28, 128, 3, 1});
}
void conv_algos_cpu(benchmark::internal::Benchmark* b) { conv_shapes_cpu(b, {1, 2, 3}); }
void conv_auto_cpu(benchmark::internal::Benchmark* b) { conv_shapes_cpu(b, {0, 1}); }
// Seconds per call at N = 256 on a few cores: a longer minimum keeps the published ratios steady.
void on_cpu_slow(benchmark::internal::Benchmark* b) { b->Apply(on_cpu)->Unit(benchmark::kMillisecond)->MinTime(1.0); }

BENCHMARK(BM_conv2d_fwd_cpu)->Apply(conv_algos_cpu)->Apply(on_cpu_slow);
BENCHMARK(BM_conv2d_bwd_data_cpu)->Apply(conv_algos_cpu)->Apply(on_cpu_slow);
BENCHMARK(BM_conv2d_bwd_weight_cpu)->Apply(conv_algos_cpu)->Apply(on_cpu_slow);
BENCHMARK(BM_conv2d_fwd_bwd_cpu)->Apply(conv_auto_cpu)->Apply(on_cpu_slow);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;
namespace kh = kernels::cpu;

kernels::Conv2dShape kernel_shape(const Case& c) {
  kernels::Conv2dShape s;
  s.N = c.N;
  s.C = c.C;
  s.H = s.W = c.H;
  s.K = c.K;
  s.R = s.S = 3;
  s.pad = c.pad;
  s.P = s.Q = c.P();
  return s;
}

void conv_cuda(benchmark::State& st, Which which) {
  if (no_gpu(st)) return;
  const kernels::Conv2dShape s = kernel_shape(Case::from(st));
  const Buf x(s.N * s.C * s.H * s.W, 1), w(s.K * s.C * 9, 2, 0.1), dy(s.N * s.K * s.P * s.Q, 3), bias(s.K, 4);
  const int64_t out_n = which == Which::fwd        ? s.N * s.K * s.P * s.Q
                        : which == Which::bwd_data ? int64_t(x.h.size())
                                                   : int64_t(w.h.size());
  Tensor out = empty(Shape{out_n}, DType::f32, Device::cuda);
  std::vector<float> ref(static_cast<size_t>(out_n));
  float* o = out.data<float>();
  std::function<void()> run;
  if (which == Which::fwd) {
    run = [&] { kc::conv2d_fwd(o, x.p(), w.p(), bias.p(), s); };
    kh::conv2d_fwd<float>(ref.data(), x.h.data(), w.h.data(), bias.h.data(), s);
  } else if (which == Which::bwd_data) {
    run = [&] { kc::conv2d_bwd_data(o, dy.p(), w.p(), s); };
    kh::conv2d_bwd_data<float>(ref.data(), dy.h.data(), w.h.data(), s);
  } else {
    run = [&] { kc::conv2d_bwd_weight(o, x.p(), dy.p(), s); };
    kh::conv2d_bwd_weight<float>(ref.data(), x.h.data(), dy.h.data(), s);
  }
  run();
  if (!matches_cpu_twin(st, out.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 0, s.flops());
}
void BM_conv2d_fwd_cuda(benchmark::State& st) { conv_cuda(st, Which::fwd); }
void BM_conv2d_bwd_data_cuda(benchmark::State& st) { conv_cuda(st, Which::bwd_data); }
void BM_conv2d_bwd_weight_cuda(benchmark::State& st) { conv_cuda(st, Which::bwd_weight); }

BENCHMARK(BM_conv2d_fwd_cuda)->Apply(conv_shapes)->Apply(on_cuda);
BENCHMARK(BM_conv2d_bwd_data_cuda)->Apply(conv_shapes)->Apply(on_cuda);
BENCHMARK(BM_conv2d_bwd_weight_cuda)->Apply(conv_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
