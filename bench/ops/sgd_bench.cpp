// The SGD family: one fused update (momentum 0.9, weight decay 5e-4, lr 0.01, PyTorch's rule)
// of n = 2^24 parameters in place. bytes: p, g, buf read and p, buf written.
// The CPU twin is checked, after one step, against the rule in double; the CUDA twin against
// the CPU twin. The timed calls keep stepping the same buffers (the rate does not depend on
// the values).
#include <vector>

#include "bench/harness.h"
#include "kernels/sgd.h"

namespace loco::bench {
namespace {

namespace kh = kernels::cpu;
constexpr double kLr = 0.01, kMomentum = 0.9, kWd = 5e-4;

void BM_sgd_step_cpu(benchmark::State& st) {
  const int64_t n = st.range(0);
  std::vector<float> p = host_floats(n, 1), buf = host_floats(n, 3);
  const auto g = host_floats(n, 2);
  std::vector<double> ref(static_cast<size_t>(n));
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = g[i] + kWd * p[i], b = kMomentum * buf[i] + d;
    ref[i] = p[i] - kLr * b;
  }
  auto run = [&] { kh::sgd_step<float>(p.data(), g.data(), buf.data(), n, kLr, kMomentum, kWd, false); };
  run();
  if (!matches(st, p, ref)) return;
  timed_cpu(st, run, 20.0 * double(n));
}

void sgd_shapes(benchmark::internal::Benchmark* b) { b->ArgName("n")->Arg(int64_t(1) << 24); }
BENCHMARK(BM_sgd_step_cpu)->Apply(sgd_shapes)->Apply(on_cpu);

#ifdef LOCO_HAS_CUDA
namespace kc = kernels::cuda;

void BM_sgd_step_cuda(benchmark::State& st) {
  if (no_gpu(st)) return;
  const int64_t n = st.range(0);
  Buf p(n, 1), g(n, 2), buf(n, 3);
  std::vector<float> rp = p.h, rbuf = buf.h;
  auto run = [&] { kc::sgd_step(p.p(), g.p(), buf.p(), n, kLr, kMomentum, kWd, false); };
  run();
  kh::sgd_step<float>(rp.data(), g.h.data(), rbuf.data(), n, kLr, kMomentum, kWd, false);
  if (!matches_cpu_twin(st, p.back(), rp)) return;
  timed_cuda(st, run, 20.0 * double(n));
}
BENCHMARK(BM_sgd_step_cuda)->Apply(sgd_shapes)->Apply(on_cuda);
#endif

}  // namespace
}  // namespace loco::bench
