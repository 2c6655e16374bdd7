// The unrolled student of trajectory matching (MTT, spec/mtt.md §2), as a function of the
// synthetic images and the learnable learning rate, so it can be tested on its own:
//   θ_0 = an expert's parameters at epoch s,  θ_{k+1} = θ_k − lr·∇_θ CE(f(DSA(x_{B_k}); θ_k), y_{B_k})
//   L = ‖θ_N − θ*‖² / ‖θ_0 − θ*‖²,  θ* = the expert at epoch s + expert_epochs,
// and dL/dx, dL/dlr through all N steps (each step's gradient taken with create_graph).
//
// Two ways to the same gradient (to f32 rounding):
//   full        one graph of all N steps, one backward (memory grows with N × activations);
//   checkpoint  θ_k kept only at segment boundaries (about √N steps each) from a first-order
//               forward pass; the backward recomputes one segment at a time with its graph and
//               carries the adjoint dL/dθ back across segments (memory: one segment's graph).
// The steps' minibatches and DSA draws are fixed up front (UnrollStep), so a recomputed
// segment sees exactly what the forward pass saw; θ at the boundaries is then bit-equal.
//
// Shape letters: P parameters, n synthetic images, b a minibatch, N steps.
#pragma once
#include <vector>

#include "condense/augment/augment.h"
#include "models/module.h"

namespace loco::condense {

enum class Unroll { full, checkpoint };
Unroll parse_unroll(const std::string& s);  // "full" | "checkpoint"; throws naming the value
const char* unroll_name(Unroll u);

struct UnrollStep {
  std::vector<int64_t> rows;  // the minibatch: rows of the synthetic images
  Generator dsa;              // a copy is used, so a recomputation draws the same augmentation
};

struct UnrollProblem {
  models::Module* net = nullptr;  // the architecture; its own parameters are not used
  Tensor images;                  // [n, C, H, W]: any tensor; the unroll takes its data
  Tensor labels;                  // i64 [n] on the images' device
  double lr = 0.01;               // the student's learning rate
  Tensor theta0, theta_star;      // [P]
  DsaStrategy dsa;                // non-Siamese, per minibatch (none: off)
  std::vector<UnrollStep> steps;
};

struct UnrollResult {
  double loss = 0.0;
  double start_distance = 0.0;  // ‖θ_0 − θ*‖²
  Tensor d_images;              // dL/dx [n, C, H, W]
  double d_lr = 0.0;            // dL/dlr
  int64_t segments = 1;
};

// segment: steps per checkpoint segment (0: ⌈√N⌉); ignored by Unroll::full.
UnrollResult unroll_trajectory(const UnrollProblem& p, Unroll mode, int64_t segment = 0);
// L alone, no gradient (finite differences in tests).
double unroll_loss(const UnrollProblem& p);

}  // namespace loco::condense
