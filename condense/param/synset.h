// Synthetic-set parameterisations (spec/condensation.md §2 and §5): what the condensation
// optimises. A set holds K classes × n images, class-major (class c owns rows c·n … c·n+n−1),
// with fixed labels, and exposes its leaves (what SGD updates) and its images as a
// differentiable function of them.
//   PixelSet   : the images themselves, [K·n, C, H, W].
//   LowRankSet : per image channel X = A·B, A [K·n, C, H, r], B [K·n, C, r, W] (the plugin).
// Initialisation: noise (standard normal, as the reference) or real (sampled real images; for
// low rank their best rank-r approximation by truncated SVD, A = U_r·√S_r, B = √S_r·V_rᵀ: an
// extension, since the reference's low-rank real init does nothing).
// Budgets (§5.1): --ipc K is the memory of K full images per class. same-memory gives
// ⌊K·H·W / (r·(H+W))⌋ images per class, truncated after the multiplication (the README
// formula; the reference code truncates H·W/(r(H+W)) first, which wastes budget when it is not
// an integer, e.g. 28×28 at r = 4 or 8); same-images gives K.
//
// Shape letters: K classes, n images per class, C channels, H×W image, r rank.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "condense/run_dir.h"

namespace loco::condense {

enum class Budget { same_memory, same_images };
Budget parse_budget(const std::string& s);  // "same-memory" | "same-images"; throws naming the value
const char* budget_name(Budget b);
// Images per class a low-rank set of rank r gets for the memory of ipc full H×W images.
int64_t lowrank_images_per_class(int64_t ipc, int64_t h, int64_t w, int64_t rank, Budget b);
// What the reference code gives (truncating before the multiplication), for the report.
int64_t lowrank_images_per_class_reference(int64_t ipc, int64_t h, int64_t w, int64_t rank);

enum class Init { noise, real };
Init parse_init(const std::string& s);  // "noise" | "real"
const char* init_name(Init i);

class SyntheticSet {
 public:
  virtual ~SyntheticSet() = default;
  virtual std::string kind() const = 0;  // "pixel" | "lowrank"
  virtual int64_t rank() const { return 0; }
  int64_t classes() const { return classes_; }
  int64_t per_class() const { return per_class_; }
  int64_t size() const { return classes_ * per_class_; }
  const Tensor& labels() const { return labels_; }  // i64 [K·n], class-major

  // The leaves SGD updates (requires_grad), and their names in the set file ("images"; "A", "B").
  virtual std::vector<Tensor> parameters() const = 0;
  virtual std::vector<std::string> parameter_names() const = 0;
  // All images [K·n, C, H, W], differentiable in the parameters.
  virtual Tensor images() const = 0;
  // Class c's n images, differentiable (for low rank only that class's factors are multiplied).
  virtual Tensor class_images(int64_t c) const = 0;
  // Floats the set stores (labels aside): K·n·C·H·W, or K·n·C·r·(H+W) for low rank.
  virtual int64_t floats_stored() const = 0;
  // synset.safetensors (the factors themselves for low rank); its grid.png is the tools layer's.
  virtual void save(const RunDir& run, const std::map<std::string, std::string>& metadata, const std::vector<float>& mean,
                    const std::vector<float>& std) const = 0;

 protected:
  SyntheticSet(int64_t classes, int64_t per_class, Device d);
  int64_t classes_, per_class_;
  Tensor labels_;
};

// Distributed runs (dist.h): each process holds the whole set but updates only its share of the
// classes (dist::share); this gives every process every class's current values, in place.
void gather_classes(SyntheticSet& set);

struct SetSpec {
  int64_t classes = 10, per_class = 1, channels = 1, height = 28, width = 28;
  int64_t rank = 0;  // 0: full pixels
  Init init = Init::noise;
  Device device = Device::cpu;
};
// A fresh set. Init::real draws each class's images from `real` (via its ClassIndex), so `real`
// and `index` are needed then; otherwise they may be null.
std::unique_ptr<SyntheticSet> make_synthetic_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                                 Generator& g);

// ---- the parameterisations (one file each) and what they share ----
std::unique_ptr<SyntheticSet> make_pixel_set(const SetSpec& s, const Dataset* real, const ClassIndex* index, Generator& g);
std::unique_ptr<SyntheticSet> make_lowrank_set(const SetSpec& s, const Dataset* real, const ClassIndex* index,
                                               Generator& g);
// n real images of each class, class-major, as one [K·n, C, H, W] tensor (throws naming a
// class with fewer than n images).
Tensor real_init_images(const Dataset& real, const ClassIndex& index, int64_t classes, int64_t n, Generator& g);
// The rank-r truncated SVD factors of each plane of x [N, C, H, W]: A [N,C,H,r], B [N,C,r,W]
// with A·B the best rank-r approximation of each plane (Eckart–Young), f32 on x's device.
void truncated_svd_factors(const Tensor& x, int64_t rank, Tensor& a, Tensor& b);

}  // namespace loco::condense
