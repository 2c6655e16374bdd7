// VGG11 / VGG11BN (spec/networks.md §5): cfg [64,M,128,M,256,256,M,512,512,M,512,512,M], each
// number a conv3×3 (with bias) → norm → relu, M a 2×2 max-pool; norm is GroupNorm(c, c)
// (instancenorm) or BatchNorm. The first conv pads by 3 when C == 1, so 1×28×28 and 3×32×32 both
// reach 512×1×1. The reference's trailing AvgPool2d(1, 1) is the identity and is left out.
// Classifier Linear(512, K); embed = the 512 features.
//
// Shape letters: N batch, C channels, H×W image, K classes.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

constexpr int64_t kPool = 0;  // 'M' in the cfg
constexpr int64_t kCfg[] = {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};

class Vgg11 final : public Module {
 public:
  Vgg11(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g, ModuleOptions o)
      : Module(batchnorm ? "VGG11BN" : "VGG11", channel, classes, im_size, o) {
    const NormKind nk = batchnorm ? NormKind::batch : NormKind::instance;
    int64_t cin = channel, h = im_size, ic = 0, n = 0;
    for (int64_t x : kCfg) {
      if (x == kPool) {
        steps_.push_back(-1);
        h /= 2;
      } else {
        const int64_t pad = channel == 1 && ic == 0 ? 3 : 1;
        const std::string k = std::to_string(++n);
        convs_.push_back(conv("conv" + k, cin, x, 3, {.stride = 1, .padding = pad}));
        h = conv_out(h, 3, 1, pad);
        norms_.push_back(norm("norm" + k, nk, x, h, h));
        steps_.push_back(static_cast<int64_t>(convs_.size()) - 1);
        cin = x;
      }
      LOCO_CHECK(h >= 1, name(), ": a ", im_size, "×", im_size, " input is too small");
      ++ic;
    }
    LOCO_CHECK(h == 1, name(), ": a ", channel, "×", im_size, "×", im_size, " input gives a 512×", h, "×", h,
               " feature map, but its classifier takes 512 features (use 1×28×28 or 3×32×32)");
    classifier_ = linear("classifier", 512, classes);
    finish(g, 512, true);
  }

 protected:
  Tensor features(const std::vector<Tensor>& p, const Tensor& x) override {
    Tensor y = x;
    for (int64_t s : steps_) {
      if (s < 0) {
        y = max_pool2(y);
      } else {
        const auto i = static_cast<size_t>(s);
        y = relu(apply(norms_[i], p, apply(convs_[i], p, y)));
      }
    }
    return flatten(y);
  }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override { return apply(classifier_, p, f); }

 private:
  std::vector<int64_t> steps_;  // per cfg entry: the conv index, or −1 for a max-pool
  std::vector<ConvLayer> convs_;
  std::vector<NormLayer> norms_;
  LinearLayer classifier_;
};

}  // namespace

std::unique_ptr<Module> make_vgg11(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g,
                                   ModuleOptions o) {
  return std::make_unique<Vgg11>(channel, classes, im_size, batchnorm, g, o);
}

}  // namespace loco::models
