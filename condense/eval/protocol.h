// The field's evaluation protocol (spec/evaluation.md §1, the reference's evaluate_synset and
// epoch): a fresh network trained on a set with SGD (momentum 0.9, weight decay 5e-4,
// lr 0.01), minibatches of 256 reshuffled every epoch, each minibatch augmented, for E+1
// epochs with lr ×0.1 and a fresh optimiser (momentum reset) after the epoch with index
// E/2 + 1; then top-1 accuracy on the whole test split. evaluate_set repeats this over N fresh
// networks and reports mean ± population std. The same trainer serves the whole-dataset
// baseline and the coresets' feature and forgetting networks.
//
// Randomness: network m of an evaluation draws its initial weights from stream
// kStreamEvalInit + m and its shuffles and augmentations from kStreamEvalTrain + m of the run
// seed, so an evaluation repeats bit for bit and adding models leaves the first ones unchanged.
//
// Shape letters: N images, C channels, H×W image, K classes.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "condense/augment/augment.h"
#include "condense/data/dataset.h"
#include "models/module.h"

namespace loco::condense {

constexpr uint64_t kStreamEvalInit = 1u << 20;
constexpr uint64_t kStreamEvalTrain = 2u << 20;

// Where a long job is, for progress bars (tools/) and logs.
struct Progress {
  std::string phase;            // "train", "eval 2/3", ...
  int64_t step = 0, total = 0;  // steps (minibatches, iterations) done and in all
  int64_t epoch = 0, epochs = 0;  // the epoch under way (1-based) and their number; 0 when not epochs
  bool epoch_done = false;      // this step finished its epoch
  double loss = 0.0, accuracy = 0.0;  // running means over the epoch so far (training batches)
  int64_t images = 0;           // images through the network in this step (for images/s)
  double learned_lr = 0.0;      // MTT: syn_lr after this step (0: none)
};
using ProgressFn = std::function<void(const Progress&)>;

struct TrainSchedule {
  int64_t epochs = 300;  // E: the reference trains E+1 epochs
  double lr = 0.01, momentum = 0.9, weight_decay = 5e-4;
  int64_t batch = 256;
  DsaStrategy dsa;              // non-Siamese DSA on every minibatch (when not none)
  std::string dc_aug = "none";  // else DC's augment() strategy (spec/augmentation.md §5)
  bool decay = true;            // lr ×0.1 after epoch E/2+1 (expert trajectories train without)
  // The PAPER MTT evaluation's addition (spec/mtt.md §4): every batch, train and test, becomes
  // (x − mean)/std with one scalar of each over the batch (std unbiased, as torch's), before
  // augmentation; testing then uses batches of 128 as utils_mtt does.
  bool standardise = false;
};

// Called after each minibatch's forward with the dataset rows it held and their logits [B,K]
// (the forgetting counter reads the per-example correctness from it).
using BatchHook = std::function<void(const std::vector<int64_t>& rows, const Tensor& logits)>;

struct EpochEnd {
  int64_t network = 0;            // which of evaluate_set's networks (0-based)
  int64_t epoch = 0, epochs = 0;  // the epoch just finished (1-based) and their number (E+1)
  double loss = 0.0, accuracy = 0.0;  // over that epoch's augmented training batches
};
// Called after each epoch with the network in training (loco train tests it on the way).
using EpochHook = std::function<void(models::Module& net, const EpochEnd& e)>;

struct TrainResult {
  double last_epoch_loss = 0.0, last_epoch_accuracy = 0.0;  // over the augmented training batches
  double seconds = 0.0;
};

// Trains net in place on a set (a real split or a synthetic one) by the schedule. progress and
// hook get one call per minibatch, on_epoch one per epoch.
TrainResult train_network(models::Module& net, const Dataset& set, const TrainSchedule& s, Generator& g,
                          const ProgressFn& progress = {}, const BatchHook& hook = {}, const EpochHook& on_epoch = {});

// Top-1 accuracy of net (in eval mode, no recording) on a split, in batches; standardise: each
// batch as TrainSchedule::standardise says.
double test_accuracy(models::Module& net, const Dataset& test, int64_t batch = 256, bool standardise = false);
// (x − mean)/std over the whole batch, one scalar each, std unbiased (TrainSchedule::standardise).
Tensor standardise_batch(const Tensor& x);

struct EvalOptions {
  std::string model = "ConvNet";
  int64_t num_eval = 3;
  TrainSchedule train;
  uint64_t seed = 0;
  Device device = Device::cpu;
};
struct EvalResult {
  std::string model;
  std::string aug;                 // what augmented the training minibatches
  double lr = 0.0;                 // the training's learning rate (MTT sets: the learned syn_lr)
  int64_t epochs = 0;
  std::vector<double> accuracies;  // one per network, in [0, 1]
  double mean = 0.0, std = 0.0;    // population std (np.std), as the reference reports
  std::vector<double> train_seconds;
  double seconds = 0.0;            // all of it: training and testing
  std::shared_ptr<models::Module> last_network;  // the last one trained (loco train saves it)
};

// Trains num_eval fresh networks on the set and tests each on `test`. Distributed (dist.h),
// every rank calls it and trains its share of the networks; all get every accuracy, and
// last_network is the last one this rank trained (null if it trained none).
EvalResult evaluate_set(const Dataset& set, const Dataset& test, const EvalOptions& o, const ProgressFn& progress = {},
                        const EpochHook& on_epoch = {});
// The augmentation a schedule applies, for messages and reports ("none", a DSA strategy, or a
// DC augment strategy).
std::string augmentation_name(const TrainSchedule& s);

// Mean and population standard deviation.
void mean_std(const std::vector<double>& v, double& mean, double& std);

}  // namespace loco::condense
