// loco train: the whole-dataset baseline (spec/evaluation.md §4): the evaluation protocol's
// trainer (SGD 0.01, momentum 0.9, weight decay 5e-4, batch 256, the run's augmentation, E+1
// epochs with lr ×0.1 after epoch E/2+1) on the whole training split, tested on the test
// split. Writes report.json, log.jsonl (one line per epoch) and model.safetensors.
#include <memory>

#include "engine/io/safetensors.h"
#include "models/networks.h"
#include "tools/cli.h"

namespace loco::cli {

Command add_train(CLI::App& parent) {
  struct Flags {
    DataFlags data;
    EvalFlags eval;
    CommonFlags common;
    int64_t test_every = 1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("train", "Train a network on the whole training set (the baseline)");
  app->footer("Example: loco train --dataset FashionMNIST --epochs 20 --out runs/train-fmnist");
  add_data_flags(app, f->data, true);
  add_eval_flags(app, f->eval, condense::Evaluated::whole_dataset, "E: the protocol trains E+1 epochs, lr ×0.1 after epoch E/2+1");
  app->get_option("--num-eval")->description("Networks to train one after the other, mean ± std (default " +
                                             std::to_string(condense::eval_defaults(condense::Evaluated::whole_dataset).num_eval) + ")");
  app->add_option("--test-every", f->test_every, "Test accuracy every K epochs (0: only at the end)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            const condense::EvalOptions o = condense::resolve_eval(
                eval_request(f->eval, f->common, dev), condense::dataset_info(f->data.dataset),
                condense::Evaluated::whole_dataset);
            const condense::TrainSchedule& schedule = o.train;
            auto data = load_data(f->data);
            const std::string out = f->common.out.empty()
                                        ? "runs/train-" + data.train.name + "-" + o.model + "-e" +
                                              std::to_string(schedule.epochs) + "-s" + std::to_string(f->common.seed)
                                        : f->common.out;
            condense::RunDir run(out, f->common.force);
            std::printf("train: %s on all %lld images, %lld epochs, augmentation %s, %lld network(s)\n",
                        o.model.c_str(), static_cast<long long>(data.train.size()),
                        static_cast<long long>(schedule.epochs + 1), condense::augmentation_name(schedule).c_str(),
                        static_cast<long long>(o.num_eval));
            ProgressPrinter bar;
            // The protocol's own loop (evaluate_set), tested on the way every --test-every epochs.
            auto on_epoch = [&](models::Module& net, const condense::EpochEnd& e) {
              condense::Json line = {{"net", e.network}, {"epoch", e.epoch}, {"train_loss", e.loss},
                                     {"train_accuracy", e.accuracy}};
              if (f->test_every > 0 && e.epoch % f->test_every == 0 && e.epoch < e.epochs) {
                line["test_accuracy"] = condense::test_accuracy(net, data.test);
                bar.finish();
                std::printf("  net %lld epoch %lld: test accuracy %.2f %%\n", static_cast<long long>(e.network + 1),
                            static_cast<long long>(e.epoch), 100 * line["test_accuracy"].get<double>());
              }
              run.append_log(line);
            };
            const condense::EvalResult r = condense::evaluate_set(
                data.train, data.test, o, [&](const condense::Progress& p) { bar(p); }, on_epoch);
            bar.finish();
            for (size_t m = 0; m < r.accuracies.size(); ++m)
              std::printf("net %zu: test accuracy %.2f %% after %lld epochs (%.0f s)\n", m + 1, 100 * r.accuracies[m],
                          static_cast<long long>(schedule.epochs + 1), r.train_seconds[m]);
            std::vector<std::pair<std::string, Tensor>> weights;
            const models::Module& last = *r.last_network;
            for (size_t i = 0; i < last.parameters().size(); ++i)
              weights.emplace_back(last.parameter_names()[i], last.parameters()[i].detach());
            save_safetensors(run.path("model.safetensors"), weights,
                             {{"model", o.model}, {"dataset", data.train.name}});
            condense::Json report = {
                {"command", "train"},
                {"config", {{"dataset", data.train.name}, {"model", o.model}, {"epochs", schedule.epochs},
                            {"epochs_trained", schedule.epochs + 1}, {"num_eval", o.num_eval},
                            {"aug", r.aug}, {"lr", schedule.lr}, {"momentum", schedule.momentum},
                            {"weight_decay", schedule.weight_decay}, {"batch", schedule.batch},
                            {"seed", f->common.seed}, {"device", device_name(dev)}}},
                {"dataset", dataset_json(data.train)},
                {"generated_data", f->data.generated},
                {"evaluation", eval_json(r)},
                {"compute", compute_json()}};
            run.write_json("report.json", report);
            run.commit();
            std::printf("test accuracy %s over %zu network(s); run in %s\n", percent(r.mean, r.std).c_str(),
                        r.accuracies.size(), out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
