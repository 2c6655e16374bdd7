// loco spectrum: singular-value spectra of real images and of saved sets (tools/analysis/spectrum.h
// computes them), as one figure (spectrum.png, spectrum.svg), a markdown table (stdout and
// spectrum.md) and spectrum.json in --out. Parsing, loading and reporting only.
#include <filesystem>
#include <memory>

#include "tools/analysis/spectrum.h"
#include "engine/io/atomic_file.h"
#include "tools/cli.h"
#include "tools/figure.h"

namespace loco::cli {
namespace {

struct Source {
  std::string label, path, kind, method;
  int64_t rank = 0;
  analysis::Spectrum spectrum;
};

// "name (method rN)": the folder of a run directory or of its synset.safetensors, else the file.
std::string set_label(const std::string& path, const condense::SavedSet& s) {
  namespace fs = std::filesystem;
  fs::path p(path);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // a trailing '/'
  std::string name = fs::is_directory(p) || p.filename() == "synset.safetensors"
                         ? (fs::is_directory(p) ? p : p.parent_path()).filename().string()
                         : p.stem().string();
  if (name.empty()) name = path;
  auto m = s.metadata.find("method");
  if (m != s.metadata.end() && !m->second.empty() && name.find(m->second) == std::string::npos)
    name += " (" + m->second + ")";
  const std::string rank = s.a.defined() ? "r" + std::to_string(s.a.dim(3)) : "";
  if (!rank.empty() && name.find(rank) == std::string::npos) name += " " + rank;
  return name;
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", 100 * v);
  return b;
}
std::string sci(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

}  // namespace

Command add_spectrum(CLI::App& parent) {
  struct Flags {
    DataFlags data;
    bool dataset_given = false;
    std::vector<std::string> sources;
    int64_t n = 100;
    uint64_t seed = 0;
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand("spectrum", "Singular-value spectra of real images and of saved sets (figure, table)");
  app->footer(
      "Examples:\n"
      "  loco spectrum --dataset FashionMNIST --n 100 runs/dm-FashionMNIST-ipc10-s0 runs/lodm-FashionMNIST-ipc10-r2-s0\n"
      "  loco spectrum --n 0 runs/lodm-a/synset.safetensors --out runs/spectrum-lodm   # sets only\n"
      "For every image and channel: the singular values of the H×W plane, as normalised ((x − mean)/std, the\n"
      "space the networks see and low-rank sets factorise); their mean over images, divided by the largest;\n"
      "and the energy kept at rank r = 1, 2, 4, 8 (the r largest σ² over all σ², per plane, averaged).\n"
      "Writes DIR/spectrum.png, spectrum.svg (σ_i/σ_1 against i, log scale, a line per source), spectrum.md\n"
      "and spectrum.json, each atomically.");
  app->add_option("sources", f->sources, "Run directories or synset.safetensors files (any number)");
  add_data_flags(app, f->data, true);
  app->get_option("--dataset")->each([f](const std::string&) { f->dataset_given = true; });
  app->get_option("--dataset")->description(
      app->get_option("--dataset")->get_description() + " (default: the sets' dataset, else FashionMNIST)");
  app->add_option("--n", f->n, "Real training images per class, drawn at random (0: no real images)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_option("--seed", f->seed, "Seed of the real images' draw")->capture_default_str();
  app->add_option("--out", f->out, "Folder for spectrum.{png,svg,md,json} (default runs/spectrum-<dataset>; created, files replaced)");
  return {app, [f]() {
            // The sets first: they are small, and they fix the dataset when --dataset is not given.
            std::vector<Source> sources;
            std::vector<condense::SavedSet> sets;
            for (const auto& p : f->sources) sets.push_back(condense::load_set(p));  // names the file at fault
            const std::string dataset = f->dataset_given || sets.empty()
                                            ? condense::dataset_info(f->data.dataset).name
                                            : condense::dataset_info(sets.front().metadata.at("dataset")).name;
            for (size_t i = 0; i < sets.size(); ++i) {
              const std::string named = condense::dataset_info(sets[i].metadata.at("dataset")).name;
              LOCO_CHECK(named == dataset, f->sources[i], ": a set of ", named, ", not ", dataset,
                         " (one spectrum figure compares images of one dataset)");
            }
            LOCO_CHECK(f->n > 0 || !sets.empty(), "nothing to measure: --n 0 and no run directories or set files given");
            const std::string out = f->out.empty() ? "runs/spectrum-" + dataset : f->out;
            std::error_code ec;
            std::filesystem::create_directories(out, ec);
            LOCO_CHECK(!ec, "--out ", out, ": cannot create it (", ec.message(), ")");

            if (f->n > 0) {
              DataFlags d = f->data;
              d.dataset = dataset;
              const condense::DatasetPair data = load_data(d);
              Source s{.label = "real " + data.train.name, .path = f->data.generated ? "(generated)" : "", .kind = "real"};
              s.spectrum = analysis::image_spectrum(analysis::sample_real_images(data.train, f->n, f->seed), analysis::kEnergyRanks,
                                                    "real " + data.train.name);
              sources.push_back(std::move(s));
            }
            for (size_t i = 0; i < sets.size(); ++i) {
              const auto& set = sets[i];
              const std::string& p = f->sources[i];
              Source s{.label = set_label(p, set), .path = p, .kind = set.a.defined() ? "lowrank" : "pixel"};
              if (auto m = set.metadata.find("method"); m != set.metadata.end()) s.method = m->second;
              s.rank = set.a.defined() ? set.a.dim(3) : 0;
              s.spectrum = analysis::image_spectrum(set.images, analysis::kEnergyRanks, p);
              sources.push_back(std::move(s));
            }

            // The table: σ_i/σ_1 at a few i, and the energies.
            std::string md = "| source | images | σ2/σ1 | σ3/σ1 | σ5/σ1 | σ9/σ1 |";
            for (int64_t r : analysis::kEnergyRanks) md += " energy r=" + std::to_string(r) + " (%) |";
            md += "\n|---|---:|---:|---:|---:|---:|";
            for (size_t j = 0; j < analysis::kEnergyRanks.size(); ++j) md += "---:|";
            md += "\n";
            condense::Json js = condense::Json::array();
            figure::LinePlot plot{.title = "Singular values of " + dataset + " images", .x_label = "index i",
                                  .y_label = "mean σ_i / σ_1", .log_y = true, .markers = false};
            for (const auto& s : sources) {
              const auto& sp = s.spectrum;
              auto at = [&](size_t i) { return i < sp.mean_sigma.size() ? sci(sp.mean_sigma[i]) : std::string("–"); };
              md += "| " + s.label + " | " + std::to_string(sp.images) + " | " + at(1) + " | " + at(2) + " | " + at(4) +
                    " | " + at(8) + " |";
              condense::Json energy = condense::Json::object(), per_channel = condense::Json::array();
              for (size_t j = 0; j < sp.ranks.size(); ++j) {
                md += " " + pct(sp.mean_energy[j]) + " |";
                energy[std::to_string(sp.ranks[j])] = sp.mean_energy[j];
              }
              md += "\n";
              for (int64_t ch = 0; ch < sp.channels; ++ch) {
                condense::Json e = condense::Json::object();
                for (size_t j = 0; j < sp.ranks.size(); ++j) e[std::to_string(sp.ranks[j])] = sp.energy[ch][j];
                per_channel.push_back({{"sigma", sp.sigma[ch]}, {"energy", e}});
              }
              condense::Json one = {{"label", s.label}, {"kind", s.kind}, {"path", s.path}, {"images", sp.images},
                                    {"channels", sp.channels}, {"sigma", sp.mean_sigma}, {"energy", energy},
                                    {"per_channel", per_channel}};
              if (!s.method.empty()) one["method"] = s.method;
              if (s.rank) one["rank"] = s.rank;
              js.push_back(one);
              figure::Series line{.name = s.label};
              for (size_t i = 0; i < sp.mean_sigma.size(); ++i) {
                line.x.push_back(static_cast<double>(i + 1));
                line.y.push_back(sp.mean_sigma[i]);
              }
              plot.series.push_back(line);
            }
            const condense::Json doc = {{"command", "spectrum"},
                                        {"dataset", dataset},
                                        {"real_per_class", f->n},
                                        {"seed", f->seed},
                                        {"energy_ranks", analysis::kEnergyRanks},
                                        {"sources", js}};
            figure::save_line_plots({plot}, {.png = out + "/spectrum.png", .svg = out + "/spectrum.svg"}, 720, 460);
            write_file_atomic(out + "/spectrum.md", [&](FileSink& s) { s.write(md); });
            const std::string text = doc.dump(2) + "\n";
            write_file_atomic(out + "/spectrum.json", [&](FileSink& s) { s.write(text); });
            std::printf("\n%s\nspectrum: %s/{spectrum.png, spectrum.svg, spectrum.md, spectrum.json}\n", md.c_str(), out.c_str());
            return 0;
          }};
}

}  // namespace loco::cli
