// Condensation objectives (spec/condensation.md §3, §4; spec/mtt.md §2), each one file, each
// written against SyntheticSet only, so every objective runs on every parameterisation
// (DM × PixelSet = dm, DM × LowRankSet = lodm, trajectory matching × LowRankSet = lomtt, ...).
//   distribution matching (DM): per class, the squared distance between the mean embeddings of
//     a real batch and of the class's synthetic images, from a freshly initialised network each
//     iteration; one image step per iteration.
//   gradient matching (DC; DSA with Siamese augmentation): outer steps of matching the
//     network's gradients on real and synthetic batches (one image step each, the distances
//     summed over classes), with inner epochs of training the network on the synthetic set
//     between them.
//   trajectory matching (MTT): a student unrolled from an expert's parameters on the synthetic
//     images must land near where the expert went; the images and a learnable learning rate
//     follow the distance's gradient through the unroll (trajectory_matching.h).
// Randomness: iterate() draws everything (network init, real batches, augmentation) from the
// generator it is given; the driver hands it one derived from (seed, iteration), so a resumed
// run repeats an uninterrupted one exactly.
// Sharing out (ObjectiveContext::shard): DM and gradient matching are sums of per-class terms,
// and class c's term depends only on class c's images, so each process matches its own classes
// and still makes every draw (skipping the work, not the random numbers): every process then
// builds the same networks and, for its classes, computes what one process would, bit for bit.
// The loss is the per-class terms gathered and summed in class order, the same at any size.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "condense/augment/augment.h"
#include "condense/data/dataset.h"
#include "condense/objective/trajectory_matching.h"
#include "condense/param/synset.h"
#include "dist/dist.h"
#include "engine/optim/sgd.h"

namespace loco::condense {

struct ObjectiveContext {
  const Dataset* train = nullptr;
  const ClassIndex* index = nullptr;
  std::string model = "ConvNet";
  DsaStrategy dsa;          // Siamese DSA on each class's real and synthetic batch (none: off)
  int64_t batch_real = 256;
  int64_t max_batch = 0;    // real images per no-grad embed pass (DM); 0: from kRealChunkBytes
  Device device = Device::cpu;
  // The classes this process matches, when a job's classes are shared out across processes
  // (dist::share of the classes); unset: all of them. The others' images are left as they were.
  std::optional<dist::Range> shard;
  dist::Range own_classes(int64_t classes) const { return shard.value_or(dist::Range{0, classes}); }
};

struct IterationStats {
  double loss = 0.0;        // the objective, summed over all classes (mean over outer steps for GM)
  int64_t images = 0;       // real and synthetic images through this process's network, for images/s
  std::optional<double> learned_lr;  // MTT: syn_lr after this iteration's step
};

// The sum of per-class terms over all classes, in class order, whichever process computed each:
// own holds the terms of ctx.own_classes(classes), in order (in one process, a share's own sum).
inline double sum_over_classes(const std::vector<double>& own, const ObjectiveContext& ctx, int64_t classes) {
  double total = 0.0;
  for (double v : ctx.shard && dist::size() > 1 ? dist::allgather_shares(own, classes) : own) total += v;
  return total;
}

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  // One outer iteration: image steps on `opt` (whose parameters are set.parameters()).
  virtual IterationStats iterate(SyntheticSet& set, Sgd& opt, Generator& g) = 0;
  // Learnable state beyond the set (MTT's syn_lr and its momentum), for checkpoints.
  virtual std::vector<std::pair<std::string, Tensor>> state() const { return {}; }
  virtual void load_state(const std::map<std::string, Tensor>& tensors, const std::string& source) {}
  // The learning rate the set was distilled with (MTT's learned syn_lr): its evaluation trains with it.
  virtual std::optional<double> learned_lr() const { return std::nullopt; }
  virtual int64_t experts() const { return 0; }  // MTT: the expert trajectories in use
};

std::unique_ptr<Objective> make_distribution_matching(const ObjectiveContext& ctx);

struct GradientMatchingOptions {
  int64_t outer_loop = 1, inner_loop = 1;  // get_loops(ipc)
  std::string metric = "ours";             // ours | mse | cos
  double lr_net = 0.01;
  int64_t batch_train = 256;
};
std::unique_ptr<Objective> make_gradient_matching(const ObjectiveContext& ctx, const GradientMatchingOptions& o);
// The reference's get_loops (PAPER utils): (outer, inner) for ipc; throws naming an ipc it
// has no setting for.
std::pair<int64_t, int64_t> gradient_matching_loops(int64_t ipc);

struct TrajectoryOptions {
  std::string experts;  // folder of expert_*.safetensors (condense/experts.h)
  int64_t syn_steps = 20, expert_epochs = 2, max_start_epoch = 2;
  int64_t batch_syn = 0;  // synthetic images per student step; 0: all of them
  double lr_lr = 1e-5, lr_teacher = 0.01;  // syn_lr's own SGD (momentum 0.5) and its start
  Unroll unroll = Unroll::full;
  int64_t segment = 0;  // checkpoint unroll: steps per segment (0: ⌈√syn_steps⌉)
};
std::unique_ptr<Objective> make_trajectory_matching(const ObjectiveContext& ctx, const TrajectoryOptions& o);

// Distribution matching embeds the real side in chunks of whole classes of about this many
// bytes of activations (estimated), unless ObjectiveContext::max_batch says how many images.
constexpr int64_t kRealChunkBytes = int64_t{1} << 30;
// Real images per chunk for H×W images under ctx.
int64_t real_chunk_images(const ObjectiveContext& ctx, int64_t h, int64_t w);

}  // namespace loco::condense
