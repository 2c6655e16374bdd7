// Distributed runs (dist.h): the sharing-out rule in process, then `mpirun -np 2` and `-np 3`
// (3 so that ten classes do not divide evenly) against one process on a tiny Fashion-MNIST-
// shaped dataset: dm/lodm, dsa (gradient matching with inner training), the evaluation, cl and
// experts must write the same files bit for bit, and LoMTT's split student batch one process's
// first step to rounding; a rank killed mid-run must end the job with an
// error within seconds and leave a checkpoint that any number of ranks resumes to the
// uninterrupted run's set. Every run uses one OpenMP thread per process (the results are the
// same at the same thread count per process). The mpirun tests skip, saying why, when loco was
// built without MPI or mpirun is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dist/dist.h"
#include "engine/io/safetensors.h"
#include "tests/harness/shell.h"
#include "tests/harness/tiny_data.h"

namespace {

namespace fs = std::filesystem;
using loco::testing::read_json;
using loco::testing::Result;
using loco::testing::sh;
using loco::testing::slurp;

TEST(Share, BlocksCoverEveryItemOnceInOrder) {
  for (int64_t n : {0, 1, 7, 10, 1000})
    for (int ranks : {1, 2, 3, 8, 16}) {
      int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const loco::dist::Range b = loco::dist::share(n, r, ranks);
        EXPECT_EQ(b.begin, next) << n << " items, rank " << r << " of " << ranks;
        EXPECT_LE(b.size(), (n + ranks - 1) / ranks);
        EXPECT_GE(b.size(), n / ranks);
        next = b.end;
      }
      EXPECT_EQ(next, n);
    }
  EXPECT_THROW(loco::dist::share(10, 3, 3), loco::Error);
}

TEST(Share, OneProcessCollectivesAreTheIdentity) {
  ASSERT_EQ(loco::dist::size(), 1);
  std::vector<double> v{1, 2, 3};
  EXPECT_EQ(loco::dist::allgather_shares(v, 3), v);
  EXPECT_EQ(loco::dist::allgather_shares({1, 2, 3, 4, 5, 6}, 3, 2), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(loco::dist::allgather_shares(v, 4), loco::Error);
  EXPECT_FALSE(loco::dist::any(false));
}

class Mpi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // OpenMPI refuses to start as root unless told it may (CI containers run as root).
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    setenv("OMP_NUM_THREADS", "1", 1);
    const Result info = sh(std::string(LOCO_BIN) + " info");
    if (info.out.find("mpi          : built") == std::string::npos)
      skip_ = "this loco was built without MPI (LOCO_MPI=OFF, or libopenmpi-dev missing)";
    else if (sh("command -v mpirun").code != 0)
      skip_ = "mpirun is not on PATH (openmpi-bin)";
    root_ = fs::temp_directory_path() / ("loco_mpi_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    loco::testing::write_tiny_idx((root_ / "data").string(), 10, 3);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  static std::string at(const std::string& rel) { return (root_ / rel).string(); }
  static std::string data() { return " --data-dir " + at("data"); }
  static Result one(const std::string& args) { return sh(std::string(LOCO_BIN) + " " + args + data()); }
  static std::string mpirun(int ranks) { return "mpirun --oversubscribe -np " + std::to_string(ranks) + " "; }
  static Result many(int ranks, const std::string& args) {
    return sh(mpirun(ranks) + LOCO_BIN + " " + args + data());
  }
  // A set file's tensors and metadata, which must be bit-equal (a checkpoint's timing aside).
  static void expect_same_tensors(const std::string& a, const std::string& b) {
    const auto fa = loco::load_safetensors(a), fb = loco::load_safetensors(b);
    ASSERT_EQ(fa.tensors.size(), fb.tensors.size()) << a << " and " << b;
    for (const auto& [name, t] : fa.tensors) {
      ASSERT_TRUE(fb.tensors.count(name)) << b << " has no " << name;
      EXPECT_EQ(t.shape(), fb.tensors.at(name).shape()) << name;
      EXPECT_EQ(0, std::memcmp(t.raw(), fb.tensors.at(name).raw(), t.nbytes())) << name << " differs: " << a << " " << b;
    }
  }
  static inline fs::path root_;
  static inline std::string skip_;
};

TEST_F(Mpi, InfoListsEveryRank) {
  const Result r = sh(mpirun(2) + LOCO_BIN + " info");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("ranks        : 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1"), std::string::npos) << r.out;
}

