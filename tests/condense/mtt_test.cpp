// Trajectory matching: the unrolled gradient against central differences in f64, the two
// unroll modes against each other, the loss at the target, expert files (reload, shares,
// refusals), and MTT runs that resume exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "condense/driver.h"
#include "condense/experts.h"
#include "condense/objective/trajectory_matching.h"
#include "engine/io/safetensors.h"
#include "models/networks.h"
#include "tests/harness/compare.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/scratch_dir.h"
#include "tests/harness/tiny_data.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

// A tiny smooth network (swish, so finite differences see no kinks), 2×8×8 inputs, 3 classes.
std::unique_ptr<models::Module> tiny_net(DType t) {
  Generator g(4, 4);
  models::ConvNetConfig cfg;
  cfg.width = 3;
  cfg.depth = 1;
  cfg.act = models::ActKind::swish;
  return models::make_convnet(2, 3, 8, cfg, g, {.dtype = t});
}

struct Tiny {
  std::unique_ptr<models::Module> net;
  UnrollProblem p;
};

// 6 images, 5 steps of 4 (rows drawn as the objective does), θ* a perturbed θ0.
Tiny tiny_problem(DType t, const char* dsa = "") {
  Tiny s{tiny_net(t), {}};
  const int64_t n = 6;
  const Tensor theta0 = s.net->flat_parameters().clone();
  Tensor theta_star = testing::randn64(theta0.shape(), 9, 0.05);
  if (t == DType::f64) theta_star = theta0 + theta_star;
  auto as = [t](const Tensor& v) {
    if (t == DType::f64) return v;
    const std::vector<double> d = v.to_vector<double>();
    return from_vector(std::vector<float>(d.begin(), d.end()), v.shape());
  };
  if (t == DType::f32) theta_star = theta0 + as(theta_star);
  const Tensor x = as(testing::randn64(Shape{n, 2, 8, 8}, 3));
  s.p = {.net = s.net.get(), .images = x, .labels = from_vector(std::vector<int64_t>{0, 0, 1, 1, 2, 2}, Shape{n}),
         .lr = 0.3, .theta0 = theta0, .theta_star = theta_star, .dsa = DsaStrategy::parse(dsa)};
  Generator g(8, 8);
  for (int k = 0; k < 5; ++k) {
    std::vector<int64_t> perm = rand_permutation(n, g);
    perm.resize(4);
    s.p.steps.push_back({.rows = perm, .dsa = Generator(8, 100 + static_cast<uint64_t>(k))});
  }
  return s;
}

TEST(Unroll, GradientMatchesCentralDifferencesInF64) {
  for (const char* dsa : {"", "color_crop_scale"}) {
    SCOPED_TRACE(dsa);
    Tiny s = tiny_problem(DType::f64, dsa);
    const UnrollResult r = unroll_trajectory(s.p, Unroll::full);
    EXPECT_GT(r.loss, 0.0);
    ASSERT_EQ(r.d_images.shape(), s.p.images.shape());
    const double eps = 1e-6;
    // d/dlr
    UnrollProblem q = s.p;
    q.lr = s.p.lr + eps;
    const double up = unroll_loss(q);
    q.lr = s.p.lr - eps;
    const double down = unroll_loss(q);
    EXPECT_NEAR(r.d_lr, (up - down) / (2 * eps), 1e-6 * std::max(1.0, std::abs(r.d_lr)));
    // d/dx along random directions
    for (uint64_t k = 0; k < 3; ++k) {
      const Tensor v = testing::randn64(s.p.images.shape(), 20 + k);
      q = s.p;
      q.images = s.p.images + v * eps;
      const double a = unroll_loss(q);
      q.images = s.p.images - v * eps;
      const double b = unroll_loss(q);
      const double numeric = (a - b) / (2 * eps), analytic = testing::dot(r.d_images, v);
      EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << "direction " << k;
    }
  }
}

TEST(Unroll, CheckpointedAndFullGiveTheSameGradient) {
  for (DType t : {DType::f64, DType::f32}) {
    Tiny s = tiny_problem(t, "color_crop_cutout_flip_scale_rotate");
    const UnrollResult full = unroll_trajectory(s.p, Unroll::full);
    for (int64_t segment : {0, 1, 2, 4, 5}) {  // ⌈√5⌉ = 3, every step, uneven, one segment
      SCOPED_TRACE("segment " + std::to_string(segment));
      const UnrollResult cp = unroll_trajectory(s.p, Unroll::checkpoint, segment);
      EXPECT_EQ(cp.loss, full.loss) << "the boundaries must repeat the full unroll's θ bit for bit";
      const double tol = t == DType::f64 ? 1e-12 : 1e-5;  // f32: sums over segments in another order
      EXPECT_LE(testing::rel_error(cp.d_images, full.d_images), tol) << testing::mismatch_report(cp.d_images, full.d_images);
      EXPECT_NEAR(cp.d_lr, full.d_lr, tol * std::abs(full.d_lr));
    }
    EXPECT_EQ(unroll_trajectory(s.p, Unroll::checkpoint, 2).segments, 3);
  }
}

