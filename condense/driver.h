// The one condensation loop: a parameterisation × an objective, by method name
// (dm, dc, dsa, lodm, lodc, lodsa), with progress, log.jsonl, periodic evaluation, checkpoints
// and resume. The methods differ only in the MethodSpec row below; no driver code is repeated.
//
// Reproducibility: the set's initial values come from stream kStreamSetInit of the run seed,
// and iteration t draws from stream kStreamIteration + t, so a run resumed from a checkpoint
// (set, momentum buffers, iteration) ends with exactly the set of an uninterrupted run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "condense/eval/protocol.h"
#include "condense/objective/objective.h"
#include "condense/param/synset.h"
#include "condense/run_dir.h"

namespace loco::condense {

constexpr uint64_t kStreamSetInit = 4u << 20;
constexpr uint64_t kStreamIteration = 5u << 20;

// A method: parameterisation × objective, with the reference's defaults for it.
struct MethodSpec {
  std::string name;
  bool lowrank;
  bool distribution;  // distribution matching; else gradient matching
  bool dsa;           // Siamese DSA during condensation
  double lr_img;
  Init init;          // our default (DM: real as VICO; low-rank real = truncated SVD)
  std::string eval_aug;   // dsa | dc
  int64_t paper_iterations, paper_eval_epochs;
};
const std::vector<MethodSpec>& methods();
const MethodSpec& method_spec(const std::string& name);  // throws listing the methods

struct CondenseConfig {
  std::string method = "lodm";
  std::string dataset = "FashionMNIST";
  int64_t ipc = 10;
  int64_t rank = 0;  // low-rank methods only
  Budget budget = Budget::same_memory;
  int64_t images_per_class = 0;  // resolved from ipc, rank and budget
  int64_t iterations = 200;
  double lr_img = 1.0, momentum = 0.5;
  int64_t batch_real = 64;
  Init init = Init::real;
  std::string dsa_strategy;  // "" when DSA is off during condensation
  std::string model = "ConvNet";
  GradientMatchingOptions gm;  // gradient matching only
  EvalOptions eval;            // the evaluation (its seed and device are the run's)
  std::string eval_aug = "dsa";
  int64_t eval_every = 0;      // 0: evaluate only at the end
  int64_t checkpoint_every = 10;
  uint64_t seed = 0;
  Device device = Device::cpu;

  Json to_json() const;
};

struct EvalRecord {
  int64_t iteration;
  EvalResult result;
};
struct CondenseOutcome {
  std::unique_ptr<SyntheticSet> set;
  int64_t start_iteration = 0;  // > 0 when resumed
  double last_loss = 0.0;
  double condense_seconds = 0.0;  // this process's share (a resumed run adds to the checkpoint's)
  std::vector<EvalRecord> evaluations;  // periodic ones, then the final one (when num_eval > 0)
};

struct CondenseHooks {
  ProgressFn progress;                       // one call per iteration; eval progress inside
  std::function<void(const std::string&)> note;  // one-line messages (evaluations, checkpoints)
  int64_t stop_after = 0;  // > 0: stop with an error after this many iterations (interruption tests)
};

// Runs the method into run (log.jsonl, checkpoint.safetensors), continuing from its checkpoint
// when resume is set (its config must match, iterations aside). The caller saves the set and
// the report.
CondenseOutcome condense(const CondenseConfig& c, const DatasetPair& data, const RunDir& run, bool resume,
                         const CondenseHooks& hooks = {});

}  // namespace loco::condense
