// loco eval: the evaluation protocol on saved sets (run directories or synset.safetensors files),
// with any networks. Writes eval-<model>-e<E>-s<seed>[-standardised].json into each run
// directory (atomically); several sets or networks also give the cross-architecture table
// (Table 3's layout) as markdown and JSON.
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

#include "dist/dist.h"
#include "engine/io/atomic_file.h"
#include "tools/cli.h"

namespace loco::cli {

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// One evaluated set: where it came from and what made it (Table 3's row label).
struct Row {
  std::string path, method, condensed_on;
  condense::SavedSet set;
  std::vector<condense::EvalResult> results;  // one per --model, in order
};

std::string cell(const condense::EvalResult& r) { return percent(r.mean, r.std); }

// Table 3's layout: a row per set (method, the network it was condensed on), a column per
// evaluation network.
std::string markdown_table(const std::vector<Row>& rows, const std::vector<std::string>& models) {
  std::string t = "| set | method | condensed on |";
  for (const auto& m : models) t += " " + m + " |";
  t += "\n|---|---|---|";
  for (size_t i = 0; i < models.size(); ++i) t += "---|";
  t += "\n";
  for (const auto& r : rows) {
    t += "| " + r.path + " | " + r.method + " | " + r.condensed_on + " |";
    for (const auto& res : r.results) t += " " + cell(res) + " |";
    t += "\n";
  }
  return t;
}

}  // namespace

