// The networks against spec/networks.md: parameter counts (its table), output shapes, embedding
// sizes, PyTorch-default initial statistics, the functional forward, BatchNorm modes, the
// registry, and a gradient check through a tiny ConvNet's functional forward.
//
// Shape letters: N batch, C channels, H×W image, K classes, D embedding dim, P parameter count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/ops.h"
#include "models/networks.h"
#include "tests/harness/compare.h"
#include "tests/harness/gradcheck.h"

namespace loco::models {
namespace {

using V = std::vector<Tensor>;

std::unique_ptr<Module> build(const std::string& name, int64_t c, int64_t k, int64_t im, uint64_t stream = 1) {
  Generator g(42, stream);
  return make_network(name, c, k, im, g);
}

Tensor images(int64_t n, int64_t c, int64_t im, uint64_t stream = 7) {
  Generator g(99, stream);
  return rand_normal(Shape{n, c, im, im}, g);
}

const Tensor& param(const Module& m, const std::string& name) {
  const auto& names = m.parameter_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw Error(m.name() + " has no parameter " + name);
  return m.parameters()[static_cast<size_t>(it - names.begin())];
}

using testing::max_abs;
using testing::max_abs_diff;

// ---- parameter counts: spec/networks.md's tables ----

struct Count {
  const char* name;
  int64_t c, k, im, params;
};

TEST(Models, ParameterCountsMatchSpec) {
  const Count table[] = {
      {"ConvNet", 1, 10, 28, 317706},     {"ConvNet", 3, 10, 32, 320010},      {"ConvNet", 3, 100, 32, 504420},
      {"ConvNet", 3, 200, 64, 1938120},   {"ConvNetBN", 1, 10, 28, 317706},    {"ConvNetBN", 3, 10, 32, 320010},
      {"ConvNetBN", 3, 100, 32, 504420},  {"ConvNetBN", 3, 200, 64, 1938120},  {"ConvNetGN", 1, 10, 28, 317706},
      {"ConvNetGN", 3, 10, 32, 320010},   {"ConvNetGN", 3, 100, 32, 504420},   {"ConvNetGN", 3, 200, 64, 1938120},
      {"ConvNetIN", 3, 10, 32, 320010},   {"ConvNetNN", 1, 10, 28, 316938},    {"ConvNetNN", 3, 10, 32, 319242},
      {"ConvNetNN", 3, 100, 32, 503652},  {"ConvNetNN", 3, 200, 64, 1937352},  {"ConvNetLN", 1, 10, 28, 661002},
      {"ConvNetLN", 3, 10, 32, 663306},   {"ConvNetLN", 3, 100, 32, 847716},   {"ConvNetLN", 3, 200, 64, 3313608},
      {"LeNet", 1, 10, 28, 61706},        {"LeNet", 3, 10, 32, 62006},         {"LeNet", 3, 100, 32, 69656},
      {"AlexNet", 1, 10, 28, 1865802},    {"AlexNet", 3, 10, 32, 1872202},     {"AlexNet", 3, 100, 32, 2148772},
      {"AlexNetBN", 1, 10, 28, 1867722},  {"AlexNetBN", 3, 10, 32, 1874122},   {"AlexNetBN", 3, 100, 32, 2150692},
      {"VGG11", 1, 10, 28, 9229962},      {"VGG11", 3, 10, 32, 9231114},       {"VGG11", 3, 100, 32, 9277284},
      {"VGG11BN", 1, 10, 28, 9229962},    {"VGG11BN", 3, 10, 32, 9231114},     {"VGG11BN", 3, 100, 32, 9277284},
      {"ResNet18", 1, 10, 28, 11172810},  {"ResNet18", 3, 10, 32, 11173962},   {"ResNet18", 3, 100, 32, 11220132},
      {"ResNet18BN", 1, 10, 28, 11172810}, {"ResNet18BN", 3, 10, 32, 11173962}, {"ResNet18BN", 3, 100, 32, 11220132},
      {"ResNet18BN_AP", 1, 10, 28, 11213770}, {"ResNet18BN_AP", 3, 10, 32, 11250762},
      {"MLP", 1, 10, 28, 118282},         {"MLP", 3, 10, 32, 411146},
  };
  for (const Count& t : table) {
    auto m = build(t.name, t.c, t.k, t.im);
    int64_t sum = 0;
    for (const Tensor& p : m->parameters()) sum += p.numel();
    EXPECT_EQ(m->num_parameters(), t.params) << t.name << " " << t.c << "×" << t.im << " K=" << t.k;
    EXPECT_EQ(sum, t.params) << t.name;
    EXPECT_EQ(m->parameters().back().shape(), Shape{t.k}) << t.name << ": the last parameter is the classifier bias";
  }
}

// ---- output shapes: every registered name on both input kinds ----

TEST(Models, EveryNetworkGivesLogits) {
  for (const auto& name : network_names()) {
    for (auto [c, im] : {std::pair<int64_t, int64_t>{1, 28}, {3, 32}}) {
      auto m = build(name, c, 10, im);
      const Tensor y = m->forward(images(2, c, im));
      EXPECT_EQ(y.shape(), (Shape{2, 10})) << name << " on " << c << "×" << im;
      for (float v : y.to_vector<float>()) ASSERT_TRUE(std::isfinite(v)) << name;
    }
  }
}

TEST(Models, ConvNetOnTinyImageNetSize) {
  auto m = build("ConvNet", 3, 200, 64);
  EXPECT_EQ(m->forward(images(1, 3, 64)).shape(), (Shape{1, 200}));
}

// ---- embeddings ----

TEST(Models, EmbedDimensions) {
  struct E { const char* name; int64_t c, im, dim; };
  const E table[] = {{"ConvNet", 1, 28, 2048},  {"ConvNet", 3, 32, 2048},      {"ConvNet", 3, 64, 8192},
                     {"ConvNetBN", 3, 32, 2048}, {"ConvNetNP", 3, 32, 131072}, {"AlexNet", 1, 28, 3072},
                     {"AlexNet", 3, 32, 3072},  {"VGG11", 3, 32, 512},         {"ResNet18", 1, 28, 512},
                     {"ResNet18", 3, 32, 512},  {"ResNet18BN_AP", 1, 28, 4608}, {"ResNet18BN_AP", 3, 32, 8192}};
  for (const E& e : table) {
    auto m = build(e.name, e.c, 10, e.im);
    ASSERT_TRUE(m->has_embed()) << e.name;
    EXPECT_EQ(m->embed_dim(), e.dim) << e.name << " on " << e.c << "×" << e.im;
    // The big ones are only sized here; their forward runs in EveryNetworkGivesLogits.
    if (e.dim <= 8192 && std::string(e.name).rfind("ConvNet", 0) == 0) {
      EXPECT_EQ(m->embed(images(2, e.c, e.im)).shape(), (Shape{2, e.dim})) << e.name;
    }
  }
}

TEST(Models, EmbedIsTheClassifierInput) {
  auto m = build("ConvNet", 3, 10, 32);
  const Tensor x = images(3, 3, 32);
  const Tensor f = m->embed(x);
  const Tensor y = linear(f, param(*m, "classifier.weight"), param(*m, "classifier.bias"));
  EXPECT_LE(max_abs_diff(y, m->forward(x)), 1e-6);
}

TEST(Models, EmbedThrowsWithoutFeatures) {
  for (const char* name : {"LeNet", "MLP"}) {
    auto m = build(name, 1, 10, 28);
    EXPECT_FALSE(m->has_embed());
    try {
      m->embed(images(2, 1, 28));
      ADD_FAILURE() << name << ".embed did not throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("no embedding"), std::string::npos) << e.what();
    }
  }
}

// ---- parameter layout ----

TEST(Models, ConvNetParameterOrderAndShapes) {
  auto m = build("ConvNet", 3, 10, 32);
  const std::vector<std::string> want = {"conv1.weight", "conv1.bias", "norm1.weight", "norm1.bias",
                                         "conv2.weight", "conv2.bias", "norm2.weight", "norm2.bias",
                                         "conv3.weight", "conv3.bias", "norm3.weight", "norm3.bias",
                                         "classifier.weight", "classifier.bias"};
  EXPECT_EQ(m->parameter_names(), want);
  EXPECT_EQ(param(*m, "conv1.weight").shape(), (Shape{128, 3, 3, 3}));
  EXPECT_EQ(param(*m, "classifier.weight").shape(), (Shape{10, 2048}));

  auto nn = build("ConvNetNN", 3, 10, 32);
  EXPECT_EQ(nn->parameter_names().size(), 8u) << "no norm entries without a norm";

  // Layer norm's γ, β cover the whole pre-pooling feature map.
  auto ln = build("ConvNetLN", 1, 10, 28);
  EXPECT_EQ(param(*ln, "norm1.weight").shape(), (Shape{128, 32, 32}));
  EXPECT_EQ(param(*ln, "norm3.bias").shape(), (Shape{128, 8, 8}));
}

TEST(Models, ParametersAreLeafViewsOfOneBuffer) {
  auto m = build("ConvNetBN", 3, 10, 32);
  const Tensor& flat = m->flat_parameters();
  EXPECT_EQ(flat.shape(), Shape{m->num_parameters()});
  int64_t offset = 0;
  for (const Tensor& p : m->parameters()) {
    EXPECT_TRUE(p.is_leaf() && p.requires_grad());
    EXPECT_EQ(p.raw(), static_cast<char*>(flat.raw()) + offset * 4) << "views are packed in order";
    offset += p.numel();
  }
  // Writing the buffer moves every parameter at once (one SGD kernel, one load).
  Tensor ones = full(flat.shape(), 0.5);
  m->load_flat_parameters(ones);
  EXPECT_EQ(param(*m, "conv2.weight").to_vector<float>()[17], 0.5f);
  EXPECT_EQ(param(*m, "classifier.bias").to_vector<float>()[9], 0.5f);
}

TEST(Models, ResNetNamesFollowTheReference) {
  auto m = build("ResNet18", 3, 10, 32);
  const auto& n = m->parameter_names();
  EXPECT_EQ(n.front(), "conv1.weight");
  EXPECT_EQ(n[1], "bn1.weight");
  EXPECT_NE(std::find(n.begin(), n.end(), "layer2.0.shortcut.0.weight"), n.end());
  EXPECT_NE(std::find(n.begin(), n.end(), "layer2.0.shortcut.1.weight"), n.end());
  EXPECT_EQ(std::find(n.begin(), n.end(), "layer1.0.shortcut.0.weight"), n.end()) << "identity shortcut";
  EXPECT_EQ(n.back(), "classifier.bias");
  EXPECT_EQ(param(*m, "layer4.1.conv2.weight").shape(), (Shape{512, 512, 3, 3}));
}

// ---- initialisation: PyTorch's U(±1/√fan_in), γ = 1, β = 0 ----

void expect_uniform(const Tensor& t, double fan_in, const std::string& what) {
  const double b = 1.0 / std::sqrt(fan_in);
  const auto v = t.to_vector<float>();
  const double n = static_cast<double>(v.size());
  double s = 0, s2 = 0, mx = 0;
  for (float x : v) {
    s += x;
    s2 += static_cast<double>(x) * x;
    mx = std::max(mx, static_cast<double>(std::abs(x)));
  }
  const double mean = s / n, std = std::sqrt(s2 / n - mean * mean);
  const double sigma = b / std::sqrt(3.0);
  EXPECT_LE(std::abs(mean), 5 * sigma / std::sqrt(n)) << what;
  EXPECT_NEAR(std, sigma, 0.03 * sigma) << what;
  EXPECT_LE(mx, b) << what;
  EXPECT_GE(mx, 0.98 * b) << what << ": the whole range is used";
}

TEST(Models, InitialWeightStatisticsMatchPyTorch) {
  auto m = build("ConvNet", 3, 10, 32);
  expect_uniform(param(*m, "conv1.weight"), 27, "conv1.weight");  // bound 0.19245
  expect_uniform(param(*m, "conv2.weight"), 1152, "conv2.weight");  // bound 0.029463
  expect_uniform(param(*m, "classifier.weight"), 2048, "classifier.weight");  // bound 0.022097
  EXPECT_LE(max_abs(param(*m, "conv2.bias")), 1.0 / std::sqrt(1152.0));
  EXPECT_LE(max_abs(param(*m, "classifier.bias")), 1.0 / std::sqrt(2048.0));
  EXPECT_GT(max_abs(param(*m, "classifier.bias")), 0.5 / std::sqrt(2048.0));
  for (float v : param(*m, "norm2.weight").to_vector<float>()) ASSERT_EQ(v, 1.0f);
  for (float v : param(*m, "norm2.bias").to_vector<float>()) ASSERT_EQ(v, 0.0f);

  auto r = build("ResNet18", 3, 10, 32);
  expect_uniform(param(*r, "layer3.0.conv1.weight"), 128 * 9, "ResNet18 layer3.0.conv1.weight");
  expect_uniform(param(*r, "layer3.0.shortcut.0.weight"), 128, "ResNet18 layer3.0.shortcut.0.weight");
  auto l = build("LeNet", 1, 10, 28);
  expect_uniform(param(*l, "fc_1.weight"), 400, "LeNet fc_1.weight");
}

TEST(Models, InitIsDeterministicPerStream) {
  auto a = build("ConvNet", 3, 10, 32, 5), b = build("ConvNet", 3, 10, 32, 5), c = build("ConvNet", 3, 10, 32, 6);
  EXPECT_EQ(max_abs_diff(a->flat_parameters(), b->flat_parameters()), 0.0);
  EXPECT_GT(max_abs_diff(a->flat_parameters(), c->flat_parameters()), 0.0);
}

// ---- functional forward ----

TEST(Models, FunctionalForwardMatchesModule) {
  for (const char* name : {"ConvNet", "LeNet", "MLP", "AlexNetBN"}) {
    auto m = build(name, 1, 10, 28);
    const Tensor x = images(2, 1, 28);
    const Tensor y = m->forward(x);
    V copies;
    for (const Tensor& p : m->parameters()) copies.push_back(p.clone());
    EXPECT_EQ(max_abs_diff(m->forward(copies, x), y), 0.0) << name;
    EXPECT_EQ(max_abs_diff(m->forward(m->unflatten(m->flat_parameters()), x), y), 0.0) << name;
    // The given list is really used: a shifted classifier bias shifts every logit.
    copies.back() = copies.back() + 1.0;
    EXPECT_LE(max_abs_diff(m->forward(copies, x), y + 1.0), 1e-5) << name;
  }
}

TEST(Models, FunctionalForwardChecksTheList) {
  auto m = build("ConvNet", 3, 10, 32);
  V ps = m->parameters();
  ps.pop_back();
  EXPECT_THROW(m->forward(ps, images(1, 3, 32)), Error);
  ps = m->parameters();
  ps[2] = zeros(Shape{3});
  EXPECT_THROW(m->forward(ps, images(1, 3, 32)), Error);
  EXPECT_THROW(m->forward(images(1, 3, 28)), Error) << "built for 32×32";
  EXPECT_THROW(m->forward(images(1, 1, 32)), Error) << "built for 3 channels";
}

TEST(Models, GradientsReachEveryParameter) {
  Generator g(3, 3);
  ConvNetConfig cfg;
  cfg.width = 8;
  cfg.norm = NormKind::batch;
  auto m = make_convnet(3, 4, 16, cfg, g);
  backward(sum(m->forward(images(4, 3, 16))));
  for (size_t i = 0; i < m->parameters().size(); ++i)
    EXPECT_TRUE(m->parameters()[i].grad().defined()) << m->parameter_names()[i];
  double largest = 0;
  for (const Tensor& p : m->parameters()) largest = std::max(largest, max_abs(p.grad()));
  EXPECT_GT(largest, 0.0);
  m->zero_grad();
  for (const Tensor& p : m->parameters()) EXPECT_FALSE(p.grad().defined());
}

// d logits / d (x, params) of a tiny f64 ConvNet through the functional forward, for each norm.
TEST(GradCheck, TinyConvNetFunctionalForward) {
  for (NormKind nk : {NormKind::instance, NormKind::batch, NormKind::layer, NormKind::group, NormKind::none}) {
    Generator g(5, 5);
    ConvNetConfig cfg;
    cfg.width = 4;
    cfg.depth = 2;
    cfg.act = ActKind::swish;  // smooth, so finite differences see no kinks
    cfg.norm = nk;
    auto m = make_convnet(2, 3, 8, cfg, g, {.device = Device::cpu, .dtype = DType::f64});
    V xs{testing::randn64(Shape{2, 2, 8, 8}, 11)};
    for (const Tensor& p : m->parameters()) xs.push_back(p.detach().clone());
    Module* net = m.get();
    loco::testing::expect_gradcheck(
        [net](const V& v) { return net->forward(V(v.begin() + 1, v.end()), v[0]); }, xs,
        {.tol = 1e-5, .directions = 2});
  }
}

// ---- BatchNorm modes ----

TEST(Models, BatchNormTrainUsesBatchStatsAndUpdatesRunningStats) {
  Generator g(8, 8);
  ConvNetConfig cfg;
  cfg.width = 8;
  cfg.depth = 1;
  cfg.norm = NormKind::batch;
  auto m = make_convnet(3, 5, 16, cfg, g);
  ASSERT_TRUE(m->has_batchnorm());
  EXPECT_EQ(m->buffer_names(), (std::vector<std::string>{"norm1.running_mean", "norm1.running_var"}));
  for (float v : m->buffers()[0].to_vector<float>()) ASSERT_EQ(v, 0.0f);
  for (float v : m->buffers()[1].to_vector<float>()) ASSERT_EQ(v, 1.0f);

  const Tensor x = images(4, 3, 16) * 2.0 + 1.0;
  const Tensor conv = conv2d(x, param(*m, "conv1.weight"), param(*m, "conv1.bias"), {.stride = 1, .padding = 1});
  const auto batch_mean = mean(conv, {0, 2, 3}).to_vector<float>();

  ASSERT_TRUE(m->training()) << "a fresh network is in train mode, as in PyTorch";
  const Tensor y_train = m->forward(x);
  const auto rm = m->buffers()[0].to_vector<float>();
  for (size_t c = 0; c < rm.size(); ++c) EXPECT_NEAR(rm[c], 0.1f * batch_mean[c], 1e-5) << "channel " << c;

  // In train mode a sample's output depends on the rest of the batch; in eval mode it does not.
  const Tensor one = slice(x, 0, 1);
  EXPECT_GT(max_abs_diff(slice(y_train, 0, 1), m->forward(one)), 1e-4);
  m->eval();
  const auto before = m->buffers()[0].to_vector<float>();
  const Tensor y_eval = m->forward(x);
  EXPECT_LE(max_abs_diff(slice(y_eval, 0, 1), m->forward(one)), 1e-5);
  EXPECT_GT(max_abs_diff(y_eval, y_train), 1e-4);
  EXPECT_EQ(m->buffers()[0].to_vector<float>(), before) << "eval leaves the running stats alone";

  // Eval is the affine map of the running stats: (conv − μ_r)/√(σ²_r + ε) with γ = 1, β = 0.
  const auto& st = m->batchnorm_states()[0];
  const int64_t w = cfg.width;
  const Tensor mu = reshape(st.running_mean.clone(), Shape{1, w, 1, 1});
  const Tensor inv = rsqrt(reshape(st.running_var.clone(), Shape{1, w, 1, 1}) + kNormEps);
  const Tensor h = avg_pool2(relu((conv - mu) * inv));
  const Tensor ref = linear(flatten(h), param(*m, "classifier.weight"), param(*m, "classifier.bias"));
  EXPECT_LE(max_abs_diff(y_eval, ref), 1e-5);
}

// ---- registry and size checks ----

TEST(Models, RegistryKnowsEveryName) {
  EXPECT_EQ(network_names().size(), 31u);
  EXPECT_EQ(build("ConvNetBN", 3, 10, 32)->name(), "ConvNetBN");
  EXPECT_EQ(convnet_config("ConvNetD2").depth, 2);
  EXPECT_EQ(convnet_config("ConvNetW256").width, 256);
  EXPECT_EQ(convnet_config("ConvNetAL").act, ActKind::leaky_relu);
  EXPECT_EQ(convnet_config("ConvNetASwishBN").norm, NormKind::batch);
  EXPECT_EQ(convnet_config("ConvNetGN").norm, NormKind::group);
  EXPECT_EQ(convnet_config("ConvNetMP").pool, PoolKind::max);
  EXPECT_EQ(convnet_config("ConvNetNP").pool, PoolKind::none);
  EXPECT_EQ(build("ConvNetD1", 3, 10, 32)->embed_dim(), 128 * 16 * 16);
  EXPECT_EQ(build("ConvNetD4", 1, 10, 28)->embed_dim(), 128 * 2 * 2);
}

TEST(Models, UnknownNameListsTheValidOnes) {
  Generator g;
  for (const char* bad : {"ConvNetD5", "ResNet50", "convnet", "ConvNetW100", ""}) {
    try {
      make_network(bad, 3, 10, 32, g);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("unknown network"), std::string::npos) << msg;
      EXPECT_NE(msg.find("ConvNetASwishBN"), std::string::npos) << msg;
      EXPECT_NE(msg.find("ResNet18BN_AP"), std::string::npos) << msg;
    }
  }
}

TEST(Models, InputSizesTheReferenceCannotRunAreRejected) {
  Generator g;
  for (const char* name : {"ResNet18", "VGG11", "AlexNet", "LeNet", "MLP", "ResNet18BN_AP"})
    EXPECT_THROW(make_network(name, 3, 200, 64, g), Error) << name << " on 64×64";
  EXPECT_THROW(make_network("MLP", 3, 10, 28, g), Error);
}

}  // namespace
}  // namespace loco::models
