#include "tests/harness/cuda_compare.h"

#include <cmath>
#include <cstring>

#include "engine/storage.h"

namespace loco::testing {

void CudaTest::SetUp() {
  if (!cuda_available())
    GTEST_SKIP() << (
#ifdef LOCO_HAS_CUDA
        "no CUDA device visible to this process"
#else
        "this loco was built without CUDA (configure with -DLOCO_CUDA=ON)"
#endif
    );
  set_tf32(false);
}

void CudaTest::TearDown() {
  if (cuda_available()) set_poison_allocations(Device::cuda, false);
}

Tensor randn32(const Shape& s, uint64_t stream, double scale) {
  Generator g(0xC0DA, stream);
  return rand_normal(s, g, 0.0, scale);
}
Tensor randu32(const Shape& s, uint64_t stream, double lo, double hi) {
  Generator g(0xC0DA, stream);
  return rand_uniform(s, g, lo, hi);
}

void expect_cuda_matches_cpu(const MultiFn& f, const std::vector<Tensor>& inputs, const CudaCompareOptions& o) {
  const std::vector<Tensor> ref = f(inputs);
  std::vector<Tensor> dev_in;
  for (const Tensor& x : inputs) dev_in.push_back(x.to(Device::cuda));
  auto run = [&] {
    set_poison_allocations(Device::cuda, true);
    std::vector<Tensor> out = f(dev_in);
    set_poison_allocations(Device::cuda, false);
    return out;
  };
  const std::vector<Tensor> out = run();
  ASSERT_EQ(out.size(), ref.size());
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].device(), Device::cuda) << "output " << i << " did not stay on CUDA";
    expect_close(out[i], ref[i], o.tol, "output " + std::to_string(i));
  }
  if (!o.deterministic) return;
  const std::vector<Tensor> again = run();
  for (size_t i = 0; i < out.size(); ++i) {
    const Tensor a = out[i].to(Device::cpu), b = again[i].to(Device::cpu);
    ASSERT_EQ(a.nbytes(), b.nbytes());
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << "output " << i << " differs between two CUDA runs";
  }
}

}  // namespace loco::testing
