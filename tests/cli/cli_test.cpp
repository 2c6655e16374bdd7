// The `loco` program as a user runs it, on a tiny generated Fashion-MNIST-shaped dataset:
// each subcommand completes and writes its run directory; bad flags and missing data give a
// clear message and a non-zero exit; an existing run directory survives without --force.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"
#include "tests/harness/figure_check.h"
#include "tests/harness/shell.h"
#include "tests/harness/tiny_data.h"

namespace {

namespace fs = std::filesystem;

using loco::testing::read_json;
using loco::testing::Result;
using loco::testing::sh;
using loco::testing::slurp;

Result run(const std::string& args) { return sh(std::string(LOCO_BIN) + " " + args); }

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("loco_cli_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    loco::testing::write_tiny_idx((root_ / "data").string(), 10, 3);
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

// Several sets × several networks: one eval file per cell and Table 3's layout (rows: sets with
// the method and the network they were condensed on; columns: the evaluation networks).
TEST_F(Cli, EvalOfSeveralSetsOnSeveralNetworksWritesTheCrossArchitectureTable) {
  ASSERT_EQ(run("coreset --method random --ipc 1 --skip-eval --out " + at("xa-rnd") + data()).code, 0);
  const Result c = run("condense --method dm --ipc 1 --iterations 2 --batch-real 4 --model ConvNetW32 --num-eval 0 --out " +
                       at("xa-dm") + data());
  ASSERT_EQ(c.code, 0) << c.out;
  const Result e = run("eval " + at("xa-rnd") + " " + at("xa-dm") +
                       " --model ConvNetW32,MLP --epochs 1 --num-eval 1 --aug none --table " + at("xa") + data());
  ASSERT_EQ(e.code, 0) << e.out;
  for (const char* run_dir : {"xa-rnd", "xa-dm"})
    for (const char* model : {"ConvNetW32", "MLP"})
      EXPECT_TRUE(fs::exists(at(std::string(run_dir) + "/eval-" + model + "-e1-s0.json"))) << run_dir << " " << model;
  const auto t = read_json(at("xa.json"));
  EXPECT_EQ(t["models"], nlohmann::json({"ConvNetW32", "MLP"}));
  ASSERT_EQ(t["rows"].size(), 2u);
  EXPECT_EQ(t["rows"][1]["method"], "dm");
  EXPECT_EQ(t["rows"][1]["condensed_on"], "ConvNetW32");
  EXPECT_EQ(t["rows"][0]["condensed_on"], "—") << "a coreset is condensed on no network";
  EXPECT_EQ(t["rows"][0]["results"]["MLP"]["accuracies"].size(), 1u);
  std::ifstream md(at("xa.md"));
  const std::string table(std::istreambuf_iterator<char>(md), {});
  EXPECT_NE(table.find("| set | method | condensed on | ConvNetW32 | MLP |"), std::string::npos) << table;

  // A bad network in the list fails before any evaluation runs.
  const Result bad = run("eval " + at("xa-rnd") + " --model ConvNetW32,Nope --epochs 1" + data());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("Nope"), std::string::npos) << bad.out;
  EXPECT_EQ(bad.out.find("eval: " + at("xa-rnd") + " on"), std::string::npos) << "evaluated before refusing: " << bad.out;
}

// A sweep runs a cell per value, skips finished cells when rerun (only the missing ones run),
// and checks every cell's flags before anything is written.
TEST_F(Cli, SweepRunsEachCellOnceAndRerunsOnlyTheMissingOnes) {
  const std::string out = at("sweep");
  const std::string cmd = "sweep --out " + out + " --vary rank=1,2 -- --method lodm --ipc 1 --iterations 2 --batch-real 4"
                          " --init noise --model ConvNetW32 --num-eval 0" + data();
  const Result first = run(cmd);
  ASSERT_EQ(first.code, 0) << first.out;
  const auto t = read_json(out + "/sweep.json");
  ASSERT_EQ(t["cells"].size(), 2u);
  EXPECT_EQ(t["cells"][0]["rank"], "1");
  EXPECT_EQ(t["cells"][0]["images_per_class"], 14);
  EXPECT_EQ(t["cells"][1]["images_per_class"], 7);
  const auto kept = fs::last_write_time(out + "/rank=1/report.json");
  fs::remove_all(out + "/rank=2");
  const Result again = run(cmd);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("cell 1/2 rank=1: done, skipped"), std::string::npos) << again.out;
  EXPECT_EQ(fs::last_write_time(out + "/rank=1/report.json"), kept) << "a finished cell was run again";
  EXPECT_TRUE(fs::exists(out + "/rank=2/report.json"));

