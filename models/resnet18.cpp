// ResNet18 / ResNet18BN / ResNet18BN_AP (spec/networks.md §6). Stem conv3×3(C,64, no bias, pad 1)
// → norm → relu, then four stages of two BasicBlocks (64 s1, 128 s2, 256 s2, 512 s2), then the
// reference's avg_pool2d(4) on the 4×4 map (a mean over H×W) → Linear(512, K). Norm is
// GroupNorm(c, c) (instancenorm) or BatchNorm.
// BasicBlock: conv3×3(s) → norm → relu → conv3×3 → norm, plus the shortcut (identity, or
// conv1×1(s) → norm when the stride or width changes), add, relu.
// The _AP form: every stride-2 conv is stride 1 followed by a 2×2 average pool (after the first
// norm+relu in the main path; between the 1×1 conv and its norm in the shortcut); no final pool,
// classifier Linear(512·h·w, K) with h = w = 3 for C == 1 and 4 otherwise.
// embed = the flattened input of the classifier (512, or 512·h·w for _AP).
//
// Shape letters: N batch, C channels, H×W image, K classes.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

struct Block {
  ConvLayer conv1, conv2, shortcut;
  NormLayer norm1, norm2, shortcut_norm;
  int64_t stride = 1;
  bool has_shortcut = false;
};

class ResNet18 final : public Module {
 public:
  ResNet18(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, bool avgpool, Generator& g,
           ModuleOptions o)
      : Module(avgpool ? (batchnorm ? "ResNet18BN_AP" : "ResNet18_AP") : (batchnorm ? "ResNet18BN" : "ResNet18"),
               channel, classes, im_size, o),
        ap_(avgpool) {
    const NormKind nk = batchnorm ? NormKind::batch : NormKind::instance;
    int64_t h = im_size;
    stem_ = conv("conv1", channel, 64, 3, {.stride = 1, .padding = 1}, false);
    stem_norm_ = norm("bn1", nk, 64, h, h);
    int64_t cin = 64;
    const int64_t planes[4] = {64, 128, 256, 512};
    for (int s = 0; s < 4; ++s) {
      for (int b = 0; b < 2; ++b) {
        const std::string pre = "layer" + std::to_string(s + 1) + "." + std::to_string(b) + ".";
        const int64_t c = planes[s];
        Block k;
        k.stride = b == 0 && s > 0 ? 2 : 1;
        const int64_t conv_stride = ap_ ? 1 : k.stride;
        k.conv1 = conv(pre + "conv1", cin, c, 3, {.stride = conv_stride, .padding = 1}, false);
        // The _AP block pools after norm1, so norm1 sees the map before the pooling.
        h = conv_out(h, 3, conv_stride, 1);
        k.norm1 = norm(pre + "bn1", nk, c, h, h);
        if (ap_ && k.stride != 1) h /= 2;
        k.conv2 = conv(pre + "conv2", c, c, 3, {.stride = 1, .padding = 1}, false);
        k.norm2 = norm(pre + "bn2", nk, c, h, h);
        k.has_shortcut = k.stride != 1 || cin != c;
        if (k.has_shortcut) {
          k.shortcut = conv(pre + "shortcut.0", cin, c, 1, {.stride = conv_stride, .padding = 0}, false);
          k.shortcut_norm = norm(pre + (ap_ ? "shortcut.2" : "shortcut.1"), nk, c, h, h);
        }
        blocks_.push_back(k);
        cin = c;
      }
    }
    int64_t dim = 512;
    if (ap_) {
      const int64_t want = channel == 1 ? 3 : 4;  // the reference's hard-coded classifier size
      LOCO_CHECK(h == want, name(), ": a ", channel, "×", im_size, "×", im_size, " input gives a 512×", h, "×", h,
                 " map, but its classifier takes 512×", want, "×", want, " (use 1×28×28 or 3×32×32)");
      dim = 512 * h * h;
    } else {
      LOCO_CHECK(h == 4, name(), ": a ", channel, "×", im_size, "×", im_size, " input gives a 512×", h, "×", h,
                 " map, but avg_pool2d(4) must leave 1×1 for Linear(512, K) (use 28×28 or 32×32)");
    }
    classifier_ = linear("classifier", dim, classes);
    finish(g, dim, true);
  }

 protected:
  Tensor features(const std::vector<Tensor>& p, const Tensor& x) override {
    Tensor y = relu(apply(stem_norm_, p, apply(stem_, p, x)));
    for (const Block& k : blocks_) {
      Tensor out = relu(apply(k.norm1, p, apply(k.conv1, p, y)));
      if (ap_ && k.stride != 1) out = avg_pool2(out);
      out = apply(k.norm2, p, apply(k.conv2, p, out));
      Tensor sc = y;
      if (k.has_shortcut) {
        sc = apply(k.shortcut, p, y);
        if (ap_ && k.stride != 1) sc = avg_pool2(sc);
        sc = apply(k.shortcut_norm, p, sc);
      }
      y = relu(out + sc);
    }
    // avg_pool2d(4) on the 4×4 map is the mean over it; the _AP net's avg_pool2d(1) is the identity.
    return ap_ ? flatten(y) : mean(y, {2, 3});
  }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override { return apply(classifier_, p, f); }

 private:
  bool ap_;
  ConvLayer stem_;
  NormLayer stem_norm_;
  std::vector<Block> blocks_;
  LinearLayer classifier_;
};

}  // namespace

std::unique_ptr<Module> make_resnet18(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, bool avgpool,
                                      Generator& g, ModuleOptions o) {
  return std::make_unique<ResNet18>(channel, classes, im_size, batchnorm, avgpool, g, o);
}

}  // namespace loco::models
