// select_coreset: which rows each method picks, and the network herding and forgetting share.
#include "condense/coreset/coreset.h"

#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {
namespace {

// A network trained on the whole training set by the protocol's optimiser for o.epochs epochs
// (E = epochs − 1 in the protocol's E+1 counting), with the run's augmentation.
std::unique_ptr<models::Module> train_whole_set_network(const Dataset& train, const CoresetOptions& o,
                                                        const ProgressFn& progress, const BatchHook& hook) {
  LOCO_CHECK(o.epochs >= 1, "coreset ", o.method, ": the feature network needs at least 1 epoch, got ", o.epochs);
  Generator init(o.seed, kStreamCoreset);
  Generator shuffle(o.seed, kStreamCoreset + 1);
  auto net = models::make_network(o.model, train.channels(), train.classes, train.height(), init, {.device = o.device});
  TrainSchedule s{.epochs = o.epochs - 1, .dsa = o.dsa};
  ProgressFn named;
  if (progress)
    named = [&](const Progress& p) {
      Progress q = p;
      q.phase = o.method + " network";
      progress(q);
    };
  train_network(*net, train.to(o.device), s, shuffle, named, hook);
  return net;
}

}  // namespace

Tensor features_of(models::Module& net, const Dataset& train, const std::vector<int64_t>& rows, bool normalise) {
  NoGradGuard no_grad;
  net.eval();
  std::vector<Tensor> parts;
  for (size_t b = 0; b < rows.size(); b += 512) {
    const std::vector<int64_t> part(rows.begin() + static_cast<std::ptrdiff_t>(b),
                                    rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), b + 512)));
    parts.push_back(net.embed(train.images(part).to(net.device())).to(Device::cpu));
  }
  Tensor f = concat(parts);
  if (normalise) f = f * rsqrt(sum(square(f), {1}, true) + 1e-12);
  return f;
}

const std::vector<std::string>& coreset_methods() {
  static const std::vector<std::string> m = {"random", "herding", "forgetting"};
  return m;
}

Coreset select_coreset(const Dataset& train, const CoresetOptions& o, const ProgressFn& progress) {
  LOCO_CHECK(o.ipc >= 1, "coreset: --ipc must be at least 1, got ", o.ipc);
  LOCO_CHECK(o.feature_weights.empty() || o.method == "herding", "coreset: --feature-weights serves herding only, not ",
             o.method);
  const ClassIndex index(train.labels, train.classes);
  for (int64_t c = 0; c < train.classes; ++c)
    LOCO_CHECK(static_cast<int64_t>(index.rows(c).size()) >= o.ipc, "coreset: class ", c, " of ", train.name,
               " has ", index.rows(c).size(), " training images, fewer than --ipc ", o.ipc);
  Coreset out;
  Generator g(o.seed, kStreamCoreset + 2);
  if (o.method == "random") {
    out.rows = index.sample(0, train.classes, o.ipc, g);
  } else if (o.method == "herding") {
    std::unique_ptr<models::Module> net;
    if (o.feature_weights.empty()) {
      net = train_whole_set_network(train, o, progress, {});
    } else {
      Generator init(o.seed, kStreamCoreset);
      net = models::make_network(o.model, train.channels(), train.classes, train.height(), init, {.device = o.device});
      net->load_parameters(load_safetensors(o.feature_weights).tensors, o.feature_weights);
    }
    for (int64_t c = 0; c < train.classes; ++c) {
      const auto& rows = index.rows(c);
      for (int64_t i : herding_select(features_of(*net, train, rows, o.normalise_features), o.ipc))
        out.rows.push_back(rows[static_cast<size_t>(i)]);
    }
  } else if (o.method == "forgetting") {
    ForgettingCounter counter(train.size());
    const std::vector<int64_t> label = train.labels.to_vector<int64_t>();
    auto hook = [&](const std::vector<int64_t>& rows, const Tensor& logits) {
      const auto pred = argmax_rows(logits).to_vector<int64_t>();
      std::vector<bool> correct(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) correct[i] = pred[i] == label[static_cast<size_t>(rows[i])];
      counter.update(rows, correct);
    };
    train_whole_set_network(train, o, progress, hook);
    const auto counts = counter.counts();
    for (int64_t c = 0; c < train.classes; ++c)
      for (int64_t r : most_forgotten(index.rows(c), counts, o.ipc, g)) {
        out.rows.push_back(r);
        out.forgetting_events.push_back(counts[static_cast<size_t>(r)]);
      }
  } else {
    LOCO_FAIL("unknown coreset method '", o.method, "'; valid: random, herding, forgetting");
  }
  out.images = train.images(out.rows);
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < train.classes; ++c) labels.insert(labels.end(), static_cast<size_t>(o.ipc), c);
  out.labels = from_vector(labels, Shape({static_cast<int64_t>(labels.size())}));
  return out;
}

}  // namespace loco::condense
