// Coreset baselines (spec/evaluation.md §3): K real training images per class chosen by
// Random (a uniform draw without replacement, the reference's get_images), Herding (greedy
// mean matching on the features of a network trained on the whole training set) or
// Forgetting (the examples with the most forgetting events while such a network trains,
// Toneva et al. 2019). A coreset is evaluated exactly like a synthetic set.
//
// Assumptions the references leave open (spec §3), each a field of CoresetOptions:
// the feature network is a ConvNet trained by the evaluation protocol's optimiser for
// `epochs` epochs on the whole training set (with the run's augmentation); herding uses its
// `embed` features, Euclidean distance, no L2 normalisation unless asked; forgetting counts
// 1 → 0 transitions of per-example correctness between consecutive presentations (each
// example's minibatch in each epoch, read from that minibatch's forward), gives examples that
// were never classified correctly the maximum count, and breaks ties at random.
//
// Shape letters: N images, D feature dim, K classes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "condense/eval/protocol.h"

namespace loco::condense {

constexpr uint64_t kStreamCoreset = 3u << 20;

// The network's embed features [rows, D] of the given rows, on the CPU (batches of 512, eval
// mode, no grad); L2-normalised per row when asked. Herding's features, and loco tsne's.
Tensor features_of(models::Module& net, const Dataset& data, const std::vector<int64_t>& rows, bool normalise);

struct CoresetOptions {
  std::string method = "random";  // random | herding | forgetting
  int64_t ipc = 1;
  uint64_t seed = 0;
  Device device = Device::cpu;
  // herding and forgetting: the network trained on the whole training set
  std::string model = "ConvNet";
  int64_t epochs = 2;
  DsaStrategy dsa;
  bool normalise_features = false;  // herding: L2-normalise each feature vector (iCaRL)
  // herding: take the feature network's weights from this safetensors file (`loco train`'s
  // model.safetensors) instead of training one; model must name its architecture.
  std::string feature_weights;
};

struct Coreset {
  std::vector<int64_t> rows;  // into the training split, class-major: class 0's K rows, then class 1's, ...
  Tensor images, labels;      // the rows' images [K·ipc, C, H, W] and labels i64 [K·ipc]
  std::vector<int64_t> forgetting_events;  // forgetting only: the count of each chosen row
};

const std::vector<std::string>& coreset_methods();
// Throws naming the method when it is unknown, or the class when it has fewer than ipc images.
Coreset select_coreset(const Dataset& train, const CoresetOptions& o, const ProgressFn& progress = {});

// ---- the pieces, exposed for tests ----
// Herding on one class's features [n, D]: k distinct row indices into them, in pick order.
std::vector<int64_t> herding_select(const Tensor& features, int64_t k);

// Forgetting events per example, fed one minibatch at a time.
class ForgettingCounter {
 public:
  static constexpr int64_t kNeverLearned = INT64_MAX;
  explicit ForgettingCounter(int64_t n);
  // rows: dataset rows of one minibatch; correct[i]: whether row i was classified correctly.
  void update(const std::vector<int64_t>& rows, const std::vector<bool>& correct);
  // Events per example; kNeverLearned for one never classified correctly.
  std::vector<int64_t> counts() const;

 private:
  std::vector<int8_t> last_;  // -1 before the first presentation, else 0/1
  std::vector<int64_t> events_;
  std::vector<bool> learned_;
};
// The k of `rows` with the highest counts (ties in random order), highest first.
std::vector<int64_t> most_forgotten(const std::vector<int64_t>& rows, const std::vector<int64_t>& counts, int64_t k,
                                    Generator& g);

}  // namespace loco::condense
