// evaluate_synset, epoch() and the reference's learning-rate schedule (spec/evaluation.md §1).
#include "condense/eval/protocol.h"

#include <chrono>
#include <cmath>

#include "dist/dist.h"
#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "engine/profile.h"
#include "models/networks.h"

namespace loco::condense {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Tensor augment_batch(const Tensor& x_in, const TrainSchedule& s, Generator& g) {
  const Tensor x = s.standardise ? standardise_batch(x_in) : x_in;
  if (!s.dsa.none()) return dsa(x, s.dsa, g, /*shared=*/false);
  if (s.dc_aug != "none") return dc_augment(x, s.dc_aug, g);
  return x;
}

}  // namespace

Tensor standardise_batch(const Tensor& x) {
  const double n = static_cast<double>(x.numel());
  LOCO_CHECK(n >= 2, "standardise_batch: a batch of ", x.numel(), " values has no spread");
  const Tensor centred = x - mean(x);
  return centred * rsqrt(sum(square(centred)) * (1.0 / (n - 1.0)));
}

void mean_std(const std::vector<double>& v, double& mean, double& std) {
  mean = std = 0.0;
  if (v.empty()) return;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) std += (x - mean) * (x - mean);
  std = std::sqrt(std / static_cast<double>(v.size()));
}

TrainResult train_network(models::Module& net, const Dataset& set, const TrainSchedule& s, Generator& g,
                          const ProgressFn& progress, const BatchHook& hook, const EpochHook& on_epoch) {
  LOCO_CHECK(set.pixels.defined() && set.pixels.ndim() == 4 && set.pixels.dim(0) == set.size(), "train_network: ",
             set.name, " holds ", set.pixels.defined() ? set.pixels.shape().str() : "no images", " for ", set.size(),
             " labels");
  LOCO_CHECK(set.size() > 0, "train_network: the training set is empty");
  LOCO_CHECK(s.epochs >= 0 && s.batch > 0, "train_network: epochs ", s.epochs, " and batch ", s.batch,
             " must be ≥ 0 and > 0");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = set.size();
  const std::vector<int64_t> label_of = set.labels.to_vector<int64_t>();
  const int64_t decay_after = s.epochs / 2 + 1;
  SgdOptions opt{.lr = s.lr, .momentum = s.momentum, .weight_decay = s.weight_decay};
  auto sgd = std::make_unique<Sgd>(net.parameters(), opt);
  net.train();
  TrainResult r;
  const int64_t batches = (n + s.batch - 1) / s.batch;
  for (int64_t ep = 0; ep <= s.epochs; ++ep) {
    const std::vector<int64_t> perm = rand_permutation(n, g);
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int64_t b = 0; b < n; b += s.batch) {
      const std::vector<int64_t> rows(perm.begin() + b, perm.begin() + std::min(n, b + s.batch));
      std::vector<int64_t> batch_labels(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) batch_labels[i] = label_of[static_cast<size_t>(rows[i])];
      const Tensor y = from_vector(batch_labels, Shape({static_cast<int64_t>(rows.size())}), net.device());
      Tensor x;
      {
        NoGradGuard data;  // the data needs no gradient; augmentation of data records nothing
        x = augment_batch(set.images(rows).to(net.device()), s, g);
      }
      Tensor logits, loss;
      {
        ProfileRange range("forward");
        logits = net.forward(x);
        loss = cross_entropy(logits, y);
      }
      sgd->zero_grad();
      backward(loss);
      sgd->step();
      const Tensor pred = argmax_rows(logits.detach());
      const auto p = pred.to_vector<int64_t>();
      for (size_t i = 0; i < p.size(); ++i) correct += p[i] == batch_labels[i];
      loss_sum += loss.item_as_double() * static_cast<double>(rows.size());
      if (hook) hook(rows, logits.detach());
      if (progress) {
        const double seen = static_cast<double>(b + static_cast<int64_t>(rows.size()));
        progress({.phase = "train", .step = ep * batches + b / s.batch + 1, .total = (s.epochs + 1) * batches,
                  .epoch = ep + 1, .epochs = s.epochs + 1, .epoch_done = b + s.batch >= n,
                  .loss = loss_sum / seen, .accuracy = static_cast<double>(correct) / seen});
      }
    }
    r.last_epoch_loss = loss_sum / static_cast<double>(n);
    r.last_epoch_accuracy = static_cast<double>(correct) / static_cast<double>(n);
    if (s.decay && ep == decay_after) {  // the reference re-creates the optimiser: momentum starts afresh
      opt.lr *= 0.1;
      sgd = std::make_unique<Sgd>(net.parameters(), opt);
    }
    if (on_epoch)
      on_epoch(net, {.epoch = ep + 1, .epochs = s.epochs + 1, .loss = r.last_epoch_loss,
                     .accuracy = r.last_epoch_accuracy});
  }
  r.seconds = seconds_since(t0);
  return r;
}

