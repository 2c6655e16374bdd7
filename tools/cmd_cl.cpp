// loco cl: class-incremental learning with GDumb and a memory filled by any method
// (cl/gdumb.h), a table of accuracy after each task, report.json and plot.png/plot.svg.
#include <memory>
#include <optional>
#include <sstream>

#include "cl/gdumb.h"
#include "dist/dist.h"
#include "tools/cli.h"
#include "tools/figure.h"

namespace loco::cli {

Command add_cl(CLI::App& parent) {
  struct Flags {
    DataFlags data;
    CommonFlags common;
    int64_t tasks = 5, memory = 10, seeds = 3, feature_epochs = 2;
    std::optional<int64_t> rank, iterations, batch_real;
    std::string methods = "random,herding,dm,lodm";
    condense::GdumbRequest gdumb;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("cl", "Class-incremental learning: GDumb on a memory filled by any method");
  app->footer(
      "Example: loco cl --tasks 5 --memory-per-class 10 --method random,herding,dm,lodm --seeds 3\n"
      "Presets: cpu-quick = condensation as loco condense's cpu-quick, GDumb 300 epochs × 1 network per step;\n"
      "         paper = condensation as its paper preset, GDumb 1000 epochs × 3 networks per step.");
  add_data_flags(app, f->data);
  app->add_option("--tasks", f->tasks, "Tasks of equally many classes (must divide the classes)")->capture_default_str();
  app->add_option("--memory-per-class", f->memory,
                  "Memory per class, in full images' bytes (low rank: the same-memory number of A·B images)")
      ->capture_default_str();
  app->add_option("--method", f->methods, "Comma-separated: random, herding, forgetting, dm, lodm, dc, dsa, lodc, lodsa")
      ->capture_default_str();
  app->add_option("--seeds", f->seeds, "Class orders 0..N−1 (numpy's, as the reference), each a full run")->capture_default_str();
  app->add_option("--preset", f->gdumb.preset, "cpu-quick or paper (see below)")->capture_default_str();
  add_optional(app, "--rank", f->rank, "Low-rank methods: rank r (default 2; 4 for TinyImageNet)");
  add_optional(app, "--iterations", f->iterations, "Condensation iterations per task (default: the preset's)");
  add_optional(app, "--batch-real", f->batch_real, "Condensation: real images per class per match (default: the preset's)");
  app->add_option("--feature-epochs", f->feature_epochs, "herding/forgetting: epochs of the task's feature network")
      ->capture_default_str();
  app->add_option("--model", f->gdumb.model, "GDumb's network (its classifier covers every class)")->capture_default_str();
  add_optional(app, "--eval-epochs", f->gdumb.eval_epochs, "GDumb's E (E+1 epochs per step; default: the preset's)");
  add_optional(app, "--num-eval", f->gdumb.num_eval, "GDumb networks per (seed, task) (default: the preset's)");
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            const condense::DatasetInfo& info = condense::dataset_info(f->data.dataset);
            // Every method's configuration is resolved (and its flags checked) before any work.
            std::vector<std::string> methods;
            std::vector<cl::MemoryOptions> memories;
            for (std::stringstream in(f->methods); in.good();) {
              std::string m;
              std::getline(in, m, ',');
              if (m.empty()) continue;
              cl::MemoryOptions mo{.method = m, .memory_per_class = f->memory};
              if (!cl::is_coreset_method(m)) {
                const bool lowrank = condense::method_spec(m).lowrank;  // an unknown name fails here
                mo.condense = condense::resolve_condense(
                    {.method = m, .preset = f->gdumb.preset, .ipc = f->memory, .rank = lowrank ? f->rank : std::nullopt,
                     .iterations = f->iterations, .batch_real = f->batch_real, .seed = f->common.seed, .device = dev},
                    info);
              }
              methods.push_back(m);
              memories.push_back(mo);
            }
            LOCO_CHECK(!methods.empty(), "--method: no method given");
            const condense::EvalOptions gdumb_eval = condense::resolve_gdumb(f->gdumb, info);
            auto data = load_data(f->data);
            cl::split_classes(data.train.classes, f->tasks, 0);  // a bad --tasks fails before any work
            cl::GdumbOptions g{.tasks = f->tasks, .seeds = f->seeds, .seed = f->common.seed, .eval = gdumb_eval};
            g.eval.device = dev;
            const std::string out = f->common.out.empty()
                                        ? "runs/cl-" + data.train.name + "-t" + std::to_string(f->tasks) + "-m" +
                                              std::to_string(f->memory) + "-s" + std::to_string(f->common.seed)
                                        : f->common.out;
            // Distributed, the runs are shared out and rank 0 alone writes the run directory.
            std::optional<condense::RunDir> run;
            if (dist::is_root()) run.emplace(out, f->common.force);
            std::printf("cl: GDumb on %s, %lld tasks, memory %lld images/class, %lld seed(s), %lld × %s per step for %lld epochs\n",
                        data.train.name.c_str(), static_cast<long long>(f->tasks), static_cast<long long>(f->memory),
                        static_cast<long long>(f->seeds), static_cast<long long>(g.eval.num_eval), g.eval.model.c_str(),
                        static_cast<long long>(g.eval.train.epochs + 1));
            ProgressPrinter bar;
            auto progress = [&](const condense::Progress& p) { bar(p); };
            auto note = [&](const std::string& s) {
              bar.finish();
              std::printf("%s\n", s.c_str());
            };
            for (cl::MemoryOptions& mo : memories)
              mo.coreset = {.device = dev, .epochs = f->feature_epochs, .dsa = g.eval.train.dsa};
            const std::vector<cl::GdumbCurve> curves =
                cl::run_gdumb(data, memories, g, run ? run->path("memories") : "", progress, note);
            if (!run) return 0;  // distributed: rank 0 writes
            condense::Json per_method = condense::Json::object();
            for (const cl::GdumbCurve& c : curves) {
              condense::Json steps = condense::Json::array();
              for (const auto& s : c.steps)
                steps.push_back({{"seed", s.seed_index}, {"task", s.task + 1}, {"classes_seen", s.classes_seen},
                                 {"memory_images", s.memory_images}, {"memory_floats", s.memory_floats},
                                 {"memory_bytes", 4 * s.memory_floats}, {"accuracies", s.accuracies}});
              per_method[c.method] = {{"accuracy_mean", c.mean}, {"accuracy_std", c.std}, {"steps", steps}};
            }
            bar.finish();
            // The table: one row per method, one column per task.
            const int64_t per = data.train.classes / f->tasks;
            std::printf("\naccuracy (%%) on the classes seen, after each task; mean ± std over %lld seed(s) × %lld network(s)\n",
                        static_cast<long long>(f->seeds), static_cast<long long>(g.eval.num_eval));
            std::printf("%-12s", "method");
            for (int64_t t = 1; t <= f->tasks; ++t) std::printf("  %14s", ("task " + std::to_string(t) + " (" + std::to_string(t * per) + ")").c_str());
            std::printf("\n");
            std::vector<figure::Series> series;
            for (const auto& c : curves) {
              std::printf("%-12s", c.method.c_str());
              figure::Series s{.name = c.method};
              for (int64_t t = 0; t < f->tasks; ++t) {
                char cell[32];
                std::snprintf(cell, sizeof cell, "%.1f ± %.1f", 100 * c.mean[t], 100 * c.std[t]);
                std::printf("  %14s", cell);
                s.x.push_back(static_cast<double>((t + 1) * per));
                s.y.push_back(100 * c.mean[t]);
                s.spread.push_back(100 * c.std[t]);
              }
              std::printf("\n");
              series.push_back(s);
            }
            figure::save_line_plots({{.title = "GDumb on " + data.train.name + ", memory " + std::to_string(f->memory) +
                                                  " images/class",
                                      .x_label = "classes seen",
                                      .y_label = "test accuracy (%)",
                                      .series = series}},
                                    {.png = run->path("plot.png"), .svg = run->path("plot.svg")});
            run->write_json("report.json",
                           {{"command", "cl"},
                            {"config", {{"dataset", data.train.name}, {"tasks", f->tasks}, {"memory_per_class", f->memory},
                                        {"methods", methods}, {"seeds", f->seeds}, {"preset", f->gdumb.preset},
                                        {"model", g.eval.model}, {"epochs", g.eval.train.epochs},
                                        {"num_eval", g.eval.num_eval}, {"seed", f->common.seed}, {"device", device_name(dev)}}},
                            {"methods", per_method},
                            {"compute", compute_json()}});
            run->commit();
            std::printf("cl: %s/{report.json, plot.png, plot.svg, memories/}\n", out.c_str());
            if (dist::size() > 1)
              std::printf("cl: %d ranks shared out the %lld runs (methods × seeds); memories/ holds rank 0's\n",
                          dist::size(), static_cast<long long>(memories.size()) * f->seeds);
            return 0;
          },
          "memory is bounded by --batch-real, --memory and the method", true};
}

}  // namespace loco::cli
