// The shared flags, the progress display and the JSON forms of results.
#include "tools/cli.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>

#include "condense/presets.h"
#include "engine/ops/conv2d.h"
#include "models/networks.h"

namespace loco::cli {

void add_data_flags(CLI::App* app, DataFlags& f, bool generated) {
  std::string names;
  for (const auto& n : condense::dataset_names()) names += (names.empty() ? "" : ", ") + n;
  app->add_option("--dataset", f.dataset, "Dataset: " + names)->capture_default_str();
  app->add_option("--data-dir", f.data_dir,
                  "Folder holding the dataset's official files (default: $LOCO_DATA/<name>, then Debian's "
                  "/usr/share/datasets/fashion-mnist for Fashion-MNIST, then ../shared/data/<name>, data/<name>)");
  if (generated)
    app->add_flag("--generated", f.generated,
                  "Use images of the dataset's shape and official split sizes drawn from Philox (seeded, learnable "
                  "class templates) instead of its files: for timing, and for shapes whose data is not at hand");
}

condense::DatasetPair load_data(const DataFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const condense::DatasetInfo& info = condense::dataset_info(f.dataset);
  LOCO_CHECK(!f.generated || f.data_dir.empty(), "--generated and --data-dir exclude each other");
  const std::string dir = f.generated ? "(generated)" : f.data_dir.empty() ? condense::default_data_dir(f.dataset) : f.data_dir;
  condense::DatasetPair d = f.generated ? condense::generated_dataset(info) : condense::load_dataset(f.dataset, dir);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("data: %s %s: %lld train, %lld test images %s (%.1f s)\n", d.train.name.c_str(),
              f.generated ? "generated from Philox" : ("from " + dir).c_str(), static_cast<long long>(d.train.size()),
              static_cast<long long>(d.test.size()), d.train.pixels.shape().str().c_str(), s);
  return d;
}

void add_eval_flags(CLI::App* app, EvalFlags& f, condense::Evaluated what, const std::string& epochs_help) {
  std::string names;
  for (const auto& n : models::network_names()) names += (names.empty() ? "" : ", ") + n;
  const condense::EvalDefaults d = condense::eval_defaults(what);
  add_optional(app, "--model", f.model, "Network to train: " + names + " (default ConvNet)");
  add_optional(app, "--epochs", f.epochs, epochs_help + " (default " + std::to_string(d.epochs) + ")");
  add_optional(app, "--num-eval", f.num_eval,
               "Fresh networks to train and test, mean ± std over them (default " + std::to_string(d.num_eval) + ")");
  add_optional(app, "--aug", f.aug,
               "Augmentation of each training minibatch: dsa (the dataset's DSA strategy, or the one a set was "
               "condensed with), none, dc (DC's augment for this dataset and model), or a DSA strategy such as "
               "color_crop_cutout (default dsa)");
}

void add_common_flags(CLI::App* app, CommonFlags& f, bool with_out) {
  app->add_option("--device", f.device, "cpu, cuda, or auto (cuda when a GPU is present)")->capture_default_str();
  app->add_flag("--tf32", f.tf32,
                "CUDA: let cuDNN and cuBLAS use TF32 tensor cores (faster, ~1e-3 relative error; "
                "off by default so results match the CPU)");
  app->add_option("--conv-algo", f.conv_algo,
                  "CPU: the algorithm for 3×3 stride-1 convolutions: auto (Winograd where both sides have 16 or more "
                  "channels, F(4×4,3×3) or F(2×2,3×3) by map size and direction, measured; else im2col), im2col (the reference GEMM), winograd2 or winograd4 (F(2×2,3×3), "
                  "F(4×4,3×3); slightly more rounding)")
      ->capture_default_str();
  app->add_option("--seed", f.seed, "Run seed: every random stream derives from it")->capture_default_str();
  if (with_out) {
    app->add_option("--out", f.out, "Run directory to write (default: runs/<what>-<dataset>-...)");
    app->add_flag("--force", f.force, "Replace the run directory when it exists");
  }
}

namespace {
Device parse_device(const std::string& d) {
  if (d == "auto") return default_device();
  if (d == "cpu") return Device::cpu;
  if (d == "cuda") {
    LOCO_CHECK(cuda_available(), "--device cuda: ",
#ifdef LOCO_HAS_CUDA
               "no usable GPU is visible"
#else
               "this loco was built without the CUDA backend (configure with -DLOCO_CUDA=ON)"
#endif
    );
    return Device::cuda;
  }
  LOCO_FAIL("--device: expected cpu, cuda or auto, got '", d, "'");
}
}  // namespace

namespace {
std::string g_marker, g_resumable, g_fresh;
extern "C" void say_and_exit(int sig) {
  const std::string& m = ::access(g_marker.c_str(), F_OK) == 0 ? g_resumable : g_fresh;
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, m.data(), m.size());
  ::_exit(128 + sig);
}
}  // namespace

void explain_interrupts(const std::string& marker, const std::string& resumable, const std::string& fresh) {
  g_marker = marker;
  g_resumable = resumable;
  g_fresh = fresh;
  std::signal(SIGINT, say_and_exit);
  std::signal(SIGTERM, say_and_exit);
}

condense::EvalRequest eval_request(const EvalFlags& f, const CommonFlags& c, Device dev) {
  return {.model = f.model, .aug = f.aug, .epochs = f.epochs, .num_eval = f.num_eval, .seed = c.seed, .device = dev};
}

Device resolve_device(const CommonFlags& f) {
  const Device d = parse_device(f.device);
  set_tf32(f.tf32);
  set_conv_algo(f.conv_algo);
  return d;
}

