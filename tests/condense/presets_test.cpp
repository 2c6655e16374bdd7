// The one resolver (condense/presets.h): the presets, the reference's evaluation rules
// (spec/evaluation.md §1) and the range of every flag, named in the error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "condense/presets.h"

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