// LoDM with DSA (so the skipped classes' draws matter) and three evaluation networks shared out.
TEST_F(Mpi, DistributionMatchingIsBitIdenticalToOneProcess) {
  const std::string args = "condense --method lodm --ipc 1 --iterations 4 --batch-real 8 --model ConvNetW32 "
                           "--num-eval 3 --eval-epochs 1 --eval-model ConvNetW32 --checkpoint-every 2 --force --out ";
  const Result a = one(args + at("dm1"));
  ASSERT_EQ(a.code, 0) << a.out;
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    const std::string out = at("dm" + std::to_string(ranks));
    const Result r = many(ranks, args + out);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(slurp(at("dm1/synset.safetensors")), slurp(out + "/synset.safetensors"));
    expect_same_tensors(at("dm1/checkpoint.safetensors"), out + "/checkpoint.safetensors");
    const auto ra = read_json(at("dm1/report.json")), rb = read_json(out + "/report.json");
    EXPECT_EQ(ra["evaluation"]["accuracies"], rb["evaluation"]["accuracies"]);
    EXPECT_EQ(ra["last_loss"], rb["last_loss"]);
    EXPECT_EQ(rb["ranks"], ranks);
    // Progress and files come from rank 0 only: one header line, one summary.
    size_t headers = 0;
    for (size_t p = r.out.find("loco condense: lodm"); p != std::string::npos; p = r.out.find("loco condense: lodm", p + 1))
      ++headers;
    EXPECT_EQ(headers, 1u) << r.out;
  }
}

// DSA with two outer steps, so the set is gathered for the network's inner training in between.
TEST_F(Mpi, GradientMatchingIsBitIdenticalToOneProcess) {
  const std::string args = "condense --method dsa --ipc 2 --iterations 2 --outer-loop 2 --inner-loop 1 --batch-real 8 "
                           "--model ConvNetW32 --num-eval 0 --force --out ";
  const Result a = one(args + at("dc1"));
  ASSERT_EQ(a.code, 0) << a.out;
  for (int ranks : {2, 3}) {
    const std::string out = at("dc" + std::to_string(ranks));
    const Result r = many(ranks, args + out);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(slurp(at("dc1/synset.safetensors")), slurp(out + "/synset.safetensors")) << ranks << " ranks";
    EXPECT_EQ(read_json(at("dc1/report.json"))["last_loss"], read_json(out + "/report.json")["last_loss"]);
  }
}

TEST_F(Mpi, EvaluationSharesOutItsNetworks) {
  ASSERT_EQ(one("coreset --method random --ipc 2 --skip-eval --out " + at("rnd")).code, 0);
  const std::string args = "eval " + at("rnd") + " --model ConvNetW32 --epochs 1 --num-eval 3 --aug none";
  const std::string file = at("rnd/eval-ConvNetW32-e1-s0.json");
  ASSERT_EQ(one(args).code, 0);
  const auto alone = read_json(file);
  ASSERT_EQ(alone["accuracies"].size(), 3u);
  for (int ranks : {2, 3}) {
    fs::remove(file);
    const Result r = many(ranks, args);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(read_json(file)["accuracies"], alone["accuracies"]) << ranks << " ranks";
  }
}

TEST_F(Mpi, ClAndExpertsShareOutWholeRunsAndRankZeroWritesEverything) {
  const std::string cl = "cl --tasks 2 --memory-per-class 1 --method random,dm --seeds 2 --iterations 1 "
                         "--batch-real 4 --model ConvNetW32 --eval-epochs 0 --num-eval 1 --force --out ";
  ASSERT_EQ(one(cl + at("cl1")).code, 0);
  const Result c = many(3, cl + at("cl3"));
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(read_json(at("cl1/report.json"))["methods"], read_json(at("cl3/report.json"))["methods"]);

  const std::string ex = "experts --num-experts 3 --epochs 1 --model ConvNetW32 --batch 32 --out ";
  ASSERT_EQ(one(ex + at("ex1")).code, 0);
  const Result e = many(2, ex + at("ex2"));
  ASSERT_EQ(e.code, 0) << e.out;
  for (int k = 0; k < 3; ++k) {
    const std::string f = "/expert_000" + std::to_string(k) + ".safetensors";
    EXPECT_EQ(slurp(at("ex1") + f), slurp(at("ex2") + f)) << f;
  }
}

