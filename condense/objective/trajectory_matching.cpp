// Trajectory matching (MTT, main_MTT.py / main_LoMTT.py; spec/mtt.md §2): the unroll of
// trajectory_matching.h, and the objective that draws an expert and a start epoch each
// iteration, unrolls the student on the set's images and steps the images (or A and B) and the
// learnable syn_lr. LoMTT is this objective on a LowRankSet: the images are reconstructed once
// per iteration and dL/dx flows back through A·B.
//
// Choices where the reference leaves room (README, "Trajectory matching"):
// * the expert and start epoch are drawn uniformly per iteration from the iteration's stream
//   (the reference's --load_all draw), so a resumed run repeats an uninterrupted one;
// * minibatches are chunks of a fresh permutation, popped from the end (torch.split(...).pop()),
//   each step's non-Siamese DSA from its own stream.
#include "condense/objective/trajectory_matching.h"

#include <cmath>

#include "condense/experts.h"
#include "condense/objective/objective.h"
#include "dist/dist.h"
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {

Unroll parse_unroll(const std::string& s) {
  if (s == "full") return Unroll::full;
  if (s == "checkpoint") return Unroll::checkpoint;
  LOCO_FAIL("--unroll: expected full or checkpoint, got '", s, "'");
}
const char* unroll_name(Unroll u) { return u == Unroll::full ? "full" : "checkpoint"; }

namespace {

// Minibatch labels on the host once, gathered per step.
struct Labels {
  std::vector<int64_t> host;
  Device device;
  Tensor rows(const std::vector<int64_t>& r) const {
    std::vector<int64_t> y(r.size());
    for (size_t i = 0; i < r.size(); ++i) y[i] = host[static_cast<size_t>(r[i])];
    return from_vector(y, Shape{static_cast<int64_t>(y.size())}, device);
  }
};

// θ − lr·∇_θ CE(f(DSA(x_rows); θ)), the gradient taken with create_graph: a recorded step, or
// (when nothing needs it) a graph dropped by the caller. Always recorded the same way, so every
// pass computes the same θ bit for bit.
//
// Distributed (dist.h), each rank takes its block of the minibatch: its share of the mean loss
// (the batch's DSA is drawn whole, so every image gets one process's draws), the gradient of
// that share, and the ranks' gradients summed in rank order. θ enters through dist::replicated,
// so the backward sums the ranks' second-order terms the same way: every rank holds the same θ
// and the same adjoints, and each its own rows' dL/dx.
Tensor student_step(const UnrollProblem& p, const Labels& y, const Tensor& x, const Tensor& lr, const Tensor& theta,
                    const UnrollStep& s) {
  Generator g = s.dsa;
  const auto batch = static_cast<int64_t>(s.rows.size());
  const dist::Range mine = dist::share(batch);
  Tensor xb = dsa(gather_rows(x, index_tensor(s.rows, x.device())), p.dsa, g, /*shared=*/false);
  const std::vector<int64_t> rows(s.rows.begin() + mine.begin, s.rows.begin() + mine.end);
  if (mine.size() < batch) xb = slice(xb, mine.begin, mine.end);
  const Tensor theta_here = dist::replicated(theta);
  Tensor loss = cross_entropy(p.net->forward(p.net->unflatten(theta_here), xb), y.rows(rows));
  if (mine.size() < batch) loss = loss * (static_cast<double>(mine.size()) / static_cast<double>(batch));
  const Tensor g_theta = grad(loss, {theta_here}, {.create_graph = true})[0];
  return theta - lr * dist::sum_over_ranks(g_theta);
}

void check(const UnrollProblem& p) {
  LOCO_CHECK(p.net && !p.steps.empty(), "unroll_trajectory: no network or no steps");
  LOCO_CHECK(p.theta0.shape() == Shape{p.net->num_parameters()} && p.theta_star.shape() == p.theta0.shape(),
             "unroll_trajectory: θ0 ", p.theta0.shape(), " and θ* ", p.theta_star.shape(), " for a network of ",
             p.net->num_parameters(), " parameters");
  LOCO_CHECK(p.images.ndim() == 4 && p.labels.ndim() == 1 && p.labels.dim(0) == p.images.dim(0),
             "unroll_trajectory: images ", p.images.shape(), " and labels ", p.labels.shape());
}

Tensor scalar_like(double v, const Tensor& like) { return full(Shape{1}, v, like.dtype(), like.device()); }

// The first-order forward pass: θ at every boundary (multiples of `segment`, and N).
std::vector<Tensor> forward_boundaries(const UnrollProblem& p, const Labels& y, int64_t segment) {
  const Tensor x = p.images.detach();
  const Tensor lr = scalar_like(p.lr, p.theta0);
  std::vector<Tensor> kept{p.theta0.detach()};
  Tensor theta = p.theta0.detach().clone().requires_grad_();
  const auto n = static_cast<int64_t>(p.steps.size());
  for (int64_t k = 0; k < n; ++k) {
    const Tensor next = student_step(p, y, x, lr, theta, p.steps[static_cast<size_t>(k)]).detach();
    theta = next.clone().requires_grad_();
    if ((k + 1) % segment == 0 || k + 1 == n) kept.push_back(next);
  }
  return kept;
}

double distance(const Tensor& a, const Tensor& b) {
  NoGradGuard no_grad;
  return sum(square(a - b)).item_as_double();
}

}  // namespace

double unroll_loss(const UnrollProblem& p) {
  check(p);
  const Labels y{p.labels.to_vector<int64_t>(), p.images.device()};
  const auto n = static_cast<int64_t>(p.steps.size());
  const std::vector<Tensor> kept = forward_boundaries(p, y, n);
  return distance(kept.back(), p.theta_star) / distance(p.theta0, p.theta_star);
}

UnrollResult unroll_trajectory(const UnrollProblem& p, Unroll mode, int64_t segment) {
  check(p);
  const Labels y{p.labels.to_vector<int64_t>(), p.images.device()};
  const auto n = static_cast<int64_t>(p.steps.size());
  UnrollResult r;
  r.start_distance = distance(p.theta0, p.theta_star);
  LOCO_CHECK(r.start_distance > 0, "trajectory matching: the expert's start and target parameters are equal");
  const Tensor x = p.images.detach().clone().requires_grad_();
  const Tensor lr = scalar_like(p.lr, p.theta0).requires_grad_();
  if (mode == Unroll::full) {
    Tensor theta = p.theta0.detach().clone().requires_grad_();
    for (const UnrollStep& s : p.steps) theta = student_step(p, y, x, lr, theta, s);
    const Tensor loss = sum(square(theta - p.theta_star)) * (1.0 / r.start_distance);
    r.loss = distance(theta, p.theta_star) / r.start_distance;  // as the checkpointed pass reports it
    const std::vector<Tensor> g = grad(loss, {x, lr});
    r.d_images = g[0];
    r.d_lr = g[1].item_as_double();
    return r;
  }
  if (segment <= 0) segment = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const std::vector<Tensor> kept = forward_boundaries(p, y, segment);
  r.segments = static_cast<int64_t>(kept.size()) - 1;
  r.loss = distance(kept.back(), p.theta_star) / r.start_distance;
  Tensor adjoint;
  {
    NoGradGuard no_grad;
    adjoint = (kept.back() - p.theta_star) * (2.0 / r.start_distance);
  }
  Tensor d_lr;
  for (int64_t seg = r.segments - 1; seg >= 0; --seg) {
    const int64_t begin = seg * segment, end = std::min(n, begin + segment);
    const Tensor start = kept[static_cast<size_t>(seg)].clone().requires_grad_();
    Tensor theta = start;
    for (int64_t k = begin; k < end; ++k) theta = student_step(p, y, x, lr, theta, p.steps[static_cast<size_t>(k)]);
    const std::vector<Tensor> g = grad(theta, {start, x, lr}, {.seed = adjoint});
    adjoint = g[0];
    r.d_images = r.d_images.defined() ? add(r.d_images, g[1]) : g[1];
    d_lr = d_lr.defined() ? add(d_lr, g[2]) : g[2];
  }
  r.d_lr = d_lr.item_as_double();
  return r;
}

namespace {

class TrajectoryMatching final : public Objective {
 public:
  TrajectoryMatching(const ObjectiveContext& ctx, const TrajectoryOptions& o)
      : ctx_(ctx), o_(o), net_(student(ctx)),
        experts_(ExpertSet::open(o.experts, *net_, ctx.model, dataset_info(ctx.train->name),
                                 o.max_start_epoch - 1 + o.expert_epochs)),
        syn_lr_(full(Shape{1}, o.lr_teacher, DType::f32, ctx.device).requires_grad_()),
        lr_opt_({syn_lr_}, {.lr = o.lr_lr, .momentum = 0.5}) {
    LOCO_CHECK(o.syn_steps >= 1 && o.expert_epochs >= 1 && o.max_start_epoch >= 1 && o.batch_syn >= 0,
               "trajectory matching: syn_steps ", o.syn_steps, ", expert_epochs ", o.expert_epochs,
               ", max_start_epoch ", o.max_start_epoch, ", batch_syn ", o.batch_syn);
    net_->train();  // the student stays in train mode (spec §2)
    LOCO_CHECK(dist::size() == 1 || !net_->has_batchnorm(), "trajectory matching with ", ctx.model,
               " cannot split its student's batch across ranks: batch norm's statistics span the batch; run it in "
               "one process");
  }
  std::string name() const override { return "trajectory matching"; }

  IterationStats iterate(SyntheticSet& set, Sgd& opt, Generator& g) override {
    const size_t expert = g.below(experts_.size());
    const auto start = static_cast<int64_t>(g.below(static_cast<uint64_t>(o_.max_start_epoch)));
    UnrollProblem p{.net = net_.get(), .labels = set.labels(), .lr = syn_lr_.item_as_double(),
                    .theta0 = experts_.snapshot(expert, start).to(ctx_.device),
                    .theta_star = experts_.snapshot(expert, start + o_.expert_epochs).to(ctx_.device),
                    .dsa = ctx_.dsa};
    const int64_t n = set.size(), b = o_.batch_syn > 0 ? std::min(o_.batch_syn, n) : n;
    const int64_t smallest = n % b ? n % b : b;  // the permutation's last chunk
    LOCO_CHECK(smallest >= dist::size(), "trajectory matching: a student batch of ", smallest,
               " images cannot be split across ", dist::size(), " ranks; use at most ", smallest,
               " ranks, or a --batch-syn that divides the set's ", n, " images");
    std::vector<std::vector<int64_t>> chunks;
    for (int64_t k = 0; k < o_.syn_steps; ++k) {
      if (chunks.empty()) {  // torch.split(randperm(n), b), then .pop() from the end
        const std::vector<int64_t> perm = rand_permutation(n, g);
        for (int64_t c = 0; c < n; c += b)
          chunks.emplace_back(perm.begin() + c, perm.begin() + std::min(n, c + b));
      }
      const std::vector<uint32_t> w = g.words(2);
      p.steps.push_back({.rows = std::move(chunks.back()),
                         .dsa = Generator(g.seed(), (static_cast<uint64_t>(w[0]) << 32) | w[1])});
      chunks.pop_back();
    }
    const Tensor images = set.images();  // LoMTT: A·B once per iteration (spec §3)
    p.images = images;
    const UnrollResult r = unroll_trajectory(p, o_.unroll, o_.segment);
    opt.zero_grad();
    lr_opt_.zero_grad();
    // Distributed, each rank has dL/dx for the rows it took; summed, every rank steps the whole
    // set alike (dL/dsyn_lr comes from replicated quantities only: the same on every rank).
    backward(images, {.seed = dist::size() > 1 ? dist::sum_over_ranks(r.d_images) : r.d_images});
    syn_lr_.set_grad(full(Shape{1}, r.d_lr, DType::f32, ctx_.device));
    opt.step();
    lr_opt_.step();
    return {.loss = r.loss, .images = o_.syn_steps * b, .learned_lr = syn_lr_.item_as_double()};
  }

  std::vector<std::pair<std::string, Tensor>> state() const override {
    std::vector<std::pair<std::string, Tensor>> s{{"syn_lr", syn_lr_.detach()}};
    if (lr_opt_.momentum_buffers()[0].defined()) s.emplace_back("syn_lr.momentum", lr_opt_.momentum_buffers()[0]);
    return s;
  }
  void load_state(const std::map<std::string, Tensor>& t, const std::string& source) override {
    auto one = [&](const char* k) -> const Tensor* {
      const auto it = t.find(k);
      if (it == t.end()) return nullptr;
      LOCO_CHECK(it->second.dtype() == DType::f32 && it->second.shape() == Shape{1}, source, ": '", k, "' is ",
                 it->second.dtype(), " ", it->second.shape(), ", expected f32 [1]");
      return &it->second;
    };
    const Tensor* lr = one("syn_lr");
    LOCO_CHECK(lr, source, ": no 'syn_lr' (a trajectory-matching checkpoint holds the learned learning rate)");
    copy_bytes(syn_lr_.raw(), syn_lr_.device(), lr->raw(), Device::cpu, syn_lr_.nbytes());
    const Tensor* m = one("syn_lr.momentum");
    lr_opt_.set_momentum_buffers({m ? *m : Tensor()});
  }
  std::optional<double> learned_lr() const override { return syn_lr_.item_as_double(); }
  int64_t experts() const override { return static_cast<int64_t>(experts_.size()); }

 private:
  static std::unique_ptr<models::Module> student(const ObjectiveContext& ctx) {
    Generator g(0, 0);  // the architecture only: the student's weights come from the experts
    const Dataset& d = *ctx.train;
    return models::make_network(ctx.model, d.channels(), d.classes, d.height(), g, {.device = ctx.device});
  }
  ObjectiveContext ctx_;
  TrajectoryOptions o_;
  std::unique_ptr<models::Module> net_;
  ExpertSet experts_;
  Tensor syn_lr_;
  Sgd lr_opt_;
};

}  // namespace

std::unique_ptr<Objective> make_trajectory_matching(const ObjectiveContext& ctx, const TrajectoryOptions& o) {
  return std::make_unique<TrajectoryMatching>(ctx, o);
}

}  // namespace loco::condense
