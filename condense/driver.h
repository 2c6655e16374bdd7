// The one condensation loop: a parameterisation × an objective, by method name
// (dm, dc, dsa, lodm, lodc, lodsa), with progress, log.jsonl, periodic evaluation, checkpoints
// and resume. The methods differ only in their MethodSpec row (condense/presets.h); no driver
// code is repeated. A non-finite loss or set stops the run at once, naming the iteration and
// the tensor, and leaves the last good checkpoint.
//
// Reproducibility: the set's initial values come from stream kStreamSetInit of the run seed,
// and iteration t draws from stream kStreamIteration + t, so a run resumed from a checkpoint
// (set, momentum buffers, iteration) ends with exactly the set of an uninterrupted run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "condense/presets.h"
#include "dist/dist.h"

namespace loco::condense {

constexpr uint64_t kStreamSetInit = 4u << 20;
constexpr uint64_t kStreamIteration = 5u << 20;

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
  std::optional<double> learned_lr;     // MTT: the learned syn_lr the evaluations trained with
  int64_t experts = 0;                  // MTT: expert trajectories in use
};

// A condensation ready to iterate: the set, its optimiser and the objective. The driver's loop
// and loco bench's units share it. train and index must outlive it (the objective points at them).
struct Condensation {
  std::unique_ptr<SyntheticSet> set;
  std::unique_ptr<Sgd> opt;
  std::unique_ptr<Objective> objective;
};
// shard: the classes this process matches in a distributed run (ObjectiveContext::shard).
Condensation prepare_condensation(const CondenseConfig& c, const Dataset& train, const ClassIndex& index,
                                  std::optional<dist::Range> shard = std::nullopt);

// Restores job's set, optimiser and objective from a checkpoint that condense() wrote; returns
// the iterations it had done and sets seconds to their time. Refuses, naming path, a checkpoint
// of other settings (c, iterations aside) or other data (data: data_fingerprint), and any tensor
// of the wrong name, dtype or shape. (condense() calls it on --resume; exposed for fuzz/.)
int64_t restore_checkpoint(const std::string& path, const CondenseConfig& c, const std::string& data, Condensation& job,
                           double& seconds);

struct CondenseHooks {
  ProgressFn progress;                       // one call per iteration; eval progress inside
  std::function<void(const std::string&)> note;  // one-line messages (evaluations, checkpoints)
  int64_t stop_after = 0;  // > 0: stop with an error after this many iterations (interruption tests)
  // > 0: snapshot(t, set) sees the set after t iterations for t = 0, N, 2N, … up to the last
  // (loco condense --grid-every draws it); iterations a resumed run already did are not shown again.
  int64_t snapshot_every = 0;
  std::function<void(int64_t iteration, const SyntheticSet& set)> snapshot;
};

// Runs the method into run (log.jsonl, checkpoint.safetensors), continuing from its checkpoint
// when resume is set (its config must match, iterations aside); run null: nothing is written.
// The caller saves the set and the report.
// Distributed (dist::size() > 1; every rank calls it with the same arguments): the classes are
// shared out (dist::share), rank 0 alone passes run and writes, and run is null on the others,
// which never touch the run directory. The set is gathered for checkpoints, evaluations,
// snapshots and the end; a resumed run's checkpoint is read by rank 0 and broadcast, so any
// number of ranks may continue it. The result is the one-process run's, bit for bit, except for
// trajectory matching, whose student batch is split instead (trajectory_matching.cpp): there
// the gradients are sums in rank order, the same for a given number of ranks.
CondenseOutcome condense(const CondenseConfig& c, const DatasetPair& data, const RunDir* run, bool resume,
                         const CondenseHooks& hooks = {});

}  // namespace loco::condense
