#include "engine/autograd/tape.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops/elementwise.h"
#include "kernels/profile.h"

namespace loco {
namespace {
thread_local bool g_grad_enabled = true;
std::atomic<uint64_t> g_seq{0};
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
GradModeGuard::GradModeGuard(bool enabled) : prev_(g_grad_enabled) { g_grad_enabled = enabled; }
GradModeGuard::~GradModeGuard() { g_grad_enabled = prev_; }

std::string grad_fn_name(const Tensor& t) {
  return t.grad_fn() ? std::string("op '") + t.grad_fn()->name + "'" : std::string("a leaf");
}

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!g_grad_enabled) return out;
  LOCO_CHECK(inputs.size() <= kMaxOpInputs, name, ": more than ", kMaxOpInputs, " inputs");
  bool any = false;
  for (const auto& x : inputs) any = any || (x.defined() && x.requires_grad());
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->seq = g_seq.fetch_add(1);
  node->backward = std::move(backward);
  node->edges.reserve(inputs.size());
  for (const auto& x : inputs) {
    Edge e;
    if (x.defined() && x.requires_grad()) {
      e.shape = x.shape();
      if (x.is_leaf()) e.leaf = x.impl_ptr();
      else e.node = x.grad_fn();
    }
    node->edges.push_back(std::move(e));
  }
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::move(node);
  return out;
}

Tensor record(const char* name, Tensor out, std::initializer_list<Tensor> inputs, BackwardFn backward) {
  return record(name, std::move(out), std::vector<Tensor>(inputs), std::move(backward));
}

namespace {

// One walk serves backward() and grad(). Targets are identified by their producer node
// (non-leaves) or their impl (leaves).
struct Walk {
  std::unordered_map<const Node*, Tensor> node_grad;
  std::unordered_map<const TensorImpl*, Tensor> leaf_grad;
  std::unordered_set<const TensorImpl*> owned;  // sums this walk allocated, safe to add into
};

Tensor accumulate(const Tensor& acc, const Tensor& g) { return acc.defined() ? add(acc, g) : g; }

// g holds rows [begin, begin + g.rows) of a gradient of shape `full` (see Node::row_offset).
Tensor accumulate_rows(Tensor acc, const Tensor& g, int64_t begin, const Shape& full, Walk& w) {
  if (!acc.defined()) {
    acc = zeros(full, g.dtype(), g.device());
    w.owned.insert(acc.impl_ptr().get());
  } else if (!w.owned.count(acc.impl_ptr().get())) {
    acc = acc.clone();
    w.owned.insert(acc.impl_ptr().get());
  }
  const size_t row = static_cast<size_t>(full.numel() / std::max<int64_t>(full[0], 1));
  add_into(view_of(acc, g.shape(), static_cast<size_t>(begin) * row), g);
  return acc;
}

void check_root(const Tensor& out, const Tensor& seed, const char* who) {
  LOCO_CHECK(out.defined(), who, ": undefined output tensor");
  LOCO_CHECK(out.requires_grad(), who, ": the tensor needs no gradient (no input of it requires grad, "
                                  "or it was computed with grad mode off)");
  if (!seed.defined()) {
    LOCO_CHECK(out.numel() == 1, who, ": output of shape ", out.shape(),
               " is not a scalar; pass a seed gradient of the same shape");
  } else {
    LOCO_CHECK(seed.shape() == out.shape(), who, ": seed gradient of shape ", seed.shape(),
               " for an output of shape ", out.shape());
  }
}

// Runs the reverse walk. `wanted_leaf` / `wanted_node` say which gradients the caller keeps;
// a node is only run when some wanted gradient lies behind it.
void run(const Tensor& out, const Tensor& seed_in, bool create_graph,
         const std::unordered_set<const TensorImpl*>* wanted_leaves,
         const std::unordered_set<const Node*>* wanted_nodes, Walk& w) {
  Tensor seed = seed_in.defined() ? seed_in : full_like(out, 1.0);
  if (out.is_leaf()) {
    w.leaf_grad[out.impl_ptr().get()] = seed;
    return;
  }
  // Collect the reachable nodes and whether each leads to something wanted.
  std::vector<Node*> order;
  std::unordered_map<const Node*, bool> useful, reach;
  std::vector<std::pair<Node*, size_t>> stack{{out.grad_fn().get(), 0}};
  std::unordered_set<const Node*> seen{out.grad_fn().get()};
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    if (i < n->edges.size()) {
      const Edge& e = n->edges[i++];
      if (e.node && seen.insert(e.node.get()).second) stack.push_back({e.node.get(), 0});
      continue;
    }
    bool behind = false;  // some wanted gradient lies behind n
    for (const Edge& e : n->edges) {
      if (e.leaf) behind = behind || !wanted_leaves || wanted_leaves->count(e.leaf.get());
      if (e.node) behind = behind || reach[e.node.get()];
    }
    useful[n] = behind;
    reach[n] = behind || (wanted_nodes && wanted_nodes->count(n));
    order.push_back(n);
    stack.pop_back();
  }
  std::sort(order.begin(), order.end(), [](Node* a, Node* b) { return a->seq > b->seq; });

