// Method knowledge, in one place: the table of methods (parameterisation × objective, with the
// reference's defaults for each), the presets, and the one resolver that turns what a user
// asked for into a complete configuration. `loco condense`, `loco cl`, `loco bench` and the
// evaluation of saved sets all call it; tools/ only parses flags into a CondenseRequest and
// prints what comes back.
//
// The rules it applies (spec/condensation.md §5.3, spec/evaluation.md §1):
//   presets     cpu-quick: 200 iterations, batch_real 64, evaluation E 300 × 3 networks.
//               paper: 20 000 iterations (DM, LoDM) or 1 000 (DC, DSA and their low-rank
//               versions), batch_real 256, evaluation × 20 networks, E by the rule below.
//   rank        2, or 4 for TinyImageNet (the paper's defaults); below min(H, W).
//   DSA         the dataset's strategy (no flip on MNIST, VICO's README) for dm, lodm, dsa, lodsa.
//   loops       gradient matching's outer/inner loops: the reference's get_loops(ipc) of the
//               user's ipc, as the reference does for the low-rank methods too.
//   mtt, lomtt  spec/mtt.md §3. paper: syn_steps 50, expert_epochs 2, max_start_epoch 5, lr_img
//               1000, lr_lr 1e-5 (MTT) / 1e-7 (LoMTT), lr_teacher 0.01, 5000 iterations,
//               evaluation 1000 epochs × 5 networks (main_MTT.py's num_eval) at the learned
//               syn_lr. cpu-quick: syn_steps 20, max_start_epoch 2, 200 iterations, 300 × 3.
//               Every student step sees all K·ipc′ images (batch_syn: the intended LoMTT
//               setting, not the reference's pre-multiplication count; spec §3's trap).
//   experts     paper: 100 experts × 50 epochs; cpu-quick: 3 × 4 (lr_teacher 0.01, batch 256,
//               the dataset's DSA strategy).
//   evaluation  augmentation: the DSA strategy the set was condensed with (dm, lodm, dsa, lodsa);
//               DC's augment of the dataset and evaluation model (get_daparam) for dc, lodc, and
//               for dm/lodm condensed with --dsa-strategy none (as main_DM.py). Epochs E under
//               the paper preset: 1000 whenever that augmentation is on, else 300.
//               loco eval and loco coreset: E 300 × 3 networks, DSA (a set's own strategy), a
//               trajectory-matching set at its learned syn_lr; loco train: E 20 × 1.
//
// Every value a flag can set is checked here against its range, naming the flag, the value
// and what is allowed, before any file is read or written.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "condense/eval/protocol.h"
#include "condense/experts.h"
#include "condense/objective/objective.h"
#include "condense/param/synset.h"
#include "condense/run_dir.h"

namespace loco::condense {

enum class ObjectiveKind { distribution, gradient, trajectory };

// A method: parameterisation × objective, with the reference's defaults for it.
struct MethodSpec {
  std::string name;
  bool lowrank = false;  // LowRankSet; else PixelSet
  ObjectiveKind objective = ObjectiveKind::distribution;
  bool dsa = false;      // Siamese DSA while condensing
  double lr_img = 1.0;
  Init init = Init::noise;  // our default (DM: real as VICO; low-rank real = truncated SVD)
  int64_t paper_iterations = 1000;
};
const std::vector<MethodSpec>& methods();
const MethodSpec& method_spec(const std::string& name);  // throws listing the methods

// The DSA strategy a dataset uses by default (spec/augmentation.md §1: no flip for MNIST).
std::string default_dsa_strategy(const std::string& dataset);
// An evaluation's augmentation from a user's word: "dsa" (the dataset's DSA strategy, or
// `condensed_with` when the set was condensed with one), "dc" (DC's augment for this dataset and
// model), "none", or an explicit DSA strategy such as "crop_scale".
TrainSchedule evaluation_schedule(const std::string& aug, int64_t epochs, const std::string& dataset,
                                  const std::string& model, const std::string& condensed_with = "");

struct CondenseConfig {
  std::string method = "lodm";
  std::string preset = "cpu-quick";
  std::string dataset = "FashionMNIST";
  int64_t ipc = 10;
  int64_t rank = 0;  // low-rank methods only
  Budget budget = Budget::same_memory;
  int64_t images_per_class = 0;  // resolved from ipc, rank and budget
  int64_t iterations = 200;
  double lr_img = 1.0, momentum = 0.5;
  int64_t batch_real = 64;
  int64_t max_batch = 0;  // distribution matching: real images per embed pass (0: from a byte budget)
  Init init = Init::real;
  std::string dsa_strategy;  // "" when DSA is off during condensation
  std::string model = "ConvNet";
  GradientMatchingOptions gm;  // gradient matching only
  TrajectoryOptions mtt;       // trajectory matching only
  EvalOptions eval;            // the evaluation (its seed and device are the run's)
  std::string eval_aug;        // what augments the evaluation (augmentation_name of eval.train)
  int64_t eval_every = 0;      // 0: evaluate only at the end (else also at 0, N, 2N, ...)
  int64_t checkpoint_every = 10;
  uint64_t seed = 0;
  Device device = Device::cpu;

