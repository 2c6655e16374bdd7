// LowRankSet: the plugin. Each image channel is A·B, A [K·n, C, H, r], B [K·n, C, r, W]; the
// images are reconstructed by the batched low-rank op wherever they are needed, and only the
// factors are stored. Real initialisation is the per-plane truncated SVD (in f64, Eigen).
#include <Eigen/SVD>
#include <cmath>

#include "condense/param/synset.h"
#include "engine/ops.h"

namespace loco::condense {
namespace {

class LowRankSet final : public SyntheticSet {
 public:
  LowRankSet(const SetSpec& s, Tensor a, Tensor b)
      : SyntheticSet(s.classes, s.per_class, s.device), a_(std::move(a)), b_(std::move(b)) {
    a_.requires_grad_();
    b_.requires_grad_();
  }
  std::string kind() const override { return "lowrank"; }
  int64_t rank() const override { return a_.dim(3); }
  std::vector<Tensor> parameters() const override { return {a_, b_}; }
  std::vector<std::string> parameter_names() const override { return {"A", "B"}; }
  Tensor images() const override { return lowrank_reconstruct(a_, b_); }
  Tensor class_images(int64_t c) const override {
    const int64_t b0 = c * per_class_, b1 = b0 + per_class_;
    return lowrank_reconstruct(slice(a_, b0, b1), slice(b_, b0, b1));
  }
  int64_t floats_stored() const override { return a_.numel() + b_.numel(); }
  void save(const RunDir& run, const std::map<std::string, std::string>& meta, const std::vector<float>& mean,
            const std::vector<float>& std) const override {
    save_set(run, Tensor(), a_, b_, labels_, meta, mean, std);
  }

 private:
  Tensor a_, b_;
};

}  // namespace

void truncated_svd_factors(const Tensor& x, int64_t rank, Tensor& a, Tensor& b) {
  LOCO_CHECK(x.ndim() == 4 && x.dtype() == DType::f32, "truncated_svd_factors: x must be f32 [N,C,H,W], got ",
             x.dtype(), " ", x.shape());
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  LOCO_CHECK(rank >= 1 && rank <= std::min(h, w), "truncated_svd_factors: rank ", rank, " for ", h, "×", w, " planes");
  const std::vector<float> px = x.to_vector<float>();
  std::vector<float> av(static_cast<size_t>(n * c * h * rank)), bv(static_cast<size_t>(n * c * rank * w));
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (int64_t p = 0; p < n * c; ++p) {
    Mat m(h, w);
    for (int64_t i = 0; i < h * w; ++i) m.data()[i] = px[static_cast<size_t>(p * h * w + i)];
    const Eigen::JacobiSVD<Mat> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    for (int64_t k = 0; k < rank; ++k) {
      const double s = std::sqrt(svd.singularValues()(k));
      for (int64_t i = 0; i < h; ++i) av[static_cast<size_t>((p * h + i) * rank + k)] = static_cast<float>(svd.matrixU()(i, k) * s);
      for (int64_t j = 0; j < w; ++j) bv[static_cast<size_t>((p * rank + k) * w + j)] = static_cast<float>(svd.matrixV()(j, k) * s);
    }
  }
  a = from_vector(av, Shape({n, c, h, rank}), x.device());
  b = from_vector(bv, Shape({n, c, rank, w}), x.device());
}

std::unique_ptr<SyntheticSet> make_lowrank_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                               Generator& g) {
  const int64_t n = s.classes * s.per_class;
  Tensor a, b;
  if (s.init == Init::real) {
    truncated_svd_factors(real_init_images(*real, *index, s.classes, s.per_class, g), s.rank, a, b);
  } else {  // the reference: A, B ~ N(0, 1), so each pixel has variance r
    a = rand_normal(Shape{n, s.channels, s.height, s.rank}, g, 0.0, 1.0, DType::f32, s.device);
    b = rand_normal(Shape{n, s.channels, s.rank, s.width}, g, 0.0, 1.0, DType::f32, s.device);
  }
  return std::make_unique<LowRankSet>(s, a.to(s.device), b.to(s.device));
}

}  // namespace loco::condense