condense::Json compute_json() {
  condense::Json calls = condense::Json::object();
  for (const auto& [name, n] : conv_algo_calls()) calls[name] = n;
  return {{"conv_algo", conv_algo()}, {"cpu_conv_calls", calls}};
}

ProgressPrinter::ProgressPrinter(int lines) : tty_(::isatty(1)), lines_(lines) {}

namespace {
std::string clock_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char b[32];
  const auto t = static_cast<long long>(s + 0.5);
  if (t >= 3600) std::snprintf(b, sizeof b, "%lldh%02lldm", t / 3600, t / 60 % 60);
  else std::snprintf(b, sizeof b, "%lldm%02llds", t / 60, t % 60);
  return b;
}
}  // namespace

void ProgressPrinter::operator()(const condense::Progress& p) {
  const auto now = std::chrono::steady_clock::now();
  if (p.phase != phase_) {  // a new job (or the next network of one): its own line and its own rate
    if (open_) finish();
    phase_ = p.phase;
    start_ = last_ = now;
    start_step_ = p.step;
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = p.step > start_step_ ? static_cast<double>(p.step - start_step_) / elapsed : 0.0;
  const double left = rate > 0 ? static_cast<double>(p.total - p.step) / rate : NAN;
  char epoch[48] = "";
  if (p.epochs > 0) std::snprintf(epoch, sizeof epoch, "  epoch %lld/%lld", static_cast<long long>(p.epoch),
                                  static_cast<long long>(p.epochs));
  char acc[40] = "", images[32] = "";
  if (p.epochs > 0) std::snprintf(acc, sizeof acc, "  acc %.3f", p.accuracy);
  else if (p.learned_lr > 0) std::snprintf(acc, sizeof acc, "  syn_lr %.5g", p.learned_lr);
  if (p.images > 0 && rate > 0) std::snprintf(images, sizeof images, "  %.0f img/s", rate * static_cast<double>(p.images));
  char stats[200];
  std::snprintf(stats, sizeof stats, "%s  %s %lld/%lld%s  loss %.4f%s  %.2f %s/s%s  left %s", p.phase.c_str(),
                p.epochs > 0 ? "step" : "iteration", static_cast<long long>(p.step), static_cast<long long>(p.total),
                epoch, p.loss, acc, rate, p.epochs > 0 ? "steps" : "it", images, clock_text(left).c_str());
  const bool last = p.step >= p.total;
  if (tty_) {
    if (std::chrono::duration<double>(now - last_).count() < 0.1 && !last) return;
    last_ = now;
    constexpr int kWidth = 24;
    const int fill = p.total > 0 ? static_cast<int>(kWidth * p.step / p.total) : 0;
    std::printf("\r[%s%s] %s\033[K", std::string(fill, '#').c_str(), std::string(kWidth - fill, ' ').c_str(), stats);
    std::fflush(stdout);
    open_ = true;
    if (last) finish();
  } else {
    const int64_t every = std::max<int64_t>(1, p.total / std::max(1, lines_));
    if (p.step % every == 0 || last || p.step == 1) {
      std::printf("%s\n", stats);
      std::fflush(stdout);
    }
  }
}

void ProgressPrinter::finish() {
  if (open_) std::printf("\n");
  std::fflush(stdout);
  open_ = false;
}

condense::EvalResult run_evaluation(const condense::Dataset& set, const condense::Dataset& test,
                                    const condense::EvalOptions& o) {
  std::printf("eval: %lld fresh %s, %lld epochs each on %lld images, lr %g, augmentation %s\n",
              static_cast<long long>(o.num_eval), o.model.c_str(), static_cast<long long>(o.train.epochs + 1),
              static_cast<long long>(set.size()), o.train.lr, condense::augmentation_name(o.train).c_str());
  ProgressPrinter bar;
  condense::EvalResult r = condense::evaluate_set(set, test, o, [&](const condense::Progress& p) { bar(p); });
  bar.finish();
  for (size_t i = 0; i < r.accuracies.size(); ++i) std::printf("  net %zu: %.2f %%\n", i + 1, 100 * r.accuracies[i]);
  std::printf("eval: test accuracy %s (%s, %lld networks, %.0f s)\n", percent(r.mean, r.std).c_str(), o.model.c_str(),
              static_cast<long long>(o.num_eval), r.seconds);
  return r;
}

condense::Json eval_json(const condense::EvalResult& r) {
  return {{"model", r.model},
          {"aug", r.aug},
          {"epochs", r.epochs},
          {"num_eval", r.accuracies.size()},
          {"lr", r.lr},
          {"accuracy_mean", r.mean},
          {"accuracy_std", r.std},
          {"accuracies", r.accuracies},
          {"train_seconds", r.train_seconds},
          {"eval_seconds", r.seconds}};
}

condense::Json dataset_json(const condense::Dataset& d) {
  return {{"name", d.name},
          {"shape", std::vector<int64_t>{d.channels(), d.height(), d.width()}},
          {"classes", d.classes},
          {"mean", d.mean},
          {"std", d.std}};
}

std::string percent(double mean, double std) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f ± %.2f %%", 100 * mean, 100 * std);
  return b;
}

int64_t peak_rss_bytes() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // Linux reports kilobytes
}

std::string format_bytes(int64_t bytes) {
  char b[32];
  if (bytes >= 1 << 20) std::snprintf(b, sizeof b, "%.2f MiB", bytes / 1048576.0);
  else if (bytes >= 1 << 10) std::snprintf(b, sizeof b, "%.1f KiB", bytes / 1024.0);
  else std::snprintf(b, sizeof b, "%lld B", static_cast<long long>(bytes));
  return b;
}

}  // namespace loco::cli
