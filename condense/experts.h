// Expert trajectories for trajectory matching (spec/mtt.md §1, buffer.py): a fresh network
// trained on the whole training split with plain SGD (lr_teacher, no momentum, no weight
// decay, no lr decay), minibatches of `batch` reshuffled every epoch, each with non-Siamese DSA,
// and its parameters kept after every epoch.
//
// One file per expert, `expert_<index>.safetensors` (index zero-padded to 4 digits), written
// atomically, readable by any safetensors reader:
//   tensors   "epoch.000" … "epoch.<E>": f32 [P], the flat parameter vector before training
//             (epoch.000) and after each epoch, parameters concatenated in the network's order
//   metadata  format "loco-expert-1", model, dataset, mean, std (comma-separated), parameters
//             (JSON [[name, [shape]], ...] in order), num_params, epochs, expert, seed,
//             lr_teacher, batch, dsa_strategy, generated_data, test_accuracy (JSON, per epoch)
// Expert k draws its initial weights from stream kStreamExpertInit + k and its shuffles and
// augmentation from kStreamExpertTrain + k of the seed, so experts made in shares on several
// machines (--first) equal those of one run.
//
// Shape letters: P parameters, E epochs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "condense/eval/protocol.h"
#include "models/module.h"

namespace loco::condense {

constexpr uint64_t kStreamExpertInit = 7u << 20;
constexpr uint64_t kStreamExpertTrain = 8u << 20;

struct ExpertOptions {
  std::string model = "ConvNet";
  int64_t epochs = 50;
  double lr_teacher = 0.01;
  int64_t batch = 256;
  std::string dsa_strategy;  // non-Siamese DSA on every minibatch ("" none)
  uint64_t seed = 0;
  Device device = Device::cpu;
  bool generated_data = false;  // recorded: trajectories of generated images are for timing only
};

struct ExpertRecord {
  int64_t index = 0;
  std::string path;
  std::vector<double> train_loss, train_accuracy, test_accuracy;  // per epoch
  double seconds = 0.0;
};

std::string expert_file_name(int64_t index);
// Writes one expert's snapshots (flat parameters of net's layout, epoch 0 first) as the file
// above, atomically. train_expert's writer; loco bench writes synthetic trajectories with it.
void save_expert(const std::string& path, const models::Module& net, const std::vector<Tensor>& snapshots,
                 const Dataset& train, const ExpertOptions& o, int64_t index, const std::vector<double>& test_accuracy);
// Trains expert `index` and writes its file into dir (which must exist). on_epoch is called
// after each epoch with the record so far (for log.jsonl and progress).
ExpertRecord train_expert(const DatasetPair& data, const ExpertOptions& o, int64_t index, const std::string& dir,
                          const ProgressFn& progress = {},
                          const std::function<void(const ExpertRecord&)>& on_epoch = {});
// The same, also handing back the snapshots; dir "" writes nothing.
ExpertRecord train_expert(const DatasetPair& data, const ExpertOptions& o, int64_t index, const std::string& dir,
                          const ProgressFn& progress, const std::function<void(const ExpertRecord&)>& on_epoch,
                          std::vector<Tensor>& snapshots);

// What rank 0 hears while train_experts runs: progress of its own experts (by position in
// todo), each epoch's record and each finished expert (every rank's, as it arrives).
struct ExpertCallbacks {
  std::function<void(size_t position, const Progress&)> progress;
  std::function<void(const ExpertRecord&)> on_epoch, done;
};
// Trains the experts in todo into dir. Distributed (dist.h; every rank calls it), todo is shared
// out in blocks and each rank sends its experts to rank 0, which alone writes them (an expert
// is the same whoever trains it: its streams are its index's).
void train_experts(const DatasetPair& data, const ExpertOptions& o, const std::vector<int64_t>& todo,
                   const std::string& dir, const ExpertCallbacks& callbacks = {});

// The experts of a folder, checked against the network, dataset and normalisation a
// distillation uses and against the epochs it needs; only headers and the two snapshots an
// iteration asks for are read. Every problem throws naming the file and what is wrong.
class ExpertSet {
 public:
  // net: the student's architecture (its parameter names and shapes in order); epochs_needed:
  // the last snapshot any iteration may ask for (max_start_epoch − 1 + expert_epochs).
  static ExpertSet open(const std::string& dir, const models::Module& net, const std::string& model,
                        const DatasetInfo& data, int64_t epochs_needed);
  size_t size() const { return files_.size(); }
  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& files() const { return files_; }
  // Expert i's flat parameters after epoch e, f32 [P] on the CPU.
  Tensor snapshot(size_t i, int64_t e) const;

 private:
  std::string dir_;
  std::vector<std::string> files_;
  int64_t params_ = 0;
};

}  // namespace loco::condense
