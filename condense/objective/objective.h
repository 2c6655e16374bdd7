// Condensation objectives (spec/condensation.md §3, §4), each one file, each written against
// SyntheticSet only, so every objective runs on every parameterisation (DM × PixelSet = dm,
// DM × LowRankSet = lodm, ...).
//   distribution matching (DM): per class, the squared distance between the mean embeddings of
//     a real batch and of the class's synthetic images, from a freshly initialised network each
//     iteration; one image step per iteration.
//   gradient matching (DC; DSA with Siamese augmentation): outer steps of matching the
//     network's gradients on real and synthetic batches (one image step each, the distances
//     summed over classes), with inner epochs of training the network on the synthetic set
//     between them.
// Randomness: iterate() draws everything (network init, real batches, augmentation) from the
// generator it is given; the driver hands it one derived from (seed, iteration), so a resumed
// run repeats an uninterrupted one exactly.
#pragma once
#include <memory>
#include <string>

#include "condense/augment/augment.h"
#include "condense/data/dataset.h"
#include "condense/param/synset.h"
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
};

struct IterationStats {
  double loss = 0.0;        // the objective, summed over classes (mean over outer steps for GM)
  int64_t images = 0;       // real and synthetic images through the network, for images/s
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  // One outer iteration: image steps on `opt` (whose parameters are set.parameters()).
  virtual IterationStats iterate(SyntheticSet& set, Sgd& opt, Generator& g) = 0;
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

// Distribution matching embeds the real side in chunks of whole classes of about this many
// bytes of activations (estimated), unless ObjectiveContext::max_batch says how many images.
constexpr int64_t kRealChunkBytes = int64_t{1} << 30;
// Real images per chunk for H×W images under ctx.
int64_t real_chunk_images(const ObjectiveContext& ctx, int64_t h, int64_t w);

}  // namespace loco::condense