Command add_eval(CLI::App& parent) {
  struct Flags {
    std::vector<std::string> sets;
    DataFlags data;
    EvalFlags eval;
    CommonFlags common;
    std::optional<double> lr;
    bool standardise = false;
    std::string table = "cross-arch";
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand(
      "eval", "Evaluate saved sets: train fresh networks on each, test them (several sets and networks: a table)");
  app->footer(
      "Examples:\n  loco eval runs/herding-FashionMNIST-ipc10-s0 --model LeNet --num-eval 5\n"
      "  loco eval runs/dm-FashionMNIST-ipc10-s0 runs/lodm-FashionMNIST-ipc10-r2-s0 --model ConvNet,LeNet,AlexNet,VGG11,ResNet18");
  app->add_option("RUN_DIR", f->sets, "Run directories or synset.safetensors files (one or more, of one dataset)")
      ->required();
  app->add_option("--data-dir", f->data.data_dir, "Folder of the dataset's official files (default: as recorded)");
  add_eval_flags(app, f->eval, condense::Evaluated::small_set, "E: the protocol trains E+1 epochs, lr ×0.1 after epoch E/2+1");
  app->get_option("--model")->description(app->get_option("--model")->get_description() +
                                          "; a comma-separated list evaluates each set on each (Table 3)");
  add_optional(app, "--lr", f->lr,
               "Learning rate of the trained networks (default 0.01; a set made by mtt or lomtt: its learned syn_lr, "
               "as the reference evaluates)");
  app->add_flag("--standardise", f->standardise,
                "Standardise every batch ((x − mean)/std over the batch), as the PAPER MTT evaluation does");
  app->add_option("--table", f->table,
                  "With several sets or networks: write the table to PREFIX.md and PREFIX.json (rows: sets, "
                  "columns: networks)")
      ->capture_default_str();
  add_common_flags(app, f->common, false);
  return {app, [f]() {
            const Device dev = resolve_device(f->common);
            const std::vector<std::string> models = split_commas(f->eval.model.value_or("ConvNet"));
            LOCO_CHECK(!models.empty(), "--model: '", f->eval.model.value_or(""), "' names no network");
            // Every set is read and every option resolved before the first (long) evaluation.
            std::vector<Row> rows;
            std::vector<std::vector<condense::EvalOptions>> options;
            for (const auto& path : f->sets) {
              Row r{path, "", "", condense::load_set(path), {}};
              auto meta = [&](const char* k, const std::string& missing) {
                const auto it = r.set.metadata.find(k);
                return it == r.set.metadata.end() ? missing : it->second;
              };
              r.method = meta("method", "?");
              r.condensed_on = meta("model", "—");  // coresets and sets made before loco recorded it
              const std::string dataset = meta("dataset", "");
              LOCO_CHECK(rows.empty() || dataset == rows.front().set.metadata.at("dataset"), path, ": a ", dataset,
                         " set; ", rows.front().path, " is ", rows.front().set.metadata.at("dataset"),
                         " (one table holds one dataset)");
              const std::string dsa = meta("dsa_strategy", "none");
              std::vector<condense::EvalOptions> per_model;
              for (const auto& m : models) {
                EvalFlags e = f->eval;
                e.model = m;
                condense::EvalRequest req = eval_request(e, f->common, dev);
                req.condensed_with = dsa == "none" ? "" : dsa;
                req.lr = f->lr;
                req.standardise = f->standardise;
                if (const auto lr_it = r.set.metadata.find("syn_lr"); lr_it != r.set.metadata.end())
                  req.syn_lr = condense::parse_double(lr_it->second, path + ": syn_lr");
                per_model.push_back(condense::resolve_eval(req, condense::dataset_info(dataset),
                                                           condense::Evaluated::small_set));
              }
              options.push_back(std::move(per_model));
              rows.push_back(std::move(r));
            }
            f->data.dataset = rows.front().set.metadata.at("dataset");  // load_set checked each set against it
            auto data = load_data(f->data);
            namespace fs = std::filesystem;
            for (size_t i = 0; i < rows.size(); ++i) {
              Row& r = rows[i];
              for (const auto& o : options[i]) {
                std::printf("eval: %s on %s%s\n", r.path.c_str(), o.model.c_str(),
                            !f->lr && r.set.metadata.count("syn_lr") ? " (lr: the set's learned syn_lr)" : "");
                const auto res = run_evaluation(
                    condense::Dataset::of_images(r.set.images, r.set.labels, data.test.classes), data.test, o);
                const std::string dir = fs::is_directory(r.path) ? r.path : fs::path(r.path).parent_path().string();
                const std::string path = (dir.empty() ? std::string(".") : dir) + "/eval-" + o.model + "-e" +
                                         std::to_string(o.train.epochs) + "-s" + std::to_string(f->common.seed) +
                                         (o.train.standardise ? "-standardised" : "") + ".json";
                condense::Json j = eval_json(res);
                j["set"] = r.path;
                j["aug_flag"] = f->eval.aug.value_or("dsa");
                j["seed"] = f->common.seed;
                j["device"] = device_name(dev);
                j["compute"] = compute_json();
                const std::string text = j.dump(2) + "\n";
                if (dist::is_root()) {  // distributed: each rank trained its share of the networks
                  write_file_atomic(path, [&](FileSink& s) { s.write(text); });
                  std::printf("eval: written %s\n", path.c_str());
                }
                r.results.push_back(res);
              }
            }
            if (rows.size() * models.size() > 1 && dist::is_root()) {
              const std::string md = markdown_table(rows, models);
              std::printf("\n%s", md.c_str());
              condense::Json table = {{"dataset", data.train.name}, {"models", models}, {"rows", condense::Json::array()}};
              for (const auto& r : rows) {
                condense::Json row = {{"set", r.path}, {"method", r.method}, {"condensed_on", r.condensed_on}};
                for (size_t k = 0; k < models.size(); ++k) row["results"][models[k]] = eval_json(r.results[k]);
                table["rows"].push_back(row);
              }
              const std::string json = table.dump(2) + "\n";
              write_file_atomic(f->table + ".md", [&](FileSink& s) { s.write(md); });
              write_file_atomic(f->table + ".json", [&](FileSink& s) { s.write(json); });
              std::printf("eval: written %s.md and %s.json\n", f->table.c_str(), f->table.c_str());
            }
            return 0;
          },
          "", true};
}

}  // namespace loco::cli