  Json to_json() const;
};

// What a user asked for; an empty optional takes the preset's or the method's value.
struct CondenseRequest {
  std::string method;
  std::string preset = "cpu-quick";
  int64_t ipc = 0;
  std::optional<int64_t> rank, iterations, batch_real, max_batch, outer_loop, inner_loop, eval_epochs, num_eval;
  std::optional<double> lr_img, lr_net;
  std::optional<std::string> budget, init, dsa_strategy, model, metric, eval_model, eval_aug;
  // trajectory matching
  std::optional<std::string> experts, unroll;
  std::optional<int64_t> syn_steps, expert_epochs, max_start_epoch, batch_syn, segment;
  std::optional<double> lr_lr, lr_teacher;
  bool eval_standardise = false;  // the PAPER MTT evaluation's per-batch standardisation
  int64_t eval_every = 0, checkpoint_every = 10;
  uint64_t seed = 0;
  Device device = Device::cpu;
};
// Throws loco::Error naming the flag at fault. Needs only the dataset's description, so a bad
// flag stops a run before its data is read.
CondenseConfig resolve_condense(const CondenseRequest& r, const DatasetInfo& data);

// loco experts: which experts to train and how.
struct ExpertRequest {
  std::string preset = "cpu-quick";
  std::optional<int64_t> num_experts, epochs, batch;
  std::optional<double> lr_teacher;
  std::optional<std::string> model, dsa_strategy;
  int64_t first = 0;
  uint64_t seed = 0;
  Device device = Device::cpu;
};
struct ExpertPlan {
  int64_t first = 0, count = 0;  // experts first … first + count − 1
  ExpertOptions options;
};
ExpertPlan resolve_experts(const ExpertRequest& r, const DatasetInfo& data);

// loco cl's GDumb: the evaluation of the memory after each task.
struct GdumbRequest {
  std::string preset = "cpu-quick";
  std::string model = "ConvNet";
  std::optional<int64_t> eval_epochs, num_eval;
};
// cpu-quick: E 300 × 1 network per step; paper: E 1000 × 3 (DSA, spec/continual.md).
EvalOptions resolve_gdumb(const GdumbRequest& r, const DatasetInfo& data);

// loco eval, loco coreset and loco train: the protocol on a saved set, a coreset or the whole
// training split. An empty field takes the default of what is evaluated.
enum class Evaluated { small_set, whole_dataset };
struct EvalRequest {
  std::optional<std::string> model, aug;  // --model (ConvNet), --aug (dsa)
  std::optional<int64_t> epochs, num_eval;
  std::optional<double> lr;               // --lr; else a set's learned syn_lr, else 0.01
  bool standardise = false;
  std::string condensed_with;             // the set's DSA strategy, which "dsa" then means
  std::optional<double> syn_lr;           // the set's learned rate (mtt, lomtt), from its metadata
  uint64_t seed = 0;
  Device device = Device::cpu;
};
// small_set: E 300 × 3 networks (the cpu-quick evaluation); whole_dataset: E 20 × 1 (the baseline).
struct EvalDefaults {
  int64_t epochs, num_eval;
};
EvalDefaults eval_defaults(Evaluated what);
EvalOptions resolve_eval(const EvalRequest& r, const DatasetInfo& data, Evaluated what);

}  // namespace loco::condense
