// loco eval: the evaluation protocol on any saved set (a run directory or a synset.safetensors),
// with any network. Writes eval-<model>-e<E>-s<seed>[-standardised].json into the run directory
// (atomically).
#include <cmath>
#include <filesystem>
#include <memory>

#include "engine/io/atomic_file.h"
#include "tools/cli.h"

namespace loco::cli {

Command add_eval(CLI::App& parent) {
  struct Flags {
    std::string set;
    DataFlags data;
    EvalFlags eval;
    CommonFlags common;
    std::optional<double> lr;
    bool standardise = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("eval", "Evaluate a saved set: train fresh networks on it, test them");
  app->footer("Example: loco eval runs/herding-FashionMNIST-ipc10-s0 --model LeNet --num-eval 5");
  app->add_option("RUN_DIR", f->set, "A run directory, or a synset.safetensors file")->required();
  app->add_option("--data-dir", f->data.data_dir, "Folder of the dataset's official files (default: as recorded)");
  add_eval_flags(app, f->eval, condense::Evaluated::small_set, "E: the protocol trains E+1 epochs, lr ×0.1 after epoch E/2+1");
  add_optional(app, "--lr", f->lr,
               "Learning rate of the trained networks (default 0.01; a set made by mtt or lomtt: its learned syn_lr, "
               "as the reference evaluates)");
  app->add_flag("--standardise", f->standardise,
                "Standardise every batch ((x − mean)/std over the batch), as the PAPER MTT evaluation does");
  add_common_flags(app, f->common, false);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            const condense::SavedSet set = condense::load_set(f->set);
            f->data.dataset = set.metadata.at("dataset");  // load_set checked the set against it
            auto data = load_data(f->data);
            const auto dsa_it = set.metadata.find("dsa_strategy");
            const std::string condensed_with =
                dsa_it == set.metadata.end() || dsa_it->second == "none" ? "" : dsa_it->second;
            condense::EvalRequest req = eval_request(f->eval, f->common, dev);
            req.condensed_with = condensed_with;
            req.lr = f->lr;
            req.standardise = f->standardise;
            if (const auto lr_it = set.metadata.find("syn_lr"); lr_it != set.metadata.end())
              req.syn_lr = condense::parse_double(lr_it->second, f->set + ": syn_lr");
            const condense::EvalOptions o = condense::resolve_eval(req, condense::dataset_info(data.train.name),
                                                                   condense::Evaluated::small_set);
            if (!f->lr && req.syn_lr)
              std::printf("eval: lr %g, the set's learned syn_lr (--lr to choose another)\n", o.train.lr);
            const auto r = run_evaluation(condense::Dataset::of_images(set.images, set.labels, data.test.classes),
                                          data.test, o);
            namespace fs = std::filesystem;
            const std::string dir = fs::is_directory(f->set) ? f->set : fs::path(f->set).parent_path().string();
            const std::string path = (dir.empty() ? std::string(".") : dir) + "/eval-" + o.model + "-e" +
                                     std::to_string(o.train.epochs) + "-s" + std::to_string(f->common.seed) +
                                     (o.train.standardise ? "-standardised" : "") + ".json";
            condense::Json j = eval_json(r);
            j["set"] = f->set;
            j["aug_flag"] = f->eval.aug.value_or("dsa");
            j["seed"] = f->common.seed;
            j["device"] = device_name(dev);
            const std::string text = j.dump(2) + "\n";
            write_file_atomic(path, [&](FileSink& s) { s.write(text); });
            std::printf("eval: written %s\n", path.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
