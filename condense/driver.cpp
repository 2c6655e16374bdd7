// condense(): the loop, its checkpoints and its evaluations.
#include "condense/driver.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dist/dist.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "engine/profile.h"

namespace loco::condense {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCheckpoint = "checkpoint.safetensors";

// The configuration a checkpoint must agree with: everything but how long to run, how often to
// look, where, and how big the real side's chunks are (a memory knob: results agree to f32
// rounding across chunk sizes, bit for bit at one).
Json resumable(Json j) {
  if (!j.is_object()) return j;  // a damaged checkpoint's config: it then matches no command's
  for (const char* k : {"iterations", "checkpoint_every", "device", "max_batch"}) j.erase(k);
  if (auto e = j.find("eval"); e != j.end() && e->is_object()) e->erase("every");
  return j;
}

constexpr const char* kObjectivePrefix = "objective.";

constexpr const char* kDataKey = "data";

void save_checkpoint(const RunDir& run, const CondenseConfig& c, const std::string& data, const SyntheticSet& set,
                     const Sgd& opt, const Objective& objective, int64_t done, double seconds) {
  std::vector<std::pair<std::string, Tensor>> t;
  const auto& params = set.parameters();
  const auto& bufs = opt.momentum_buffers();
  for (size_t i = 0; i < params.size(); ++i) {
    t.emplace_back("param." + std::to_string(i), params[i].detach());
    if (bufs[i].defined()) t.emplace_back("momentum." + std::to_string(i), bufs[i]);
  }
  for (const auto& [name, tensor] : objective.state()) t.emplace_back(kObjectivePrefix + name, tensor);
  std::ostringstream secs;
  secs.precision(17);
  secs << seconds;
  save_safetensors(run.path(kCheckpoint), t,
                   {{"iterations_done", std::to_string(done)}, {"condense_seconds", secs.str()},
                    {"config", c.to_json().dump()}, {kDataKey, data}});
}

}  // namespace

int64_t restore_checkpoint(const std::string& path, const CondenseConfig& c, const std::string& data, Condensation& job,
                           double& seconds) {
  SyntheticSet& set = *job.set;
  Sgd& opt = *job.opt;
  Objective& objective = *job.objective;
  const SafetensorsFile f = load_safetensors(path);
  auto meta = [&](const char* k) {
    auto it = f.metadata.find(k);
    LOCO_CHECK(it != f.metadata.end(), path, ": no '", k, "' in the metadata");
    return it->second;
  };
  const Json saved = Json::parse(meta("config"), nullptr, false);
  LOCO_CHECK(saved.is_object(), path, ": its 'config' metadata is not a JSON object");
  const Json want = c.to_json();
  LOCO_CHECK(resumable(saved) == resumable(want), "--resume: the run in ", path,
             " was made with other settings; it had\n  ", resumable(saved).dump(), "\nthis command asks for\n  ",
             resumable(want).dump(), "\n(only --iterations, --eval-every, --checkpoint-every and --device may change)");
  LOCO_CHECK(meta(kDataKey) == data, "--resume: the run in ", path, " was made on other data; it had\n  ",
             meta(kDataKey), "\nthis command loaded\n  ", data, "\n(check --data-dir)");
  const auto& params = set.parameters();
  std::vector<Tensor> bufs(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    auto p = f.tensors.find("param." + std::to_string(i));
    LOCO_CHECK(p != f.tensors.end() && p->second.shape() == params[i].shape() &&
                   p->second.dtype() == params[i].dtype(),
               path, ": param.", i, " is missing or not ", params[i].dtype(), " ", params[i].shape());
    copy_bytes(params[i].raw(), params[i].device(), p->second.raw(), Device::cpu, params[i].nbytes());
    auto m = f.tensors.find("momentum." + std::to_string(i));
    if (m != f.tensors.end()) {
      LOCO_CHECK(m->second.shape() == params[i].shape() && m->second.dtype() == params[i].dtype(), path,
                 ": momentum.", i, " is not ", params[i].dtype(), " ", params[i].shape());
      bufs[i] = m->second;
    }
  }
  opt.set_momentum_buffers(bufs);
  std::map<std::string, Tensor> state;
  for (const auto& [name, tensor] : f.tensors)
    if (name.rfind(kObjectivePrefix, 0) == 0) state.emplace(name.substr(std::string(kObjectivePrefix).size()), tensor);
  objective.load_state(state, path);
  seconds = parse_double(meta("condense_seconds"), path + ": condense_seconds");
  LOCO_CHECK(std::isfinite(seconds) && seconds >= 0, path, ": condense_seconds ", seconds, " is not a duration");
  const auto done = parse_int(meta("iterations_done"), path + ": iterations_done");
  LOCO_CHECK(done >= 0, path, ": iterations_done ", done, " is negative");
  return done;
}

