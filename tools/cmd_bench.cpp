// loco bench: units of work timed one JSON line each, in the shape and with the names of
// ../shared/peer's `bench` (unit, median_ms, min_ms, max_ms, reps, warmup and the settings), so
// the two run side by side and compare line by line. A unit is a call into the library
// (condense/, engine/); a condensation unit is configured by condense/presets.h's resolver, as
// `loco condense` is. This file only times them. dm_iter_c100 and dm_iter_t200 run on generated
// data of CIFAR-100's and TinyImageNet's shapes and split sizes, made only when asked for.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "condense/driver.h"
#include "condense/experts.h"
#include "engine/ops.h"
#include "engine/optim/sgd.h"
#include "models/networks.h"
#include "tools/cli.h"

namespace loco::cli {
namespace {

using Clock = std::chrono::steady_clock;

// peer's _time: warm-up calls, then reps timed calls (30 when one call is under 50 ms).
condense::Json time_unit(const std::function<void()>& fn, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  auto once = [&] {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  };
  once();
  const int n = ms[0] < 50.0 ? std::max(reps, 30) : reps;
  while (static_cast<int>(ms.size()) < n) once();
  std::vector<double> s = ms;
  std::sort(s.begin(), s.end());
  const double median = s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
  auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"median_ms", r3(median)}, {"min_ms", r3(s.front())}, {"max_ms", r3(s.back())}, {"reps", n}, {"warmup", warmup}};
}

const std::vector<std::string> kStandardUnits = {
    "dm_iter", "dm_iter_nodsa", "lodm_iter", "lodm_iter_nodsa", "lodm_si_iter", "dc_step", "lodc_step", "dc_step_ipc1",
    "eval_train_step", "eval_train_step_dsa", "test_forward_1024", "lowrank_recon_fwd_bwd", "lowrank_recon_fwd",
    "net_init"};

// The unroll's memory against its time: MTT at CIFAR-10 shapes, ipc 10 (100 images per student
// step), syn_steps 10, 30, 50, each --unroll full and checkpoint.
constexpr int64_t kUnrollSteps[] = {10, 30, 50};
const char* const kUnrollModes[] = {"full", "checkpoint"};
std::string unroll_unit(int64_t steps, const std::string& mode) {
  return "mtt_unroll_s" + std::to_string(steps) + "_" + mode;
}

// Units too big or too slow for a default run: they run only when named.
std::vector<std::string> only_when_named_units() {
  std::vector<std::string> v = {"dm_iter_c100", "dm_iter_t200", "mtt_iter", "lomtt_iter"};
  for (int64_t s : kUnrollSteps)
    for (const char* m : kUnrollModes) v.push_back(unroll_unit(s, m));
  return v;
}

}  // namespace

