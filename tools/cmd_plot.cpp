// loco plot: the course of condensation runs (tools/analysis/curves.h reads their log.jsonl) as one
// figure, plot.png and plot.svg: test accuracy against iteration (mean ± std band over the
// evaluation networks) and the loss against iteration, a line per run. Parsing and drawing only.
#include <filesystem>
#include <memory>
#include <sstream>

#include "tools/analysis/curves.h"
#include "tools/cli.h"
#include "tools/figure.h"

namespace loco::cli {

Command add_plot(CLI::App& parent) {
  struct Flags {
    std::vector<std::string> runs;
    std::string labels, out = "runs/plot";
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("plot", "Accuracy and loss against iteration of condensation runs, in one figure");
  app->footer(
      "Example:\n"
      "  loco condense --method dm --ipc 10 --eval-every 50 --out runs/dm\n"
      "  loco condense --method lodm --ipc 10 --budget same-images --eval-every 50 --out runs/lodm-si\n"
      "  loco condense --method lodm --ipc 10 --eval-every 50 --out runs/lodm-sm\n"
      "  loco plot runs/dm runs/lodm-si runs/lodm-sm --labels DM,'LoDM SI','LoDM SM' --out runs/fig2a\n"
      "Reads each run's log.jsonl: the periodic evaluations (--eval-every) and the final one make the accuracy\n"
      "curve, so a run needs at least two; the loss of every iteration makes the loss curve (log scale when\n"
      "every loss is positive). Writes DIR/plot.png and DIR/plot.svg (the same figure), each atomically.");
  app->add_option("runs", f->runs, "Run directories of loco condense (any number, one line each)")->required();
  app->add_option("--labels", f->labels, "Comma-separated legend entries, one per run (default: the run folders' names)");
  app->add_option("--out", f->out, "Folder for plot.png and plot.svg (created; files replaced)")->capture_default_str();
  return {app, [f]() {
            std::vector<std::string> labels;
            if (!f->labels.empty())
              for (std::stringstream in(f->labels); in.good();) {
                std::string l;
                std::getline(in, l, ',');
                labels.push_back(l);
              }
            LOCO_CHECK(labels.empty() || labels.size() == f->runs.size(), "--labels: ", labels.size(), " labels for ",
                       f->runs.size(), " runs");
            figure::LinePlot acc{.title = "Test accuracy", .x_label = "iteration", .y_label = "accuracy (%)"};
            figure::LinePlot loss{.title = "Loss", .x_label = "iteration", .y_label = "loss", .log_y = true,
                                  .markers = false};
            std::printf("%-28s %-8s %6s  %-22s %s\n", "run", "method", "evals", "final accuracy", "best (iteration)");
            for (size_t i = 0; i < f->runs.size(); ++i) {
              const analysis::RunCurves c = analysis::read_run_curves(f->runs[i]);  // names the file at fault
              std::string label = labels.empty() ? c.name : labels[i];
              if (labels.empty() && !c.method.empty() && label.find(c.method) == std::string::npos)
                label += " (" + c.method + ")";
              LOCO_CHECK(c.evaluations.size() >= 2, c.dir, ": log.jsonl holds ", c.evaluations.size(),
                         " evaluation(s), so there is no accuracy curve to draw; condense with --eval-every N "
                         "(and --num-eval > 0) to evaluate along the way");
              figure::Series a{.name = label}, l{.name = label};
              const analysis::EvalPoint* best = &c.evaluations.front();
              for (const auto& e : c.evaluations) {
                a.x.push_back(static_cast<double>(e.iteration));
                a.y.push_back(100 * e.mean);
                a.spread.push_back(100 * e.std);
                if (e.mean > best->mean) best = &e;
              }
              for (size_t k = 0; k < c.loss.size(); ++k) {
                l.x.push_back(static_cast<double>(c.iterations[k]));
                l.y.push_back(c.loss[k]);
                loss.log_y = loss.log_y && c.loss[k] > 0;
              }
              acc.series.push_back(a);
              loss.series.push_back(l);
              const auto& last = c.evaluations.back();
              std::printf("%-28s %-8s %6zu  %-22s %.2f %% (%lld)\n", label.c_str(), c.method.c_str(),
                          c.evaluations.size(), percent(last.mean, last.std).c_str(), 100 * best->mean,
                          static_cast<long long>(best->iteration));
            }
            std::error_code ec;
            std::filesystem::create_directories(f->out, ec);
            LOCO_CHECK(!ec, "--out ", f->out, ": cannot create it (", ec.message(), ")");
            figure::save_line_plots({acc, loss}, {.png = f->out + "/plot.png", .svg = f->out + "/plot.svg"}, 640, 440);
            std::printf("plot: %s/{plot.png, plot.svg}\n", f->out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
