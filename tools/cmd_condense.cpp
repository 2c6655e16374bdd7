// loco condense: a method (dm, dc, dsa, lodm, lodc, lodsa, mtt, lomtt) on a dataset, by preset or by flag,
// into a run directory. The flags become a CondenseRequest; condense/presets.h resolves and
// checks it, condense/driver.h does the work.
#include <limits>
#include <memory>

#include "condense/driver.h"
#include "condense/rank_auto.h"
#include "engine/autograd/tape.h"
#include "engine/ops/layout.h"
#include "tools/cli.h"
#include "tools/set_grid.h"

namespace loco::cli {
namespace {

constexpr const char* kRankProxy =
    "1-NN accuracy on held-out real training images of the real-initialised set (n(r) truncated-SVD images "
    "per class) each rank affords at this memory; highest wins, ties to the lower rank";

// --rank auto: runs the proxy and prints each candidate and why the winner won.
condense::RankChoice choose_and_explain_rank(const condense::Dataset& train, const condense::CondenseConfig& c) {
  const condense::ClassIndex index(train.labels, train.classes);
  const condense::RankChoice ch = condense::choose_rank(
      train, index, c.ipc, c.seed,
      c.init == condense::Init::real ? index.smallest_class() : std::numeric_limits<int64_t>::max());
  std::printf("rank auto: %s (%lld held out per class)\n", kRankProxy, static_cast<long long>(ch.held_out_per_class));
  std::printf("  rank  images/class  energy kept  1-NN accuracy\n");
  for (const auto& k : ch.candidates)
    std::printf("  %4lld  %12lld  %10.1f %%  %12.1f %%%s\n", static_cast<long long>(k.rank),
                static_cast<long long>(k.images_per_class), 100 * k.energy, 100 * k.nn_accuracy,
                k.rank == ch.rank ? "  <- chosen" : "");
  return ch;
}

// strip.png from the snapshots: class-major, so set_grid's rows are the classes and its
// columns the iterations in order.
void save_strip(const std::string& path, const std::vector<Tensor>& snaps, const std::vector<int64_t>& iterations,
                const condense::DatasetInfo& info, const condense::Dataset& train, const std::string& title) {
  const int64_t k = snaps.front().dim(0);
  std::vector<int64_t> order, labels;
  for (int64_t c = 0; c < k; ++c)
    for (size_t s = 0; s < snaps.size(); ++s) order.push_back(static_cast<int64_t>(s) * k + c), labels.push_back(c);
  const Tensor all = gather_rows(concat(snaps), condense::index_tensor(order));
  std::string cols;
  for (size_t s = 0; s < iterations.size() && s < 32; ++s) cols += (s ? ", " : "") + std::to_string(iterations[s]);
  save_set_grid(path, all, condense::index_tensor(labels), info, train.mean, train.std,
                {.title = title + "; first image of each class at iterations " + cols});
}

condense::Json rank_choice_json(const condense::RankChoice& ch) {
  condense::Json cands = condense::Json::array();
  for (const auto& k : ch.candidates)
    cands.push_back({{"rank", k.rank}, {"images_per_class", k.images_per_class}, {"energy", k.energy},
                     {"nn_accuracy", k.nn_accuracy}});
  return {{"proxy", kRankProxy}, {"chosen", ch.rank}, {"held_out_per_class", ch.held_out_per_class},
          {"candidates", cands}};
}

}  // namespace

Command add_condense(CLI::App& parent) {
  struct Flags {
    condense::CondenseRequest req;
    DataFlags data;
    CommonFlags common;
    std::string resume;
    int64_t stop_after = 0;
    bool dry_run = false;
    int64_t grid_every = 0;
    std::optional<std::string> rank;  // an integer, or "auto" (condense/rank_auto.h)
  };
  auto f = std::make_shared<Flags>();
  condense::CondenseRequest& q = f->req;
  CLI::App* app = parent.add_subcommand(
      "condense", "Condense a dataset into a small synthetic set (DM, DC, DSA, MTT and their low-rank versions)");
  app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // `loco demo --out X` overrides
  app->footer(
      "Examples:\n"
      "  loco condense --method lodm --ipc 10                      # LoDM, same memory as 10 images/class, cpu-quick\n"
      "  loco condense --method dc --ipc 1 --preset paper --dataset MNIST --data-dir ../shared/data/mnist\n"
      "  loco condense --method lodm --ipc 10 --budget same-images --rank 4 --out runs/lodm-si\n"
      "  loco condense --method lomtt --ipc 1 --experts runs/experts-FashionMNIST-ConvNet   # after loco experts\n"
      "Presets: cpu-quick = 200 iterations, batch_real 64, evaluation 300 epochs × 3 networks;\n"
      "         paper = 20000 (DM) / 1000 (DC, DSA) iterations, batch_real 256, evaluation × 20 networks\n"
      "         for 1000 epochs when the evaluation augments (DSA, or DC's augment), else 300.\n"
      "MTT/LoMTT: cpu-quick = syn_steps 20, expert_epochs 2, max_start_epoch 2, 200 iterations, evaluation\n"
      "         300 epochs × 3 at the learned syn_lr; paper = syn_steps 50, max_start_epoch 5, lr_lr 1e-5 (MTT)\n"
      "         / 1e-7 (LoMTT), 5000 iterations, evaluation 1000 epochs × 5. Every student step takes all images.\n"
      "Evaluation augmentation (the reference's): the DSA strategy the set was condensed with; DC's augment\n"
      "for dc, lodc, and for dm/lodm with --dsa-strategy none. Any flag above overrides its preset value.");
  app->add_option("--method", q.method, "dm, dc, dsa, mtt, lodm, lodc, lodsa or lomtt")->required();
  add_data_flags(app, f->data, true);
  app->add_option("--ipc", q.ipc, "Memory budget: that of K full images per class")->required();
  add_optional(app, "--rank", f->rank,
               "Low-rank methods: the rank r of each channel's A·B (default 2; 4 for TinyImageNet), or auto: the "
               "rank whose initial set best classifies held-out real images by 1-NN at this memory (same-memory "
               "budget; see the README)");
  add_optional(app, "--budget", q.budget,
               "Low-rank methods: same-memory (⌊K·H·W/(r·(H+W))⌋ images per class, the default) or same-images (K)");
  app->add_option("--preset", q.preset, "paper or cpu-quick (see below)")->capture_default_str();
  add_optional(app, "--iterations", q.iterations, "Outer iterations (default: the preset's)");
  add_optional(app, "--lr-img", q.lr_img, "Learning rate of the synthetic data (default: 1.0 DM, 0.1 DC/DSA, 1000 MTT)");
  add_optional(app, "--batch-real", q.batch_real,
               "Real images per class per match (default: the preset's; a class with fewer gives all it has)");
  add_optional(app, "--max-batch", q.max_batch,
               "Distribution matching: real images per embedding pass, in whole classes (default 0: as many as "
               "about 1 GiB of activations holds); bounds memory, not results");
  add_optional(app, "--init", q.init, "noise or real (default: real for DM/LoDM, noise for DC/DSA; real low rank = truncated SVD)");
  add_optional(app, "--dsa-strategy", q.dsa_strategy,
               "DSA families during condensation, or none (default: the dataset's strategy for dm, lodm, dsa, lodsa)");
  add_optional(app, "--model", q.model, "Network the objective uses (default ConvNet)");
  add_optional(app, "--outer-loop", q.outer_loop, "Gradient matching: outer steps (default: the reference's get_loops(ipc))");
  add_optional(app, "--inner-loop", q.inner_loop, "Gradient matching: network epochs between matches (default: get_loops)");
  add_optional(app, "--metric", q.metric, "Gradient matching distance: ours (default), mse or cos");
  add_optional(app, "--lr-net", q.lr_net, "Gradient matching: learning rate of the network (default 0.01)");
  add_optional(app, "--experts", q.experts, "MTT/LoMTT: folder of expert trajectories (loco experts --out)");
  add_optional(app, "--syn-steps", q.syn_steps, "MTT/LoMTT: student steps unrolled per iteration (default: the preset's)");
  add_optional(app, "--expert-epochs", q.expert_epochs, "MTT/LoMTT: epochs of the expert the student must cover (default 2)");
  add_optional(app, "--max-start-epoch", q.max_start_epoch,
               "MTT/LoMTT: the start epoch is drawn from [0, N) (default: the preset's)");
  add_optional(app, "--batch-syn", q.batch_syn, "MTT/LoMTT: synthetic images per student step (default 0: all of them)");
  add_optional(app, "--lr-lr", q.lr_lr, "MTT/LoMTT: learning rate of the learnable syn_lr (default 1e-5 MTT, 1e-7 LoMTT)");
  add_optional(app, "--lr-teacher", q.lr_teacher, "MTT/LoMTT: syn_lr's starting value (default 0.01)");
  add_optional(app, "--unroll", q.unroll,
               "MTT/LoMTT: full (one graph of all steps) or checkpoint (segments of about √steps recomputed in the "
               "backward: the same gradient in a fraction of the memory)");
  add_optional(app, "--segment", q.segment, "MTT/LoMTT with --unroll checkpoint: steps per segment (default ⌈√steps⌉)");
  app->add_flag("--eval-standardise", q.eval_standardise,
                "Standardise every evaluation batch ((x − mean)/std over the batch), as the PAPER MTT evaluation does");
  add_optional(app, "--eval-model", q.eval_model, "Network of the evaluation (default ConvNet)");
  add_optional(app, "--eval-epochs", q.eval_epochs, "Evaluation E (E+1 epochs; default: the preset's)");
  add_optional(app, "--num-eval", q.num_eval, "Evaluation networks (0: no evaluation; default: the preset's)");
  add_optional(app, "--eval-aug", q.eval_aug,
               "Evaluation augmentation: dsa, dc, none or a DSA strategy (default: the method's, see below)");
  app->add_option("--eval-every", q.eval_every, "Also evaluate at iteration 0 and every N iterations (0: only at the end)")
      ->capture_default_str();
  app->add_option("--grid-every", f->grid_every,
                  "Also draw the set every N iterations (and at iteration 0) into grid-<iteration>.png, and each "
                  "class's first image at every one of them into strip.png (0: only the final grid.png)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_option("--checkpoint-every", q.checkpoint_every, "Write the checkpoint every N iterations")->capture_default_str();
  app->add_option("--resume", f->resume, "Continue the run in DIR (an interrupted one, or extend a finished one); give the same flags");
  app->add_option("--stop-after", f->stop_after, "Stop (as if interrupted) after N iterations; for testing --resume");
  app->add_flag("--dry-run", f->dry_run,
                "Check every flag and print the resolved configuration (JSON), reading and writing nothing");
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            condense::CondenseRequest req = f->req;
            req.device = resolve_device(f->common);
            req.seed = f->common.seed;
            const bool rank_auto = f->rank && *f->rank == "auto";
            if (f->rank && !rank_auto) req.rank = condense::parse_int(*f->rank, "--rank (an integer, or auto)");
            if (rank_auto) {
              LOCO_CHECK(condense::method_spec(req.method).lowrank, "--rank auto is for the low-rank methods (lodm, lodc, lodsa, lomtt), not ",
                         req.method);
              LOCO_CHECK(!req.budget || *req.budget == "same-memory",
                         "--rank auto chooses the rank for a fixed memory: it needs --budget same-memory (the default), not ",
                         *req.budget);
            }
            if (!f->resume.empty()) {
              LOCO_CHECK(f->common.out.empty() || f->common.out == f->resume, "--resume ", f->resume, " and --out ",
                         f->common.out, " name different runs");
              f->common.out = f->resume;
            }
            // Every flag is checked before the data is read and before anything is written.
            condense::CondenseConfig c = condense::resolve_condense(req, condense::dataset_info(f->data.dataset));
            if (f->dry_run) {
              condense::Json j = c.to_json();
              if (rank_auto) j["rank"] = "auto";  // chosen from the images, which a dry run does not read
              std::printf("%s\n", j.dump(2).c_str());
              return 0;
            }
            auto data = load_data(f->data);
            std::optional<condense::RankChoice> chosen;
            if (rank_auto) {
              chosen = choose_and_explain_rank(data.train, c);
              req.rank = chosen->rank;
              c = condense::resolve_condense(req, condense::dataset_info(f->data.dataset));
            }
            const std::string out =
                f->common.out.empty() ? "runs/" + c.method + "-" + data.train.name + "-ipc" + std::to_string(c.ipc) +
                                            (c.rank ? "-r" + std::to_string(c.rank) : "") + "-s" + std::to_string(c.seed)
                                      : f->common.out;
            // Launched by mpirun, every rank condenses its share of the classes and rank 0 alone
            // writes: the others run the same loop with no run directory and return.
            if (!dist::is_root()) {
              condense::CondenseHooks hooks{.stop_after = f->stop_after, .snapshot_every = f->grid_every};
              condense::condense(c, data, nullptr, !f->resume.empty(), hooks);
              return 0;
            }
            condense::RunDir run = f->resume.empty() ? condense::RunDir(out, f->common.force, "checkpoint.safetensors")
                                                     : condense::RunDir::resume(out, "checkpoint.safetensors");
            const int64_t full = data.train.classes * c.ipc * data.train.channels() * data.train.height() * data.train.width();
            std::printf("condense: %s, %lld images per class%s, %lld iterations, init %s, dsa %s, seed %llu\n",
                        c.method.c_str(), static_cast<long long>(c.images_per_class),
                        c.rank ? (" (rank " + std::to_string(c.rank) + ", " + condense::budget_name(c.budget) + ")").c_str() : "",
                        static_cast<long long>(c.iterations), condense::init_name(c.init),
                        c.dsa_strategy.empty() ? "off" : c.dsa_strategy.c_str(), static_cast<unsigned long long>(c.seed));
            if (dist::size() > 1) {
              // Blocks differ by at most one class: the first is the smallest, the last the largest.
              const int64_t fewest = dist::share(data.train.classes, 0, dist::size()).size();
              const int64_t most = dist::share(data.train.classes, dist::size() - 1, dist::size()).size();
              std::printf("condense: %d ranks, %s classes each (classes shared out in blocks; rank 0 writes %s)\n",
                          dist::size(),
                          (std::to_string(fewest) + (most > fewest ? "–" + std::to_string(most) : "")).c_str(),
                          out.c_str());
            }
            ProgressPrinter bar;
            condense::CondenseHooks hooks{.progress = [&](const condense::Progress& p) { bar(p); },
                                          .note = [&](const std::string& s) { bar.finish(); std::printf("%s\n", s.c_str()); },
                                          .stop_after = f->stop_after};
            const condense::DatasetInfo& info = condense::dataset_info(data.train.name);
            const std::string set_title = c.method + (c.rank ? " r" + std::to_string(c.rank) : "") + ", " +
                                          data.train.name + ", " + std::to_string(c.images_per_class) + " images/class";
            auto draw = [&](const std::string& file, const condense::SyntheticSet& set, const std::string& title) {
              NoGradGuard no_grad;
              save_set_grid(run.path(file), set.images().detach(), set.labels(), info, data.train.mean, data.train.std,
                            {.title = title});
            };
            hooks.snapshot_every = f->grid_every;
            // Zero-padded to the width of the last iteration, so the files sort in order.
            const int digits = static_cast<int>(std::to_string(c.iterations).size());
            // Fig. 6's strip: each class's first image at every snapshot, a row per class.
            std::vector<Tensor> strip;  // [K, C, H, W] per snapshot, on the host
            std::vector<int64_t> strip_iterations;
            auto add_to_strip = [&](int64_t it, const condense::SyntheticSet& set) {
              NoGradGuard no_grad;
              std::vector<Tensor> firsts;
              for (int64_t k = 0; k < set.classes(); ++k) firsts.push_back(slice(set.class_images(k).detach(), 0, 1));
              strip.push_back(concat(firsts).to(Device::cpu));
              strip_iterations.push_back(it);
            };
            hooks.snapshot = [&](int64_t it, const condense::SyntheticSet& set) {
              char name[48];
              std::snprintf(name, sizeof name, "grid-%0*lld.png", digits, static_cast<long long>(it));
              draw(name, set, set_title + ", iteration " + std::to_string(it));
              add_to_strip(it, set);
            };
            explain_interrupts(run.path("checkpoint.safetensors"),
                               "\nloco: interrupted; " + out + ".partial keeps the last checkpoint (every " +
                                   std::to_string(c.checkpoint_every) +
                                   " iterations): continue with the same flags and --resume " + out + "\n",
                               "\nloco: interrupted before the first checkpoint; there is nothing to resume\n");
            condense::CondenseOutcome r;
            try {
              r = condense::condense(c, data, &run, !f->resume.empty(), hooks);
            } catch (const OutOfMemory&) {
              bar.finish();  // main names the flags that bound memory; the same command would fail again
              throw;
            } catch (...) {
              bar.finish();
              std::fflush(stdout);
              if (run.resumable())
                std::fprintf(stderr, "loco: the run so far is in %s.partial; continue it with --resume %s\n",
                             out.c_str(), out.c_str());
              throw;
            }
            bar.finish();
            const int64_t floats = r.set->floats_stored();
            std::map<std::string, std::string> meta = {
                {"method", c.method}, {"dataset", data.train.name}, {"ipc", std::to_string(c.ipc)},
                {"rank", std::to_string(c.rank)}, {"kind", r.set->kind()}, {"model", c.model},
                {"dsa_strategy", c.dsa_strategy.empty() ? "none" : c.dsa_strategy}};
            if (r.learned_lr) meta["syn_lr"] = condense::Json(*r.learned_lr).dump();
            r.set->save(run, meta, data.train.mean, data.train.std);
            draw("grid.png", *r.set, set_title);
            if (f->grid_every > 0) {
              if (strip_iterations.empty() || strip_iterations.back() != c.iterations) add_to_strip(c.iterations, *r.set);
              save_strip(run.path("strip.png"), strip, strip_iterations, info, data.train, set_title);
            }
            condense::Json report = {{"command", "condense"},
                                     {"config", c.to_json()},
                                     {"dataset", dataset_json(data.train)},
                                     {"generated_data", f->data.generated},
                                     {"images_per_class", c.images_per_class},
                                     {"floats_stored", floats},
                                     {"bytes_stored", floats * 4},
                                     {"full_pixel_floats", full},
                                     {"ratio_to_full_pixels", static_cast<double>(floats) / static_cast<double>(full)}};
            if (c.rank && c.budget == condense::Budget::same_memory)
              report["reference_code_images_per_class"] = condense::lowrank_images_per_class_reference(
                  c.ipc, data.train.height(), data.train.width(), c.rank);
            if (chosen) report["rank_auto"] = rank_choice_json(*chosen);
            report["last_loss"] = r.last_loss;
            if (r.learned_lr) {
              report["syn_lr"] = *r.learned_lr;
              report["experts"] = {{"folder", c.mtt.experts}, {"used", r.experts}};
            }
            report["peak_rss_bytes"] = peak_rss_bytes();  // rank 0's, in a distributed run
            report["ranks"] = dist::size();
            report["compute"] = compute_json();
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
              std::printf("  accuracy        %s (%s, %lld networks, %lld epochs, lr %g, %s)\n",
                          percent(e.mean, e.std).c_str(), e.model.c_str(), static_cast<long long>(e.accuracies.size()),
                          static_cast<long long>(e.epochs + 1), e.lr, e.aug.c_str());
            }
            std::printf("  images/class    %lld%s\n", static_cast<long long>(c.images_per_class),
                        c.rank ? (" (rank " + std::to_string(c.rank) + ")").c_str() : "");
            std::printf("  stored          %s (%lld floats; %.3f × the %lld full images of --ipc %lld)\n",
                        format_bytes(floats * 4).c_str(), static_cast<long long>(floats),
                        static_cast<double>(floats) / static_cast<double>(full),
                        static_cast<long long>(data.train.classes * c.ipc), static_cast<long long>(c.ipc));
            std::printf("  time            condense %.0f s, evaluation %.0f s\n", r.condense_seconds, eval_s);
            std::printf("  files           %s/{synset.safetensors, grid.png, report.json, log.jsonl, checkpoint.safetensors%s}\n",
                        out.c_str(), f->grid_every > 0 ? ", grid-<iteration>.png, strip.png" : "");
            return 0;
          },
          "memory is bounded by --max-batch (distribution matching: real images per embedding pass), "
          "--batch-real, --ipc and the --model, and for MTT/LoMTT by --unroll checkpoint, --syn-steps and --batch-syn",
          true};
}

}  // namespace loco::cli