  const Result empty = run("sweep --out " + at("sweep-empty") + " --vary rank= -- --method lodm --ipc 1" + data());
  EXPECT_EQ(empty.code, 1) << empty.out;
  EXPECT_NE(empty.out.find("--vary 'rank=': expected FLAG=V1,V2"), std::string::npos) << empty.out;
  const Result bad = run("sweep --out " + at("sweep-bad") + " --vary rank=2,28 -- --method lodm --ipc 1" + data());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("cell rank=28"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(at("sweep-bad"))) << "a sweep with a bad cell wrote before refusing";
  EXPECT_NE(first.out.find("no figure"), std::string::npos) << "no cell was evaluated: " << first.out;
  EXPECT_FALSE(fs::exists(out + "/sweep.png"));
}

// Figs. 2b/2c: an evaluated sweep draws accuracy against its numeric axis, a line per budget.
TEST_F(Cli, SweepDrawsAccuracyAgainstTheNumericAxis) {
  const std::string out = at("sweep-fig");
  const Result r = run("sweep --out " + out + " --vary budget=same-memory,same-images --vary rank=1,2 -- --method lodm"
                       " --ipc 1 --iterations 1 --batch-real 4 --init noise --model ConvNetW32 --num-eval 1"
                       " --eval-epochs 1" + data());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sweep.png and sweep.svg"), std::string::npos) << r.out;
  EXPECT_EQ(loco::testing::png_size(out + "/sweep.png"), (std::pair<int, int>{640, 420}));
  const std::string svg = slurp(out + "/sweep.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
}

// loco tsne: a trained network's features of real images and of a set, one panel per set, written
// as JSON, PNG and SVG; a network of another dataset is refused, naming both.
TEST_F(Cli, TsneDrawsRealAndSyntheticPointsAndRefusesAnotherDatasetsNetwork) {
  ASSERT_EQ(run("train --model ConvNetW32 --epochs 1 --aug none --out " + at("tsne-net") + data()).code, 0);
  ASSERT_EQ(run("coreset --method random --ipc 2 --skip-eval --out " + at("tsne-set") + data()).code, 0);
  const Result r = run("tsne --weights " + at("tsne-net") + " " + at("tsne-set") + " --n 5 --perplexity 5 --iterations 200"
                       " --out " + at("tsne") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = read_json(at("tsne/tsne.json"));
  EXPECT_EQ(j["x"].size(), 70u) << "10 classes × 5 real + 20 synthetic";
  EXPECT_EQ(j["source"][69], 1);
  EXPECT_EQ(loco::testing::png_size(at("tsne/tsne.png")), (std::pair<int, int>{560 + 170, 600}));
  EXPECT_TRUE(loco::testing::svg_size(at("tsne/tsne.svg")).has_value());

  // The same network named as an MNIST one meets a FashionMNIST set.
  loco::SafetensorsFile w = loco::load_safetensors(at("tsne-net/model.safetensors"));
  std::vector<std::pair<std::string, loco::Tensor>> t(w.tensors.begin(), w.tensors.end());
  loco::save_safetensors(at("mnist-net.safetensors"), t, {{"model", "ConvNetW32"}, {"dataset", "MNIST"}});
  const Result other = run("tsne --weights " + at("mnist-net.safetensors") + " " + at("tsne-set") + " --out " +
                           at("tsne-other") + data());
  EXPECT_EQ(other.code, 1) << other.out;
  EXPECT_NE(other.out.find("a FashionMNIST set, but " + at("mnist-net.safetensors") + " is a network trained on MNIST"),
            std::string::npos) << other.out;
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

TEST_F(Cli, CondenseWritesTheRunAndResumesAnInterruptedOne) {
  const std::string tiny = " --ipc 1 --iterations 3 --batch-real 4 --model ConvNetW32 --eval-model ConvNetW32"
                           " --eval-epochs 1 --num-eval 2" + data();
  const Result r = run("condense --method lodm" + tiny + " --out " + at("lodm"));
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"synset.safetensors", "grid.png", "report.json", "log.jsonl", "checkpoint.safetensors"})
    EXPECT_TRUE(fs::exists(at("lodm/") + f)) << f;
  const auto rep = read_json(at("lodm/report.json"));
  EXPECT_EQ(rep["images_per_class"], 7);  // ⌊1·28·28 / (2·56)⌋
  EXPECT_EQ(rep["floats_stored"], 70 * 2 * 56);
  EXPECT_EQ(rep["bytes_stored"], 70 * 2 * 56 * 4);
  EXPECT_DOUBLE_EQ(rep["ratio_to_full_pixels"].get<double>(), 1.0);
  EXPECT_EQ(rep["config"]["rank"], 2);
  EXPECT_EQ(rep["config"]["budget"], "same-memory");
  EXPECT_EQ(rep["evaluation"]["accuracies"].size(), 2u);
  EXPECT_EQ(rep["evaluation"]["model"], "ConvNetW32");
  EXPECT_TRUE(rep["evaluation"].contains("accuracy_mean"));
  EXPECT_TRUE(rep["timings"].contains("condense_seconds"));
  EXPECT_TRUE(rep["timings"].contains("eval_seconds"));
  EXPECT_NE(r.out.find("images/class    7"), std::string::npos) << r.out;

  const Result again = run("condense --method lodm" + tiny + " --out " + at("lodm"));
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("already exists"), std::string::npos) << again.out;
  EXPECT_EQ(read_json(at("lodm/report.json")), rep) << "the existing run was touched";

  const Result cut = run("condense --method dm" + tiny + " --stop-after 1 --out " + at("dm"));
  EXPECT_NE(cut.code, 0);
  EXPECT_NE(cut.out.find("--resume"), std::string::npos) << cut.out;
  EXPECT_FALSE(fs::exists(at("dm")));
  const Result fresh = run("condense --method dm" + tiny + " --out " + at("dm"));
  EXPECT_NE(fresh.code, 0) << "a fresh run silently dropped an interrupted one";
  const Result resumed = run("condense --method dm" + tiny + " --resume " + at("dm"));
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_EQ(read_json(at("dm/report.json"))["timings"]["resumed_at_iteration"], 1);
}

