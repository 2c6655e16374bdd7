// The condensation distances (engine/ops/distance.h), composed from elementwise, reduction and
// layout ops, so their first and second derivatives come from those ops' backwards.
// Shape letters: K classes, n_r / n_s rows per class, d features.
#include "engine/ops/distance.h"

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/ops/op_util.h"
#include "engine/ops/reduce.h"

namespace loco {

namespace {

// Added to squared norms before the square root. NOTE: √ has an infinite slope at 0, so a zero
// gradient row (a dead filter) would give 0·∞ = NaN in the backward; PyTorch's norm backward
// masks that case to 0, and so does this (s/√tiny = 0 at s = 0). 1e-20 keeps the second
// derivative (∝ tiny^−1.5) finite in f32 and moves a norm by < 1e-10 absolute.
constexpr double kNormSqTiny = 1e-20;
constexpr double kCosEps = 1e-6;  // added to the product of the norms (spec: match_loss)

Tensor safe_norm(const Tensor& sq) { return sqrt(sq + kNormSqTiny); }

void check_pair(const Tensor& s, const Tensor& r, const char* op, size_t i) {
  detail::check_same(s, r, op);
  LOCO_CHECK(s.shape() == r.shape(), op, ": tensor ", i, ": synthetic gradient ", s.shape(),
             " and real gradient ", r.shape(), " differ");
}

}  // namespace

Tensor dm_class_distances(const Tensor& real, const Tensor& syn, int64_t classes) {
  detail::check_same(real, syn, "dm_distance");
  LOCO_CHECK(real.ndim() == 2 && syn.ndim() == 2 && real.dim(1) == syn.dim(1),
             "dm_distance: expected real [K·n_r, d] and syn [K·n_s, d], got ", real.shape(), " and ", syn.shape());
  LOCO_CHECK(classes >= 1 && real.dim(0) % classes == 0 && syn.dim(0) % classes == 0 && real.dim(0) > 0 &&
                 syn.dim(0) > 0,
             "dm_distance: ", real.dim(0), " real and ", syn.dim(0), " synthetic rows do not split into ", classes,
             " non-empty classes");
  const int64_t d = real.dim(1);
  const Tensor mr = mean(reshape(real, Shape{classes, -1, d}), {1});
  const Tensor ms = mean(reshape(syn, Shape{classes, -1, d}), {1});
  return sum(square(mr - ms), {1});
}

Tensor dm_distance(const Tensor& real, const Tensor& syn, int64_t classes) {
  return sum(dm_class_distances(real, syn, classes));
}

GmMetric parse_gm_metric(const std::string& name) {
  if (name == "ours") return GmMetric::ours;
  if (name == "mse") return GmMetric::mse;
  if (name == "cos") return GmMetric::cos;
  LOCO_FAIL("unknown gradient-matching metric '", name, "' (valid: ours, mse, cos)");
}

Tensor gm_distance_rows(const Tensor& g_syn, const Tensor& g_real) {
  check_pair(g_syn, g_real, "gm_distance_rows", 0);
  LOCO_CHECK(g_syn.ndim() >= 1 && g_syn.ndim() <= 4, "gm_distance_rows: expected a 1-D to 4-D gradient, got ",
             g_syn.shape());
  // Biases and per-channel norm parameters are left out (spec §3.1): no math, no gradient.
  if (g_syn.ndim() == 1) return zeros(Shape{}, g_syn.dtype(), g_syn.device());
  const Shape rows{g_syn.dim(0), -1};
  const Tensor s = reshape(g_syn, rows);
  const Tensor r = reshape(g_real, rows);
  const Tensor dot = sum(r * s, {1});
  const Tensor norms = safe_norm(sum(r * r, {1})) * safe_norm(sum(s * s, {1}));
  return sum(1.0 - dot / (norms + kCosEps));
}

Tensor gm_distance(const std::vector<Tensor>& g_syn, const std::vector<Tensor>& g_real, GmMetric metric) {
  LOCO_CHECK(!g_syn.empty() && g_syn.size() == g_real.size(), "gm_distance: ", g_syn.size(),
             " synthetic and ", g_real.size(), " real gradients (need the same, non-zero, number)");
  for (size_t i = 0; i < g_syn.size(); ++i) check_pair(g_syn[i], g_real[i], "gm_distance", i);
  auto accumulate = [](Tensor& acc, const Tensor& t) { acc = acc.defined() ? acc + t : t; };
  Tensor total;
  switch (metric) {
    case GmMetric::ours:
      for (size_t i = 0; i < g_syn.size(); ++i)
        if (g_syn[i].ndim() != 1) accumulate(total, gm_distance_rows(g_syn[i], g_real[i]));
      return total.defined() ? total : zeros(Shape{}, g_syn[0].dtype(), g_syn[0].device());
    case GmMetric::mse:
      // Σ over the concatenation equals the sum of per-tensor sums (no copy needed).
      for (size_t i = 0; i < g_syn.size(); ++i) accumulate(total, sum(square(g_syn[i] - g_real[i])));
      return total;
    case GmMetric::cos: {
      Tensor dot, rr, ss;
      for (size_t i = 0; i < g_syn.size(); ++i) {
        accumulate(dot, sum(g_real[i] * g_syn[i]));
        accumulate(rr, sum(g_real[i] * g_real[i]));
        accumulate(ss, sum(g_syn[i] * g_syn[i]));
      }
      return 1.0 - dot / (safe_norm(rr) * safe_norm(ss) + kCosEps);
    }
  }
  LOCO_FAIL("gm_distance: unknown metric");
}

}  // namespace loco
