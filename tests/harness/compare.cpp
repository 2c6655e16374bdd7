#include "tests/harness/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

namespace loco::testing {
namespace {

std::vector<double> host_f64(const Tensor& t) {
  const Tensor h = t.to(Device::cpu);
  switch (h.dtype()) {
    case DType::f64: return h.to_vector<double>();
    case DType::f32: {
      const auto v = h.to_vector<float>();
      return {v.begin(), v.end()};
    }
    case DType::i64: {
      const auto v = h.to_vector<int64_t>();
      return {v.begin(), v.end()};
    }
    case DType::i32: {
      const auto v = h.to_vector<int32_t>();
      return {v.begin(), v.end()};
    }
    case DType::u8: {
      const auto v = h.to_vector<uint8_t>();
      return {v.begin(), v.end()};
    }
  }
  return {};
}

std::string index_of(const Shape& s, size_t flat) {
  std::vector<int64_t> idx(static_cast<size_t>(s.ndim()));
  auto rest = static_cast<int64_t>(flat);
  for (int64_t d = s.ndim() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = s[d] ? rest % s[d] : 0;
    rest = s[d] ? rest / s[d] : 0;
  }
  return Shape(idx).str();
}

}  // namespace

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(); }

double rel_error(const Tensor& out, const Tensor& ref) {
  const auto o = host_f64(out), r = host_f64(ref);
  if (o.size() != r.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    if (!std::isfinite(o[i])) return INFINITY;
    num += (o[i] - r[i]) * (o[i] - r[i]);
    den += r[i] * r[i];
  }
  return den > 0 ? std::sqrt(num / den) : (num == 0 && o.empty() ? 0.0 : INFINITY);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = host_f64(a), y = host_f64(b);
  if (x.size() != y.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (double v : host_f64(a)) m = std::max(m, std::abs(v));
  return m;
}

std::string mismatch_report(const Tensor& out, const Tensor& ref, int pairs) {
  const auto o = host_f64(out), r = host_f64(ref);
  std::ostringstream s;
  s.precision(9);
  if (o.size() != r.size()) {
    s << "sizes differ: " << o.size() << " vs " << r.size();
    return s.str();
  }
  size_t worst = 0;
  double worst_d = -1;
  for (size_t i = 0; i < o.size(); ++i) {
    const double d = std::isfinite(o[i]) ? std::abs(o[i] - r[i]) : INFINITY;
    if (d > worst_d) worst_d = d, worst = i;
  }
  if (o.empty()) return "empty tensors";
  s << "worst |out − ref| " << worst_d << " at index " << worst << " " << index_of(ref.shape(), worst) << " (out "
    << o[worst] << ", ref " << r[worst] << "); first differing:";
  int shown = 0;
  for (size_t i = 0; i < o.size() && shown < pairs; ++i)
    if (o[i] != r[i]) s << (shown++ ? "," : "") << " " << index_of(ref.shape(), i) << " " << o[i] << " vs " << r[i];
  if (!shown) s << " none";
  return s.str();
}

void expect_close(const Tensor& out, const Tensor& ref, double tol, const std::string& what) {
  ASSERT_EQ(out.shape(), ref.shape()) << what;
  const auto o = host_f64(out), r = host_f64(ref);
  for (size_t i = 0; i < o.size(); ++i)
    ASSERT_TRUE(std::isfinite(o[i])) << what << ": element " << i << " " << index_of(out.shape(), i) << " is " << o[i]
                                     << " (never written?)";
  if (o.empty()) return;
  double den = 0;
  for (double v : r) den += v * v;
  ASSERT_GT(den, 0.0) << what << ": the reference is all zeros, so the comparison would say nothing";
  const double e = rel_error(out, ref);
  EXPECT_LE(e, tol) << what << ": relative error " << e << "; " << mismatch_report(out, ref);
}

}  // namespace loco::testing
