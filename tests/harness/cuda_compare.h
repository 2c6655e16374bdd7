// CudaVsCpu tests: the same Philox inputs on both devices, CUDA outputs poisoned before each
// op (every fresh CUDA block is 0xFF bytes: NaN), relative L2 error ‖out − ref‖ / ‖ref‖ against
// the CPU, and a second CUDA run that must repeat the first bit for bit.
// Without a CUDA build or a visible GPU, CudaTest skips with the reason, so every build lists
// the same tests.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/rng.h"
#include "tests/harness/compare.h"

namespace loco::testing {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
};

// f32 inputs from Philox, one stream per call site.
Tensor randn32(const Shape& s, uint64_t stream, double scale = 1.0);
Tensor randu32(const Shape& s, uint64_t stream, double lo, double hi);


using MultiFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct CudaCompareOptions {
  double tol = 1e-4;
  bool deterministic = true;  // the CUDA outputs of two runs must be equal bit for bit
};

// Runs f on `inputs` (CPU tensors) and on their copies on CUDA; compares output i of each.
// f may build leaves with requires_grad and return gradients among its outputs.
void expect_cuda_matches_cpu(const MultiFn& f, const std::vector<Tensor>& inputs, const CudaCompareOptions& o = {});

}  // namespace loco::testing

namespace loco {
// The fixture of every CudaVsCpu test: one class, since gtest rejects a suite whose tests use
// different fixture types.
class CudaVsCpu : public testing::CudaTest {};
}  // namespace loco