namespace {

// Where a run that went bad stands: its last good checkpoint, if one was written yet (as rank 0,
// which holds the run directory, would say).
std::string last_good_state(int64_t it, const RunDir* run) {
  if (!run) return " at iteration " + std::to_string(it) + " on rank " + std::to_string(dist::rank());
  std::error_code ec;
  const bool saved = std::filesystem::exists(run->path(kCheckpoint), ec);
  return " at iteration " + std::to_string(it) +
         (saved ? "; the checkpoint in " + run->dir() + " holds the last good state"
                : "; no checkpoint was written before it");
}

// A non-finite loss or set parameter ends the run here, before the checkpoint would take it.
void check_finite(int64_t it, double loss, const SyntheticSet& set, const RunDir* run) {
  const std::string where = last_good_state(it, run) + " (a smaller --lr-img may help)";
  LOCO_CHECK(std::isfinite(loss), "the loss became ", loss, where);
  const auto& params = set.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    NoGradGuard no_grad;
    const double probe = sum(params[i].detach() * 0.0).item_as_double();  // NaN iff some value is NaN or ±inf
    LOCO_CHECK(std::isfinite(probe), "the set's ", set.parameter_names()[i], " holds NaN or infinite values", where);
  }
}

// Rank 0's resumed state, given to every rank: the set, the momentum buffers, where it stands.
void broadcast_state(Condensation& job, int64_t& done, double& seconds) {
  for (Tensor p : job.set->parameters()) dist::broadcast(p);
  std::vector<Tensor> bufs = job.opt->momentum_buffers();
  const auto& params = job.set->parameters();
  for (size_t i = 0; i < bufs.size(); ++i) {
    char have = bufs[i].defined() ? 1 : 0;
    dist::broadcast(&have, 1);
    if (have && !bufs[i].defined()) bufs[i] = zeros_like(params[i]);
    if (have) dist::broadcast(bufs[i]);
  }
  job.opt->set_momentum_buffers(bufs);
  // The objective's own state (MTT's syn_lr and its momentum): names, dtypes and shapes as JSON,
  // then the bytes, loaded on the other ranks as the checkpoint's.
  std::map<std::string, Tensor> state;
  Json layout = Json::array();
  if (dist::is_root())
    for (const auto& [name, t] : job.objective->state()) {
      state.emplace(name, t.to(Device::cpu).clone());
      layout.push_back({name, static_cast<int>(t.dtype()), t.shape().dims()});
    }
  std::string text = layout.dump();
  int64_t length = static_cast<int64_t>(text.size());
  dist::broadcast(&length, sizeof length);
  text.resize(static_cast<size_t>(length));
  dist::broadcast(text.data(), length);
  for (const Json& e : Json::parse(text)) {
    const std::string name = e[0].get<std::string>();
    if (!dist::is_root())
      state[name] = empty(Shape(e[2].get<std::vector<int64_t>>()), static_cast<DType>(e[1].get<int>()));
    dist::broadcast(state[name]);
  }
  if (!dist::is_root()) job.objective->load_state(state, "rank 0's checkpoint");
  dist::broadcast(&done, sizeof done);
  dist::broadcast(&seconds, sizeof seconds);
}