  GradModeGuard mode(create_graph);
  w.node_grad[out.grad_fn().get()] = seed;
  for (Node* n : order) {
    auto it = w.node_grad.find(n);
    if (it == w.node_grad.end() || !useful[n]) continue;
    Tensor dy = it->second;
    if (!(wanted_nodes && wanted_nodes->count(n))) w.node_grad.erase(it);  // free as we go
    NeedsGrad needs;
    for (size_t i = 0; i < n->edges.size(); ++i) {
      const Edge& e = n->edges[i];
      needs[i] = (e.leaf && (!wanted_leaves || wanted_leaves->count(e.leaf.get()))) ||
                 (e.node && reach[e.node.get()]);
    }
    std::vector<Tensor> gs = n->backward(dy, needs);
    LOCO_CHECK(gs.size() == n->edges.size(), "backward of '", n->name, "' returned ", gs.size(),
               " gradients for ", n->edges.size(), " inputs");
    for (size_t i = 0; i < gs.size(); ++i) {
      if (!needs[i]) continue;
      const Edge& e = n->edges[i];
      LOCO_CHECK(gs[i].defined(), "backward of '", n->name, "' gave no gradient for input ", i);
      Tensor& acc = e.leaf ? w.leaf_grad[e.leaf.get()] : w.node_grad[e.node.get()];
      if (n->row_offset >= 0 && gs[i].shape() != e.shape) {
        LOCO_CHECK(!create_graph && gs[i].ndim() == e.shape.ndim() && n->row_offset + gs[i].dim(0) <= e.shape[0],
                   "backward of '", n->name, "': rows ", gs[i].shape(), " at ", n->row_offset, " for input of shape ",
                   e.shape);
        acc = accumulate_rows(acc, gs[i], n->row_offset, e.shape, w);
        continue;
      }
      LOCO_CHECK(gs[i].shape() == e.shape, "backward of '", n->name, "': gradient of shape ",
                 gs[i].shape(), " for input ", i, " of shape ", e.shape);
      acc = accumulate(acc, gs[i]);
    }
  }
}

}  // namespace

void backward(const Tensor& out, const BackwardOptions& opts) {
  kernels::ProfileRange range("backward");
  check_root(out, opts.seed, "backward");
  Walk w;
  run(out, opts.seed, opts.create_graph, nullptr, nullptr, w);
  GradModeGuard mode(opts.create_graph);
  for (auto& [impl, g] : w.leaf_grad) {
    auto* leaf = const_cast<TensorImpl*>(impl);
    Tensor gg = opts.create_graph ? g : g.detach();
    leaf->grad = leaf->grad ? add(Tensor(leaf->grad), gg).impl_ptr() : gg.impl_ptr();
  }
}

std::vector<Tensor> grad(const Tensor& out, const std::vector<Tensor>& inputs, const GradOptions& opts) {
  kernels::ProfileRange range(opts.create_graph ? "backward (create_graph)" : "backward");
  check_root(out, opts.seed, "grad");
  std::unordered_set<const TensorImpl*> leaves;
  std::unordered_set<const Node*> nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    LOCO_CHECK(x.defined() && x.requires_grad(), "grad: input ", i, " (shape ",
               x.defined() ? x.shape().str() : "undefined", ") does not require grad");
    if (x.is_leaf()) leaves.insert(x.impl_ptr().get());
    else nodes.insert(x.grad_fn().get());
  }
  Walk w;
  run(out, opts.seed, opts.create_graph, &leaves, &nodes, w);
  std::vector<Tensor> res;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    Tensor g;
    if (x.is_leaf()) {
      auto it = w.leaf_grad.find(x.impl_ptr().get());
      if (it != w.leaf_grad.end()) g = it->second;
    } else {
      auto it = w.node_grad.find(x.grad_fn().get());
      if (it != w.node_grad.end()) g = it->second;
    }
    LOCO_CHECK(g.defined() || opts.allow_unused, "grad: input ", i, " of shape ", x.shape(),
               " is not reachable from the output (pass allow_unused to get an undefined tensor)");
    res.push_back(g.defined() && !opts.create_graph ? g.detach() : g);
  }
  return res;
}

}  // namespace loco
