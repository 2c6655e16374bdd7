// MLP (spec/networks.md §7): flatten → Linear(784 or 3072, 128) → relu → Linear(128,128) → relu →
// Linear(128,K). The first layer takes 784 inputs when C == 1 and 3072 otherwise, so only
// 1×28×28 and 3×32×32 inputs fit. It has no embedding (the reference has none).
//
// Shape letters: N batch, C channels, H×W image, K classes.
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::models {
namespace {

class Mlp final : public Module {
 public:
  Mlp(int64_t channel, int64_t classes, int64_t im_size, Generator& g, ModuleOptions o)
      : Module("MLP", channel, classes, im_size, o) {
    const int64_t in = channel == 1 ? 28 * 28 : 32 * 32 * 3;
    LOCO_CHECK(channel * im_size * im_size == in, "MLP: its first layer takes ", in, " inputs for ", channel,
               " channel(s), but a ", channel, "×", im_size, "×", im_size, " image has ",
               channel * im_size * im_size, " (use 1×28×28 or 3×32×32)");
    fc1_ = linear("fc_1", in, 128);
    fc2_ = linear("fc_2", 128, 128);
    fc3_ = linear("fc_3", 128, classes);
    finish(g, in, false);
  }

 protected:
  Tensor features(const std::vector<Tensor>&, const Tensor& x) override { return flatten(x); }
  Tensor head(const std::vector<Tensor>& p, const Tensor& f) override {
    Tensor y = relu(apply(fc1_, p, f));
    y = relu(apply(fc2_, p, y));
    return apply(fc3_, p, y);
  }

 private:
  LinearLayer fc1_, fc2_, fc3_;
};

}  // namespace

std::unique_ptr<Module> make_mlp(int64_t channel, int64_t classes, int64_t im_size, Generator& g, ModuleOptions o) {
  return std::make_unique<Mlp>(channel, classes, im_size, g, o);
}

}  // namespace loco::models
