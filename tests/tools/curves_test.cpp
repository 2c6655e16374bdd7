// read_run_curves (tools/analysis/curves.h) on hand-written logs: loss and evaluation lines in
// iteration order, the method from report.json, and named errors for what is not a run's log.
#include <gtest/gtest.h>

#include <fstream>

#include "tools/analysis/curves.h"
#include "engine/check.h"
#include "tests/harness/scratch_dir.h"

namespace loco {
namespace {

class CurvesTest : public testing::ScratchDirTest {
 protected:
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << text;
  }
};

TEST_F(CurvesTest, ReadsLossAndEvaluationsInOrder) {
  write("run-a/log.jsonl",
        "{\"it\":0,\"eval\":{\"model\":\"ConvNet\",\"accuracy_mean\":0.5,\"accuracy_std\":0.02,\"accuracies\":[0.48,0.52]}}\n"
        "{\"it\":0,\"loss\":3.5,\"seconds\":0.1,\"images\":10}\n"
        "{\"it\":1,\"loss\":2.5,\"seconds\":0.1,\"images\":10}\n"
        "{\"it\":2,\"eval\":{\"model\":\"ConvNet\",\"accuracy_mean\":0.7,\"accuracy_std\":0.01,\"accuracies\":[0.69,0.71]}}\n");
  write("run-a/report.json", "{\"command\":\"condense\",\"config\":{\"method\":\"lodm\"}}");
  const analysis::RunCurves c = analysis::read_run_curves(path("run-a") + "/");
  EXPECT_EQ(c.name, "run-a");
  EXPECT_EQ(c.method, "lodm");
  EXPECT_EQ(c.iterations, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(c.loss, (std::vector<double>{3.5, 2.5}));
  ASSERT_EQ(c.evaluations.size(), 2u);
  EXPECT_EQ(c.evaluations[1].iteration, 2);
  EXPECT_DOUBLE_EQ(c.evaluations[1].mean, 0.7);
  EXPECT_DOUBLE_EQ(c.evaluations[0].std, 0.02);
  EXPECT_EQ(c.evaluations[0].networks, 2);
  EXPECT_EQ(c.evaluations[0].model, "ConvNet");
}

TEST_F(CurvesTest, NamesWhatIsWrong) {
  auto says = [&](const std::string& dir, const std::string& what) {
    try {
      analysis::read_run_curves(path(dir));
      ADD_FAILURE() << dir << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path(dir)), std::string::npos) << e.what();
    }
  };
  says("nowhere", "not a run directory");
  write("empty/report.json", "{}");
  says("empty", "log.jsonl");
  write("train/log.jsonl", "{\"epoch\":1,\"loss\":0.4}\n");
  says("train", "no condensation iterations");
  write("broken/log.jsonl", "{\"it\":0,\"loss\":1}\n{\"it\":1,\"lo\n");
  says("broken", "line 2 is not JSON");
}

}  // namespace
}  // namespace loco
