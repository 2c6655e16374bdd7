// loco condense: a method (dm, dc, dsa, lodm, lodc, lodsa) on a dataset, by preset or by flag,
// into a run directory (condense/driver.h does the work).
#include <memory>

#include "condense/driver.h"
#include "tools/cli.h"

namespace loco::cli {
namespace {

struct Flags {
  std::string method;
  DataFlags data;
  int64_t ipc = 0;
  int64_t rank = 0;
  std::string budget = "same-memory";
  std::string preset = "cpu-quick";
  int64_t iterations = -1, batch_real = -1, outer = -1, inner = -1, eval_epochs = -1, num_eval = -1;
  double lr_img = -1, lr_net = 0.01;
  std::string init, dsa_strategy, model = "ConvNet", metric = "ours", eval_model = "ConvNet", eval_aug;
  int64_t eval_every = 0, checkpoint_every = 10, stop_after = 0;
  CommonFlags common;
  std::string resume;
};

// The preset's value unless the flag was given (flags left at −1 / "" were not).
condense::CondenseConfig resolve(const Flags& f, const condense::Dataset& train) {
  const condense::MethodSpec& m = condense::method_spec(f.method);
  const bool paper = f.preset == "paper";
  LOCO_CHECK(paper || f.preset == "cpu-quick", "--preset: expected paper or cpu-quick, got '", f.preset, "'");
  condense::CondenseConfig c;
  c.method = m.name;
  c.dataset = train.name;
  c.ipc = f.ipc;
  LOCO_CHECK(c.ipc >= 1, "--ipc must be at least 1, got ", c.ipc);
  const int64_t h = train.images.dim(2), w = train.images.dim(3);
  if (m.lowrank) {
    c.rank = f.rank > 0 ? f.rank : (train.name == "TinyImageNet" ? 4 : 2);
    LOCO_CHECK(c.rank < std::min(h, w), "--rank ", c.rank, " must be below min(H, W) = ", std::min(h, w), " for ",
               train.name, "'s ", h, "×", w, " images");
    c.budget = condense::parse_budget(f.budget);
    c.images_per_class = condense::lowrank_images_per_class(c.ipc, h, w, c.rank, c.budget);
  } else {
    LOCO_CHECK(f.rank == 0, "--rank is for the low-rank methods (lodm, lodc, lodsa), not ", m.name);
    c.images_per_class = c.ipc;
  }
  c.iterations = f.iterations >= 0 ? f.iterations : paper ? m.paper_iterations : 200;
  c.lr_img = f.lr_img >= 0 ? f.lr_img : m.lr_img;
  c.batch_real = f.batch_real > 0 ? f.batch_real : paper ? 256 : 64;
  c.init = f.init.empty() ? m.init : condense::parse_init(f.init);
  c.dsa_strategy = !f.dsa_strategy.empty() ? (f.dsa_strategy == "none" ? "" : f.dsa_strategy)
                   : m.dsa             ? default_dsa_strategy(train.name)
                                       : "";
  condense::DsaStrategy::parse(c.dsa_strategy);  // an unknown family fails here, before any work
  c.model = f.model;
  if (!m.distribution) {
    auto loops = (f.outer > 0 && f.inner >= 0) ? std::pair<int64_t, int64_t>{f.outer, f.inner}
                                               : condense::gradient_matching_loops(c.ipc);  // the user's ipc, as the reference
    c.gm = {.outer_loop = f.outer > 0 ? f.outer : loops.first, .inner_loop = f.inner >= 0 ? f.inner : loops.second,
            .metric = f.metric, .lr_net = f.lr_net};
  }
  // Evaluation: the reference's augmentation and epochs for the method (spec/evaluation.md §1).
  c.eval_aug = !f.eval_aug.empty() ? f.eval_aug : m.eval_aug;
  EvalFlags ef{.model = f.eval_model, .epochs = f.eval_epochs >= 0 ? f.eval_epochs : paper ? m.paper_eval_epochs : 300,
               .num_eval = f.num_eval >= 0 ? f.num_eval : paper ? 20 : 3, .aug = c.eval_aug};
  if (paper && f.eval_epochs < 0 && m.eval_aug == "dc" && train.name == "MNIST") ef.epochs = 1000;  // DC on MNIST
  c.eval = {.model = ef.model, .num_eval = ef.num_eval, .train = schedule_from(ef, train.name)};
  c.eval_every = f.eval_every;
  c.checkpoint_every = f.checkpoint_every;
  c.seed = f.common.seed;
  return c;
}

}  // namespace

condense::CondenseConfig condense_defaults(const std::string& method, const std::string& preset, int64_t ipc,
                                           int64_t rank, const condense::Dataset& train) {
  Flags f;
  f.method = method;
  f.preset = preset;
  f.ipc = ipc;
  f.rank = condense::method_spec(method).lowrank ? rank : 0;
  return resolve(f, train);
}

Command add_condense(CLI::App& parent) {
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("condense", "Condense a dataset into a small synthetic set (DM, DC, DSA, LoDM, LoDC, LoDSA)");
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // `loco demo --out X` overrides
  app->footer(
      "Examples:\n"
      "  loco condense --method lodm --ipc 10                      # LoDM, same memory as 10 images/class, cpu-quick\n"
      "  loco condense --method dc --ipc 1 --preset paper --dataset MNIST --data-dir ../shared/data/mnist\n"
      "  loco condense --method lodm --ipc 10 --budget same-images --rank 4 --out runs/lodm-si\n"
      "Presets: cpu-quick = 200 iterations, batch_real 64, evaluation 300 epochs × 3 networks;\n"
      "         paper = 20000 (DM) / 1000 (DC, DSA) iterations, batch_real 256, evaluation 1000 epochs × 20\n"
      "         networks (DC, LoDC: 300 epochs, MNIST 1000). Any flag above overrides its preset value.");
  app->add_option("--method", f->method, "dm, dc, dsa, lodm, lodc or lodsa")->required();
  add_data_flags(app, f->data);
  app->add_option("--ipc", f->ipc, "Memory budget: that of K full images per class")->required();
  app->add_option("--rank", f->rank, "Low-rank methods: the rank r of each channel's A·B (default 2; 4 for TinyImageNet)");
  app->add_option("--budget", f->budget,
                  "Low-rank methods: same-memory (⌊K·H·W/(r·(H+W))⌋ images per class) or same-images (K)")
      ->capture_default_str();
  app->add_option("--preset", f->preset, "paper or cpu-quick (see below)")->capture_default_str();
  app->add_option("--iterations", f->iterations, "Outer iterations (default: the preset's)");
  app->add_option("--lr-img", f->lr_img, "Learning rate of the synthetic data (default: 1.0 DM, 0.1 DC/DSA)");
  app->add_option("--batch-real", f->batch_real, "Real images per class per match (default: the preset's)");
  app->add_option("--init", f->init, "noise or real (default: real for DM/LoDM, noise for DC/DSA; real low rank = truncated SVD)");
  app->add_option("--dsa-strategy", f->dsa_strategy,
                  "DSA families during condensation, or none (default: the dataset's strategy for dm, lodm, dsa, lodsa)");
  app->add_option("--model", f->model, "Network the objective uses")->capture_default_str();
  app->add_option("--outer-loop", f->outer, "Gradient matching: outer steps (default: the reference's get_loops(ipc))");
  app->add_option("--inner-loop", f->inner, "Gradient matching: network epochs between matches (default: get_loops)");
  app->add_option("--metric", f->metric, "Gradient matching distance: ours, mse or cos")->capture_default_str();
  app->add_option("--lr-net", f->lr_net, "Gradient matching: learning rate of the network")->capture_default_str();
  app->add_option("--eval-model", f->eval_model, "Network of the evaluation")->capture_default_str();
  app->add_option("--eval-epochs", f->eval_epochs, "Evaluation E (E+1 epochs; default: the preset's)");
  app->add_option("--num-eval", f->num_eval, "Evaluation networks (0: no evaluation; default: the preset's)");
  app->add_option("--eval-aug", f->eval_aug, "Evaluation augmentation: dsa, dc, none or a DSA strategy (default: the method's)");
  app->add_option("--eval-every", f->eval_every, "Also evaluate every N iterations (0: only at the end)")->capture_default_str();
  app->add_option("--checkpoint-every", f->checkpoint_every, "Write the checkpoint every N iterations")->capture_default_str();
  app->add_option("--resume", f->resume, "Continue the run in DIR (an interrupted one, or extend a finished one); give the same flags");
  app->add_option("--stop-after", f->stop_after, "Stop (as if interrupted) after N iterations; for testing --resume");
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            if (!f->resume.empty()) {
              LOCO_CHECK(f->common.out.empty() || f->common.out == f->resume, "--resume ", f->resume, " and --out ",
                         f->common.out, " name different runs");
              f->common.out = f->resume;
            }
            auto data = load_data(f->data);
            condense::CondenseConfig c = resolve(*f, data.train);
            c.device = dev;
            const std::string out =
                f->common.out.empty() ? "runs/" + c.method + "-" + data.train.name + "-ipc" + std::to_string(c.ipc) +
                                            (c.rank ? "-r" + std::to_string(c.rank) : "") + "-s" + std::to_string(c.seed)
                                      : f->common.out;
            condense::RunDir run = f->resume.empty() ? condense::RunDir(out, f->common.force, /*keep_partial=*/true)
                                                     : condense::RunDir::resume(out, "checkpoint.safetensors");
            const int64_t full = data.train.classes * c.ipc * (data.train.images.numel() / data.train.images.dim(0));
            std::printf("condense: %s, %lld images per class%s, %lld iterations, init %s, dsa %s, seed %llu\n",
                        c.method.c_str(), static_cast<long long>(c.images_per_class),
                        c.rank ? (" (rank " + std::to_string(c.rank) + ", " + condense::budget_name(c.budget) + ")").c_str() : "",
                        static_cast<long long>(c.iterations), condense::init_name(c.init),
                        c.dsa_strategy.empty() ? "off" : c.dsa_strategy.c_str(), static_cast<unsigned long long>(c.seed));
            ProgressPrinter bar;
            condense::CondenseHooks hooks{.progress = [&](const condense::Progress& p) { bar(p); },
                                          .note = [&](const std::string& s) { bar.finish(); std::printf("%s\n", s.c_str()); },
                                          .stop_after = f->stop_after};
            condense::CondenseOutcome r;
            try {
              r = condense::condense(c, data, run, !f->resume.empty(), hooks);
            } catch (...) {
              bar.finish();
              std::fflush(stdout);
              std::fprintf(stderr, "loco: the run so far is in %s.partial; continue it with --resume %s\n", out.c_str(),
                           out.c_str());
              throw;
            }
            bar.finish();
            const int64_t floats = r.set->floats_stored();
            r.set->save(run, {{"method", c.method}, {"dataset", data.train.name}, {"ipc", std::to_string(c.ipc)},
                              {"rank", std::to_string(c.rank)}, {"kind", r.set->kind()}},
                        data.train.mean, data.train.std);
            condense::Json report = {{"command", "condense"},
                                     {"config", c.to_json()},
                                     {"dataset", dataset_json(data.train)},
                                     {"images_per_class", c.images_per_class},
                                     {"floats_stored", floats},
                                     {"bytes_stored", floats * 4},
                                     {"full_pixel_floats", full},
                                     {"ratio_to_full_pixels", static_cast<double>(floats) / static_cast<double>(full)}};
            if (c.rank && c.budget == condense::Budget::same_memory)
              report["reference_code_images_per_class"] = condense::lowrank_images_per_class_reference(
                  c.ipc, data.train.images.dim(2), data.train.images.dim(3), c.rank);
            report["last_loss"] = r.last_loss;
            double eval_s = 0;
            condense::Json history = condense::Json::array();
            for (const auto& e : r.evaluations) {
              condense::Json j = eval_json(e.result);
              j["iteration"] = e.iteration;
              history.push_back(j);
              eval_s += e.result.seconds;
            }
            if (!r.evaluations.empty()) report["evaluation"] = eval_json(r.evaluations.back().result);
            report["evaluations"] = history;
            report["timings"] = {{"condense_seconds", r.condense_seconds}, {"eval_seconds", eval_s},
                                 {"resumed_at_iteration", r.start_iteration}};
            run.write_json("report.json", report);
            run.commit();
            std::printf("\nloco condense: %s on %s\n", c.method.c_str(), data.train.name.c_str());
            if (!r.evaluations.empty()) {
              const auto& e = r.evaluations.back().result;
              std::printf("  accuracy        %s (%s, %lld networks, %lld epochs)\n", percent(e.mean, e.std).c_str(),
                          e.model.c_str(), static_cast<long long>(e.accuracies.size()),
                          static_cast<long long>(e.epochs + 1));
            }
            std::printf("  images/class    %lld%s\n", static_cast<long long>(c.images_per_class),
                        c.rank ? (" (rank " + std::to_string(c.rank) + ")").c_str() : "");
            std::printf("  stored          %s (%lld floats; %.3f × the %lld full images of --ipc %lld)\n",
                        format_bytes(floats * 4).c_str(), static_cast<long long>(floats),
                        static_cast<double>(floats) / static_cast<double>(full),
                        static_cast<long long>(data.train.classes * c.ipc), static_cast<long long>(c.ipc));
            std::printf("  time            condense %.0f s, evaluation %.0f s\n", r.condense_seconds, eval_s);
            std::printf("  files           %s/{synset.safetensors, grid.png, report.json, log.jsonl, checkpoint.safetensors}\n",
                        out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
