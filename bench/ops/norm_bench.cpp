// The normalisation family: group norm's fused forward and backward at ConvNet-3's first block
// (N 256, C 128, H×W 32×32 or 8×8): instance norm (G = C, ConvNet's default) and one group
// (G = 1, layer norm over C·H·W). Shape letters: N batch, C channels, S = H·W, G groups.
// bytes: x read + y written (fwd); x, dy read + dx written (bwd). The CPU twins are checked
// against loops in double, the CUDA twins against the CPU twins.
#include <cmath>
#include <vector>

#include "bench/harness.h"
#include "kernels/norm.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;
constexpr double kEps = 1e-5;

struct GroupShape {
  int64_t n = 256, c = 128, s, g;
  explicit GroupShape(const benchmark::State& st) : s(st.range(0) * st.range(0)), g(st.range(1)) {}
  int64_t numel() const { return n * c * s; }
  int64_t rows() const { return n * g; }
  int64_t len() const { return c / g * s; }                                   // one row (n, g)
  size_t channel(int64_t i) const { return size_t((i / s) % c); }             // c of element i
};

// Inputs of both directions, and the statistics the forward saves (from the CPU twin).
struct GroupInputs {
  std::vector<float> x, gamma, beta, dy, mean, rstd;
  explicit GroupInputs(const GroupShape& s)
      : x(host_floats(s.numel(), 1)), gamma(host_floats(s.c, 2)), beta(host_floats(s.c, 3)),
        dy(host_floats(s.numel(), 4)), mean(size_t(s.rows())), rstd(size_t(s.rows())) {
    std::vector<float> y(x.size());
    kh::group_norm_fwd<float>(y.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), s.n, s.c,
                              s.s, s.g, kEps);
  }
};

std::vector<double> fwd_reference(const GroupShape& s, const GroupInputs& in) {
  std::vector<double> y(in.x.size());
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t o = r * s.len();
    double m = 0, v = 0;
    for (int64_t i = 0; i < s.len(); ++i) m += in.x[size_t(o + i)];
    m /= double(s.len());
    for (int64_t i = 0; i < s.len(); ++i) v += (in.x[size_t(o + i)] - m) * (in.x[size_t(o + i)] - m);
    const double rs = 1.0 / std::sqrt(v / double(s.len()) + kEps);
    for (int64_t i = o; i < o + s.len(); ++i)
      y[size_t(i)] = (in.x[size_t(i)] - m) * rs * in.gamma[s.channel(i)] + in.beta[s.channel(i)];
  }
  return y;
}

// dx = rstd·(dy·γ − mean_row(dy·γ) − x̂·mean_row(dy·γ·x̂)) with the saved mean and rstd.
std::vector<double> bwd_reference(const GroupShape& s, const GroupInputs& in) {
  std::vector<double> dx(in.x.size());
  for (int64_t r = 0; r < s.rows(); ++r) {
    const int64_t o = r * s.len();
    const double m = in.mean[size_t(r)], rs = in.rstd[size_t(r)];
    double a = 0, b = 0;
    for (int64_t i = o; i < o + s.len(); ++i) {
      const double dg = double(in.dy[size_t(i)]) * in.gamma[s.channel(i)];
      a += dg;
      b += dg * (in.x[size_t(i)] - m) * rs;
    }
    a /= double(s.len());
    b /= double(s.len());
    for (int64_t i = o; i < o + s.len(); ++i)
      dx[size_t(i)] = rs * (double(in.dy[size_t(i)]) * in.gamma[s.channel(i)] - a - (in.x[size_t(i)] - m) * rs * b);
  }
  return dx;
}

void BM_group_norm_fwd_cpu(benchmark::State& st) {
  const GroupShape s(st);
  const GroupInputs in(s);
  std::vector<float> y(in.x.size()), m(size_t(s.rows())), rs(size_t(s.rows()));
  auto run = [&] {
    kh::group_norm_fwd<float>(y.data(), m.data(), rs.data(), in.x.data(), in.gamma.data(), in.beta.data(), s.n,
                              s.c, s.s, s.g, kEps);
  };
  run();
  if (!matches(st, y, fwd_reference(s, in))) return;
  timed_cpu(st, run, 8.0 * double(s.numel()));
}

