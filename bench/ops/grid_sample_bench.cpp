// The bilinear resampling family behind DSA's crop, flip, scale and rotate: forward and its
// adjoint (the backward with respect to x) for a batch of 256, at Fashion-MNIST (1×28×28) and
// CIFAR (3×32×32) shape, through an affine grid that scales by 1.2 and shifts, so some taps
// fall outside the image. Shape letters: N batch, C channels, H×W image (output the same).
// bytes: the image read and written and the grid read. The CPU twins are checked against a
// bilinear gather / scatter in double written here, the CUDA twins against the CPU twins.
#include <cmath>
#include <vector>

#include "bench/harness.h"
#include "kernels/grid_sample.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;
constexpr int64_t kBatch = 256;

struct GridCase {
  int64_t n = kBatch, c, h, w;
  std::vector<float> grid;  // [N, H, W, 2]: source (column, row) in pixels per output pixel
  explicit GridCase(const benchmark::State& st) : c(st.range(0)), h(st.range(1)), w(st.range(1)) {
    grid.resize(size_t(n * h * w * 2));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const size_t o = size_t(((i * h + y) * w + x) * 2);
          grid[o] = 1.2f * float(x) - 2.5f + 0.01f * float(i % 7);
          grid[o + 1] = 0.9f * float(y) + 1.5f - 0.02f * float(i % 5);
        }
  }
  int64_t numel() const { return n * c * h * w; }
  double bytes() const { return 4.0 * double(2 * numel() + n * h * w * 2); }
};

// Calls f(image offset, output offset, weight) for each in-image tap of every output pixel.
template <class F> void for_each_tap(const GridCase& g, F f) {
  for (int64_t i = 0; i < g.n; ++i)
    for (int64_t o = 0; o < g.h * g.w; ++o) {
      const double px = g.grid[size_t((i * g.h * g.w + o) * 2)], py = g.grid[size_t((i * g.h * g.w + o) * 2 + 1)];
      const double x0 = std::floor(px), y0 = std::floor(py), fx = px - x0, fy = py - y0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const int64_t yy = int64_t(y0) + dy, xx = int64_t(x0) + dx;
          if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
          const double wt = (dy ? fy : 1 - fy) * (dx ? fx : 1 - fx);
          for (int64_t ch = 0; ch < g.c; ++ch) {
            const int64_t plane = (i * g.c + ch) * g.h * g.w;
            f(plane + yy * g.w + xx, plane + o, wt);
          }
        }
    }
}

void BM_grid_sample_fwd_cpu(benchmark::State& st) {
  const GridCase g(st);
  const auto x = host_floats(g.numel(), 1);
  std::vector<float> y(size_t(g.numel()));
  auto run = [&] { kh::grid_sample_fwd<float>(y.data(), x.data(), g.grid.data(), g.n, g.c, g.h, g.w, g.h, g.w); };
  run();
  std::vector<double> ref(y.size());
  for_each_tap(g, [&](int64_t in, int64_t out, double wt) { ref[size_t(out)] += wt * x[size_t(in)]; });
  if (!matches(st, y, ref)) return;
  timed_cpu(st, run, g.bytes());
}

void BM_grid_sample_bwd_data_cpu(benchmark::State& st) {
  const GridCase g(st);
  const auto dy = host_floats(g.numel(), 1);
  std::vector<float> dx(size_t(g.numel()));
  auto run = [&] {
    kh::grid_sample_bwd_data<float>(dx.data(), dy.data(), g.grid.data(), g.n, g.c, g.h, g.w, g.h, g.w);
  };
  run();
  std::vector<double> ref(dx.size());
  for_each_tap(g, [&](int64_t in, int64_t out, double wt) { ref[size_t(in)] += wt * dy[size_t(out)]; });
  if (!matches(st, dx, ref)) return;
  timed_cpu(st, run, g.bytes());
}

void grid_shapes(benchmark::internal::Benchmark* b) { b->ArgNames({"C", "H"})->Args({1, 28})->Args({3, 32}); }

BENCHMARK(BM_grid_sample_fwd_cpu)->Apply(grid_shapes)->Apply(on_cpu);
BENCHMARK(BM_grid_sample_bwd_data_cpu)->Apply(grid_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_grid_sample_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const GridCase g(st);
  const Buf x(g.numel(), 1);
  const Tensor gd = from_vector(g.grid, Shape{int64_t(g.grid.size())}, Device::cuda);
  Tensor y = empty(Shape{g.numel()}, DType::f32, Device::cuda);
  auto run = [&] { kc::grid_sample_fwd(y.data<float>(), x.p(), gd.data<float>(), g.n, g.c, g.h, g.w, g.h, g.w); };
  run();
  std::vector<float> ref(size_t(g.numel()));
  kh::grid_sample_fwd<float>(ref.data(), x.h.data(), g.grid.data(), g.n, g.c, g.h, g.w, g.h, g.w);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, g.bytes());
}

void BM_grid_sample_bwd_data_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const GridCase g(st);
  const Buf dy(g.numel(), 1);
  const Tensor gd = from_vector(g.grid, Shape{int64_t(g.grid.size())}, Device::cuda);
  Tensor dx = empty(Shape{g.numel()}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::grid_sample_bwd_data(dx.data<float>(), dy.p(), gd.data<float>(), g.n, g.c, g.h, g.w, g.h, g.w);
  };
  run();
  std::vector<float> ref(size_t(g.numel()));
  kh::grid_sample_bwd_data<float>(ref.data(), dy.h.data(), g.grid.data(), g.n, g.c, g.h, g.w, g.h, g.w);
  if (!matches_cpu_twin(st, dx.to_vector<float>(), ref)) return;
  timed_cuda(st, run, g.bytes());
}

BENCHMARK(BM_grid_sample_fwd_cuda)->Apply(grid_shapes)->Apply(on_cuda);
BENCHMARK(BM_grid_sample_bwd_data_cuda)->Apply(grid_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