TEST(Unroll, LossIsZeroWhenTheStudentLandsOnTheTarget) {
  Tiny s = tiny_problem(DType::f64);
  s.p.steps.resize(1);
  // One student step by hand: θ1 = θ0 − lr·∇CE.
  const UnrollStep& st = s.p.steps[0];
  Tensor theta = s.p.theta0.clone().requires_grad_();
  const Tensor xb = gather_rows(s.p.images, index_tensor(st.rows));
  std::vector<int64_t> y;
  for (int64_t r : st.rows) y.push_back(s.p.labels.to_vector<int64_t>()[static_cast<size_t>(r)]);
  const Tensor loss = cross_entropy(s.net->forward(s.net->unflatten(theta), xb), from_vector(y, Shape{4}));
  const Tensor g = grad(loss, {theta})[0];
  s.p.theta_star = (s.p.theta0 - g * s.p.lr).detach();
  EXPECT_LT(unroll_loss(s.p), 1e-24);
  EXPECT_LT(unroll_trajectory(s.p, Unroll::full).loss, 1e-24);
}

class Experts : public testing::ScratchDirTest {};

ExpertOptions tiny_expert_options() {
  return {.model = "ConvNetW32", .epochs = 2, .batch = 64, .dsa_strategy = "crop_flip", .seed = 5};
}

TEST_F(Experts, FilesReloadToTheParametersAndSharesEqualOneRun) {
  const auto d = testing::tiny_dataset(8, 2);
  const ExpertOptions o = tiny_expert_options();
  fs::create_directories(path("a"));
  fs::create_directories(path("b"));
  const ExpertRecord r0 = train_expert(d, o, 0, path("a"));
  train_expert(d, o, 1, path("a"));
  train_expert(d, o, 1, path("b"));  // expert 1 alone, as a second machine would make it
  EXPECT_EQ(r0.test_accuracy.size(), 2u);
  Generator init(o.seed, kStreamExpertInit + 0);
  const auto net = models::make_network(o.model, 1, 10, 28, init);
  const ExpertSet set = ExpertSet::open(path("a"), *net, o.model, dataset_info("FashionMNIST"), 2);
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set.snapshot(0, 0).to_vector<float>(), net->flat_parameters().to_vector<float>());
  EXPECT_GT(testing::max_abs_diff(set.snapshot(0, 2), set.snapshot(0, 0)), 0.0) << "training moved nothing";
  EXPECT_GT(testing::max_abs_diff(set.snapshot(1, 0), set.snapshot(0, 0)), 0.0) << "two experts, one init";
  const ExpertSet alone = ExpertSet::open(path("b"), *net, o.model, dataset_info("FashionMNIST"), 2);
  for (int64_t e = 0; e <= 2; ++e)
    EXPECT_EQ(alone.snapshot(0, e).to_vector<float>(), set.snapshot(1, e).to_vector<float>()) << "epoch " << e;
  // Any safetensors reader sees the layout: one f32 [P] tensor per epoch and the metadata.
  const SafetensorsFile f = load_safetensors(path("a/expert_0000.safetensors"));
  EXPECT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.metadata.at("format"), "loco-expert-1");
  EXPECT_EQ(f.tensors.at("epoch.002").shape(), Shape{net->num_parameters()});
}

