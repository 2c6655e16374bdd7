// LeNet (spec/networks.md §3): conv5×5(C,6) → relu → maxpool → conv5×5(6,16) → relu → maxpool →
// Linear(400,120) → relu → Linear(120,84) → relu → Linear(84,K). The first conv pads by 2 when
// C == 1, so 1×28×28 and 3×32×32 both reach 16×5×5. It has no embedding (the reference has none).
//
// Shape letters: N batch, C channels, H×W image, K classes.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

class LeNet final : public Module {
 public:
  LeNet(int64_t channel, int64_t classes, int64_t im_size, Generator& g, ModuleOptions o)
      : Module("LeNet", channel, classes, im_size, o) {
    const int64_t pad = channel == 1 ? 2 : 0;
    const int64_t h = conv_out(conv_out(im_size, 5, 1, pad) / 2, 5, 1, 0) / 2;
    LOCO_CHECK(h == 5, "LeNet: a ", channel, "×", im_size, "×", im_size, " input gives a 16×", h, "×", h,
               " feature map, but its classifier takes 16×5×5 (use 1×28×28 or 3×32×32)");
    conv1_ = conv("conv1", channel, 6, 5, {.stride = 1, .padding = pad});
    conv2_ = conv("conv2", 6, 16, 5, {.stride = 1, .padding = 0});
    fc1_ = linear("fc_1", 16 * 5 * 5, 120);
    fc2_ = linear("fc_2", 120, 84);
    fc3_ = linear("fc_3", 84, classes);
    finish(g, 16 * 5 * 5, false);
  }

 protected:
  Tensor features(const std::vector<Tensor>& p, const Tensor& x) override {
    Tensor y = max_pool2(relu(apply(conv1_, p, x)));
    y = max_pool2(relu(apply(conv2_, p, y)));
    return flatten(y);
  }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override {
    Tensor y = relu(apply(fc1_, p, f));
    y = relu(apply(fc2_, p, y));
    return apply(fc3_, p, y);
  }

 private:
  ConvLayer conv1_, conv2_;
  LinearLayer fc1_, fc2_, fc3_;
};

}  // namespace

std::unique_ptr<Module> make_lenet(int64_t channel, int64_t classes, int64_t im_size, Generator& g, ModuleOptions o) {
  return std::make_unique<LeNet>(channel, classes, im_size, g, o);
}

}  // namespace loco::models
