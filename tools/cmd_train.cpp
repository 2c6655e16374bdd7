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
    EvalFlags eval{.epochs = 20, .num_eval = 1};
    CommonFlags common;
    int64_t test_every = 1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("train", "Train a network on the whole training set (the baseline)");
  app->footer("Example: loco train --dataset FashionMNIST --epochs 20 --out runs/train-fmnist");
  add_data_flags(app, f->data);
  add_eval_flags(app, f->eval, "E: the protocol trains E+1 epochs, lr ×0.1 after epoch E/2+1");
  app->get_option("--num-eval")->description("Networks to train one after the other (mean ± std)");
  app->add_option("--test-every", f->test_every, "Test accuracy every K epochs (0: only at the end)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            auto data = load_data(f->data);
            const std::string out = f->common.out.empty()
                                        ? "runs/train-" + data.train.name + "-" + f->eval.model + "-e" +
                                              std::to_string(f->eval.epochs) + "-s" + std::to_string(f->common.seed)
                                        : f->common.out;
            condense::RunDir run(out, f->common.force);
            const condense::TrainSchedule schedule = schedule_from(f->eval, data.train.name);
            std::printf("train: %s on all %lld images, %lld epochs, augmentation %s, %lld network(s)\n",
                        f->eval.model.c_str(), static_cast<long long>(data.train.size()),
                        static_cast<long long>(schedule.epochs + 1),
                        schedule.dsa.none() ? schedule.dc_aug.c_str() : schedule.dsa.str().c_str(),
                        static_cast<long long>(f->eval.num_eval));
            const Tensor images = data.train.images.to(dev);
            std::vector<double> accs, secs;
            condense::Json models_json = condense::Json::array();
            std::unique_ptr<models::Module> last;
            for (int64_t m = 0; m < f->eval.num_eval; ++m) {
              Generator init(f->common.seed, condense::kStreamEvalInit + static_cast<uint64_t>(m));
              Generator shuffle(f->common.seed, condense::kStreamEvalTrain + static_cast<uint64_t>(m));
              auto net = models::make_network(f->eval.model, images.dim(1), data.train.classes, images.dim(2), init,
                                              {.device = dev});
              ProgressPrinter bar;
              condense::Json curve = condense::Json::array();
              auto progress = [&](const condense::Progress& p) {
                condense::Progress q = p;
                q.phase = "net " + std::to_string(m + 1) + "/" + std::to_string(f->eval.num_eval);
                bar(q);
                if (!p.epoch_done) return;
                condense::Json line = {{"net", m}, {"epoch", p.epoch}, {"train_loss", p.loss},
                                       {"train_accuracy", p.accuracy}};
                if (f->test_every > 0 && (p.epoch % f->test_every == 0) && p.epoch < p.epochs) {
                  line["test_accuracy"] = condense::test_accuracy(*net, data.test);
                  bar.finish();
                  std::printf("  epoch %lld: test accuracy %.2f %%\n", static_cast<long long>(p.epoch),
                              100 * line["test_accuracy"].get<double>());
                }
                run.append_log(line);
                curve.push_back(line);
              };
              const condense::TrainResult t = condense::train_network(*net, images, data.train.labels, schedule,
                                                                      shuffle, progress);
              bar.finish();
              const double acc = condense::test_accuracy(*net, data.test);
              std::printf("net %lld: test accuracy %.2f %% after %lld epochs (%.0f s)\n", static_cast<long long>(m + 1),
                          100 * acc, static_cast<long long>(schedule.epochs + 1), t.seconds);
              accs.push_back(acc);
              secs.push_back(t.seconds);
              models_json.push_back({{"test_accuracy", acc}, {"train_seconds", t.seconds},
                                     {"last_epoch_train_loss", t.last_epoch_loss},
                                     {"last_epoch_train_accuracy", t.last_epoch_accuracy}});
              last = std::move(net);
            }
            double mean, std;
            condense::mean_std(accs, mean, std);
            std::vector<std::pair<std::string, Tensor>> weights;
            for (size_t i = 0; i < last->parameters().size(); ++i)
              weights.emplace_back(last->parameter_names()[i], last->parameters()[i].detach());
            save_safetensors(run.path("model.safetensors"), weights,
                             {{"model", f->eval.model}, {"dataset", data.train.name}});
            condense::Json report = {
                {"command", "train"},
                {"config", {{"dataset", data.train.name}, {"model", f->eval.model}, {"epochs", f->eval.epochs},
                            {"epochs_trained", schedule.epochs + 1}, {"num_eval", f->eval.num_eval},
                            {"aug", f->eval.aug}, {"lr", schedule.lr}, {"momentum", schedule.momentum},
                            {"weight_decay", schedule.weight_decay}, {"batch", schedule.batch},
                            {"seed", f->common.seed}, {"device", device_name(dev)}}},
                {"dataset", dataset_json(data.train)},
                {"evaluation", {{"model", f->eval.model}, {"epochs", f->eval.epochs}, {"accuracy_mean", mean},
                                {"accuracy_std", std}, {"accuracies", accs}, {"train_seconds", secs}}},
                {"networks", models_json}};
            run.write_json("report.json", report);
            run.commit();
            std::printf("test accuracy %s over %zu network(s); run in %s\n", percent(mean, std).c_str(), accs.size(),
                        out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
