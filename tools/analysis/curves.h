// What a condensation run directory says about its course (issue 13, item 3): the loss of
// every iteration and the periodic evaluations (loco condense --eval-every), both read from its
// log.jsonl (condense/driver.h writes one line per iteration, {"it", "loss", ...}, and one per
// evaluation, {"it", "eval": {"accuracy_mean", "accuracy_std", ...}}). A resumed run's log is
// trimmed to its checkpoint before it goes on, so each iteration appears once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace loco::analysis {

struct EvalPoint {
  int64_t iteration = 0;
  double mean = 0, std = 0;  // test accuracy, fractions
  int64_t networks = 0;
  std::string model;
};

struct RunCurves {
  std::string dir;
  std::string name;    // the folder's own name (dir without its parents)
  std::string method;  // report.json's config.method, or "" when the run has no report yet
  std::vector<int64_t> iterations;  // of the loss values
  std::vector<double> loss;
  std::vector<EvalPoint> evaluations;  // in iteration order
};

// Reads dir/log.jsonl (and dir/report.json when present). Throws loco::Error naming the file
// when it is missing, a line is not JSON, or the log is not a condensation's (no iteration lines).
RunCurves read_run_curves(const std::string& dir);

}  // namespace loco::analysis
