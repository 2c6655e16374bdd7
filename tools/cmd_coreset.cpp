// loco coreset: K real training images per class chosen by random, herding or forgetting
// (condense/coreset), saved as a run directory and evaluated like a synthetic set.
#include <chrono>
#include <memory>

#include "condense/coreset/coreset.h"
#include "tools/cli.h"
#include "tools/set_grid.h"

namespace loco::cli {

Command add_coreset(CLI::App& parent) {
  struct Flags {
    DataFlags data;
    EvalFlags eval;
    CommonFlags common;
    condense::CoresetOptions coreset;
    bool skip_eval = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("coreset", "Pick K real images per class (random, herding, forgetting)");
  app->footer("Example: loco coreset --method herding --ipc 10 --epochs 300 --num-eval 3");
  app->add_option("--method", f->coreset.method, "random, herding or forgetting")
      ->capture_default_str()
      ->check(CLI::IsMember(condense::coreset_methods()));
  app->add_option("--ipc", f->coreset.ipc, "Images per class")->required()->check(CLI::PositiveNumber);
  app->add_option("--feature-model", f->coreset.model,
                  "herding/forgetting: the network trained on the whole training set")
      ->capture_default_str();
  app->add_option("--feature-epochs", f->coreset.epochs,
                  "herding/forgetting: epochs of that network over the whole training set (an assumption: the "
                  "references give none)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--feature-weights", f->coreset.feature_weights,
                  "herding: use this trained network (a `loco train` run's model.safetensors, of --feature-model) "
                  "instead of training one");
  app->add_flag("--normalise-features", f->coreset.normalise_features, "herding: L2-normalise features (iCaRL)");
  add_data_flags(app, f->data);
  add_eval_flags(app, f->eval, condense::Evaluated::small_set, "Evaluation: E, the protocol trains E+1 epochs, lr ×0.1 after epoch E/2+1");
  app->add_flag("--skip-eval", f->skip_eval, "Only pick and save the coreset");
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            auto data = load_data(f->data);
            condense::CoresetOptions o = f->coreset;
            o.seed = f->common.seed;
            o.device = dev;
            const condense::EvalOptions eval = condense::resolve_eval(
                eval_request(f->eval, f->common, dev), condense::dataset_info(data.train.name),
                condense::Evaluated::small_set);
            o.dsa = eval.train.dsa;
            const std::string out = f->common.out.empty()
                                        ? "runs/" + o.method + "-" + data.train.name + "-ipc" + std::to_string(o.ipc) +
                                              "-s" + std::to_string(o.seed)
                                        : f->common.out;
            condense::RunDir run(out, f->common.force);
            const auto t0 = std::chrono::steady_clock::now();
            ProgressPrinter bar;
            const condense::Coreset cs =
                condense::select_coreset(data.train, o, [&](const condense::Progress& p) { bar(p); });
            bar.finish();
            const double select_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::printf("coreset: %s picked %lld images per class (%.1f s)\n", o.method.c_str(),
                        static_cast<long long>(o.ipc), select_s);
            condense::save_set(run, cs.images, Tensor(), Tensor(), cs.labels,
                               {{"method", o.method}, {"dataset", data.train.name}, {"ipc", std::to_string(o.ipc)}},
                               data.train.mean, data.train.std);
            save_set_grid(run.path("grid.png"), cs.images, cs.labels, condense::dataset_info(data.train.name),
                          data.train.mean, data.train.std, {.title = o.method + " coreset, " + data.train.name});
            const int64_t floats = cs.images.numel();
            condense::Json report = {
                {"command", "coreset"},
                {"config", {{"method", o.method}, {"dataset", data.train.name}, {"ipc", o.ipc},
                            {"feature_model", o.model}, {"feature_epochs", o.epochs}, {"feature_weights", o.feature_weights},
                            {"normalise_features", o.normalise_features}, {"eval_model", eval.model},
                            {"eval_epochs", eval.train.epochs}, {"num_eval", eval.num_eval},
                            {"aug", condense::augmentation_name(eval.train)},
                            {"seed", o.seed}, {"device", device_name(dev)}}},
                {"dataset", dataset_json(data.train)},
                {"images_per_class", o.ipc},
                {"floats_stored", floats},
                {"bytes_stored", floats * 4},
                {"ratio_to_full_pixels", 1.0},
                {"rows", cs.rows}};
            if (!cs.forgetting_events.empty()) report["forgetting_events"] = cs.forgetting_events;
            report["timings"] = {{"select_seconds", select_s}};
            if (!f->skip_eval) {
              const auto r = run_evaluation(condense::Dataset::of_images(cs.images, cs.labels, data.train.classes),
                                            data.test, eval);
              report["evaluation"] = eval_json(r);
              report["timings"]["eval_seconds"] = r.seconds;
            }
            report["compute"] = compute_json();
            run.write_json("report.json", report);
            run.commit();
            std::printf("coreset: %lld images (%s) in %s\n", static_cast<long long>(cs.images.dim(0)),
                        format_bytes(floats * 4).c_str(), out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