double test_accuracy(models::Module& net, const Dataset& test, int64_t batch, bool standardise) {
  LOCO_CHECK(test.size() > 0, "test_accuracy: the test split of ", test.name, " is empty");
  ProfileRange range("evaluation");
  NoGradGuard no_grad;
  const bool was_training = net.training();
  net.eval();
  const int64_t n = test.size();
  int64_t correct = 0;
  for (int64_t b = 0; b < n; b += batch) {
    const int64_t e = std::min(n, b + batch);
    Tensor x = test.images(b, e).to(net.device());
    if (standardise) x = standardise_batch(x);
    const auto p = argmax_rows(net.forward(x)).to_vector<int64_t>();
    const auto t = slice(test.labels, b, e).to_vector<int64_t>();
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == t[i];
  }
  net.train(was_training);
  return static_cast<double>(correct) / static_cast<double>(n);
}

std::string augmentation_name(const TrainSchedule& s) {
  const std::string pre = s.standardise ? "standardised, " : "";
  if (!s.dsa.none()) return pre + "dsa " + s.dsa.str();
  return pre + (s.dc_aug == "none" ? "none" : "dc " + s.dc_aug);
}

EvalResult evaluate_set(const Dataset& set, const Dataset& test, const EvalOptions& o, const ProgressFn& progress,
                        const EpochHook& on_epoch) {
  LOCO_CHECK(o.num_eval >= 1, "evaluate_set: --num-eval must be at least 1, got ", o.num_eval);
  LOCO_CHECK(set.pixels.defined() && test.pixels.defined() && set.channels() == test.channels() &&
                 set.height() == test.height() && set.width() == test.width(),
             "evaluate_set: the set's images ", set.pixels.defined() ? set.pixels.shape().str() : "(none)",
             " do not match the test images ", test.pixels.defined() ? test.pixels.shape().str() : "(none)");
  const auto t0 = std::chrono::steady_clock::now();
  EvalResult r{.model = o.model, .aug = augmentation_name(o.train), .lr = o.train.lr, .epochs = o.train.epochs};
  const Dataset on_device = set.to(o.device);
  // Distributed, each rank trains its block of the networks (each from its own streams, so the
  // same network whoever trains it) and the accuracies are gathered in network order.
  const dist::Range mine = dist::share(o.num_eval);
  for (int64_t m = mine.begin; m < mine.end; ++m) {
    Generator init(o.seed, kStreamEvalInit + static_cast<uint64_t>(m));
    Generator train(o.seed, kStreamEvalTrain + static_cast<uint64_t>(m));
    std::shared_ptr<models::Module> net =
        models::make_network(o.model, set.channels(), test.classes, set.height(), init, {.device = o.device});
    const std::string phase = "eval " + std::to_string(m + 1) + "/" + std::to_string(o.num_eval);
    ProgressFn per_model;
    if (progress)
      per_model = [&](const Progress& p) {
        Progress q = p;
        q.phase = phase;
        q.step = m * p.total + p.step;
        q.total = o.num_eval * p.total;
        progress(q);
      };
    EpochHook per_epoch;
    if (on_epoch)
      per_epoch = [&](models::Module& n, const EpochEnd& e) {
        EpochEnd f = e;
        f.network = m;
        on_epoch(n, f);
      };
    const TrainResult t = train_network(*net, on_device, o.train, train, per_model, {}, per_epoch);
    r.train_seconds.push_back(t.seconds);
    r.accuracies.push_back(test_accuracy(*net, test, o.train.standardise ? 128 : 256, o.train.standardise));
    r.last_network = net;
  }
  r.accuracies = dist::allgather_shares(r.accuracies, o.num_eval);
  r.train_seconds = dist::allgather_shares(r.train_seconds, o.num_eval);
  mean_std(r.accuracies, r.mean, r.std);
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace loco::condense
