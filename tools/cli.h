// What the subcommands share: the dataset, evaluation and output flags, the device, the
// progress display and the JSON forms of results. Parsing and reporting only: every algorithm
// and every default lives in the library layers (condense/presets.h resolves the flags).
#pragma once
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "condense/data/dataset.h"
#include "condense/driver.h"
#include "condense/eval/protocol.h"
#include "condense/presets.h"
#include "condense/run_dir.h"

namespace loco::cli {

struct DataFlags {
  std::string dataset = "FashionMNIST";
  std::string data_dir;  // empty: condense::default_data_dir
  bool generated = false;  // Philox images of the dataset's shape instead of its files
};
// generated: also offer --generated (for subcommands that time or test without data).
void add_data_flags(CLI::App* app, DataFlags& f, bool generated = false);
// Loads both splits and prints one line saying what was read from where.
condense::DatasetPair load_data(const DataFlags& f);

// An optional flag: the optional stays empty unless the flag is given.
template <class T> CLI::Option* add_optional(CLI::App* app, const std::string& name, std::optional<T>& v,
                                             const std::string& help) {
  return app->add_option_function<T>(name, [&v](const T& x) { v = x; }, help);
}

struct EvalFlags {
  std::optional<std::string> model, aug;
  std::optional<int64_t> epochs, num_eval;
};
// epochs_help: what --epochs means for this subcommand; `what` says whose defaults to show.
void add_eval_flags(CLI::App* app, EvalFlags& f, condense::Evaluated what, const std::string& epochs_help);

struct CommonFlags {
  std::string device = "auto";
  uint64_t seed = 0;
  bool tf32 = false;
  std::string conv_algo = "auto";
  std::string out;
  bool force = false;
};
void add_common_flags(CLI::App* app, CommonFlags& f, bool with_out);
// --device resolved (auto: cuda when a GPU is present), with --tf32 applied to the CUDA backend
// and --conv-algo to the CPU's.
Device resolve_device(const CommonFlags& f);
// What report.json records of the arithmetic: the --conv-algo setting and how many CPU
// convolutions each algorithm ran.
condense::Json compute_json();
// From now on SIGINT and SIGTERM end the process (exit 128 + the signal) with a word on stderr:
// `resumable` when `marker` exists (the run's checkpoint: written atomically, so it is whole),
// `fresh` otherwise. Both are fixed here, since a signal handler may not allocate.
void explain_interrupts(const std::string& marker, const std::string& resumable, const std::string& fresh);
// The evaluation flags as a request for condense::resolve_eval.
condense::EvalRequest eval_request(const EvalFlags& f, const CommonFlags& c, Device dev);

// A progress bar on a terminal (stdout); plain lines otherwise, about `lines` of them per job.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(int lines = 20);
  void operator()(const condense::Progress& p);
  void finish();  // ends a bar's line

 private:
  bool tty_;
  int lines_;
  bool open_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_;
  int64_t start_step_ = 0;
};

// Evaluates a set by the protocol with a progress display, and prints the result.
condense::EvalResult run_evaluation(const condense::Dataset& set, const condense::Dataset& test,
                                    const condense::EvalOptions& o);

condense::Json eval_json(const condense::EvalResult& r);
condense::Json dataset_json(const condense::Dataset& d);
// "81.23 ± 0.45 %" style summary.
std::string percent(double mean, double std);
std::string format_bytes(int64_t bytes);
// This process's peak resident memory so far (getrusage), for reports.
int64_t peak_rss_bytes();

// A subcommand: its parser and what runs when it is chosen.
struct Command {
  CLI::App* app;
  std::function<int()> run;
  std::string memory_flags = "";  // what bounds its memory, named when it runs out
  bool distributed = false;       // runs on several ranks under mpirun (else it refuses to)
};
Command add_train(CLI::App& parent);
Command add_coreset(CLI::App& parent);
Command add_eval(CLI::App& parent);
Command add_condense(CLI::App& parent);
Command add_bench(CLI::App& parent);
Command add_cl(CLI::App& parent);
Command add_experts(CLI::App& parent);
Command add_sweep(CLI::App& parent);
Command add_tsne(CLI::App& parent);
Command add_spectrum(CLI::App& parent);
Command add_plot(CLI::App& parent);

}  // namespace loco::cli
