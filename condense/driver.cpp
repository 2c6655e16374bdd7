// condense(): the loop, its checkpoints and its evaluations.
#include "condense/driver.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "engine/profile.h"

namespace loco::condense {

const std::vector<MethodSpec>& methods() {
  // lr and loops: spec §5.3; init: ours (DM real as VICO; DC/DSA noise as the reference).
  static const std::vector<MethodSpec> m = {
      {"dm", false, true, true, 1.0, Init::real, "dsa", 20000, 1000},
      {"lodm", true, true, true, 1.0, Init::real, "dsa", 20000, 1000},
      {"dc", false, false, false, 0.1, Init::noise, "dc", 1000, 300},
      {"lodc", true, false, false, 0.1, Init::noise, "dc", 1000, 300},
      {"dsa", false, false, true, 0.1, Init::noise, "dsa", 1000, 1000},
      {"lodsa", true, false, true, 0.1, Init::noise, "dsa", 1000, 1000},
  };
  return m;
}

const MethodSpec& method_spec(const std::string& name) {
  std::string names;
  for (const auto& m : methods()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  LOCO_FAIL("unknown method '", name, "'; valid: ", names, " (coresets: loco coreset)");
}

Json CondenseConfig::to_json() const {
  Json j = {{"method", method},
            {"dataset", dataset},
            {"ipc", ipc},
            {"rank", rank},
            {"budget", rank ? budget_name(budget) : "full-pixels"},
            {"images_per_class", images_per_class},
            {"iterations", iterations},
            {"lr_img", lr_img},
            {"momentum", momentum},
            {"batch_real", batch_real},
            {"init", init_name(init)},
            {"dsa_strategy", dsa_strategy.empty() ? "none" : dsa_strategy},
            {"model", model}};
  if (!method_spec(method).distribution)
    j["gradient_matching"] = {{"outer_loop", gm.outer_loop}, {"inner_loop", gm.inner_loop}, {"metric", gm.metric},
                              {"lr_net", gm.lr_net}, {"batch_train", gm.batch_train}};
  j["eval"] = {{"model", eval.model}, {"epochs", eval.train.epochs}, {"num_eval", eval.num_eval}, {"aug", eval_aug},
               {"every", eval_every}};
  j["checkpoint_every"] = checkpoint_every;
  j["seed"] = seed;
  j["device"] = device_name(device);
  return j;
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCheckpoint = "checkpoint.safetensors";

// The configuration a checkpoint must agree with: everything but how long to run and how
// often to look.
Json resumable(Json j) {
  for (const char* k : {"iterations", "checkpoint_every", "device"}) j.erase(k);
  j["eval"].erase("every");
  return j;
}

void save_checkpoint(const RunDir& run, const CondenseConfig& c, const SyntheticSet& set, const Sgd& opt,
                     int64_t done, double seconds) {
  std::vector<std::pair<std::string, Tensor>> t;
  const auto& params = set.parameters();
  const auto& bufs = opt.momentum_buffers();
  for (size_t i = 0; i < params.size(); ++i) {
    t.emplace_back("param." + std::to_string(i), params[i].detach());
    if (bufs[i].defined()) t.emplace_back("momentum." + std::to_string(i), bufs[i]);
  }
  std::ostringstream secs;
  secs.precision(17);
  secs << seconds;
  save_safetensors(run.path(kCheckpoint), t,
                   {{"iterations_done", std::to_string(done)}, {"condense_seconds", secs.str()},
                    {"config", c.to_json().dump()}});
}

// Restores set and optimiser from the checkpoint; returns the iterations already done.
int64_t load_checkpoint(const RunDir& run, const CondenseConfig& c, SyntheticSet& set, Sgd& opt, double& seconds) {
  const std::string path = run.path(kCheckpoint);
  const SafetensorsFile f = load_safetensors(path);
  auto meta = [&](const char* k) {
    auto it = f.metadata.find(k);
    LOCO_CHECK(it != f.metadata.end(), path, ": no '", k, "' in the metadata");
    return it->second;
  };
  const Json saved = Json::parse(meta("config"));
  const Json want = c.to_json();
  LOCO_CHECK(resumable(saved) == resumable(want), "--resume: the run in ", run.dir(),
             " was made with other settings; it had\n  ", resumable(saved).dump(), "\nthis command asks for\n  ",
             resumable(want).dump(), "\n(only --iterations, --eval-every, --checkpoint-every and --device may change)");
  const auto& params = set.parameters();
  std::vector<Tensor> bufs(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    auto p = f.tensors.find("param." + std::to_string(i));
    LOCO_CHECK(p != f.tensors.end() && p->second.shape() == params[i].shape(), path, ": param.", i,
               " is missing or not ", params[i].shape());
    copy_bytes(params[i].raw(), params[i].device(), p->second.raw(), Device::cpu, params[i].nbytes());
    auto m = f.tensors.find("momentum." + std::to_string(i));
    if (m != f.tensors.end()) bufs[i] = m->second;
  }
  opt.set_momentum_buffers(bufs);
  seconds = std::stod(meta("condense_seconds"));
  return std::stoll(meta("iterations_done"));
}

// Keeps log.jsonl lines of iterations before `done` (a resumed run rewrites what follows).
void trim_log(const RunDir& run, int64_t done) {
  const std::string path = run.path("log.jsonl");
  std::ifstream in(path);
  std::vector<std::string> keep;
  for (std::string line; std::getline(in, line);) {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("it") && j["it"].get<int64_t>() < done) keep.push_back(line);
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : keep) out << l << "\n";
}

}  // namespace

CondenseOutcome condense(const CondenseConfig& c, const DatasetPair& data, const RunDir& run, bool resume,
                         const CondenseHooks& hooks) {
  const MethodSpec& m = method_spec(c.method);
  // The real images live where the networks run, so each real batch is a gather on the device.
  Dataset train = data.train;
  train.images = train.images.to(c.device);
  LOCO_CHECK(c.iterations >= 0, "--iterations must be ≥ 0, got ", c.iterations);
  LOCO_CHECK(c.images_per_class >= 1, "condense: no images per class resolved (ipc ", c.ipc, ")");
  const ClassIndex index(train.labels, train.classes);
  const SetSpec spec{.classes = train.classes, .per_class = c.images_per_class, .channels = train.images.dim(1),
                     .height = train.images.dim(2), .width = train.images.dim(3), .rank = m.lowrank ? c.rank : 0,
                     .init = c.init, .device = c.device};
  Generator init(c.seed, kStreamSetInit);
  CondenseOutcome out;
  out.set = make_synthetic_set(spec, &train, &index, init);
  Sgd opt(out.set->parameters(), {.lr = c.lr_img, .momentum = c.momentum});

  const ObjectiveContext ctx{.train = &train, .index = &index, .model = c.model,
                             .dsa = DsaStrategy::parse(c.dsa_strategy), .batch_real = c.batch_real,
                             .device = c.device};
  std::unique_ptr<Objective> objective = m.distribution ? make_distribution_matching(ctx) : make_gradient_matching(ctx, c.gm);

  double earlier_seconds = 0.0;
  if (resume) {
    out.start_iteration = load_checkpoint(run, c, *out.set, opt, earlier_seconds);
    LOCO_CHECK(out.start_iteration <= c.iterations, "--resume: the run has done ", out.start_iteration,
               " iterations already, more than --iterations ", c.iterations);
    trim_log(run, out.start_iteration);
    if (hooks.note)
      hooks.note("resuming " + run.dir() + " at iteration " + std::to_string(out.start_iteration) + " of " +
                 std::to_string(c.iterations));
  }

  auto evaluate = [&](int64_t it) {
    Tensor images;
    {
      NoGradGuard no_grad;
      images = out.set->images().detach();
    }
    EvalOptions o = c.eval;
    o.seed = c.seed;
    o.device = c.device;
    EvalResult r = evaluate_set(images, out.set->labels(), data.test, o, hooks.progress);
    run.append_log({{"it", it}, {"eval", {{"model", r.model}, {"epochs", r.epochs}, {"accuracy_mean", r.mean},
                                          {"accuracy_std", r.std}, {"accuracies", r.accuracies}}}});
    if (hooks.note) {
      std::ostringstream s;
      s.precision(4);
      s << "iteration " << it << ": " << r.model << " test accuracy " << 100 * r.mean << " ± " << 100 * r.std << " % over "
        << r.accuracies.size() << " network(s)";
      hooks.note(s.str());
    }
    out.evaluations.push_back({it, std::move(r)});
  };

  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  for (int64_t it = out.start_iteration; it < c.iterations; ++it) {
    if (c.eval_every > 0 && it > 0 && it % c.eval_every == 0 && c.eval.num_eval > 0) evaluate(it);
    Generator g(c.seed, kStreamIteration + static_cast<uint64_t>(it));
    const auto ti = Clock::now();
    IterationStats st;
    {
      ProfileRange range("condensation iteration");
      st = objective->iterate(*out.set, opt, g);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - ti).count();
    out.last_loss = st.loss;
    run.append_log({{"it", it}, {"loss", st.loss}, {"seconds", secs}, {"images", st.images}});
    if (hooks.progress)
      hooks.progress({.phase = c.method, .step = it + 1, .total = c.iterations, .loss = st.loss,
                      .images = st.images});
    const bool last = it + 1 == c.iterations;
    const bool stop = hooks.stop_after > 0 && it + 1 - out.start_iteration >= hooks.stop_after && !last;
    if (last || stop || (c.checkpoint_every > 0 && (it + 1) % c.checkpoint_every == 0))
      save_checkpoint(run, c, *out.set, opt, it + 1, earlier_seconds + elapsed());
    LOCO_CHECK(!stop, "stopped after ", hooks.stop_after, " iterations as asked (--stop-after); continue with --resume ",
               run.dir());
  }
  if (c.iterations == out.start_iteration) save_checkpoint(run, c, *out.set, opt, c.iterations, earlier_seconds);
  out.condense_seconds = earlier_seconds + elapsed();
  if (c.eval.num_eval > 0) evaluate(c.iterations);
  return out;
}

}  // namespace loco::condense
