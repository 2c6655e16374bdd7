// The two parameterisations, their budgets and initialisations. One file: each class is a
// handful of lines around the engine ops that do the work (lowrank_reconstruct, slice).
#include "condense/param/synset.h"

#include <Eigen/SVD>
#include <cmath>

#include "engine/ops.h"

namespace loco::condense {

Budget parse_budget(const std::string& s) {
  if (s == "same-memory" || s == "sm") return Budget::same_memory;
  if (s == "same-images" || s == "si") return Budget::same_images;
  LOCO_FAIL("--budget: expected same-memory or same-images, got '", s, "'");
}
const char* budget_name(Budget b) { return b == Budget::same_memory ? "same-memory" : "same-images"; }

int64_t lowrank_images_per_class(int64_t ipc, int64_t h, int64_t w, int64_t rank, Budget b) {
  LOCO_CHECK(ipc >= 1 && rank >= 1 && rank < std::min(h, w), "low-rank budget: ipc ", ipc, " and rank ", rank,
             " for ", h, "×", w, " images (need ipc ≥ 1 and 1 ≤ rank < ", std::min(h, w), ")");
  if (b == Budget::same_images) return ipc;
  return std::max<int64_t>(1, ipc * h * w / (rank * (h + w)));
}

int64_t lowrank_images_per_class_reference(int64_t ipc, int64_t h, int64_t w, int64_t rank) {
  return ipc * static_cast<int64_t>(static_cast<double>(h * w) / static_cast<double>(h * rank + w * rank));
}

Init parse_init(const std::string& s) {
  if (s == "noise") return Init::noise;
  if (s == "real") return Init::real;
  LOCO_FAIL("--init: expected noise or real, got '", s, "'");
}
const char* init_name(Init i) { return i == Init::noise ? "noise" : "real"; }

SyntheticSet::SyntheticSet(int64_t classes, int64_t per_class, Device d) : classes_(classes), per_class_(per_class) {
  std::vector<int64_t> y;
  for (int64_t c = 0; c < classes; ++c) y.insert(y.end(), static_cast<size_t>(per_class), c);
  labels_ = from_vector(y, Shape({classes * per_class}), d);
}

namespace {

class PixelSet final : public SyntheticSet {
 public:
  PixelSet(const SetSpec& s, Tensor images) : SyntheticSet(s.classes, s.per_class, s.device), x_(std::move(images)) {
    x_.requires_grad_();
  }
  std::string kind() const override { return "pixel"; }
  std::vector<Tensor> parameters() const override { return {x_}; }
  Tensor images() const override { return x_; }
  Tensor class_images(int64_t c) const override { return slice(x_, c * per_class_, (c + 1) * per_class_); }
  int64_t floats_stored() const override { return x_.numel(); }
  void save(const RunDir& run, const std::map<std::string, std::string>& meta, const std::vector<float>& mean,
            const std::vector<float>& std) const override {
    save_set(run, x_, Tensor(), Tensor(), labels_, classes_, meta, mean, std);
  }

 private:
  Tensor x_;
};

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
  Tensor images() const override { return lowrank_reconstruct(a_, b_); }
  Tensor class_images(int64_t c) const override {
    const int64_t b0 = c * per_class_, b1 = b0 + per_class_;
    return lowrank_reconstruct(slice(a_, b0, b1), slice(b_, b0, b1));
  }
  int64_t floats_stored() const override { return a_.numel() + b_.numel(); }
  void save(const RunDir& run, const std::map<std::string, std::string>& meta, const std::vector<float>& mean,
            const std::vector<float>& std) const override {
    save_set(run, Tensor(), a_, b_, labels_, classes_, meta, mean, std);
  }

 private:
  Tensor a_, b_;
};

// n real images of each class, class-major, as one [K·n, C, H, W] tensor.
Tensor sample_real(const Dataset& real, const ClassIndex& index, int64_t classes, int64_t n, Generator& g) {
  std::vector<int64_t> rows;
  for (int64_t c = 0; c < classes; ++c) {
    const auto r = index.sample(c, n, g);
    LOCO_CHECK(static_cast<int64_t>(r.size()) == n, "--init real: class ", c, " of ", real.name, " has ", r.size(),
               " images, fewer than the ", n, " the set needs");
    rows.insert(rows.end(), r.begin(), r.end());
  }
  NoGradGuard no_grad;
  return gather_rows(real.images, index_tensor(rows, real.images.device()));
}

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

std::unique_ptr<SyntheticSet> make_synthetic_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                                 Generator& g) {
  LOCO_CHECK(s.classes >= 1 && s.per_class >= 1, "synthetic set: ", s.classes, " classes × ", s.per_class,
             " images per class");
  LOCO_CHECK(s.rank >= 0 && s.rank < std::min(s.height, s.width), "--rank ", s.rank, " must be below min(H, W) = ",
             std::min(s.height, s.width), " for ", s.height, "×", s.width, " images");
  LOCO_CHECK(s.init != Init::real || (real && index), "--init real needs the real training images");
  const int64_t n = s.classes * s.per_class;
  if (s.rank == 0) {
    Tensor x = s.init == Init::real ? sample_real(*real, *index, s.classes, s.per_class, g).clone()
                                    : rand_normal(Shape{n, s.channels, s.height, s.width}, g, 0.0, 1.0, DType::f32, s.device);
    return std::make_unique<PixelSet>(s, x.to(s.device));
  }
  Tensor a, b;
  if (s.init == Init::real) {
    truncated_svd_factors(sample_real(*real, *index, s.classes, s.per_class, g), s.rank, a, b);
  } else {  // the reference: A, B ~ N(0, 1), so each pixel has variance r
    a = rand_normal(Shape{n, s.channels, s.height, s.rank}, g, 0.0, 1.0, DType::f32, s.device);
    b = rand_normal(Shape{n, s.channels, s.rank, s.width}, g, 0.0, 1.0, DType::f32, s.device);
  }
  return std::make_unique<LowRankSet>(s, a.to(s.device), b.to(s.device));
}

}  // namespace loco::condense
