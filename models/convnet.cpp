// ConvNet (spec/networks.md §2): depth × [conv3×3 → norm → act → pool], then Linear(D, K).
// The reference's 28×28 rule: the first conv pads by 3 when C == 1, so 1×28×28 becomes 32×32.
// The reference sizes the classifier by bookkeeping that treats 28 as 32; we follow the real
// conv arithmetic instead, which agrees wherever the reference model runs at all.
//
// Shape letters: N batch, C channels, H×W image, K classes, D = width·h_f·w_f.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

class ConvNet final : public Module {
 public:
  ConvNet(int64_t channel, int64_t classes, int64_t im_size, const ConvNetConfig& cfg, Generator& g, ModuleOptions o)
      : Module("ConvNet", channel, classes, im_size, o), act_(cfg.act), pool_(cfg.pool) {
    LOCO_CHECK(cfg.width >= 1 && cfg.depth >= 1, "ConvNet: width ", cfg.width, " and depth ", cfg.depth,
               " must be positive");
    int64_t cin = channel, h = im_size;
    for (int64_t d = 0; d < cfg.depth; ++d) {
      const int64_t pad = channel == 1 && d == 0 ? 3 : 1;
      const std::string k = std::to_string(d + 1);
      convs_.push_back(conv("conv" + k, cin, cfg.width, 3, {.stride = 1, .padding = pad}));
      h = conv_out(h, 3, 1, pad);
      norms_.push_back(norm("norm" + k, cfg.norm, cfg.width, h, h));
      if (cfg.pool != PoolKind::none) h /= 2;
      LOCO_CHECK(h >= 1, "ConvNet: a ", im_size, "×", im_size, " input is too small for depth ", cfg.depth);
      cin = cfg.width;
    }
    const int64_t dim = cfg.width * h * h;
    classifier_ = linear("classifier", dim, classes);
    finish(g, dim, true);
  }

 protected:
  Tensor features(const std::vector<Tensor>& p, const Tensor& x) override {
    Tensor y = x;
    for (size_t d = 0; d < convs_.size(); ++d)
      y = pool(pool_, activate(act_, apply(norms_[d], p, apply(convs_[d], p, y))));
    return flatten(y);
  }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override { return apply(classifier_, p, f); }

 private:
  ActKind act_;
  PoolKind pool_;
  std::vector<ConvLayer> convs_;
  std::vector<NormLayer> norms_;
  LinearLayer classifier_;
};

}  // namespace

std::unique_ptr<Module> make_convnet(int64_t channel, int64_t classes, int64_t im_size, const ConvNetConfig& cfg,
                                     Generator& g, ModuleOptions o) {
  return std::make_unique<ConvNet>(channel, classes, im_size, cfg, g, o);
}

}  // namespace loco::models
