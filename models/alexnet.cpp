// AlexNet / AlexNetBN (spec/networks.md §4): five convs (5×5, 5×5, 3×3, 3×3, 3×3; all with
// bias), each followed by [BatchNorm] and relu, max-pooling after the 1st, 2nd and 5th, then
// Linear(192·4·4, K) named fc. The first conv pads by 4 when C == 1 (else 2), so 1×28×28 and
// 3×32×32 both reach 192×4×4. embed = the flattened 3072 features.
//
// Shape letters: N batch, C channels, H×W image, K classes.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

class AlexNet final : public Module {
 public:
  AlexNet(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g, ModuleOptions o)
      : Module(batchnorm ? "AlexNetBN" : "AlexNet", channel, classes, im_size, o) {
    const NormKind nk = batchnorm ? NormKind::batch : NormKind::none;
    struct Cfg { int64_t cout, k, pad; bool pool; };
    const Cfg cfg[5] = {{128, 5, channel == 1 ? 4 : 2, true}, {192, 5, 2, true}, {256, 3, 1, false},
                        {192, 3, 1, false}, {192, 3, 1, true}};
    int64_t cin = channel, h = im_size;
    for (int i = 0; i < 5; ++i) {
      const std::string k = std::to_string(i + 1);
      convs_[i] = conv("conv" + k, cin, cfg[i].cout, cfg[i].k, {.stride = 1, .padding = cfg[i].pad});
      h = conv_out(h, cfg[i].k, 1, cfg[i].pad);
      norms_[i] = norm("norm" + k, nk, cfg[i].cout, h, h);
      pools_[i] = cfg[i].pool;
      if (cfg[i].pool) h /= 2;
      cin = cfg[i].cout;
    }
    LOCO_CHECK(h == 4, name(), ": a ", channel, "×", im_size, "×", im_size, " input gives a 192×", h, "×", h,
               " feature map, but its classifier takes 192×4×4 (use 1×28×28 or 3×32×32)");
    fc_ = linear("fc", 192 * 4 * 4, classes);
    finish(g, 192 * 4 * 4, true);
  }

 protected:
  Tensor features(const std::vector<Tensor>& p, const Tensor& x) override {
    Tensor y = x;
    for (int i = 0; i < 5; ++i) {
      y = relu(apply(norms_[i], p, apply(convs_[i], p, y)));
      if (pools_[i]) y = max_pool2(y);
    }
    return flatten(y);
  }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override { return apply(fc_, p, f); }

 private:
  ConvLayer convs_[5];
  NormLayer norms_[5];
  bool pools_[5] = {};
  LinearLayer fc_;
};

}  // namespace

std::unique_ptr<Module> make_alexnet(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g,
                                     ModuleOptions o) {
  return std::make_unique<AlexNet>(channel, classes, im_size, batchnorm, g, o);
}

}  // namespace loco::models
