// The pixels family: gather_normalise, the one way dataset images (u8 [N, C, H·W]) become
// network inputs (f32, (v/255 − mean_c)/std_c). Shapes {N, C, P, n}: a training batch of 256
// from Fashion-MNIST's 60000 train images (1×784) and CIFAR-10's 50000 (3×1024), and the whole
// 10000-image Fashion-MNIST test split (the evaluation's pass). Rows are a fixed scatter over
// the split, as a shuffled batch reads them. Shape letters: N images in the split, n rows
// gathered, C channels, P = H·W. bytes: the bytes read, the floats written, the row indices.
// The CPU twin is checked against the formula in double, the CUDA twin against the CPU twin
// (the contract promises the same bits; 1e-4 is what the harness asks of every CUDA twin).
#include <vector>

#include "bench/harness.h"
#include "kernels/pixels.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;

struct PixelCase {
  int64_t split, c, p, n;
  std::vector<uint8_t> x;
  std::vector<int64_t> rows;
  kernels::PixelNorm norm;
  explicit PixelCase(const benchmark::State& st)
      : split(st.range(0)), c(st.range(1)), p(st.range(2)), n(st.range(3)) {
    x.resize(size_t(split * c * p));
    uint32_t s = 0x9E3779B9u;  // xorshift32: any bytes will do, all 256 values appear
    for (auto& v : x) {
      s ^= s << 13, s ^= s >> 17, s ^= s << 5;
      v = static_cast<uint8_t>(s >> 24);
    }
    rows.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) rows[size_t(i)] = (i * 7919) % split;
    norm.channels = c;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2023f, 0.1994f, 0.2010f};
    for (int64_t k = 0; k < c; ++k) norm.mean[k] = mean[k], norm.std[k] = std[k];
  }
  int64_t out_numel() const { return n * c * p; }
  double bytes() const { return double(out_numel()) * (1 + 4) + 8.0 * double(n); }
};

void BM_gather_normalise_fwd_cpu(benchmark::State& st) {
  const PixelCase g(st);
  std::vector<float> y(size_t(g.out_numel()));
  auto run = [&] { kh::gather_normalise(y.data(), g.x.data(), g.rows.data(), g.n, g.p, g.norm); };
  run();
  std::vector<double> ref(y.size());
  for (int64_t i = 0; i < g.n; ++i)
    for (int64_t k = 0; k < g.c * g.p; ++k) {
      const int64_t ch = k / g.p;
      ref[size_t(i * g.c * g.p + k)] =
          (g.x[size_t(g.rows[size_t(i)] * g.c * g.p + k)] / 255.0 - g.norm.mean[ch]) / g.norm.std[ch];
    }
  if (!matches(st, y, ref)) return;
  timed_cpu(st, run, g.bytes());
}

void pixel_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "C", "P", "n"})->Args({60000, 1, 784, 256})->Args({50000, 3, 1024, 256});
  b->Args({10000, 1, 784, 10000});
}
BENCHMARK(BM_gather_normalise_fwd_cpu)->Apply(pixel_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_gather_normalise_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const PixelCase g(st);
  const Tensor x = from_vector(g.x, Shape{int64_t(g.x.size())}, Device::cuda);
  const Tensor rows = from_vector(g.rows, Shape{g.n}, Device::cuda);
  Tensor y = empty(Shape{g.out_numel()}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::gather_normalise(y.data<float>(), x.data<uint8_t>(), rows.data<int64_t>(), g.n, g.p, g.norm);
  };
  run();
  std::vector<float> ref(size_t(g.out_numel()));
  kh::gather_normalise(ref.data(), g.x.data(), g.rows.data(), g.n, g.p, g.norm);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, g.bytes());
}
BENCHMARK(BM_gather_normalise_fwd_cuda)->Apply(pixel_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
