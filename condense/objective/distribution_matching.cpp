// Distribution matching (main_DM.py, spec/condensation.md §4). One embed pass over all
// classes' real batches and one over all synthetic images, not K small passes: with instance
// norm the result is the same, with batch norm it is the reference's BN branch, and it keeps
// the convolutions large enough to be efficient.
#include "condense/objective/objective.h"

#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {
namespace {

class DistributionMatching final : public Objective {
 public:
  explicit DistributionMatching(const ObjectiveContext& ctx) : ctx_(ctx) {}
  std::string name() const override { return "distribution matching"; }

  IterationStats iterate(SyntheticSet& set, Sgd& opt, Generator& g) override {
    const Dataset& d = *ctx_.train;
    auto net = models::make_network(ctx_.model, d.images.dim(1), d.classes, d.images.dim(2), g, {.device = ctx_.device});
    LOCO_CHECK(net->has_embed(), "distribution matching needs a network with an embedding; ", ctx_.model, " has none");
    for (Tensor p : net->parameters()) p.requires_grad_(false);  // only the images need gradients
    net->train();
    const int64_t k = set.classes();
    const int64_t n_real = std::min(ctx_.batch_real, smallest_class());
    Tensor real = real_batches(ctx_, k, n_real, g);
    Tensor syn = set.images();
    if (!ctx_.dsa.none()) {
      // Siamese: class c's real and synthetic images share one draw (two copies of g).
      std::vector<Tensor> r, s;
      for (int64_t c = 0; c < k; ++c) {
        Generator same = g;
        {
          NoGradGuard data;
          r.push_back(dsa(slice(real, c * n_real, (c + 1) * n_real), ctx_.dsa, g, true));
        }
        s.push_back(dsa(slice(syn, c * set.per_class(), (c + 1) * set.per_class()), ctx_.dsa, same, true));
      }
      NoGradGuard data;
      real = concat(r);
      GradModeGuard on(true);
      syn = concat(s);
    }
    Tensor real_emb;
    {
      NoGradGuard no_grad;
      real_emb = net->embed(real);
    }
    const Tensor loss = dm_distance(real_emb, net->embed(syn), k);
    opt.zero_grad();
    backward(loss);
    opt.step();
    return {.loss = loss.item_as_double(), .images = real.dim(0) + syn.dim(0)};
  }

 private:
  int64_t smallest_class() const {
    int64_t m = INT64_MAX;
    for (int64_t c = 0; c < ctx_.index->classes(); ++c) m = std::min<int64_t>(m, ctx_.index->rows(c).size());
    return m;
  }
  ObjectiveContext ctx_;
};

}  // namespace

Tensor real_batches(const ObjectiveContext& ctx, int64_t classes, int64_t per_class, Generator& g) {
  std::vector<int64_t> rows;
  for (int64_t c = 0; c < classes; ++c) {
    const auto r = ctx.index->sample(c, per_class, g);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  NoGradGuard no_grad;
  return gather_rows(ctx.train->images, index_tensor(rows, ctx.train->images.device()));
}

std::unique_ptr<Objective> make_distribution_matching(const ObjectiveContext& ctx) {
  return std::make_unique<DistributionMatching>(ctx);
}

}  // namespace loco::condense