// Every rank's classes, everywhere: the set and its momentum (what a checkpoint holds).
void gather_state(SyntheticSet& set, const Sgd& opt) {
  gather_classes(set);
  for (Tensor b : opt.momentum_buffers())
    if (b.defined()) dist::allgather_blocks(b, set.classes());
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

Condensation prepare_condensation(const CondenseConfig& c, const Dataset& train, const ClassIndex& index,
                                  std::optional<dist::Range> shard) {
  const MethodSpec& m = method_spec(c.method);
  LOCO_CHECK(c.images_per_class >= 1, "condense: no images per class resolved (ipc ", c.ipc, ")");
  const SetSpec spec{.classes = train.classes, .per_class = c.images_per_class, .channels = train.channels(),
                     .height = train.height(), .width = train.width(), .rank = m.lowrank ? c.rank : 0,
                     .init = c.init, .device = c.device};
  Generator init(c.seed, kStreamSetInit);
  Condensation job;
  job.set = make_synthetic_set(spec, &train, &index, init);
  job.opt = std::make_unique<Sgd>(job.set->parameters(), SgdOptions{.lr = c.lr_img, .momentum = c.momentum});
  const ObjectiveContext ctx{.train = &train, .index = &index, .model = c.model,
                             .dsa = DsaStrategy::parse(c.dsa_strategy), .batch_real = c.batch_real,
                             .max_batch = c.max_batch, .device = c.device, .shard = shard};
  switch (m.objective) {
    case ObjectiveKind::distribution: job.objective = make_distribution_matching(ctx); break;
    case ObjectiveKind::gradient: job.objective = make_gradient_matching(ctx, c.gm); break;
    case ObjectiveKind::trajectory: job.objective = make_trajectory_matching(ctx, c.mtt); break;
  }
  return job;
}

CondenseOutcome condense(const CondenseConfig& c, const DatasetPair& data, const RunDir* run, bool resume,
                         const CondenseHooks& hooks) {
  const bool shared_out = dist::size() > 1;
  LOCO_CHECK(!run || dist::is_root(), "condense: rank ", dist::rank(), " of ", dist::size(),
             " was given the run directory (rank 0 alone writes it)");
  LOCO_CHECK(!resume || run || !dist::is_root(), "condense: --resume without the run directory to resume");
  // The real images live where the networks run, so each real batch is a gather on the device.
  const Dataset train = data.train.to(c.device);
  LOCO_CHECK(c.iterations >= 0, "--iterations must be ≥ 0, got ", c.iterations);
  const ClassIndex index(train.labels, train.classes);
  Condensation job = prepare_condensation(c, train, index, shared_out ? std::optional(dist::share(train.classes)) : std::nullopt);
  CondenseOutcome out;
  const std::string fingerprint = data_fingerprint(data);
  double earlier_seconds = 0.0;
  if (resume && run)
    out.start_iteration = restore_checkpoint(run->path(kCheckpoint), c, fingerprint, job, earlier_seconds);
  if (resume && shared_out) broadcast_state(job, out.start_iteration, earlier_seconds);
  out.set = std::move(job.set);
  Sgd& opt = *job.opt;
  std::unique_ptr<Objective>& objective = job.objective;
  if (resume) {
    LOCO_CHECK(out.start_iteration <= c.iterations, "--resume: the run has done ", out.start_iteration,
               " iterations already, more than --iterations ", c.iterations);
    if (run) trim_log(*run, out.start_iteration);
    if (hooks.note)
      hooks.note("resuming " + (run ? run->dir() : std::string("the run")) + " at iteration " +
                 std::to_string(out.start_iteration) + " of " + std::to_string(c.iterations));
  }
  // Shared out, each rank's copy holds only its classes' current values until they are gathered.
  bool whole = true;
  auto gather = [&] {
    if (shared_out && !whole) gather_state(*out.set, opt);
    whole = true;
  };
  auto log = [&](const Json& line) {
    if (run) run->append_log(line);
  };

  auto evaluate = [&](int64_t it) {
    gather();
    Tensor images;
    {
      NoGradGuard no_grad;
      images = out.set->images().detach();
    }
    EvalOptions o = c.eval;
    o.seed = c.seed;
    o.device = c.device;
    if (const auto lr = objective->learned_lr()) o.train.lr = *lr;  // MTT: the reference trains at syn_lr
    EvalResult r = evaluate_set(Dataset::of_images(images, out.set->labels(), train.classes), data.test, o, hooks.progress);
    log({{"it", it}, {"eval", {{"model", r.model}, {"epochs", r.epochs}, {"accuracy_mean", r.mean},
                               {"accuracy_std", r.std}, {"accuracies", r.accuracies}}}});
    if (hooks.note) {
      std::ostringstream s;
      s.precision(4);
      s << "iteration " << it << ": " << r.model << " test accuracy " << 100 * r.mean << " ± " << 100 * r.std << " % over "
        << r.accuracies.size() << " network(s)";
      if (objective->learned_lr()) s << " (lr " << r.lr << ", the learned syn_lr)";
      hooks.note(s.str());
    }
    out.evaluations.push_back({it, std::move(r)});
  };

  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto snapshot = [&](int64_t it) {
    if (hooks.snapshot_every > 0 && it % hooks.snapshot_every == 0) {
      gather();
      if (hooks.snapshot) hooks.snapshot(it, *out.set);
    }
  };
  auto checkpoint = [&](int64_t done, double seconds) {
    gather();
    if (run) save_checkpoint(*run, c, fingerprint, *out.set, opt, *objective, done, seconds);
  };
  for (int64_t it = out.start_iteration; it < c.iterations; ++it) {
    snapshot(it);
    if (c.eval_every > 0 && it % c.eval_every == 0 && c.eval.num_eval > 0) evaluate(it);
    Generator g(c.seed, kStreamIteration + static_cast<uint64_t>(it));
    const auto ti = Clock::now();
    IterationStats st;
    {
      ProfileRange range("condensation iteration");
      st = objective->iterate(*out.set, opt, g);
      whole = false;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - ti).count();
    check_finite(it, st.loss, *out.set, run);
    if (st.learned_lr)
      LOCO_CHECK(std::isfinite(*st.learned_lr) && *st.learned_lr > 0, "syn_lr became ", *st.learned_lr,
                 last_good_state(it, run), " (a smaller --lr-lr may help)");
    out.last_loss = st.loss;
    Json line = {{"it", it}, {"loss", st.loss}, {"seconds", secs}, {"images", st.images}};
    if (st.learned_lr) line["syn_lr"] = *st.learned_lr;
    log(line);
    if (hooks.progress)
      hooks.progress({.phase = c.method, .step = it + 1, .total = c.iterations, .loss = st.loss,
                      .images = st.images, .learned_lr = st.learned_lr.value_or(0.0)});
    const bool last = it + 1 == c.iterations;
    const bool stop = hooks.stop_after > 0 && it + 1 - out.start_iteration >= hooks.stop_after && !last;
    if (last || stop || (c.checkpoint_every > 0 && (it + 1) % c.checkpoint_every == 0))
      checkpoint(it + 1, earlier_seconds + elapsed());
    LOCO_CHECK(!stop, "stopped after ", hooks.stop_after, " iterations as asked (--stop-after); continue with --resume ",
               run ? run->dir() : std::string("the run"));
  }
  if (c.iterations == out.start_iteration) checkpoint(c.iterations, earlier_seconds);
  snapshot(c.iterations);
  gather();
  out.condense_seconds = earlier_seconds + elapsed();
  out.learned_lr = objective->learned_lr();
  out.experts = objective->experts();
  if (c.eval.num_eval > 0) evaluate(c.iterations);
  return out;
}

}  // namespace loco::condense
