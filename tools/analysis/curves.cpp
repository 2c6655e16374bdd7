// read_run_curves (tools/analysis/curves.h): log.jsonl line by line, report.json for the method.
#include "tools/analysis/curves.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/check.h"

namespace loco::analysis {

namespace fs = std::filesystem;

RunCurves read_run_curves(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  RunCurves c;
  c.dir = dir;
  c.name = fs::path(dir).filename().string();
  std::error_code ec;
  LOCO_CHECK(fs::is_directory(dir, ec), dir, ": not a run directory");
  const std::string log = dir + "/log.jsonl";
  std::ifstream in(log);
  LOCO_CHECK(in.good(), log, ": missing or unreadable (expected the log of a loco condense run)");
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      LOCO_FAIL(log, ": line ", line_no, " is not JSON (", e.what(), ")");
    }
    if (!j.is_object() || !j.contains("it") || !j["it"].is_number_integer()) continue;
    const int64_t it = j["it"].get<int64_t>();
    if (j.contains("loss") && j["loss"].is_number()) {
      c.iterations.push_back(it);
      c.loss.push_back(j["loss"].get<double>());
    }
    if (j.contains("eval") && j["eval"].is_object()) {
      const auto& e = j["eval"];
      LOCO_CHECK(e.contains("accuracy_mean") && e["accuracy_mean"].is_number(), log, ": line ", line_no,
                 ": an evaluation without accuracy_mean");
      EvalPoint p{.iteration = it, .mean = e["accuracy_mean"].get<double>()};
      if (e.contains("accuracy_std") && e["accuracy_std"].is_number()) p.std = e["accuracy_std"].get<double>();
      if (e.contains("accuracies") && e["accuracies"].is_array()) p.networks = static_cast<int64_t>(e["accuracies"].size());
      if (e.contains("model") && e["model"].is_string()) p.model = e["model"].get<std::string>();
      c.evaluations.push_back(p);
    }
  }
  LOCO_CHECK(!c.iterations.empty() || !c.evaluations.empty(), log,
             ": holds no condensation iterations (is this a loco condense run?)");
  std::stable_sort(c.evaluations.begin(), c.evaluations.end(),
                   [](const EvalPoint& a, const EvalPoint& b) { return a.iteration < b.iteration; });
  std::ifstream rep(dir + "/report.json");
  if (rep.good()) {
    try {
      const nlohmann::json r = nlohmann::json::parse(rep);
      if (r.contains("config") && r["config"].contains("method") && r["config"]["method"].is_string())
        c.method = r["config"]["method"].get<std::string>();
    } catch (const std::exception& e) {
      LOCO_FAIL(dir, "/report.json: not JSON (", e.what(), ")");
    }
  }
  return c;
}

}  // namespace loco::analysis