// loco experts: shares from --first equal one run's files byte for byte, --resume remakes only
// what is missing, and loco condense --method lomtt then distils from the folder; bad folders
// are refused before any run directory exists.
TEST_F(Cli, CondenseDrawsReadableGridsEveryNIterations) {
  const Result r = run("condense --method dm --ipc 2 --iterations 5 --batch-real 4 --model ConvNetW32 --num-eval 0"
                       " --grid-every 2 --out " + at("grids") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  // Iterations 0, 2, 4 (not 5: it is no multiple of 2), each as big as the final grid: 10 rows of
  // 28×28 images upscaled ×10 with the class names on their left.
  std::vector<std::string> grids;
  for (const auto& e : fs::directory_iterator(at("grids")))
    if (e.path().filename().string().rfind("grid-", 0) == 0) grids.push_back(e.path().filename().string());
  std::sort(grids.begin(), grids.end());
  EXPECT_EQ(grids, (std::vector<std::string>{"grid-0.png", "grid-2.png", "grid-4.png"}));
  const auto final_size = loco::testing::png_size(at("grids/grid.png"));
  ASSERT_TRUE(final_size);
  EXPECT_GE(final_size->second, 10 * 280);
  EXPECT_GT(final_size->first, 2 * 280 + 60) << "two images per row and the class names";
  for (const auto& g : grids) EXPECT_EQ(loco::testing::png_size(at("grids/" + g)), final_size) << g;
  // The strip: a row per class, a column per snapshot (0, 2, 4) and the final set (5).
  const auto strip = loco::testing::png_size(at("grids/strip.png"));
  ASSERT_TRUE(strip);
  EXPECT_EQ(strip->second, final_size->second);
  EXPECT_GT(strip->first, 4 * 280 + 60);
  EXPECT_NE(run("condense --method dm --ipc 1 --grid-every -1 --out " + at("bad") + data()).code, 0);
}

// --rank auto: the proxy's table is printed and kept in report.json, the chosen rank is the
// one the run used, and it is refused where there is no memory budget to choose within.
TEST_F(Cli, RankAutoChoosesWithinTheMemoryAndSaysWhy) {
  const Result r = run("condense --method lodm --ipc 2 --rank auto --iterations 1 --batch-real 4 --model ConvNetW32"
                       " --num-eval 0 --out " + at("auto") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("<- chosen"), std::string::npos) << r.out;
  const auto rep = read_json(at("auto/report.json"));
  ASSERT_TRUE(rep.contains("rank_auto")) << rep.dump(2);
  const auto& ra = rep["rank_auto"];
  EXPECT_EQ(ra["chosen"], rep["config"]["rank"]);
  double best = -1;
  for (const auto& k : ra["candidates"]) {
    EXPECT_LE(k["images_per_class"].get<int64_t>() * k["rank"].get<int64_t>() * 56, 2 * 784) << k.dump();
    best = std::max(best, k["nn_accuracy"].get<double>());
  }
  for (const auto& k : ra["candidates"])
    if (k["rank"] == ra["chosen"]) EXPECT_EQ(k["nn_accuracy"].get<double>(), best);
  for (const char* bad : {"--method dm --rank auto", "--method lodm --rank auto --budget same-images",
                          "--method lodm --rank two"}) {
    const Result b = run(std::string("condense --ipc 1 --num-eval 0 ") + bad + " --out " + at("auto-bad") + data());
    EXPECT_NE(b.code, 0) << bad;
    EXPECT_NE(b.out.find("--rank"), std::string::npos) << bad << ": " << b.out;
    EXPECT_FALSE(fs::exists(at("auto-bad"))) << bad;
  }
}

TEST_F(Cli, SpectrumOfRealImagesAndARankTwoSet) {
  const Result c = run("condense --method lodm --ipc 1 --iterations 1 --batch-real 4 --model ConvNetW32 --num-eval 0"
                       " --out " + at("spec-lodm") + data());
  ASSERT_EQ(c.code, 0) << c.out;
  const Result r = run("spectrum --n 3 " + at("spec-lodm") + " --out " + at("spec") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("| source | images |"), std::string::npos) << r.out;
  EXPECT_EQ(loco::testing::png_size(at("spec/spectrum.png")), (std::pair<int, int>{720, 460}));
  EXPECT_EQ(loco::testing::svg_size(at("spec/spectrum.svg")), (std::pair<double, double>{720, 460}));
  EXPECT_NE(loco::testing::file_bytes(at("spec/spectrum.md")).find("spec-lodm r2"), std::string::npos);
  const auto js = read_json(at("spec/spectrum.json"));
  ASSERT_EQ(js["sources"].size(), 2u);
  EXPECT_EQ(js["sources"][0]["kind"], "real");
  EXPECT_EQ(js["sources"][0]["images"], 30);
  const auto& low = js["sources"][1];
  EXPECT_EQ(low["rank"], 2);
  EXPECT_EQ(low["images"], 70);
  ASSERT_EQ(low["sigma"].size(), 28u);
  EXPECT_DOUBLE_EQ(low["sigma"][0].get<double>(), 1.0);
  EXPECT_GT(low["sigma"][1].get<double>(), 1e-3);
  for (size_t i = 2; i < 28; ++i) EXPECT_LE(low["sigma"][i].get<double>(), 1e-5) << i;
  EXPECT_NEAR(low["energy"]["2"].get<double>(), 1.0, 1e-6);
  EXPECT_LT(js["sources"][0]["energy"]["1"].get<double>(), js["sources"][0]["energy"]["8"].get<double>());

  const Result missing = run("spectrum --n 0 " + at("no-such-run") + " --out " + at("spec-bad"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find(at("no-such-run")), std::string::npos) << missing.out;
  const Result nothing = run("spectrum --n 0 --out " + at("spec-bad"));
  EXPECT_EQ(nothing.code, 1);
  EXPECT_NE(nothing.out.find("nothing to measure"), std::string::npos) << nothing.out;
  const Result other = run("spectrum --n 0 --dataset MNIST " + at("spec-lodm") + " --out " + at("spec-bad"));
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.out.find("a set of FashionMNIST, not MNIST"), std::string::npos) << other.out;
  EXPECT_NE(run("spectrum --n -1" + data()).code, 0);
  EXPECT_FALSE(fs::exists(at("spec-bad")));
}

TEST_F(Cli, PlotDrawsAccuracyAndLossOfSeveralRuns) {
  const std::string tiny = " --ipc 1 --iterations 4 --batch-real 4 --model ConvNetW32 --eval-model ConvNetW32"
                           " --eval-epochs 1 --num-eval 2 --eval-aug none" + data();
  for (const char* m : {"dm", "lodm"}) {
    const Result c = run(std::string("condense --method ") + m + tiny + " --eval-every 2 --out " + at(std::string("plot-") + m));
    ASSERT_EQ(c.code, 0) << c.out;
  }
  const Result once = run("condense --method dm" + tiny + " --out " + at("plot-once"));
  ASSERT_EQ(once.code, 0) << once.out;

  const Result r = run("plot " + at("plot-dm") + " " + at("plot-lodm") + " --out " + at("plot"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("plot-lodm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     3  "), std::string::npos) << "evaluations at 0, 2 and 4\n" << r.out;
  EXPECT_EQ(loco::testing::png_size(at("plot/plot.png")), (std::pair<int, int>{1280, 440}));
  EXPECT_EQ(loco::testing::svg_size(at("plot/plot.svg")), (std::pair<double, double>{1280, 440}));

  const Result labelled = run("plot " + at("plot-dm") + " " + at("plot-lodm") + " --labels DM,LoDM --out " + at("plot2"));
  ASSERT_EQ(labelled.code, 0) << labelled.out;
  EXPECT_NE(labelled.out.find("LoDM"), std::string::npos) << labelled.out;

  // A run evaluated only at the end has no accuracy curve: the error names it.
  const Result bad = run("plot " + at("plot-dm") + " " + at("plot-once") + " --out " + at("plot-bad"));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find(at("plot-once") + ": log.jsonl holds 1 evaluation"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("--eval-every"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(at("plot-bad")));
  const Result count = run("plot " + at("plot-dm") + " --labels a,b --out " + at("plot-bad"));
  EXPECT_NE(count.out.find("--labels: 2 labels for 1 runs"), std::string::npos) << count.out;
  EXPECT_NE(run("plot --out " + at("plot-bad")).code, 0) << "no run given";
  EXPECT_FALSE(fs::exists(at("plot-bad")));
}

TEST_F(Cli, ExpertsInSharesResumeAndFeedTrajectoryMatching) {
  const std::string ex = " --model ConvNetW32 --epochs 2 --batch 64" + data();
  ASSERT_EQ(run("experts --num-experts 2" + ex + " --out " + at("ex")).code, 0);
  const Result share = run("experts --first 1 --num-experts 1" + ex + " --out " + at("ex-share"));
  ASSERT_EQ(share.code, 0) << share.out;
  EXPECT_EQ(slurp(at("ex/expert_0001.safetensors")), slurp(at("ex-share/expert_0001.safetensors")));
  const Result twice = run("experts --num-experts 2" + ex + " --out " + at("ex"));
  EXPECT_NE(twice.code, 0);
  EXPECT_NE(twice.out.find("--resume"), std::string::npos) << twice.out;
  const std::string kept = slurp(at("ex/expert_0000.safetensors"));
  fs::remove(at("ex/expert_0001.safetensors"));
  const Result resumed = run("experts --num-experts 2 --resume" + ex + " --out " + at("ex"));
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("1 already complete"), std::string::npos) << resumed.out;
  EXPECT_EQ(slurp(at("ex/expert_0000.safetensors")), kept) << "a complete expert was remade";
  EXPECT_EQ(slurp(at("ex/expert_0001.safetensors")), slurp(at("ex-share/expert_0001.safetensors")));

  const std::string mtt = " --ipc 1 --budget same-images --iterations 2 --syn-steps 2 --expert-epochs 1"
                          " --max-start-epoch 2 --model ConvNetW32 --eval-model ConvNetW32 --eval-epochs 1"
                          " --num-eval 1" + data();
  const Result r = run("condense --method lomtt --experts " + at("ex") + mtt + " --out " + at("lomtt"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rep = read_json(at("lomtt/report.json"));
  EXPECT_EQ(rep["experts"]["used"], 2);
  EXPECT_GT(rep["syn_lr"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(rep["evaluation"]["lr"].get<double>(), rep["syn_lr"].get<double>());
  EXPECT_GT(rep["peak_rss_bytes"].get<int64_t>(), 0);
  const Result e = run("eval " + at("lomtt") + " --model ConvNetW32 --epochs 1 --num-eval 1" + data());
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("the set's learned syn_lr"), std::string::npos) << e.out;

  struct Bad {
    std::string args, says;
  };
  for (const Bad& b : std::vector<Bad>{
           {"--experts " + at("nowhere"), "no such folder"},
           {"--experts " + at("ex") + " --model ConvNet --eval-model ConvNetW32" , "an expert of ConvNetW32"},
           {"--experts " + at("ex") + " --max-start-epoch 3", "holds 2 epochs"},
           {"", "--experts DIR is needed"}}) {
    const std::string cmd = "condense --method mtt --ipc 1 --iterations 1 --num-eval 0 --model ConvNetW32 " + b.args +
                            data() + " --out " + at("bad");
    const Result bad = run(cmd);
    EXPECT_NE(bad.code, 0) << cmd;
    EXPECT_NE(bad.out.find(b.says), std::string::npos) << cmd << "\n" << bad.out;
    EXPECT_FALSE(fs::exists(at("bad"))) << cmd;
    EXPECT_FALSE(fs::exists(at("bad.partial"))) << cmd;
  }
}

TEST_F(Cli, ClPrintsATableAndWritesReportAndPlot) {
  const Result r = run("cl --tasks 5 --memory-per-class 1 --method random,herding --seeds 1 --feature-epochs 1"
                       " --eval-epochs 2 --model ConvNetW32 --out " + at("cl") + data());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("task 5 (10)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("herding"), std::string::npos) << r.out;
  const auto rep = read_json(at("cl/report.json"));
  EXPECT_EQ(rep["methods"]["random"]["accuracy_mean"].size(), 5u);
  EXPECT_EQ(rep["methods"]["herding"]["steps"].size(), 5u);
  EXPECT_EQ(loco::testing::png_size(at("cl/plot.png")), (std::pair<int, int>{640, 420}));
  EXPECT_EQ(loco::testing::svg_size(at("cl/plot.svg")), (std::pair<double, double>{640, 420}));
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
      {"coreset --method random --ipc 11 --skip-eval --out " + at("x") + data(), "fewer than --ipc 11"},
      {"coreset --method random --ipc 1 --aug blur --out " + at("y") + data(), "blur"},
      {"train --model NoSuchNet --out " + at("z") + data(), "NoSuchNet"},
      {"eval " + at("nothing-here"), "nothing-here"},
      {"frobnicate", "frobnicate"},
      {"condense --method kcenter --ipc 1" + data(), "unknown method 'kcenter'"},
      {"condense --method mtt --ipc 1" + data(), "--experts DIR is needed by mtt"},
      {"cl --tasks 3" + data(), "--tasks 3"},
      {"cl --method random,kcenter" + data(), "kcenter"},
      {"condense --method lodm --ipc 1 --rank 28" + data(), "--rank: 28 is out of range; allowed: 1 ≤ rank < min(H, W) = 28"},
      {"condense --method dm --ipc 0" + data(), "--ipc"},
      {"condense --method dm --ipc 1 --rank 2" + data(), "--rank is for the low-rank methods"},
      {"condense --method lodm --ipc 1 --budget half" + data(), "half"},
      {"condense --method dc --ipc 3" + data(), "ipc 3"},
      {"condense --method dm --ipc 1 --data-dir " + at("missing"), at("missing")},
      {"condense --method dm --ipc 1 --preset huge" + data(), "--preset"},
      {"condense --method dm --ipc 1 --resume " + at("never-ran") + data(), at("never-ran")},
  };
  for (const auto& c : cases) {
    const Result r = run(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(at("x"))) << "a failed run left its directory";
  EXPECT_FALSE(fs::exists(at("x.partial")));
}

// Ctrl-C says where the run stands: after a checkpoint, how to resume (and --resume then ends the
// run); a failure before any checkpoint leaves nothing that blocks the next run.
TEST_F(Cli, InterruptSaysHowToResumeAndResumeFinishes) {
  const std::string out = at("intr");
  const std::string flags = "condense --method dm --ipc 1 --iterations 60 --checkpoint-every 1 --num-eval 0" + data();
  const Result r = sh(std::string(LOCO_BIN) + " " + flags + " --out " + out + " 2>&1 & pid=$!; while [ ! -f " + out +
                      ".partial/checkpoint.safetensors ]; do sleep 0.05; done; kill -INT $pid; wait $pid; echo exit=$?");
  EXPECT_NE(r.out.find("exit=130"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loco: interrupted; " + out + ".partial keeps the last checkpoint"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--resume " + out), std::string::npos) << r.out;
  const Result resumed = run(flags + " --resume " + out);
  EXPECT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_TRUE(fs::exists(out + "/synset.safetensors"));

  // A run that fails before its first checkpoint leaves no partial folder behind.
  const Result early =
      run("condense --method lodm --ipc 1 --iterations 5 --lr-img 1e30 --num-eval 0 --out " + at("early") + data());
  EXPECT_NE(early.code, 0);
  EXPECT_FALSE(fs::exists(at("early.partial")));
  EXPECT_EQ(early.out.find("--resume"), std::string::npos) << early.out;
}

// Two runs on one --out: the second is refused at once, naming the first's PID, and the first's
// files are untouched (before the lock, their log lines interleaved).
TEST_F(Cli, ASecondRunOnTheSameOutIsRefused) {
  const std::string out = at("twice");
  const std::string flags =
      "condense --method dm --ipc 1 --iterations 100000 --checkpoint-every 1 --num-eval 0 --out " + out + data();
  const Result r = sh(std::string(LOCO_BIN) + " " + flags + " >/dev/null 2>&1 & pid=$!; while [ ! -f " + out +
                      ".partial/checkpoint.safetensors ]; do sleep 0.05; done; echo first=$pid; " + LOCO_BIN + " " +
                      flags + " --force 2>&1; echo exit=$?; kill -TERM $pid; wait $pid");
  const auto at_pid = r.out.find("first=");
  ASSERT_NE(at_pid, std::string::npos) << r.out;
  const std::string pid = r.out.substr(at_pid + 6, r.out.find('\n', at_pid) - at_pid - 6);
  EXPECT_NE(r.out.find("exit=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("another loco (PID " + pid + ") is writing " + out), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out + ".partial/checkpoint.safetensors")) << "the refused run touched the first one's files";
}

// Out of memory names the flags that bound it and does not suggest a --resume that would fail
// the same way. (ulimit -v makes the allocation fail the way a full machine does.)
TEST_F(Cli, OutOfMemoryNamesTheFlagsThatBoundIt) {
  const Result r = sh("ulimit -v 4000000; " + std::string(LOCO_BIN) +
                      " condense --method dm --ipc 2000 --init noise --iterations 1 --num-eval 0 --checkpoint-every 1"
                      " --out " + at("oom") + data());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("out of cpu memory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory is bounded by --max-batch"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("--resume"), std::string::npos) << r.out;
}

// Usage errors (the parser's) exit 2 with its message and where --help is; errors of the work exit 1.
TEST_F(Cli, UsageErrorsExitTwoAndWorkErrorsOne) {
  for (const std::string args : {"coreset --method random", "condense --method dm --ipc abc",
                                 "coreset --method kcenter --ipc 1", "eval", "condense --method dm --ipc 1 --bogus"}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("loco: usage: "), std::string::npos) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("--help"), std::string::npos) << args << "\n" << r.out;
  }
  EXPECT_EQ(run("condense --help").code, 0);
  EXPECT_EQ(run("condense --method kcenter --ipc 1" + data()).code, 1);
}

}  // namespace
