// GDumb with a condensed memory (spec/continual.md): class-incremental tasks arrive one by one;
// each task's classes get a memory block filled from that task's training images only, by any
// method loco knows (coresets: random, herding, forgetting; condensation: dm, lodm, dc, dsa,
// lodc, lodsa), within a budget of K full images per class in bytes (low rank: the same-memory
// rule, so more, smaller images). After each task a fresh network, whose classifier covers all
// classes of the dataset, is trained from scratch on the whole memory so far and tested on
// every test image of the classes seen so far.
//
// Choices the reference leaves open (spec/continual.md §2): a condensation or coreset network
// for a task covers that task's classes only (its labels are renumbered for it); herding's and
// forgetting's feature network is trained on the task's images.
//
// Shape letters: K classes, T tasks, S seeds, N networks per (seed, task).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cl/splits.h"
#include "dist/dist.h"
#include "condense/coreset/coreset.h"
#include "condense/driver.h"

namespace loco::cl {

// The images of `classes` only. relabel: labels become 0..k−1 in the order given and `classes`
// becomes k; else the labels and the class count stay the dataset's.
condense::Dataset class_subset(const condense::Dataset& d, const std::vector<int64_t>& classes, bool relabel);

struct MemoryOptions {
  std::string method = "random";
  int64_t memory_per_class = 10;       // the budget: this many full images per class, in bytes
  condense::CondenseConfig condense;   // condensation methods: resolved for the method and the
                                       // memory's ipc (condense::resolve_condense); seed set per block
  condense::CoresetOptions coreset;    // coreset methods: everything but method, ipc, seed
};
bool is_coreset_method(const std::string& m);

struct Memory {
  Tensor images;              // [n, C, H, W] (low rank: reconstructed, A·B)
  Tensor labels;              // i64 [n], the dataset's class ids
  int64_t floats_stored = 0;  // what the block costs (low rank: the factors)
};
// One task's block from its classes' training images. Condensation runs write their run
// directory (log, checkpoint, set) under work_dir ("" writes none).
Memory fill_memory(const condense::Dataset& train, const std::vector<int64_t>& classes, const MemoryOptions& o,
                   uint64_t seed, const std::string& work_dir, const condense::ProgressFn& progress = {});

struct GdumbOptions {
  int64_t tasks = 5;
  int64_t seeds = 3;        // class orders 0..S−1 (numpy's, as the reference)
  uint64_t seed = 0;        // the run seed every other stream derives from
  condense::EvalOptions eval;  // GDumb's training and testing (num_eval networks per step)
};
struct StepRecord {
  int64_t seed_index, task, classes_seen;
  int64_t memory_images, memory_floats;  // the whole memory trained on at this step
  std::vector<double> accuracies;        // one per network
};
struct GdumbCurve {
  std::string method;
  std::vector<StepRecord> steps;  // seed-major: seed 0's T steps, then seed 1's, ...
  // Over seeds × networks, per task: mean and population std.
  std::vector<double> mean, std;
};
// One class order's T steps: memory blocks filled task by task under work_dir ("" writes none),
// a GDumb evaluation after each.
std::vector<StepRecord> run_gdumb_seed(const condense::DatasetPair& data, const MemoryOptions& memory,
                                       const GdumbOptions& o, int64_t seed_index, const std::string& work_dir,
                                       const condense::ProgressFn& progress = {},
                                       const std::function<void(const std::string&)>& note = {});
// Steps (seed-major) into a curve: mean and std over seeds × networks, per task.
GdumbCurve gdumb_curve(const std::string& method, const std::vector<StepRecord>& steps, int64_t tasks);
// Every method's curve over o.seeds class orders. Distributed (dist.h; every rank calls it), the
// methods × seeds runs are shared out in blocks (method-major), each run whole on one rank, and
// every rank gets every curve; only rank 0 writes memories under work_dir (its own runs').
std::vector<GdumbCurve> run_gdumb(const condense::DatasetPair& data, const std::vector<MemoryOptions>& memories,
                                  const GdumbOptions& o, const std::string& work_dir,
                                  const condense::ProgressFn& progress = {},
                                  const std::function<void(const std::string&)>& note = {});

}  // namespace loco::cl
