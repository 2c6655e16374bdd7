// PixelSet: the synthetic images themselves, [K·n, C, H, W], as the reference's image_syn.
#include "condense/param/synset.h"
#include "engine/ops.h"

namespace loco::condense {
namespace {

class PixelSet final : public SyntheticSet {
 public:
  PixelSet(const SetSpec& s, Tensor images) : SyntheticSet(s.classes, s.per_class, s.device), x_(std::move(images)) {
    x_.requires_grad_();
  }
  std::string kind() const override { return "pixel"; }
  std::vector<Tensor> parameters() const override { return {x_}; }
  std::vector<std::string> parameter_names() const override { return {"images"}; }
  Tensor images() const override { return x_; }
  Tensor class_images(int64_t c) const override { return slice(x_, c * per_class_, (c + 1) * per_class_); }
  int64_t floats_stored() const override { return x_.numel(); }
  void save(const RunDir& run, const std::map<std::string, std::string>& meta, const std::vector<float>& mean,
            const std::vector<float>& std) const override {
    save_set(run, x_, Tensor(), Tensor(), labels_, meta, mean, std);
  }

 private:
  Tensor x_;
};

}  // namespace

std::unique_ptr<SyntheticSet> make_pixel_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                             Generator& g) {
  Tensor x = s.init == Init::real
                 ? real_init_images(*real, *index, s.classes, s.per_class, g).clone()
                 : rand_normal(Shape{s.classes * s.per_class, s.channels, s.height, s.width}, g, 0.0, 1.0, DType::f32,
                               s.device);
  return std::make_unique<PixelSet>(s, x.to(s.device));
}

}  // namespace loco::condense
