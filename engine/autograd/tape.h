// The tape autograd. An op run while recording (grad mode on, some input requiring grad)
// appends a Node: its name, one edge per input and a backward closure. backward() walks the
// nodes reachable from the loss in reverse order of creation (the tape order).
//
// Backward closures are written with differentiable ops only. With create_graph the walk runs
// in grad mode, so the backward pass is itself recorded and can be differentiated again
// (gradient matching); without it the same closures run unrecorded.
//
// A closure captures the op's inputs (never its output: that would make a reference cycle)
// and plain constants; an op that needs its output in backward recomputes it from inputs.
#pragma once
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace loco {

// concat takes one input per class when a per-class result is reassembled (TinyImageNet: 200).
constexpr size_t kMaxOpInputs = 256;
using NeedsGrad = std::bitset<kMaxOpInputs>;
// Returns one gradient per input, in input order; undefined where needs[i] is false.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& dy, const NeedsGrad& needs)>;

struct Edge {
  std::shared_ptr<Node> node;        // the input's producer, or
  std::shared_ptr<TensorImpl> leaf;  // the input itself when it is a leaf requiring grad
  Shape shape;                       // the input's shape, to check what backward returns
  bool active() const { return node || leaf; }
};

struct Node {
  const char* name;
  uint64_t seq;  // creation order: the tape position
  std::vector<Edge> edges;
  BackwardFn backward;
  // ≥ 0 for slice: when not recording, its backward returns dy for its own rows only, and the
  // walk adds it into rows [row_offset, …) of its input's gradient in place. K slices of one
  // tensor (per-class views of a set) then cost one zero-filled gradient, not K.
  int64_t row_offset = -1;
};

// Grad mode: thread-local, on by default.
bool grad_enabled();
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};
// Turns recording off for its scope (evaluation, optimiser steps, data preparation).
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// Attaches a backward to `out` when recording and some input requires grad; returns `out`.
Tensor record(const char* name, Tensor out, std::initializer_list<Tensor> inputs, BackwardFn backward);
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);

struct BackwardOptions {
  bool create_graph = false;  // record the backward pass itself (for double backward)
  Tensor seed;                // dL/d(output); required when the output is not a scalar
};
// Accumulates d(out)/d(leaf) into leaf.grad() for every leaf that requires grad.
void backward(const Tensor& out, const BackwardOptions& opts = {});

struct GradOptions {
  bool create_graph = false;
  bool allow_unused = false;  // an input out of reach gets an undefined tensor instead of an error
  Tensor seed;
};
// d(out)/d(inputs), returned, without touching any leaf's grad().
std::vector<Tensor> grad(const Tensor& out, const std::vector<Tensor>& inputs, const GradOptions& opts = {});

// The name of the op that made t, or "a leaf".
std::string grad_fn_name(const Tensor& t);

}  // namespace loco
