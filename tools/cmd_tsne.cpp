// loco tsne: where a trained network puts real images and synthetic ones (the paper's Fig. 1).
// The embed features of a per-class sample of real training images and of every image of each
// set are embedded together in 2-D by exact t-SNE (tools/analysis/tsne.h), so the panels share
// one map: a panel per set, its images drawn over the real sample, one colour per class.
// Writes tsne.json (the points), tsne.png and tsne.svg into --out (atomically).
#include <filesystem>
#include <memory>

#include "condense/coreset/coreset.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "models/networks.h"
#include "tools/analysis/tsne.h"
#include "tools/cli.h"
#include "tools/figure.h"

namespace loco::cli {

Command add_tsne(CLI::App& parent) {
  struct Flags {
    std::string weights, out = "tsne";
    std::vector<std::string> sets;
    DataFlags data;
    int64_t per_class = 50;
    analysis::TsneOptions tsne;
    CommonFlags common;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand(
      "tsne", "t-SNE of a trained network's features: real images and the images of sets, one panel per set");
  app->footer(
      "Example (Fig. 1):\n"
      "  loco train --model ConvNet --out runs/train-fmnist\n"
      "  loco tsne --weights runs/train-fmnist runs/dm-FashionMNIST-ipc10-s0 runs/lodm-FashionMNIST-ipc10-r2-s0 "
      "--out runs/tsne");
  app->add_option("--weights", f->weights,
                  "The network: a loco train run directory or its model.safetensors (names its model and dataset)")
      ->required();
  app->add_option("SET", f->sets, "Run directories or synset.safetensors files of the network's dataset (none: real only)");
  app->add_option("--data-dir", f->data.data_dir, "Folder of the dataset's official files (default: as for loco condense)");
  app->add_option("--n", f->per_class, "Real training images per class in the sample")->capture_default_str();
  app->add_option("--perplexity", f->tsne.perplexity, "t-SNE perplexity: the neighbours each point's Gaussian spans")
      ->capture_default_str();
  app->add_option("--iterations", f->tsne.iterations, "t-SNE gradient steps")->capture_default_str();
  app->add_option("--out", f->out, "Folder for tsne.json, tsne.png and tsne.svg")->capture_default_str();
  add_common_flags(app, f->common, false);  // --seed: the real sample and t-SNE's start (one seed, one picture)
  return {app, [f]() {
            namespace fs = std::filesystem;
            LOCO_CHECK(f->per_class >= 1, "--n: ", f->per_class, " is out of range; allowed: n ≥ 1");
            LOCO_CHECK(f->tsne.iterations >= 1, "--iterations: ", f->tsne.iterations, " is out of range; allowed: ≥ 1");
            std::string weights = f->weights;
            std::error_code ec;
            if (fs::is_directory(weights, ec)) weights += "/model.safetensors";
            LOCO_CHECK(fs::exists(weights, ec), "--weights ", f->weights, ": no model.safetensors there (a loco train run)");
            const SafetensorsFile w = load_safetensors(weights);
            auto meta = [&](const char* k) {
              const auto it = w.metadata.find(k);
              LOCO_CHECK(it != w.metadata.end(), weights, ": no '", k, "' in its metadata (not a loco train model)");
              return it->second;
            };
            const std::string model = meta("model"), dataset = condense::dataset_info(meta("dataset")).name;
            // Every set is read and checked against the network's dataset before anything runs.
            std::vector<condense::SavedSet> sets;
            for (const auto& s : f->sets) {
              sets.push_back(condense::load_set(s));
              const std::string theirs = sets.back().metadata.at("dataset");
              LOCO_CHECK(theirs == dataset, s, ": a ", theirs, " set, but ", weights, " is a network trained on ",
                         dataset);
            }
            f->data.dataset = dataset;
            const auto data = load_data(f->data);
            const Device dev = resolve_device(f->common);
            f->tsne.seed = f->common.seed;
            Generator init(0, 0);
            auto net = models::make_network(model, data.train.channels(), data.train.classes, data.train.height(), init,
                                            {.device = dev});
            LOCO_CHECK(net->has_embed(), "--weights: ", model, " has no embedding to draw");
            net->load_parameters(w.tensors, weights);

            // The real sample, class by class, then each set's images.
            const condense::ClassIndex index(data.train.labels, data.train.classes);
            Generator g(f->tsne.seed, 1);
            const int64_t n_real = std::min(f->per_class, index.smallest_class());
            const std::vector<int64_t> rows = index.sample(0, data.train.classes, n_real, g);
            std::vector<Tensor> feats = {condense::features_of(*net, data.train, rows, false)};
            std::vector<int64_t> label, source;  // source 0: real, k: the k-th set
            for (int64_t r : rows) label.push_back(data.train.labels.data<int64_t>()[r]), source.push_back(0);
            for (size_t k = 0; k < sets.size(); ++k) {
              const auto d = condense::Dataset::of_images(sets[k].images, sets[k].labels, data.train.classes);
              std::vector<int64_t> all(static_cast<size_t>(d.size()));
              for (int64_t i = 0; i < d.size(); ++i) all[static_cast<size_t>(i)] = i;
              feats.push_back(condense::features_of(*net, d, all, false));
              for (int64_t l : sets[k].labels.to_vector<int64_t>()) label.push_back(l), source.push_back(int64_t(k) + 1);
            }
            const Tensor x = concat(feats);
            const int64_t n = x.dim(0), dims = x.dim(1);
            std::printf("tsne: %lld points (%lld real, %lld synthetic) of %lld features, perplexity %g, %lld iterations\n",
                        static_cast<long long>(n), static_cast<long long>(rows.size()),
                        static_cast<long long>(n - static_cast<int64_t>(rows.size())), static_cast<long long>(dims),
                        f->tsne.perplexity, static_cast<long long>(f->tsne.iterations));
            std::fflush(stdout);
            const std::vector<double> y = analysis::tsne(x.to_vector<float>(), n, dims, f->tsne);

            fs::create_directories(f->out, ec);
            LOCO_CHECK(!ec, "--out ", f->out, ": cannot create (", ec.message(), ")");
            condense::Json j = {{"weights", weights}, {"model", model}, {"dataset", dataset},
                                {"perplexity", f->tsne.perplexity}, {"iterations", f->tsne.iterations},
                                {"seed", f->tsne.seed}, {"sources", condense::Json::array({"real"})}};
            for (const auto& s : f->sets) j["sources"].push_back(s);
            std::vector<double> xs, ys;
            for (int64_t i = 0; i < n; ++i) xs.push_back(y[2 * i]), ys.push_back(y[2 * i + 1]);
            j["x"] = xs;
            j["y"] = ys;
            j["label"] = label;
            j["source"] = source;
            const std::string text = j.dump() + "\n";
            write_file_atomic(f->out + "/tsne.json", [&](FileSink& s) { s.write(text); });

            // A panel per set (real only without sets): the real sample faint, the set's images bold.
            std::vector<figure::ScatterPlot> panels;
            const size_t count = std::max<size_t>(1, sets.size());
            for (size_t k = 0; k < count; ++k) {
              figure::ScatterPlot p;
              p.title = sets.empty() ? "real " + dataset : fs::path(f->sets[k]).filename().string();
              if (p.title == "synset.safetensors") p.title = fs::path(f->sets[k]).parent_path().filename().string();
              for (int64_t i = 0; i < n; ++i)
                if (source[i] == 0 || source[i] == int64_t(k) + 1)
                  p.points.push_back({xs[i], ys[i], label[i], source[i] != 0});
              panels.push_back(std::move(p));
            }
            std::vector<std::string> names;
            const condense::DatasetInfo& info = condense::dataset_info(dataset);
            for (int64_t c = 0; c < info.classes; ++c) names.push_back(condense::class_name(info, c));
            figure::save_scatter_plots(panels, names, {f->out + "/tsne.png", f->out + "/tsne.svg"});
            std::printf("tsne: written %s/{tsne.json, tsne.png, tsne.svg}\n", f->out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
