// Gradient matching (main.py / main_DC.py / main_LoDC.py, spec/condensation.md §3): DC, and
// DSA when the context carries a strategy. The synthetic side keeps its graph (create_graph)
// so the distance differentiates through the network's backward down to the images (and, for
// low rank, through A·B to the factors).
// Shared out (ObjectiveContext::shard), a process matches only its classes; the per-class
// matches are independent given the network, and the inner training is replicated on the
// gathered set, so the set is the one-process run's bit for bit.
#include "condense/eval/protocol.h"
#include "condense/objective/objective.h"
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {
namespace {

class GradientMatching final : public Objective {
 public:
  GradientMatching(const ObjectiveContext& ctx, const GradientMatchingOptions& o)
      : ctx_(ctx), o_(o), metric_(parse_gm_metric(o.metric)) {
    LOCO_CHECK(o.outer_loop >= 1 && o.inner_loop >= 0, "gradient matching: outer loop ", o.outer_loop,
               " and inner loop ", o.inner_loop, " must be ≥ 1 and ≥ 0");
  }
  std::string name() const override { return "gradient matching"; }

  IterationStats iterate(SyntheticSet& set, Sgd& opt, Generator& g) override {
    const Dataset& d = *ctx_.train;
    auto net = models::make_network(ctx_.model, d.channels(), d.classes, d.height(), g, {.device = ctx_.device});
    net->train();
    const std::vector<Tensor>& params = net->parameters();
    const int64_t k = set.classes();
    const dist::Range own = ctx_.own_classes(k);
    IterationStats st;
    for (int64_t ol = 0; ol < o_.outer_loop; ++ol) {
      if (net->has_batchnorm()) freeze_batchnorm(*net, k, g);
      Tensor loss;
      std::vector<double> terms;
      for (int64_t c = 0; c < k; ++c) {
        const std::vector<int64_t> rows = ctx_.index->sample(c, c + 1, ctx_.batch_real, g);
        if (!own.contains(c)) {  // another process's class: its draws, not its work
          dsa_skip(d.channels(), d.height(), d.width(), ctx_.dsa, g);
          continue;
        }
        Tensor xr = d.images(rows);
        Tensor xs = set.class_images(c);
        if (!ctx_.dsa.none()) {
          Generator same = g;  // Siamese: the same family and parameters for both batches
          {
            NoGradGuard data;
            xr = dsa(xr, ctx_.dsa, g, true);
          }
          xs = dsa(xs, ctx_.dsa, same, true);
        }
        const Tensor yr = full(Shape{xr.dim(0)}, static_cast<double>(c), DType::i64, xr.device());
        const Tensor ys = full(Shape{xs.dim(0)}, static_cast<double>(c), DType::i64, xs.device());
        std::vector<Tensor> gr = grad(cross_entropy(net->forward(xr), yr), params);
        for (Tensor& t : gr) t = t.detach();
        const std::vector<Tensor> gs = grad(cross_entropy(net->forward(xs), ys), params, {.create_graph = true});
        const Tensor dist = gm_distance(gs, gr, metric_);
        loss = loss.defined() ? loss + dist : dist;
        terms.push_back(dist.item_as_double());
        st.images += xr.dim(0) + xs.dim(0);
      }
      if (loss.defined()) {
        opt.zero_grad();
        backward(loss);
        opt.step();
      }
      st.loss += sum_over_classes(terms, ctx_, k) / static_cast<double>(o_.outer_loop);
      if (ol == o_.outer_loop - 1) break;  // the reference trains no further after the last match
      // The network trains on the whole set, so every process first takes the others' classes;
      // each then trains the same network on the same images with the same draws (replicated
      // rather than split with its gradient reduced, so the result stays one process's, bit for bit).
      if (ctx_.shard) gather_classes(set);
      Tensor snapshot;
      {
        NoGradGuard no_grad;
        snapshot = set.images().detach().clone();
      }
      const TrainSchedule inner{.epochs = 0, .lr = o_.lr_net, .momentum = 0.0, .weight_decay = 0.0,
                                .batch = o_.batch_train, .dsa = ctx_.dsa};
      const Dataset syn = Dataset::of_images(snapshot, set.labels(), k);
      for (int64_t e = 0; e < o_.inner_loop; ++e) train_network(*net, syn, inner, g);
      st.images += o_.inner_loop * snapshot.dim(0);
    }
    return st;
  }

 private:
  // networks.md §9: a train-mode pass over 16 real images per class, then BN in eval mode for
  // the matching (the reference's BNSizePC).
  void freeze_batchnorm(models::Module& net, int64_t k, Generator& g) const {
    NoGradGuard no_grad;
    net.train();
    net.forward(ctx_.train->images(ctx_.index->sample(0, k, 16, g)));
    net.eval();
  }
  ObjectiveContext ctx_;
  GradientMatchingOptions o_;
  GmMetric metric_;
};

}  // namespace

std::pair<int64_t, int64_t> gradient_matching_loops(int64_t ipc) {
  switch (ipc) {
    case 1: case 7: case 8: return {1, 1};
    case 10: case 20: case 70: case 80: return {10, 50};
    case 30: return {30, 20};
    case 40: return {40, 15};
    case 50: case 88: case 100: case 350: case 400: return {50, 10};
    case 160: return {20, 25};
    default:
      LOCO_FAIL("gradient matching: the reference has no outer/inner loop setting for ipc ", ipc,
                " (it has 1, 7, 8, 10, 20, 30, 40, 50, 70, 80, 88, 100, 160, 350, 400); give --outer-loop and --inner-loop");
  }
}

std::unique_ptr<Objective> make_gradient_matching(const ObjectiveContext& ctx, const GradientMatchingOptions& o) {
  return std::make_unique<GradientMatching>(ctx, o);
}

}  // namespace loco::condense