void expect_open_error(const std::function<void()>& f, const std::string& says) {
  try {
    f();
    ADD_FAILURE() << "accepted; expected an error saying " << says;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST_F(Experts, BadFoldersAreRefusedNamingTheFileAndTheFault) {
  const auto d = testing::tiny_dataset(4, 1);
  const ExpertOptions o = tiny_expert_options();
  fs::create_directories(path("ok"));
  train_expert(d, o, 0, path("ok"));
  Generator g(0, 0);
  const auto net = models::make_network(o.model, 1, 10, 28, g);
  const DatasetInfo& fm = dataset_info("FashionMNIST");
  const auto open = [&](const std::string& dir, const std::string& model, const DatasetInfo& info, int64_t needed) {
    return [=, &net] { ExpertSet::open(dir, *net, model, info, needed); };
  };
  expect_open_error(open(path("missing"), o.model, fm, 2), "no such folder");
  fs::create_directories(path("empty"));
  expect_open_error(open(path("empty"), o.model, fm, 2), "holds no expert_*.safetensors");
  expect_open_error(open(path("ok"), "ConvNet", fm, 2), "an expert of ConvNetW32");
  expect_open_error(open(path("ok"), o.model, dataset_info("MNIST"), 2), "an expert of FashionMNIST, not MNIST");
  expect_open_error(open(path("ok"), o.model, fm, 3), "holds 2 epochs; the distillation needs snapshots up to epoch 3");
  // Another normalisation, another layout, a truncated file.
  const SafetensorsFile f = load_safetensors(path("ok/expert_0000.safetensors"));
  auto rewrite = [&](const std::string& dir, const std::string& key, const std::string& value, bool drop_last) {
    fs::create_directories(dir);
    std::map<std::string, std::string> meta = f.metadata;
    meta[key] = value;
    std::vector<std::pair<std::string, Tensor>> t(f.tensors.begin(), f.tensors.end());
    if (drop_last) t.pop_back();
    save_safetensors(dir + "/expert_0000.safetensors", t, meta);
  };
  rewrite(path("norm"), "mean", "0.5", false);
  expect_open_error(open(path("norm"), o.model, fm, 2), "normalised with mean 0.5");
  rewrite(path("layout"), "parameters", "[]", false);
  expect_open_error(open(path("layout"), o.model, fm, 2), "are not those of ConvNetW32");
  rewrite(path("short"), "format", "loco-expert-1", true);
  expect_open_error(open(path("short"), o.model, fm, 2), "no snapshot 'epoch.002'");
  fs::create_directories(path("cut"));
  fs::copy_file(path("ok/expert_0000.safetensors"), path("cut/expert_0000.safetensors"));
  fs::resize_file(path("cut/expert_0000.safetensors"), fs::file_size(path("cut/expert_0000.safetensors")) - 100);
  expect_open_error(open(path("cut"), o.model, fm, 2), "cut/expert_0000.safetensors");
}

CondenseConfig tiny_mtt(const std::string& method, const std::string& experts) {
  const bool lowrank = method == "lomtt";  // same images: 10 of them, so the test stays quick
  return resolve_condense({.method = method, .ipc = 1, .iterations = 4, .num_eval = 0,
                           .budget = lowrank ? std::optional<std::string>("same-images") : std::nullopt, .init = "real",
                           .model = "ConvNetW32", .experts = experts, .syn_steps = 3, .expert_epochs = 1,
                           .max_start_epoch = 2, .lr_lr = 1e-7, .checkpoint_every = 3, .seed = 3},
                          dataset_info("FashionMNIST"));
}

TEST_F(Experts, MttAndLomttResumeEqualAnUninterruptedRunAndLearnTheirLr) {
  const auto d = testing::tiny_dataset(8, 2);
  const ExpertOptions o = tiny_expert_options();
  fs::create_directories(path("experts"));
  for (int64_t k = 0; k < 2; ++k) train_expert(d, o, k, path("experts"));
  for (const char* method : {"mtt", "lomtt"}) {
    SCOPED_TRACE(method);
    const CondenseConfig c = tiny_mtt(method, path("experts"));
    EXPECT_EQ(c.mtt.batch_syn, 0);
    std::vector<float> whole;
    double lr = 0;
    {
      RunDir run(path(std::string(method) + "-whole"), false, "checkpoint.safetensors");
      const auto r = condense(c, d, &run, false);
      whole = r.set->images().to_vector<float>();
      ASSERT_TRUE(r.learned_lr);
      lr = *r.learned_lr;
      EXPECT_NE(lr, c.mtt.lr_teacher) << "syn_lr never moved";
      EXPECT_EQ(r.experts, 2);
      run.commit();
    }
    const std::string cut = path(std::string(method) + "-cut");
    {
      RunDir run(cut, false, "checkpoint.safetensors");
      EXPECT_THROW(condense(c, d, &run, false, {.stop_after = 2}), Error);
    }
    RunDir run = RunDir::resume(cut, "checkpoint.safetensors");
    const auto r = condense(c, d, &run, true);
    EXPECT_EQ(r.start_iteration, 2);
    EXPECT_EQ(r.set->images().to_vector<float>(), whole) << "resume differs from the uninterrupted run";
    EXPECT_EQ(*r.learned_lr, lr);
  }
}

TEST_F(Experts, AnNegativeSynLrStopsTheRunNamingTheIteration) {
  const auto d = testing::tiny_dataset(8, 2);
  fs::create_directories(path("experts"));
  train_expert(d, tiny_expert_options(), 0, path("experts"));
  CondenseConfig c = tiny_mtt("mtt", path("experts"));
  c.mtt.lr_lr = 1e6;  // one step throws syn_lr far past 0
  RunDir run(path("run"), false, "checkpoint.safetensors");
  try {
    condense(c, d, &run, false);
    ADD_FAILURE() << "a run with a runaway syn_lr finished";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(m.find("syn_lr became") != std::string::npos || m.find("NaN") != std::string::npos) << m;
    EXPECT_NE(m.find("at iteration 0"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace loco::condense