void BM_group_norm_bwd_cpu(benchmark::State& st) {
  const GroupShape s(st);
  const GroupInputs in(s);
  std::vector<float> dx(in.x.size()), dg(size_t(s.c)), db(size_t(s.c));
  auto run = [&] {
    kh::group_norm_bwd<float>(dx.data(), dg.data(), db.data(), in.dy.data(), in.x.data(), in.mean.data(),
                              in.rstd.data(), in.gamma.data(), s.n, s.c, s.s, s.g);
  };
  run();
  if (!matches(st, dx, bwd_reference(s, in))) return;
  timed_cpu(st, run, 12.0 * double(s.numel()));
}

void group_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"H", "G"})->Args({32, 128})->Args({8, 128})->Args({32, 1});
}

BENCHMARK(BM_group_norm_fwd_cpu)->Apply(group_shapes)->Apply(on_cpu);
BENCHMARK(BM_group_norm_bwd_cpu)->Apply(group_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

Tensor on_device(const std::vector<float>& v) { return from_vector(v, Shape{int64_t(v.size())}, Device::cuda); }

void BM_group_norm_fwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const GroupShape s(st);
  const GroupInputs in(s);
  const Tensor x = on_device(in.x), ga = on_device(in.gamma), be = on_device(in.beta);
  Tensor y = empty(Shape{s.numel()}, DType::f32, Device::cuda), m = empty(Shape{s.rows()}, DType::f32, Device::cuda),
         rs = empty(Shape{s.rows()}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::group_norm_fwd(y.data<float>(), m.data<float>(), rs.data<float>(), x.data<float>(), ga.data<float>(),
                       be.data<float>(), s.n, s.c, s.s, s.g, kEps);
  };
  run();
  std::vector<float> ref(in.x.size()), rm(size_t(s.rows())), rr(size_t(s.rows()));
  kh::group_norm_fwd<float>(ref.data(), rm.data(), rr.data(), in.x.data(), in.gamma.data(), in.beta.data(), s.n,
                            s.c, s.s, s.g, kEps);
  if (!matches_cpu_twin(st, y.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 8.0 * double(s.numel()));
}

void BM_group_norm_bwd_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const GroupShape s(st);
  const GroupInputs in(s);
  const Tensor x = on_device(in.x), ga = on_device(in.gamma), dy = on_device(in.dy), m = on_device(in.mean),
               rs = on_device(in.rstd);
  Tensor dx = empty(Shape{s.numel()}, DType::f32, Device::cuda), dg = empty(Shape{s.c}, DType::f32, Device::cuda),
         db = empty(Shape{s.c}, DType::f32, Device::cuda);
  auto run = [&] {
    kc::group_norm_bwd(dx.data<float>(), dg.data<float>(), db.data<float>(), dy.data<float>(), x.data<float>(),
                       m.data<float>(), rs.data<float>(), ga.data<float>(), s.n, s.c, s.s, s.g);
  };
  run();
  std::vector<float> ref(in.x.size()), rg(size_t(s.c)), rb(size_t(s.c));
  kh::group_norm_bwd<float>(ref.data(), rg.data(), rb.data(), in.dy.data(), in.x.data(), in.mean.data(),
                            in.rstd.data(), in.gamma.data(), s.n, s.c, s.s, s.g);
  if (!matches_cpu_twin(st, dx.to_vector<float>(), ref)) return;
  timed_cuda(st, run, 12.0 * double(s.numel()));
}

BENCHMARK(BM_group_norm_fwd_cuda)->Apply(group_shapes)->Apply(on_cuda);
BENCHMARK(BM_group_norm_bwd_cuda)->Apply(group_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
