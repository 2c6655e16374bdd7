// loco bench: units of work timed one JSON line each, in the shape and with the names of
// ../shared/peer's `bench` (unit, median_ms, min_ms, max_ms, reps, warmup and the settings), so
// the two run side by side and compare line by line. A unit is a call into the library
// (condense/, engine/); this file only times them.
#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "condense/driver.h"
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

const std::vector<std::string> kUnits = {
    "dm_iter", "dm_iter_nodsa", "lodm_iter", "lodm_iter_nodsa", "lodm_si_iter", "dc_step", "lodc_step", "dc_step_ipc1",
    "eval_train_step", "eval_train_step_dsa", "test_forward_1024", "lowrank_recon_fwd_bwd", "lowrank_recon_fwd", "net_init"};

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
      "test_forward_1024, lowrank_recon_fwd_bwd, lowrank_recon_fwd, net_init.\n"
      "Example: loco bench --units dm_iter,lodm_iter --reps 5");
  app->add_option("--units", f->units, "Comma-separated units (default: all)");
  app->add_option("--reps", f->reps, "Timed calls per unit (30 for units under 50 ms)")->capture_default_str();
  app->add_option("--warmup", f->warmup, "Untimed calls first")->capture_default_str();
  add_data_flags(app, f->data);
  add_common_flags(app, f->common, false);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            std::set<std::string> wanted;
            for (size_t b = 0, e; b < f->units.size(); b = e + 1) {
              e = f->units.find(',', b);
              if (e == std::string::npos) e = f->units.size();
              if (e > b) wanted.insert(f->units.substr(b, e - b));
            }
            for (const auto& u : wanted)
              LOCO_CHECK(std::find(kUnits.begin(), kUnits.end(), u) != kUnits.end(), "--units: unknown unit '", u,
                         "'; see loco bench --help");
            auto data = load_data(f->data);
            const condense::Dataset& train = data.train;
            const condense::ClassIndex index(train.labels, train.classes);
            const std::string dsa_all = default_dsa_strategy(train.name);
            condense::Json meta = {{"device", device_name(dev)}, {"engine", "loco"}};
#ifdef _OPENMP
            meta["threads"] = omp_get_max_threads();
#endif
            auto emit = [&](const std::string& name, const std::function<void()>& fn, condense::Json cfg) {
              if (!wanted.empty() && !wanted.count(name)) return;
              condense::Json j = {{"unit", name}};
              j.update(time_unit(fn, f->warmup, f->reps));
              j.update(cfg);
              j.update(meta);
              std::printf("%s\n", j.dump().c_str());
              std::fflush(stdout);
            };
            Generator g(f->common.seed, 0);
            const int64_t h = train.images.dim(2), w = train.images.dim(3);
            // (a, b) DM and LoDM iterations: fresh net, real sampling, Siamese DSA, one image step.
            struct DmUnit {
              const char* name;
              int64_t per_class, rank;
              bool dsa;
            };
            const int64_t sm = condense::lowrank_images_per_class(10, h, w, 2, condense::Budget::same_memory);
            for (const DmUnit& u : {DmUnit{"dm_iter", 10, 0, true}, DmUnit{"dm_iter_nodsa", 10, 0, false},
                                    DmUnit{"lodm_iter", sm, 2, true}, DmUnit{"lodm_iter_nodsa", sm, 2, false},
                                    DmUnit{"lodm_si_iter", 10, 2, true}}) {
              const condense::SetSpec spec{.classes = train.classes, .per_class = u.per_class,
                                           .channels = train.images.dim(1), .height = h, .width = w, .rank = u.rank,
                                           .init = u.rank ? condense::Init::noise : condense::Init::real, .device = dev};
              auto set = condense::make_synthetic_set(spec, &train, &index, g);
              Sgd opt(set->parameters(), {.lr = 1.0, .momentum = 0.5});
              auto obj = condense::make_distribution_matching(
                  {.train = &train, .index = &index, .dsa = condense::DsaStrategy::parse(u.dsa ? dsa_all : ""),
                   .batch_real = 256, .device = dev});
              emit(u.name, [&] { obj->iterate(*set, opt, g); },
                   {{"ipc", 10}, {"ipc_effective", u.per_class}, {"rank", u.rank}, {"batch_real", 256}, {"dsa", u.dsa},
                    {"syn_floats", set->floats_stored()}});
            }
            // (c) one gradient-matching image step (outer 1, inner 0), batch_real 256, no DSA.
            struct DcUnit {
              const char* name;
              int64_t per_class, rank;
            };
            for (const DcUnit& u : {DcUnit{"dc_step", 10, 0}, DcUnit{"lodc_step", sm, 2}, DcUnit{"dc_step_ipc1", 1, 0}}) {
              const condense::SetSpec spec{.classes = train.classes, .per_class = u.per_class,
                                           .channels = train.images.dim(1), .height = h, .width = w, .rank = u.rank,
                                           .device = dev};
              auto set = condense::make_synthetic_set(spec, &train, &index, g);
              Sgd opt(set->parameters(), {.lr = 0.1, .momentum = 0.5});
              auto obj = condense::make_gradient_matching({.train = &train, .index = &index, .batch_real = 256, .device = dev},
                                                          {.outer_loop = 1, .inner_loop = 0});
              emit(u.name, [&] { obj->iterate(*set, opt, g); },
                   {{"ipc", u.rank ? 10 : u.per_class}, {"ipc_effective", u.per_class}, {"rank", u.rank},
                    {"batch_real", 256}, {"dsa", false}, {"syn_floats", set->floats_stored()},
                    {"note", "includes a fresh network (peer: a fixed one; see net_init)"}});
            }
            // (d) the evaluation trainer's step, batch 256, SGD momentum 0.9, weight decay 5e-4.
            auto net = models::make_network("ConvNet", train.images.dim(1), train.classes, h, g, {.device = dev});
            Sgd sgd(net->parameters(), {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
            const Tensor xb = slice(train.images, 0, 256).to(dev);
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
            const Tensor xt = slice(data.test.images, 0, std::min<int64_t>(1024, data.test.size())).to(dev);
            net->eval();
            emit("test_forward_1024", [&] {
              NoGradGuard no_grad;
              net->forward(xt);
            }, {{"batch", xt.dim(0)}});
            // (f) the batched low-rank reconstruction, N 1000, 28×28-like, r 2.
            const int64_t n = 1000, r = 2;
            Tensor a = rand_normal({n, train.images.dim(1), h, r}, g, 0, 1, DType::f32, dev).requires_grad_();
            Tensor b = rand_normal({n, train.images.dim(1), r, w}, g, 0, 1, DType::f32, dev).requires_grad_();
            const Tensor seed = rand_normal({n, train.images.dim(1), h, w}, g, 0, 1, DType::f32, dev);
            emit("lowrank_recon_fwd_bwd", [&] {
              a.zero_grad();
              b.zero_grad();
              backward(lowrank_reconstruct(a, b), {.seed = seed});
            }, {{"N", n}, {"rank", r}, {"floats_param", a.numel() + b.numel()}});
            emit("lowrank_recon_fwd", [&] {
              NoGradGuard no_grad;
              lowrank_reconstruct(a, b);
            }, {{"N", n}, {"rank", r}, {"floats_param", a.numel() + b.numel()}});
            emit("net_init", [&] { models::make_network("ConvNet", train.images.dim(1), train.classes, h, g, {.device = dev}); },
                 condense::Json::object());
            return 0;
          }};
}

}  // namespace loco::cli