TEST_F(Mpi, CommandsThatRunInOneProcessSaySo) {
  const Result r = many(2, "coreset --method random --ipc 1 --skip-eval --out " + at("refused"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("runs in one process"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(at("refused")));
  const Result bn = many(2, "condense --method dm --ipc 1 --model ConvNetBN --out " + at("refused"));
  EXPECT_NE(bn.code, 0);
  EXPECT_NE(bn.out.find("batch norm"), std::string::npos) << bn.out;
  EXPECT_FALSE(fs::exists(at("refused")));
}

// LoMTT's student batch split across ranks: the same bits at a given number of ranks, and one
// process's first image step to f32 rounding (the gradients are sums of the ranks' shares in
// rank order; at MTT's lr_img of 1000 later steps let the rounding grow, so only the first is
// compared), its loss and learned syn_lr likewise.
TEST_F(Mpi, TrajectoryMatchingSplitsTheStudentBatch) {
  ASSERT_EQ(one("experts --num-experts 1 --epochs 2 --model ConvNetW32 --batch 32 --out " + at("mtt-experts")).code, 0);
  const std::string args = "condense --method lomtt --ipc 1 --syn-steps 4 --expert-epochs 1 --max-start-epoch 1 "
                           "--model ConvNetW32 --num-eval 0 --force --experts " + at("mtt-experts") + " --out ";
  ASSERT_EQ(one(args + at("mtt0") + " --iterations 0").code, 0);
  ASSERT_EQ(one(args + at("mtt1") + " --iterations 1").code, 0);
  const Result r3 = many(3, args + at("mtt3") + " --iterations 1");
  ASSERT_EQ(r3.code, 0) << r3.out;
  const auto f0 = loco::load_safetensors(at("mtt0/synset.safetensors"));
  const auto f1 = loco::load_safetensors(at("mtt1/synset.safetensors"));
  const auto f3 = loco::load_safetensors(at("mtt3/synset.safetensors"));
  for (const char* name : {"A", "B"}) {
    const auto v0 = f0.tensors.at(name).to_vector<float>(), v1 = f1.tensors.at(name).to_vector<float>(),
               v3 = f3.tensors.at(name).to_vector<float>();
    double diff = 0, step = 0;
    for (size_t i = 0; i < v0.size(); ++i) {
      diff += (double(v1[i]) - v3[i]) * (double(v1[i]) - v3[i]);
      step += (double(v1[i]) - v0[i]) * (double(v1[i]) - v0[i]);
    }
    EXPECT_GT(step, 0.0) << name << " did not move";
    EXPECT_LT(std::sqrt(diff / step), 1e-5) << name << ": the split step differs from one process's";
  }
  const auto j1 = read_json(at("mtt1/report.json")), j3 = read_json(at("mtt3/report.json"));
  EXPECT_NEAR(j1["last_loss"].get<double>(), j3["last_loss"].get<double>(), 1e-6);
  EXPECT_NEAR(j1["syn_lr"].get<double>(), j3["syn_lr"].get<double>(), 1e-6 * j1["syn_lr"].get<double>());
  for (const char* out : {"mtt2a", "mtt2b"}) {
    const Result r = many(2, args + at(out) + " --iterations 3");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  EXPECT_EQ(slurp(at("mtt2a/synset.safetensors")), slurp(at("mtt2b/synset.safetensors")));
  // Stopped after one iteration and resumed on two ranks (syn_lr and its momentum come from
  // rank 0's checkpoint): the uninterrupted two-rank set.
  const std::string resumed = args + at("mtt2c") + " --iterations 3 --checkpoint-every 1";
  EXPECT_NE(many(2, resumed + " --stop-after 1").code, 0);
  const Result r = many(2, resumed + " --resume " + at("mtt2c"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(slurp(at("mtt2a/synset.safetensors")), slurp(at("mtt2c/synset.safetensors")));
  EXPECT_EQ(read_json(at("mtt2a/report.json"))["syn_lr"], read_json(at("mtt2c/report.json"))["syn_lr"]);
}

// A failure on one rank only (here rank 1's data folder is missing, as on a host without the
// data): the job ends at once, with that rank's error naming it, and nothing is put in place.
TEST_F(Mpi, OneRanksErrorEndsTheJobAndNamesTheRank) {
  const std::string args = std::string(LOCO_BIN) + " condense --method dm --ipc 1 --iterations 50 --batch-real 8 "
                           "--num-eval 0 --out " + at("one-fails");
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = sh("mpirun --oversubscribe -np 1 " + args + data() + " : -np 1 " + args + " --data-dir " + at("nowhere"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("rank 1 of 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(at("nowhere")), std::string::npos) << r.out;
  EXPECT_LT(seconds, 20.0) << r.out;
  EXPECT_FALSE(fs::exists(at("one-fails")));
}

// The pid of rank `rank` of the mpirun whose command line mentions `tag`, or 0.
pid_t rank_pid(int rank, const std::string& tag) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp(e.path() / "cmdline"), env = slurp(e.path() / "environ");
    for (char& ch : cmd) ch = ch ? ch : ' ';
    if (cmd.find(LOCO_BIN) == std::string::npos || cmd.find(tag) == std::string::npos) continue;
    if (env.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos) return std::stoi(name);
  }
  return 0;
}

TEST_F(Mpi, AKilledRankEndsTheJobAndAnyRankCountResumesIt) {
  // The full-width ConvNet, so that an iteration (~0.1 s a rank) outlasts the killing.
  const std::string args = "condense --method dm --ipc 1 --iterations 24 --batch-real 8 --num-eval 0 "
                           "--checkpoint-every 1 --out ";
  ASSERT_EQ(one(args + at("whole")).code, 0);
  // Two ranks in the background; rank 1 is killed once two checkpoints are written.
  const std::string out = at("killed");
  const std::string job = mpirun(2) + LOCO_BIN + " " + args + out + data();
  // Nothing of the background job may hold sh()'s pipe, or sh() would wait for the job.
  sh("(" + job + " > " + at("killed.log") + " 2>&1; echo $? > " + at("killed.rc") + ") > /dev/null 2>&1 &");
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto log_lines = [&] {
    std::ifstream f(out + ".partial/log.jsonl");
    int n = 0;
    for (std::string l; std::getline(f, l);) ++n;
    return n;
  };
  while (log_lines() < 2 && seconds() < 60 && !fs::exists(at("killed.rc")))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(fs::exists(at("killed.rc"))) << "the run ended before it could be killed: " << slurp(at("killed.log"));
  const pid_t victim = rank_pid(1, out);
  ASSERT_GT(victim, 0) << "rank 1 not found";
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const double killed_at = seconds();
  while (!fs::exists(at("killed.rc")) && seconds() < killed_at + 30)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the rc file's contents
  ASSERT_TRUE(fs::exists(at("killed.rc"))) << "the job outlived its killed rank by 30 s";
  EXPECT_LT(seconds() - killed_at, 15.0) << "the job took long to end";
  const std::string log = slurp(at("killed.log"));
  EXPECT_NE(std::atoi(slurp(at("killed.rc")).c_str()), 0) << log;
  EXPECT_NE(log.find("rank 1"), std::string::npos) << "the error does not name the rank that died:\n" << log;
  EXPECT_NE(log.find("--resume"), std::string::npos) << "rank 0 did not say how to go on:\n" << log;
  EXPECT_FALSE(fs::exists(out)) << "a killed run was put in place as if finished";
  ASSERT_TRUE(fs::exists(out + ".partial/checkpoint.safetensors"));
  // Resumed on three ranks, it ends with the uninterrupted single-process set.
  const Result r = many(3, args + out + " --resume " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(slurp(at("whole/synset.safetensors")), slurp(out + "/synset.safetensors"));
}

}  // namespace
