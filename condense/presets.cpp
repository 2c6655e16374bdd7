// The method table, the presets and resolve_condense(): every default and every range check of
// a condensation's configuration (condense/presets.h says which rules and where they come from).
#include "condense/presets.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {

const std::vector<MethodSpec>& methods() {
  // lr and loops: spec §5.3; init: ours (DM real as VICO; DC/DSA noise as the reference).
  using enum ObjectiveKind;
  static const std::vector<MethodSpec> m = {
      {.name = "dm", .lowrank = false, .objective = distribution, .dsa = true, .lr_img = 1.0, .init = Init::real,
       .paper_iterations = 20000},
      {.name = "lodm", .lowrank = true, .objective = distribution, .dsa = true, .lr_img = 1.0, .init = Init::real,
       .paper_iterations = 20000},
      {.name = "dc", .lowrank = false, .objective = gradient, .dsa = false, .lr_img = 0.1, .init = Init::noise,
       .paper_iterations = 1000},
      {.name = "lodc", .lowrank = true, .objective = gradient, .dsa = false, .lr_img = 0.1, .init = Init::noise,
       .paper_iterations = 1000},
      {.name = "dsa", .lowrank = false, .objective = gradient, .dsa = true, .lr_img = 0.1, .init = Init::noise,
       .paper_iterations = 1000},
      {.name = "lodsa", .lowrank = true, .objective = gradient, .dsa = true, .lr_img = 0.1, .init = Init::noise,
       .paper_iterations = 1000},
      // MTT starts from real images (the original's pix_init default); LoMTT from their truncated
      // SVD, as LoDM (the reference's LoMTT exits on real init, so this is loco's extension).
      {.name = "mtt", .lowrank = false, .objective = trajectory, .dsa = true, .lr_img = 1000.0, .init = Init::real,
       .paper_iterations = 5000},
      {.name = "lomtt", .lowrank = true, .objective = trajectory, .dsa = true, .lr_img = 1000.0, .init = Init::real,
       .paper_iterations = 5000},
  };
  return m;
}