Command add_bench(CLI::App& parent) {
  struct Flags {
    DataFlags data;
    CommonFlags common;
    std::string units;
    int reps = 7, warmup = 2;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("bench", "Time units of work, one JSON line each (the peer's unit names)");
  app->footer(
      "Units: dm_iter, dm_iter_nodsa, lodm_iter (same memory, 70 img/cls at r 2), lodm_iter_nodsa, lodm_si_iter\n"
      "(10 img/cls at r 2), dc_step, lodc_step, dc_step_ipc1, eval_train_step, eval_train_step_dsa,\n"
      "test_forward_1024, lowrank_recon_fwd_bwd, lowrank_recon_fwd, net_init; dm_iter_c100 (100 classes × 256\n"
      "real, 32×32×3, ipc 1, DSA, from 50 000 generated images) and dm_iter_t200 (200 classes × 256 real,\n"
      "64×64×3, ConvNetD4, from 100 000 generated images) run only when named; mtt_iter and lomtt_iter\n"
      "(CIFAR-10 shapes, ipc 1, LoMTT at the same memory: 80 rank-2 images, syn_steps 20, one synthetic expert\n"
      "trajectory written to a temporary folder; bench/torch_mtt_ref.py is the PyTorch twin) run only when named,\n"
      "as do mtt_unroll_s<N>_<full|checkpoint> (N 10, 30, 50: MTT at CIFAR-10 shapes, ipc 10, one process each\n"
      "under /usr/bin/time -v for the unroll's peak memory).\n"
      "Example: loco bench --units dm_iter,lodm_iter --reps 5");
  app->add_option("--units", f->units, "Comma-separated units (default: all)");
  app->add_option("--reps", f->reps, "Timed calls per unit (30 for units under 50 ms)")->capture_default_str();
  app->add_option("--warmup", f->warmup, "Untimed calls first")->capture_default_str();
  add_data_flags(app, f->data, true);
  add_common_flags(app, f->common, false);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            std::set<std::string> wanted;
            for (size_t b = 0, e; b < f->units.size(); b = e + 1) {
              e = f->units.find(',', b);
              if (e == std::string::npos) e = f->units.size();
              if (e > b) wanted.insert(f->units.substr(b, e - b));
            }
            const std::vector<std::string> big = only_when_named_units();
            const std::set<std::string> only_when_named(big.begin(), big.end());
            for (const auto& u : wanted)
              LOCO_CHECK(only_when_named.count(u) ||
                             std::find(kStandardUnits.begin(), kStandardUnits.end(), u) != kStandardUnits.end(),
                         "--units: unknown unit '", u, "'; see loco bench --help");
            const bool standard = wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [&](const std::string& u) {
              return !only_when_named.count(u);
            });
            condense::Json meta = {{"device", device_name(dev)}, {"engine", "loco"}, {"generated", f->data.generated},
                                   {"conv_algo", f->common.conv_algo}};
#ifdef _OPENMP
            meta["threads"] = omp_get_max_threads();
#endif
            auto want = [&](const std::string& u) { return wanted.empty() ? !only_when_named.count(u) : wanted.count(u) > 0; };
            auto emit = [&](const std::string& name, const std::function<void()>& fn, condense::Json cfg) {
              if (!want(name)) return;
              condense::Json j = {{"unit", name}};
              j.update(time_unit(fn, f->warmup, f->reps));
              j.update(meta);
              j.update(cfg);  // after meta: a unit on its own generated data says so
              std::printf("%s\n", j.dump().c_str());
              std::fflush(stdout);
            };
            Generator g(f->common.seed, 0);
            // One condensation iteration (or image step) of a resolved configuration.
            auto condensation_unit = [&](const std::string& name, condense::CondenseRequest req,
                                         const condense::Dataset& train, condense::Json extra) {
              req.seed = f->common.seed;
              req.device = dev;
              const condense::CondenseConfig c = condense::resolve_condense(req, condense::dataset_info(train.name));
              const condense::Dataset on_device = train.to(dev);
              const condense::ClassIndex index(on_device.labels, on_device.classes);
              condense::Condensation job = condense::prepare_condensation(c, on_device, index);
              condense::Json cfg = {{"ipc", c.ipc}, {"ipc_effective", c.images_per_class}, {"rank", c.rank},
                                    {"dsa", !c.dsa_strategy.empty()}, {"syn_floats", job.set->floats_stored()},
                                    {"model", c.model}, {"classes", on_device.classes}, {"real_images", on_device.size()}};
              if (c.mtt.experts.empty()) cfg["batch_real"] = c.batch_real;  // trajectory matching takes no real batch
              cfg.update(extra);
              emit(name, [&] { job.objective->iterate(*job.set, *job.opt, g); }, cfg);
            };
            for (const auto& [unit, dataset, model] : {std::tuple{"dm_iter_c100", "CIFAR100", "ConvNet"},
                                                       std::tuple{"dm_iter_t200", "TinyImageNet", "ConvNetD4"}}) {
              if (!want(unit)) continue;
              const condense::DatasetPair big = condense::generated_dataset(condense::dataset_info(dataset));
              condensation_unit(unit, {.method = "dm", .preset = "paper", .ipc = 1, .model = model}, big.train,
                                {{"generated", true}, {"note", "generated data of the dataset's shape and train split size"}});
            }
            const bool unroll_wanted = std::any_of(big.begin(), big.end(), [&](const std::string& u) {
              return u.starts_with("mtt_unroll_") && want(u);
            });
            if (want("mtt_iter") || want("lomtt_iter") || unroll_wanted) {
              // One expert whose trajectory drifts from a fresh ConvNet: timing needs its shapes, not its values.
              const condense::DatasetInfo& cifar = condense::dataset_info("CIFAR10");
              const condense::DatasetPair small = condense::generated_dataset(cifar, 100, 10);
              const std::string dir =
                  (std::filesystem::temp_directory_path() / ("loco-bench-experts-" + std::to_string(::getpid()))).string();
              std::filesystem::create_directories(dir);
              Generator eg(f->common.seed, 1);
              auto net = models::make_network("ConvNet", cifar.channels, cifar.classes, cifar.height, eg);
              std::vector<Tensor> snaps{net->flat_parameters().clone()};
              for (int e = 1; e <= 2; ++e) snaps.push_back(snaps.back() + rand_normal(snaps[0].shape(), eg, 0.0, 0.01));
              const condense::ExpertOptions eo{.model = "ConvNet", .epochs = 2};
              condense::save_expert(dir + "/" + condense::expert_file_name(0), *net, snaps, small.train, eo, 0, {});
              for (const char* method : {"mtt", "lomtt"}) {
                const std::string unit = std::string(method) + "_iter";
                if (!want(unit)) continue;
                condensation_unit(unit, {.method = method, .preset = "paper", .ipc = 1, .init = "noise", .experts = dir,
                                         .syn_steps = 20, .expert_epochs = 2, .max_start_epoch = 1},
                                  small.train, {{"syn_steps", 20}, {"generated", true}});
              }
              for (int64_t steps : kUnrollSteps)
                for (const char* mode : kUnrollModes) {
                  const std::string unit = unroll_unit(steps, mode);
                  if (!want(unit)) continue;
                  condensation_unit(unit, {.method = "mtt", .preset = "paper", .ipc = 10, .init = "noise",
                                           .experts = dir, .unroll = mode, .syn_steps = steps,
                                           .expert_epochs = 2, .max_start_epoch = 1},
                                    small.train, {{"syn_steps", steps}, {"unroll", mode}, {"generated", true}});
                }
              std::filesystem::remove_all(dir);
            }
            if (!standard) return 0;
            auto data = load_data(f->data);
            const condense::Dataset& train = data.train;
            const int64_t h = train.height(), w = train.width(), c = train.channels();
            // (a, b) DM and LoDM iterations: fresh net, real sampling, Siamese DSA, one image step.
            struct DmUnit {
              const char* name;
              const char* method;
              std::optional<std::string> budget, dsa;
            };
            for (const DmUnit& u : {DmUnit{"dm_iter", "dm", {}, {}}, DmUnit{"dm_iter_nodsa", "dm", {}, "none"},
                                    DmUnit{"lodm_iter", "lodm", {}, {}}, DmUnit{"lodm_iter_nodsa", "lodm", {}, "none"},
                                    DmUnit{"lodm_si_iter", "lodm", "same-images", {}}}) {
              if (!want(u.name)) continue;
              const bool lowrank = std::string(u.method) == "lodm";
              // The peer starts its low-rank sets from noise; the timing does not depend on it.
              condensation_unit(u.name, {.method = u.method, .preset = "paper", .ipc = 10,
                                         .rank = lowrank ? std::optional<int64_t>(2) : std::nullopt,
                                         .budget = u.budget, .init = lowrank ? std::optional<std::string>("noise") : std::nullopt,
                                         .dsa_strategy = u.dsa},
                                train, condense::Json::object());
            }
            // (c) one gradient-matching image step (outer 1, inner 0), batch_real 256, no DSA.
            struct DcUnit {
              const char* name;
              const char* method;
              int64_t ipc;
            };
            for (const DcUnit& u : {DcUnit{"dc_step", "dc", 10}, DcUnit{"lodc_step", "lodc", 10}, DcUnit{"dc_step_ipc1", "dc", 1}}) {
              if (!want(u.name)) continue;
              const bool lowrank = std::string(u.method) == "lodc";
              condensation_unit(u.name, {.method = u.method, .preset = "paper", .ipc = u.ipc,
                                         .rank = lowrank ? std::optional<int64_t>(2) : std::nullopt,
                                         .outer_loop = 1, .inner_loop = 0},
                                train, {{"note", "includes a fresh network (peer: a fixed one; see net_init)"}});
            }
            const std::string dsa_all = condense::default_dsa_strategy(train.name);
            // (d) the evaluation trainer's step, batch 256, SGD momentum 0.9, weight decay 5e-4.
            auto net = models::make_network("ConvNet", c, train.classes, h, g, {.device = dev});
            Sgd sgd(net->parameters(), {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
            const Tensor xb = train.images(0, 256).to(dev);
            const Tensor yb = slice(train.labels, 0, 256).to(dev);
            const auto strategy = condense::DsaStrategy::parse(dsa_all);
            for (bool aug : {false, true}) {
              emit(aug ? "eval_train_step_dsa" : "eval_train_step", [&] {
                Tensor x = xb;
                if (aug) {
                  NoGradGuard data;
                  x = condense::dsa(xb, strategy, g, false);
                }
                const Tensor loss = cross_entropy(net->forward(x), yb);
                sgd.zero_grad();
                backward(loss);
                sgd.step();
              }, {{"batch", 256}, {"aug", aug}});
            }
            // (e) inference over 1024 test images.
            const Tensor xt = data.test.images(0, std::min<int64_t>(1024, data.test.size())).to(dev);
            net->eval();
            emit("test_forward_1024", [&] {
              NoGradGuard no_grad;
              net->forward(xt);
            }, {{"batch", xt.dim(0)}});
            // (f) the batched low-rank reconstruction, N 1000, 28×28-like, r 2.
            const int64_t n = 1000, r = 2;
            Tensor a = rand_normal({n, c, h, r}, g, 0, 1, DType::f32, dev).requires_grad_();
            Tensor b = rand_normal({n, c, r, w}, g, 0, 1, DType::f32, dev).requires_grad_();
            const Tensor seed = rand_normal({n, c, h, w}, g, 0, 1, DType::f32, dev);
            emit("lowrank_recon_fwd_bwd", [&] {
              a.zero_grad();
              b.zero_grad();
              backward(lowrank_reconstruct(a, b), {.seed = seed});
            }, {{"N", n}, {"rank", r}, {"floats_param", a.numel() + b.numel()}});
            emit("lowrank_recon_fwd", [&] {
              NoGradGuard no_grad;
              lowrank_reconstruct(a, b);
            }, {{"N", n}, {"rank", r}, {"floats_param", a.numel() + b.numel()}});
            emit("net_init", [&] { models::make_network("ConvNet", c, train.classes, h, g, {.device = dev}); },
                 condense::Json::object());
            return 0;
          }};
}

}  // namespace loco::cli
