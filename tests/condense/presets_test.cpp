// The one resolver (condense/presets.h): the presets, the reference's evaluation rules
// (spec/evaluation.md §1) and the range of every flag, named in the error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "condense/presets.h"
#include "condense/rank_auto.h"
#include "engine/rng.h"

namespace loco::condense {
namespace {

const DatasetInfo& fmnist() { return dataset_info("FashionMNIST"); }
const DatasetInfo& mnist() { return dataset_info("MNIST"); }

CondenseConfig resolve(CondenseRequest r, const DatasetInfo& d = fmnist()) { return resolve_condense(r, d); }

void expect_flag_error(const CondenseRequest& r, const std::string& says, const DatasetInfo& d = fmnist()) {
  try {
    resolve_condense(r, d);
    ADD_FAILURE() << "accepted; expected an error saying " << says;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(Presets, CpuQuickAndPaperValues) {
  const CondenseConfig q = resolve({.method = "dm", .ipc = 10});
  EXPECT_EQ(q.iterations, 200);
  EXPECT_EQ(q.batch_real, 64);
  EXPECT_EQ(q.eval.num_eval, 3);
  EXPECT_EQ(q.eval.train.epochs, 300);
  const CondenseConfig p = resolve({.method = "dm", .preset = "paper", .ipc = 10});
  EXPECT_EQ(p.iterations, 20000);
  EXPECT_EQ(p.batch_real, 256);
  EXPECT_EQ(p.eval.num_eval, 20);
  EXPECT_EQ(resolve({.method = "dsa", .preset = "paper", .ipc = 10}).iterations, 1000);
  EXPECT_EQ(resolve({.method = "lodm", .ipc = 1}).rank, 2);
  EXPECT_EQ(resolve({.method = "lodm", .ipc = 1}, dataset_info("TinyImageNet")).rank, 4);
  const CondenseConfig dc = resolve({.method = "dc", .ipc = 10});
  EXPECT_EQ(dc.gm.outer_loop, 10);
  EXPECT_EQ(dc.gm.inner_loop, 50);
}

// Under --preset paper the evaluation trains 1000 epochs whenever it augments, else 300.
TEST(Presets, PaperEvaluationEpochsFollowTheAugmentation) {
  struct Case {
    CondenseRequest r;
    const DatasetInfo* d;
    int64_t epochs;
    std::string aug;
  };
  const Case cases[] = {
      {{.method = "dc", .preset = "paper", .ipc = 1}, &fmnist(), 300, "none"},  // DC's augment is off there
      {{.method = "dc", .preset = "paper", .ipc = 1}, &mnist(), 1000, "dc crop_scale_rotate"},
      {{.method = "dc", .preset = "paper", .ipc = 1, .eval_model = "ConvNetBN"}, &fmnist(), 1000, "dc crop_noise"},
      {{.method = "lodc", .preset = "paper", .ipc = 1, .eval_aug = "none"}, &mnist(), 300, "none"},
      {{.method = "dm", .preset = "paper", .ipc = 1}, &fmnist(), 1000, "dsa color_crop_cutout_flip_scale_rotate"},
      {{.method = "dm", .preset = "paper", .ipc = 1, .eval_aug = "none"}, &mnist(), 300, "none"},
      {{.method = "dsa", .preset = "paper", .ipc = 1}, &mnist(), 1000, "dsa color_crop_cutout_scale_rotate"},
  };
  for (const Case& c : cases) {
    const CondenseConfig k = resolve(c.r, *c.d);
    SCOPED_TRACE(c.r.method + " on " + c.d->name + " → " + k.eval_aug);
    EXPECT_EQ(k.eval.train.epochs, c.epochs);
    EXPECT_EQ(k.eval_aug, c.aug);
  }
}

// The evaluation augments with the strategy the set was condensed with; DM condensed without
// DSA evaluates with get_daparam's DC augment, as main_DM.py does.
TEST(Presets, EvaluationDsaIsTheCondensationsAndDmWithoutDsaUsesDcAugment) {
  EXPECT_EQ(resolve({.method = "dm", .ipc = 1, .dsa_strategy = "crop_scale"}).eval_aug, "dsa crop_scale");
  EXPECT_EQ(resolve({.method = "lodsa", .ipc = 1, .dsa_strategy = "color_rotate"}).eval_aug, "dsa color_rotate");
  EXPECT_EQ(resolve({.method = "dm", .ipc = 1, .dsa_strategy = "none"}, mnist()).eval_aug, "dc crop_scale_rotate");
  EXPECT_EQ(resolve({.method = "lodm", .ipc = 1, .dsa_strategy = "none"}).eval_aug, "none");
  EXPECT_EQ(resolve({.method = "dm", .ipc = 1, .eval_aug = "cutout"}).eval_aug, "dsa cutout");
}

TEST(Presets, MnistsDefaultDsaHasNoFlip) {
  EXPECT_EQ(resolve({.method = "dm", .ipc = 1}, mnist()).dsa_strategy, "color_crop_cutout_scale_rotate");
  EXPECT_EQ(resolve({.method = "dm", .ipc = 1}).dsa_strategy, "color_crop_cutout_flip_scale_rotate");
  EXPECT_EQ(resolve({.method = "dc", .ipc = 1}).dsa_strategy, "");
}

TEST(Presets, OutOfRangeFlagsAreErrorsNamingFlagValueAndRange) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  expect_flag_error({.method = "dm", .ipc = 1, .iterations = -5}, "--iterations: -5 is out of range; allowed: an integer ≥ 0");
  expect_flag_error({.method = "lodm", .ipc = 1, .rank = 0}, "--rank: 0 is out of range");
  expect_flag_error({.method = "lodm", .ipc = 1, .rank = -3}, "--rank: -3 is out of range");
  expect_flag_error({.method = "dm", .ipc = 1, .batch_real = 0}, "--batch-real: 0 is out of range");
  expect_flag_error({.method = "dm", .ipc = 1, .eval_epochs = -2}, "--eval-epochs: -2");
  expect_flag_error({.method = "dm", .ipc = 1, .num_eval = -2}, "--num-eval: -2");
  expect_flag_error({.method = "dm", .ipc = 1, .lr_img = -2.0}, "--lr-img: -2 is out of range; allowed: a finite number > 0");
  expect_flag_error({.method = "dm", .ipc = 1, .lr_img = nan}, "--lr-img: nan");
  expect_flag_error({.method = "dm", .ipc = 1, .lr_img = inf}, "--lr-img: inf");
  expect_flag_error({.method = "dm", .ipc = 20000000000000000}, "--ipc: 20000000000000000 is out of range");
  expect_flag_error({.method = "dm", .ipc = 0}, "--ipc: 0");
  expect_flag_error({.method = "dm", .ipc = 1, .model = "nonsense"}, "--model nonsense");
  expect_flag_error({.method = "dm", .ipc = 1, .model = "LeNet"}, "needs a network with an embedding");
  expect_flag_error({.method = "dm", .ipc = 1, .eval_model = "nonsense"}, "--eval-model nonsense");
  expect_flag_error({.method = "dc", .ipc = 1, .metric = "nonsense"}, "--metric");
  expect_flag_error({.method = "dm", .ipc = 1, .dsa_strategy = "blur"}, "--dsa-strategy");
  expect_flag_error({.method = "dm", .ipc = 1, .eval_aug = "blur"}, "--eval-aug");
  expect_flag_error({.method = "dm", .ipc = 1, .rank = 2}, "--rank is for the low-rank methods");
  expect_flag_error({.method = "dm", .ipc = 1, .outer_loop = 2}, "are for gradient matching");
  expect_flag_error({.method = "mtt?", .ipc = 1}, "--method: unknown method");
  expect_flag_error({.method = "dm", .preset = "huge", .ipc = 1}, "--preset");
}

TEST(Presets, GdumbPresets) {
  const EvalOptions q = resolve_gdumb({}, fmnist());
  EXPECT_EQ(q.train.epochs, 300);
  EXPECT_EQ(q.num_eval, 1);
  EXPECT_FALSE(q.train.dsa.none());
  const EvalOptions p = resolve_gdumb({.preset = "paper"}, fmnist());
  EXPECT_EQ(p.train.epochs, 1000);
  EXPECT_EQ(p.num_eval, 3);
  EXPECT_THROW(resolve_gdumb({.num_eval = 0}, fmnist()), Error);
}

// loco eval, coreset and train: their defaults, a set's strategy and learned rate, the flags' ranges.
TEST(Presets, EvalOfSetsCoresetsAndTheWholeDataset) {
  const EvalOptions set = resolve_eval({}, fmnist(), Evaluated::small_set);
  EXPECT_EQ(set.model, "ConvNet");
  EXPECT_EQ(set.train.epochs, 300);
  EXPECT_EQ(set.num_eval, 3);
  EXPECT_EQ(set.train.dsa.str(), default_dsa_strategy("FashionMNIST"));
  EXPECT_DOUBLE_EQ(set.train.lr, 0.01);
  const EvalOptions whole = resolve_eval({}, fmnist(), Evaluated::whole_dataset);
  EXPECT_EQ(whole.train.epochs, 20);
  EXPECT_EQ(whole.num_eval, 1);

  const EvalOptions mtt = resolve_eval({.condensed_with = "crop_scale", .syn_lr = 0.02}, fmnist(), Evaluated::small_set);
  EXPECT_EQ(mtt.train.dsa.str(), "crop_scale");
  EXPECT_DOUBLE_EQ(mtt.train.lr, 0.02);
  EXPECT_DOUBLE_EQ(resolve_eval({.lr = 0.05, .syn_lr = 0.02}, fmnist(), Evaluated::small_set).train.lr, 0.05);
  EXPECT_TRUE(resolve_eval({.aug = "none"}, fmnist(), Evaluated::small_set).train.dsa.none());

  auto expect_error = [](const EvalRequest& r, const std::string& says) {
    try {
      resolve_eval(r, fmnist(), Evaluated::small_set);
      ADD_FAILURE() << "accepted; expected an error saying " << says;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  expect_error({.epochs = -1}, "--epochs");
  expect_error({.num_eval = 0}, "--num-eval");
  expect_error({.lr = -0.1}, "--lr");
  expect_error({.model = "Nope"}, "--model");
  expect_error({.aug = "wobble"}, "--aug");
  expect_error({.syn_lr = -0.5}, "syn_lr");
}

}  // namespace
}  // namespace loco::condense

// --rank auto (condense/rank_auto.h) on images built to have a known answer.
namespace loco::condense {
namespace {

// hw×hw images, 2 classes × 300. Image = s·e0·f0ᵀ (shared, s ∈ [5, 6]) + 3·σ·e1·f1ᵀ (a random
// sign σ, shared) + class_term(c), with e_i, f_i orthonormal coordinate vectors: the class
// shows only in the smallest singular value when class_term is 1·e2·f2ᵀ times ±1.
Dataset made(bool class_in_third_component, int64_t hw = 16) {
  const int64_t n = 300;
  std::vector<float> px(static_cast<size_t>(2 * n * hw * hw), 0.0f);
  std::vector<int64_t> labels;
  Generator g(7, 0);
  const Tensor u = rand_uniform({2 * n, 2}, g);
  const float* r = u.data<float>();
  for (int64_t i = 0; i < 2 * n; ++i) {
    const int64_t c = i % 2;
    labels.push_back(c);
    float* x = px.data() + i * hw * hw;
    const float sign = c ? -1.0f : 1.0f;
    if (class_in_third_component) {
      x[0 * hw + 0] = 5.0f + r[2 * i];
      x[1 * hw + 1] = r[2 * i + 1] < 0.5f ? 3.0f : -3.0f;
      x[2 * hw + 2] = sign;
    } else {
      x[(c ? 3 : 0) * hw + (c ? 3 : 0)] = 5.0f + r[2 * i];  // a rank-1 image per class, in its own place
    }
  }
  return Dataset::of_images(from_vector(px, {2 * n, 1, hw, hw}), from_vector(labels, {2 * n}), 2);
}

TEST(RankAuto, PicksTheLowestRankThatKeepsWhatTellsClassesApart) {
  const Dataset d = made(true);
  const ClassIndex index(d.labels, 2);
  const RankChoice ch = choose_rank(d, index, 4, 0);
  ASSERT_EQ(ch.candidates.size(), 4u);  // ranks 1, 2, 4, 8 (16 is min(H, W))
  for (const auto& k : ch.candidates) {
    EXPECT_LE(k.images_per_class * k.rank * 32, 4 * 256) << "rank " << k.rank << " exceeds the memory";
    if (k.rank < 3) EXPECT_LT(k.nn_accuracy, 0.8) << "rank " << k.rank << " cannot see the class";
  }
  // Rank 4 is the lowest that keeps the class; rank 8 keeps it too but affords only 4 images a
  // class, too few to hold both signs of the shared term, so it scores lower.
  EXPECT_GT(ch.candidates[2].nn_accuracy, 0.95);
  EXPECT_LT(ch.candidates[3].nn_accuracy, ch.candidates[2].nn_accuracy);
  EXPECT_EQ(ch.rank, 4);
  EXPECT_NEAR(ch.candidates.back().energy, 1.0, 1e-6);  // rank 8 holds rank-3 images exactly

  // The same seed draws the same choice; where one rank holds everything, rank 1 (ties, and
  // the most images) wins.
  EXPECT_EQ(choose_rank(d, index, 4, 0).candidates[0].nn_accuracy, ch.candidates[0].nn_accuracy);
  const Dataset one = made(false);
  EXPECT_EQ(choose_rank(one, ClassIndex(one.labels, 2), 4, 0).rank, 1);
}

TEST(RankAuto, CandidatesFitTheMemoryAtOneImagePerClass) {
  // 28×28 at ipc 1: rank 16 gets ⌊784/896⌋ = 0 images, which the budget rounds up to 1; such a
  // rank would store more than the budget and is no candidate.
  const Dataset d = made(true, 28);
  const RankChoice ch = choose_rank(d, ClassIndex(d.labels, 2), 1, 0);
  ASSERT_EQ(ch.candidates.size(), 4u);
  EXPECT_EQ(ch.candidates.back().rank, 8);
  for (const auto& k : ch.candidates) EXPECT_LE(k.images_per_class * k.rank * 56, 784) << "rank " << k.rank;
}

}  // namespace
}  // namespace loco::condense