const MethodSpec& method_spec(const std::string& name) {
  std::string names;
  for (const auto& m : methods()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  LOCO_FAIL("--method: unknown method '", name, "'; valid: ", names, " (coresets: loco coreset)");
}

std::string default_dsa_strategy(const std::string& dataset) {
  const std::string name = dataset_info(dataset).name;
  return name == "MNIST" ? "color_crop_cutout_scale_rotate" : "color_crop_cutout_flip_scale_rotate";
}

TrainSchedule evaluation_schedule(const std::string& aug, int64_t epochs, const std::string& dataset,
                                  const std::string& model, const std::string& condensed_with) {
  TrainSchedule s{.epochs = epochs};
  if (aug == "dsa") s.dsa = DsaStrategy::parse(condensed_with.empty() ? default_dsa_strategy(dataset) : condensed_with);
  else if (aug == "dc") s.dc_aug = dc_augment_strategy(dataset_info(dataset).name, model);
  else if (aug != "none") s.dsa = DsaStrategy::parse(aug);
  return s;
}

Json CondenseConfig::to_json() const {
  Json j = {{"method", method},
            {"preset", preset},
            {"dataset", dataset},
            {"ipc", ipc},
            {"rank", rank},
            {"budget", rank ? budget_name(budget) : "full-pixels"},
            {"images_per_class", images_per_class},
            {"iterations", iterations},
            {"lr_img", lr_img},
            {"momentum", momentum},
            {"batch_real", batch_real},
            {"max_batch", max_batch},
            {"init", init_name(init)},
            {"dsa_strategy", dsa_strategy.empty() ? "none" : dsa_strategy},
            {"model", model}};
  const ObjectiveKind kind = method_spec(method).objective;
  if (kind == ObjectiveKind::gradient)
    j["gradient_matching"] = {{"outer_loop", gm.outer_loop}, {"inner_loop", gm.inner_loop}, {"metric", gm.metric},
                              {"lr_net", gm.lr_net}, {"batch_train", gm.batch_train}};
  if (kind == ObjectiveKind::trajectory) {
    j.erase("batch_real");
    j.erase("max_batch");
    j["trajectory_matching"] = {{"experts", mtt.experts},        {"syn_steps", mtt.syn_steps},
                                {"expert_epochs", mtt.expert_epochs}, {"max_start_epoch", mtt.max_start_epoch},
                                {"batch_syn", mtt.batch_syn},    {"lr_lr", mtt.lr_lr},
                                {"lr_teacher", mtt.lr_teacher},  {"unroll", unroll_name(mtt.unroll)},
                                {"segment", mtt.segment}};
  }
  j["eval"] = {{"model", eval.model}, {"epochs", eval.train.epochs}, {"num_eval", eval.num_eval}, {"aug", eval_aug},
               {"standardise", eval.train.standardise}, {"every", eval_every}};
  j["checkpoint_every"] = checkpoint_every;
  j["seed"] = seed;
  j["device"] = device_name(device);
  return j;
}

namespace {

// "--flag: value V is out of range; allowed: ...".
template <class T> void check_flag(bool ok, const char* flag, const T& value, const char* allowed) {
  LOCO_CHECK(ok, flag, ": ", value, " is out of range; allowed: ", allowed);
}
void check_count(const std::optional<int64_t>& v, const char* flag, int64_t lo) {
  if (!v) return;
  std::ostringstream allowed;
  allowed << "an integer ≥ " << lo;
  check_flag(*v >= lo, flag, *v, allowed.str().c_str());
}
void check_rate(const std::optional<double>& v, const char* flag) {
  if (v) check_flag(std::isfinite(*v) && *v > 0, flag, *v, "a finite number > 0");
}

// a·b for non-negative counts, or max() when it would overflow.
int64_t mul_sat(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > std::numeric_limits<int64_t>::max() / b ? std::numeric_limits<int64_t>::max() : a * b;
}

// A network name the dataset's images fit (built once, small, to ask it); `need_embed` for DM.
void check_network(const std::string& name, const char* flag, const DatasetInfo& data, bool need_embed) {
  std::unique_ptr<models::Module> net;
  try {
    Generator g(0, 0);
    net = models::make_network(name, data.channels, data.classes, data.height, g);
  } catch (const Error& e) {
    LOCO_FAIL(flag, " ", name, ": ", e.what());
  }
  LOCO_CHECK(!need_embed || net->has_embed(), flag, " ", name,
             ": distribution matching needs a network with an embedding (", name, " has none)");
}

}  // namespace

CondenseConfig resolve_condense(const CondenseRequest& r, const DatasetInfo& data) {
  const MethodSpec& m = method_spec(r.method);
  LOCO_CHECK(r.preset == "paper" || r.preset == "cpu-quick", "--preset: expected paper or cpu-quick, got '", r.preset,
             "'");
  const bool paper = r.preset == "paper";
  check_flag(r.ipc >= 1, "--ipc", r.ipc, "an integer ≥ 1");
  check_count(r.iterations, "--iterations", 0);
  check_count(r.batch_real, "--batch-real", 1);
  check_count(r.max_batch, "--max-batch", 0);
  check_count(r.outer_loop, "--outer-loop", 1);
  check_count(r.inner_loop, "--inner-loop", 0);
  check_count(r.eval_epochs, "--eval-epochs", 0);
  check_count(r.num_eval, "--num-eval", 0);
  check_flag(r.eval_every >= 0, "--eval-every", r.eval_every, "an integer ≥ 0 (0: only at the end)");
  check_flag(r.checkpoint_every >= 0, "--checkpoint-every", r.checkpoint_every, "an integer ≥ 0 (0: only at the end)");
  check_rate(r.lr_img, "--lr-img");
  check_rate(r.lr_net, "--lr-net");

  CondenseConfig c;
  c.method = m.name;
  c.preset = r.preset;
  c.dataset = data.name;
  c.ipc = r.ipc;
  const int64_t h = data.height, w = data.width;
  if (m.lowrank) {
    c.rank = r.rank.value_or(data.name == "TinyImageNet" ? 4 : 2);
    std::ostringstream allowed;
    allowed << "1 ≤ rank < min(H, W) = " << std::min(h, w) << " for " << data.name << "'s " << h << "×" << w
            << " images";
    check_flag(c.rank >= 1 && c.rank < std::min(h, w), "--rank", c.rank, allowed.str().c_str());
    c.budget = parse_budget(r.budget.value_or("same-memory"));
    c.images_per_class = lowrank_images_per_class(c.ipc, h, w, c.rank, c.budget);
  } else {
    LOCO_CHECK(!r.rank, "--rank is for the low-rank methods (lodm, lodc, lodsa), not ", m.name);
    LOCO_CHECK(!r.budget, "--budget is for the low-rank methods (lodm, lodc, lodsa), not ", m.name);
    c.images_per_class = c.ipc;
  }
  {
    const int64_t per_image = m.lowrank ? data.channels * c.rank * (h + w) : data.channels * h * w;
    const int64_t floats = mul_sat(mul_sat(c.images_per_class, data.classes), per_image);
    std::ostringstream allowed;
    allowed << "a set of at most " << (kMaxSetFloats >> 28) << " GiB; this one would hold " << c.images_per_class
            << " images per class × " << data.classes << " classes";
    check_flag(floats <= kMaxSetFloats, "--ipc", c.ipc, allowed.str().c_str());
  }
  c.iterations = r.iterations.value_or(paper ? m.paper_iterations : 200);
  c.lr_img = r.lr_img.value_or(m.lr_img);
  c.batch_real = r.batch_real.value_or(paper ? 256 : 64);
  c.max_batch = r.max_batch.value_or(0);
  c.init = r.init ? parse_init(*r.init) : m.init;
  if (r.dsa_strategy) {
    c.dsa_strategy = *r.dsa_strategy == "none" ? "" : *r.dsa_strategy;
    try {
      DsaStrategy::parse(c.dsa_strategy);
    } catch (const Error& e) {
      LOCO_FAIL("--dsa-strategy: ", e.what());
    }
  } else if (m.dsa) {
    c.dsa_strategy = default_dsa_strategy(data.name);
  }
  c.model = r.model.value_or("ConvNet");
  check_network(c.model, "--model", data, m.objective == ObjectiveKind::distribution);
  if (m.objective == ObjectiveKind::gradient) {
    std::pair<int64_t, int64_t> loops{r.outer_loop.value_or(0), r.inner_loop.value_or(0)};
    if (!r.outer_loop || !r.inner_loop) {
      const auto ref = gradient_matching_loops(c.ipc);  // the user's ipc, as the reference
      if (!r.outer_loop) loops.first = ref.first;
      if (!r.inner_loop) loops.second = ref.second;
    }
    c.gm = {.outer_loop = loops.first, .inner_loop = loops.second, .metric = r.metric.value_or("ours"),
            .lr_net = r.lr_net.value_or(0.01)};
    try {
      parse_gm_metric(c.gm.metric);
    } catch (const Error& e) {
      LOCO_FAIL("--metric: ", e.what());
    }
  } else {
    LOCO_CHECK(!r.outer_loop && !r.inner_loop && !r.metric && !r.lr_net,
               "--outer-loop, --inner-loop, --metric and --lr-net are for gradient matching (dc, dsa, lodc, lodsa), not ",
               m.name);
  }
  if (m.objective == ObjectiveKind::trajectory) {
    LOCO_CHECK(!r.batch_real && !r.max_batch, "--batch-real and --max-batch are for distribution and gradient matching, not ",
               m.name, " (its student steps take --batch-syn synthetic images)");
    LOCO_CHECK(r.experts && !r.experts->empty(), "--experts DIR is needed by ", m.name,
               " (make the trajectories with loco experts)");
    check_count(r.syn_steps, "--syn-steps", 1);
    check_count(r.expert_epochs, "--expert-epochs", 1);
    check_count(r.max_start_epoch, "--max-start-epoch", 1);
    check_count(r.batch_syn, "--batch-syn", 0);
    check_count(r.segment, "--segment", 0);
    check_rate(r.lr_lr, "--lr-lr");
    check_rate(r.lr_teacher, "--lr-teacher");
    TrajectoryOptions& t = c.mtt;
    t.experts = *r.experts;
    t.syn_steps = r.syn_steps.value_or(paper ? 50 : 20);
    t.expert_epochs = r.expert_epochs.value_or(2);
    t.max_start_epoch = r.max_start_epoch.value_or(paper ? 5 : 2);
    t.batch_syn = r.batch_syn.value_or(0);
    t.lr_lr = r.lr_lr.value_or(m.lowrank ? 1e-7 : 1e-5);
    t.lr_teacher = r.lr_teacher.value_or(0.01);
    t.unroll = parse_unroll(r.unroll.value_or("full"));
    t.segment = r.segment.value_or(0);
    // The experts must fit the student before anything is written (headers only).
    Generator g(0, 0);
    const auto net = models::make_network(c.model, data.channels, data.classes, data.height, g);
    ExpertSet::open(t.experts, *net, c.model, data, t.max_start_epoch - 1 + t.expert_epochs);
  } else {
    LOCO_CHECK(!r.experts && !r.unroll && !r.syn_steps && !r.expert_epochs && !r.max_start_epoch && !r.batch_syn &&
                   !r.segment && !r.lr_lr && !r.lr_teacher,
               "--experts, --syn-steps, --expert-epochs, --max-start-epoch, --batch-syn, --unroll, --segment, --lr-lr "
               "and --lr-teacher are for trajectory matching (mtt, lomtt), not ",
               m.name);
  }

  // Evaluation (spec/evaluation.md §1): the augmentation the method's reference script uses,
  // then the epochs that go with it.
  const std::string eval_model = r.eval_model.value_or("ConvNet");
  check_network(eval_model, "--eval-model", data, false);
  const std::string aug = r.eval_aug ? *r.eval_aug
                          : m.objective == ObjectiveKind::gradient ? (m.dsa ? "dsa" : "dc")
                          : c.dsa_strategy.empty()                 ? "dc"  // main_DM.py: get_daparam
                                                                   : "dsa";
  TrainSchedule probe;
  try {
    probe = evaluation_schedule(aug, 0, data.name, eval_model, c.dsa_strategy);
  } catch (const Error& e) {
    LOCO_FAIL("--eval-aug: ", e.what());
  }
  const bool augmented = !probe.dsa.none() || probe.dc_aug != "none";
  probe.epochs = r.eval_epochs.value_or(paper ? (augmented ? 1000 : 300) : 300);
  probe.standardise = r.eval_standardise;
  const int64_t paper_nets = m.objective == ObjectiveKind::trajectory ? 5 : 20;
  c.eval = {.model = eval_model, .num_eval = r.num_eval.value_or(paper ? paper_nets : 3), .train = probe};
  c.eval_aug = augmentation_name(probe);
  c.eval_every = r.eval_every;
  c.checkpoint_every = r.checkpoint_every;
  c.seed = r.seed;
  c.device = r.device;
  return c;
}

ExpertPlan resolve_experts(const ExpertRequest& r, const DatasetInfo& data) {
  LOCO_CHECK(r.preset == "paper" || r.preset == "cpu-quick", "--preset: expected paper or cpu-quick, got '", r.preset,
             "'");
  const bool paper = r.preset == "paper";
  check_count(r.num_experts, "--num-experts", 1);
  check_count(r.epochs, "--epochs", 1);
  check_count(r.batch, "--batch", 1);
  check_rate(r.lr_teacher, "--lr-teacher");
  check_flag(r.first >= 0, "--first", r.first, "an integer ≥ 0");
  ExpertPlan p{.first = r.first, .count = r.num_experts.value_or(paper ? 100 : 3)};
  ExpertOptions& o = p.options;
  o.model = r.model.value_or("ConvNet");
  check_network(o.model, "--model", data, false);
  o.epochs = r.epochs.value_or(paper ? 50 : 4);
  o.lr_teacher = r.lr_teacher.value_or(0.01);
  o.batch = r.batch.value_or(256);
  o.dsa_strategy = r.dsa_strategy ? (*r.dsa_strategy == "none" ? "" : *r.dsa_strategy) : default_dsa_strategy(data.name);
  try {
    DsaStrategy::parse(o.dsa_strategy);
  } catch (const Error& e) {
    LOCO_FAIL("--dsa-strategy: ", e.what());
  }
  o.seed = r.seed;
  o.device = r.device;
  return p;
}

EvalOptions resolve_gdumb(const GdumbRequest& r, const DatasetInfo& data) {
  LOCO_CHECK(r.preset == "paper" || r.preset == "cpu-quick", "--preset: expected paper or cpu-quick, got '", r.preset,
             "'");
  const bool paper = r.preset == "paper";
  check_count(r.eval_epochs, "--eval-epochs", 0);
  check_count(r.num_eval, "--num-eval", 1);
  check_network(r.model, "--model", data, false);
  return {.model = r.model, .num_eval = r.num_eval.value_or(paper ? 3 : 1),
          .train = evaluation_schedule("dsa", r.eval_epochs.value_or(paper ? 1000 : 300), data.name, r.model)};
}

EvalDefaults eval_defaults(Evaluated what) {
  return what == Evaluated::small_set ? EvalDefaults{.epochs = 300, .num_eval = 3}
                                      : EvalDefaults{.epochs = 20, .num_eval = 1};
}

EvalOptions resolve_eval(const EvalRequest& r, const DatasetInfo& data, Evaluated what) {
  check_count(r.epochs, "--epochs", 0);
  check_count(r.num_eval, "--num-eval", 1);
  check_rate(r.lr, "--lr");
  const EvalDefaults d = eval_defaults(what);
  EvalOptions o{.model = r.model.value_or("ConvNet"), .num_eval = r.num_eval.value_or(d.num_eval),
                .seed = r.seed, .device = r.device};
  check_network(o.model, "--model", data, false);
  try {
    o.train = evaluation_schedule(r.aug.value_or("dsa"), r.epochs.value_or(d.epochs), data.name, o.model,
                                  r.condensed_with);
  } catch (const Error& e) {
    LOCO_FAIL("--aug: ", e.what());
  }
  o.train.standardise = r.standardise;
  // A trajectory-matching set is evaluated at its learned syn_lr, as main_MTT.py does.
  if (r.lr) o.train.lr = *r.lr;
  else if (r.syn_lr) {
    LOCO_CHECK(std::isfinite(*r.syn_lr) && *r.syn_lr > 0, "the set's syn_lr ", *r.syn_lr, " is not a learning rate");
    o.train.lr = *r.syn_lr;
  }
  return o;
}

}  // namespace loco::condense
