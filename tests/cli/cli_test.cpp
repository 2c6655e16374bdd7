// The `loco` program as a user runs it, on a tiny generated Fashion-MNIST-shaped dataset:
// each subcommand completes and writes its run directory; bad flags and missing data give a
// clear message and a non-zero exit; an existing run directory survives without --force.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/harness/tiny_data.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out;  // stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string(LOCO_BIN) + " " + args + " 2>&1";
  Result r{-1, ""};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json read_json(const std::string& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("loco_cli_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    loco::testing::write_tiny_idx((root_ / "data").string(), 6, 3);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string at(const std::string& rel) { return (root_ / rel).string(); }
  static std::string data() { return " --data-dir " + at("data"); }
  static inline fs::path root_;
};

TEST_F(Cli, CoresetWritesARunDirectoryAndEvalReadsIt) {
  const Result r = run("coreset --method random --ipc 2 --epochs 3 --num-eval 2 --model ConvNetW32 --aug none --out " +
                       at("rnd") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"synset.safetensors", "grid.png", "report.json"}) EXPECT_TRUE(fs::exists(at("rnd/") + f)) << f;
  const auto rep = read_json(at("rnd/report.json"));
  EXPECT_EQ(rep["images_per_class"], 2);
  EXPECT_EQ(rep["floats_stored"], 20 * 784);
  EXPECT_EQ(rep["bytes_stored"], 20 * 784 * 4);
  EXPECT_EQ(rep["evaluation"]["accuracies"].size(), 2u);
  EXPECT_EQ(rep["evaluation"]["model"], "ConvNetW32");
  EXPECT_TRUE(rep["timings"].contains("eval_seconds"));

  const Result again = run("coreset --method random --ipc 2 --skip-eval --out " + at("rnd") + data());
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("already exists"), std::string::npos) << again.out;
  EXPECT_EQ(read_json(at("rnd/report.json")), rep) << "the existing run was touched";

  const Result e = run("eval " + at("rnd") + " --model ConvNetW32 --epochs 2 --num-eval 1 --aug none" + data());
  ASSERT_EQ(e.code, 0) << e.out;
  const auto ev = read_json(at("rnd/eval-ConvNetW32-e2-s0.json"));
  EXPECT_EQ(ev["accuracies"].size(), 1u);

  const Result forced = run("coreset --method random --ipc 1 --skip-eval --force --out " + at("rnd") + data());
  ASSERT_EQ(forced.code, 0) << forced.out;
  EXPECT_EQ(read_json(at("rnd/report.json"))["images_per_class"], 1);
}

TEST_F(Cli, TrainWritesTheBaselineReport) {
  const Result r = run("train --model ConvNetW32 --epochs 1 --aug dsa --out " + at("train") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rep = read_json(at("train/report.json"));
  EXPECT_EQ(rep["config"]["epochs_trained"], 2);
  EXPECT_GE(rep["evaluation"]["accuracy_mean"].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(at("train/model.safetensors")));
  std::ifstream log(at("train/log.jsonl"));
  int lines = 0;
  for (std::string l; std::getline(log, l);) ++lines;
  EXPECT_EQ(lines, 2);
}

TEST_F(Cli, BadInputGivesAClearMessageAndANonZeroExit) {
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases = {
      {"coreset --method kcenter --ipc 1", "--method"},
      {"coreset --method random --ipc 0", "--ipc"},
      {"coreset --method random", "--ipc"},
      {"coreset --method random --ipc 1 --data-dir " + at("missing"), at("missing")},
      {"coreset --method random --ipc 1 --dataset NotAThing", "NotAThing"},
      {"coreset --method random --ipc 9 --skip-eval --out " + at("x") + data(), "fewer than --ipc 9"},
      {"coreset --method random --ipc 1 --aug blur --out " + at("y") + data(), "blur"},
      {"train --model NoSuchNet --out " + at("z") + data(), "NoSuchNet"},
      {"eval " + at("nothing-here"), "nothing-here"},
      {"frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    const Result r = run(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(at("x"))) << "a failed run left its directory";
  EXPECT_FALSE(fs::exists(at("x.partial")));
}

}  // namespace
