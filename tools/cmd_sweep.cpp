// loco sweep: a grid of `loco condense` runs over some of its flags (Figs. 2b, 2c: accuracy
// against rank or learning rate, a line per budget). Each cell is its own run directory under
// --out, made by a child `loco condense` process, so a cell is exactly what that command makes
// and the sweep is resumable as each run is: a finished cell (its report.json) is skipped, an
// interrupted one (its .partial checkpoint) continues with --resume. Every cell's flags are
// checked (condense --dry-run) before the first runs. Then sweep.md and sweep.json: a row per
// cell, its flags, images per class, bytes, accuracy; and sweep.png/.svg: accuracy against the
// first numeric axis, a line per value of the others.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "tools/cli.h"
#include "tools/figure.h"

extern char** environ;

namespace loco::cli {
namespace {

namespace fs = std::filesystem;

struct Axis {
  std::string flag;  // without the dashes: "rank"
  std::vector<std::string> values;
};

Axis parse_axis(const std::string& s) {
  const auto eq = s.find('=');
  LOCO_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < s.size(), "--vary '", s,
             "': expected FLAG=V1,V2,... (e.g. rank=1,2,4,8)");
  Axis a{s.substr(0, eq), {}};
  while (a.flag.rfind('-', 0) == 0) a.flag.erase(0, 1);
  std::stringstream in(s.substr(eq + 1));
  for (std::string v; std::getline(in, v, ',');)
    if (!v.empty()) a.values.push_back(v);
  LOCO_CHECK(!a.values.empty(), "--vary '", s, "': no values");
  for (const char* owned : {"out", "resume", "force", "dry-run"})
    LOCO_CHECK(a.flag != owned, "--vary ", a.flag, ": the sweep sets --", a.flag, " itself");
  return a;
}

struct Cell {
  std::vector<std::string> values;  // one per axis
  std::string name;                 // "rank=2_budget=same-memory": its folder under --out
};

std::vector<Cell> grid(const std::vector<Axis>& axes) {
  std::vector<Cell> cells = {{}};
  for (const Axis& a : axes) {
    std::vector<Cell> next;
    for (const Cell& c : cells)
      for (const std::string& v : a.values) {
        Cell d = c;
        d.values.push_back(v);
        next.push_back(d);
      }
    cells = next;
  }
  for (Cell& c : cells)
    for (size_t i = 0; i < axes.size(); ++i) c.name += (i ? "_" : "") + axes[i].flag + "=" + c.values[i];
  return cells;
}

// Runs this program with args (stderr passes through, stdout too unless quiet); its exit status.
int run_self(const std::vector<std::string>& args, bool quiet = false) {
  std::vector<std::string> all = {"/proc/self/exe"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  if (quiet) posix_spawn_file_actions_addopen(&io, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int started = posix_spawn(&pid, "/proc/self/exe", &io, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&io);
  LOCO_CHECK(started == 0, "sweep: cannot start loco condense (", std::strerror(started), ")");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A number for every value of the axis, or nothing (then it cannot be an x axis).
std::optional<std::vector<double>> numeric(const Axis& a) {
  std::vector<double> x;
  for (const std::string& v : a.values) {
    double d = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
    x.push_back(d);
  }
  return x;
}

// Figs. 2b and 2c: accuracy (mean ± std band) against the first numeric axis, a line per
// combination of the other axes (a line per budget). Values spanning more than 10× (learning
// rates) are drawn at their log10. Cells without an evaluation are left out. Returns false,
// writing nothing, when no axis is numeric or no cell was evaluated.
bool draw_sweep(const std::vector<Axis>& axes, const std::vector<Cell>& cells, const condense::Json& rows,
                const figure::Outputs& out) {
  size_t xi = axes.size();
  std::vector<double> xs;
  for (size_t i = 0; i < axes.size() && xi == axes.size(); ++i)
    if (auto x = numeric(axes[i])) xi = i, xs = *x;
  if (xi == axes.size()) return false;
  const double lo = *std::min_element(xs.begin(), xs.end()), hi = *std::max_element(xs.begin(), xs.end());
  const bool log_x = lo > 0 && hi > 10 * lo;
  std::map<std::string, figure::Series> lines;  // by the other axes' values, in grid order
  std::vector<std::string> order;
  for (size_t k = 0; k < cells.size(); ++k) {
    const condense::Json& row = rows[k];
    if (!row.contains("evaluation")) continue;
    std::string name;
    for (size_t i = 0; i < axes.size(); ++i)
      if (i != xi) name += (name.empty() ? "" : ", ") + axes[i].flag + " " + cells[k].values[i];
    if (!lines.count(name)) order.push_back(name), lines[name].name = name.empty() ? "accuracy" : name;
    const auto v = std::find(axes[xi].values.begin(), axes[xi].values.end(), cells[k].values[xi]);
    const double x = xs[static_cast<size_t>(v - axes[xi].values.begin())];
    lines[name].x.push_back(log_x ? std::log10(x) : x);
    lines[name].y.push_back(100 * row["evaluation"]["accuracy_mean"].get<double>());
    lines[name].spread.push_back(100 * row["evaluation"]["accuracy_std"].get<double>());
  }
  if (order.empty()) return false;
  figure::LinePlot p{.title = "loco sweep: accuracy against " + axes[xi].flag,
                     .x_label = log_x ? "log10 " + axes[xi].flag : axes[xi].flag,
                     .y_label = "test accuracy (%)"};
  for (const std::string& n : order) p.series.push_back(lines[n]);
  figure::save_line_plots({p}, out);
  return true;
}

}  // namespace

Command add_sweep(CLI::App& parent) {
  struct Flags {
    std::vector<std::string> vary;
    std::vector<std::string> condense_args;
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* app = parent.add_subcommand(
      "sweep", "A grid of loco condense runs over some of its flags, then a table of accuracy per cell (resumable)");
  app->footer(
      "Example (Fig. 2b: accuracy against rank, both budgets):\n"
      "  loco sweep --out runs/sweep-rank --vary rank=1,2,4,8 --vary budget=same-memory,same-images \\\n"
      "             -- --method lodm --ipc 10 --preset cpu-quick\n"
      "Everything after -- goes to every loco condense run. Rerun the same command to finish an interrupted sweep.");
  app->add_option("--vary", f->vary, "FLAG=V1,V2,...: a loco condense flag and its values (repeat for a grid)")
      ->required();
  app->add_option("--out", f->out, "The sweep's folder: a run directory per cell, sweep.md, sweep.json")->required();
  // Everything after -- is condense's: CLI11 leaves it unparsed for remaining().
  app->prefix_command();
  return {app, [f, app]() {
            f->condense_args = app->remaining();
            if (!f->condense_args.empty() && f->condense_args.front() == "--") f->condense_args.erase(f->condense_args.begin());
            std::vector<Axis> axes;
            for (const auto& v : f->vary) axes.push_back(parse_axis(v));
            const std::vector<Cell> cells = grid(axes);
            auto args_of = [&](const Cell& c) {
              std::vector<std::string> a = {"condense"};
              a.insert(a.end(), f->condense_args.begin(), f->condense_args.end());
              for (size_t i = 0; i < axes.size(); ++i) a.insert(a.end(), {"--" + axes[i].flag, c.values[i]});
              return a;
            };
            // Every cell's flags before any run: a bad value in the last cell must not wait hours.
            for (const Cell& c : cells) {
              std::vector<std::string> a = args_of(c);
              a.push_back("--dry-run");
              LOCO_CHECK(run_self(a, true) == 0, "sweep: cell ", c.name, " has flags loco condense refuses (above)");
            }
            fs::create_directories(f->out);
            for (size_t k = 0; k < cells.size(); ++k) {
              const Cell& c = cells[k];
              const std::string dir = f->out + "/" + c.name;
              std::error_code ec;
              if (fs::exists(dir + "/report.json", ec)) {
                std::printf("sweep: cell %zu/%zu %s: done, skipped\n", k + 1, cells.size(), c.name.c_str());
                continue;
              }
              std::vector<std::string> a = args_of(c);
              const bool resume = fs::exists(dir + ".partial/checkpoint.safetensors", ec);
              a.insert(a.end(), {resume ? "--resume" : "--out", dir});
              std::printf("sweep: cell %zu/%zu %s%s\n", k + 1, cells.size(), c.name.c_str(),
                          resume ? ": resuming its checkpoint" : "");
              const int code = run_self(a);
              LOCO_CHECK(code == 0, "sweep: cell ", c.name, " failed (loco condense exit ", code,
                         "); the cells before it are kept: rerun the same command to go on");
            }
            // The table: a row per cell.
            condense::Json rows = condense::Json::array();
            std::string md = "|";
            for (const Axis& a : axes) md += " " + a.flag + " |";
            md += " images/class | bytes | accuracy |\n|";
            for (size_t i = 0; i < axes.size() + 3; ++i) md += "---|";
            md += "\n";
            for (const Cell& c : cells) {
              std::ifstream in(f->out + "/" + c.name + "/report.json");
              const condense::Json rep = condense::Json::parse(in, nullptr, false);
              LOCO_CHECK(rep.is_object(), f->out, "/", c.name, "/report.json: not a report");
              condense::Json row = {{"cell", c.name}};
              md += "|";
              for (size_t i = 0; i < axes.size(); ++i) {
                row[axes[i].flag] = c.values[i];
                md += " " + c.values[i] + " |";
              }
              row["images_per_class"] = rep.value("images_per_class", 0);
              row["bytes_stored"] = rep.value("bytes_stored", 0);
              const bool evaluated = rep.contains("evaluation");
              if (evaluated) row["evaluation"] = rep["evaluation"];
              md += " " + std::to_string(rep.value("images_per_class", 0)) + " | " +
                    format_bytes(rep.value("bytes_stored", int64_t{0})) + " | " +
                    (evaluated ? percent(rep["evaluation"]["accuracy_mean"].get<double>(),
                                         rep["evaluation"]["accuracy_std"].get<double>())
                               : std::string("not evaluated")) +
                    " |\n";
              rows.push_back(row);
            }
            condense::Json axes_json = condense::Json::object();
            for (const Axis& a : axes) axes_json[a.flag] = a.values;
            const condense::Json table = {{"condense_args", f->condense_args}, {"vary", axes_json}, {"cells", rows}};
            const std::string json = table.dump(2) + "\n";
            write_file_atomic(f->out + "/sweep.md", [&](FileSink& s) { s.write(md); });
            write_file_atomic(f->out + "/sweep.json", [&](FileSink& s) { s.write(json); });
            const bool drawn = draw_sweep(axes, cells, rows, {.png = f->out + "/sweep.png", .svg = f->out + "/sweep.svg"});
            std::printf("\n%s\nsweep: written %s/sweep.md, sweep.json%s\n", md.c_str(), f->out.c_str(),
                        drawn ? ", sweep.png and sweep.svg" : " (no figure: no axis has numeric values, or no cell was evaluated)");
            return 0;
          }};
}

}  // namespace loco::cli
