// Distribution matching (main_DM.py, spec/condensation.md §4). The real side needs no gradient,
// only each class's mean embedding, so it is embedded under no-grad in chunks of whole classes
// whose size comes from a memory budget (ObjectiveContext::max_batch): the paper's CIFAR-100
// and TinyImageNet settings (25 600 and 51 200 real images an iteration) then fit in a few GiB,
// and where everything fits one pass is used. Every layer the embedding runs acts on each image
// alone, so a chunk's embeddings are the one pass's, and with one chunk the loss is the one
// pass's bit for bit. The synthetic side is embedded whole, keeping its graph. With batch norm
// the real side stays one pass: its statistics span all classes (the reference's BN branch).
// Siamese DSA: class c's real and synthetic batch share one draw, the generator's state before
// class c's real augmentation. Shared out (ObjectiveContext::shard), a process embeds only its
// classes' real and synthetic images; each layer acts on each image alone, so its terms are the
// one-process run's bit for bit. Batch norm would couple the classes: it is refused then.
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
    auto net = models::make_network(ctx_.model, d.channels(), d.classes, d.height(), g, {.device = ctx_.device});
    LOCO_CHECK(net->has_embed(), "distribution matching needs a network with an embedding; ", ctx_.model, " has none");
    LOCO_CHECK(!ctx_.shard || !net->has_batchnorm(), "distribution matching with ", ctx_.model,
               " cannot share its classes out: batch norm couples them through batch statistics; run it in one process");
    for (Tensor p : net->parameters()) p.requires_grad_(false);  // only the images need gradients
    net->train();
    const int64_t k = set.classes();
    const dist::Range own = ctx_.own_classes(k);
    const int64_t n_real = std::min(ctx_.batch_real, ctx_.index->smallest_class());
    const std::vector<int64_t> rows = ctx_.index->sample(0, k, n_real, g);
    const int64_t per_chunk =
        net->has_batchnorm() ? k : std::max<int64_t>(1, real_chunk_images(ctx_, d.height(), d.width()) / n_real);
    // The classes before this process's share draw their augmentations all the same.
    for (int64_t c = 0; c < own.begin; ++c) dsa_skip(d.channels(), d.height(), d.width(), ctx_.dsa, g);
    std::vector<Generator> syn_draws;
    std::vector<Tensor> means;
    {
      NoGradGuard no_grad;
      for (int64_t c0 = own.begin; c0 < own.end; c0 += per_chunk) {
        const int64_t c1 = std::min(own.end, c0 + per_chunk);
        Tensor real = d.images(std::vector<int64_t>(rows.begin() + c0 * n_real, rows.begin() + c1 * n_real));
        if (!ctx_.dsa.none()) {
          std::vector<Tensor> r;
          for (int64_t c = c0; c < c1; ++c) {
            syn_draws.push_back(g);
            r.push_back(dsa(slice(real, (c - c0) * n_real, (c - c0 + 1) * n_real), ctx_.dsa, g, true));
          }
          real = concat(r);
        }
        const Tensor emb = net->embed(real);
        means.push_back(mean(reshape(emb, Shape{c1 - c0, n_real, emb.dim(1)}), {1}));
      }
    }
    std::vector<double> terms;
    int64_t syn_images = 0;
    if (own.size() > 0) {
      const int64_t n = set.per_class();
      Tensor syn = own.size() == k ? set.images() : slice(set.images(), own.begin * n, own.end * n);
      if (!ctx_.dsa.none()) {
        std::vector<Tensor> s;
        for (int64_t c = 0; c < own.size(); ++c) s.push_back(dsa(slice(syn, c * n, (c + 1) * n), ctx_.dsa, syn_draws[c], true));
        syn = concat(s);
      }
      // The real side enters as one mean row per class: dm_distance's mean over one row is exact.
      const Tensor per_class = dm_class_distances(concat(means), net->embed(syn), own.size());
      opt.zero_grad();
      backward(sum(per_class));
      opt.step();
      const Tensor host = per_class.to(Device::cpu);
      for (int64_t c = 0; c < own.size(); ++c) terms.push_back(slice(host, c, c + 1).item_as_double());
      syn_images = syn.dim(0);
    }
    return {.loss = sum_over_classes(terms, ctx_, k), .images = own.size() * n_real + syn_images};
  }

 private:
  ObjectiveContext ctx_;
};

}  // namespace

int64_t real_chunk_images(const ObjectiveContext& ctx, int64_t h, int64_t w) {
  if (ctx.max_batch > 0) return ctx.max_batch;
  // About four f32 activations of 128 channels at full resolution are alive per image in a
  // no-grad embed pass (the widest layer of the ConvNet family, AlexNet, VGG11 and ResNet18).
  const int64_t per_image = 4 * 4 * 128 * h * w;
  return std::max<int64_t>(1, kRealChunkBytes / per_image);
}

std::unique_ptr<Objective> make_distribution_matching(const ObjectiveContext& ctx) {
  return std::make_unique<DistributionMatching>(ctx);
}

}  // namespace loco::condense
