#include "engine/rng.h"

#include <numeric>

#include "engine/ops/op_util.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

namespace loco {

std::vector<uint32_t> Generator::words(int64_t n) {
  const uint64_t at = advance(n);
  std::vector<uint32_t> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) w[static_cast<size_t>(i)] = kernels::philox_word(seed_, stream_, at, static_cast<uint64_t>(i));
  return w;
}

uint64_t Generator::below(uint64_t n) {
  LOCO_CHECK(n >= 1 && n <= (uint64_t{1} << 32), "Generator::below: n = ", n, " outside [1, 2^32]");
  // Lemire: the high word of w·n is uniform on [0, n) once the low word clears the threshold.
  const uint64_t threshold = (uint64_t{1} << 32) % n;
  for (;;) {
    const uint64_t m = static_cast<uint64_t>(words(1)[0]) * n;
    if ((m & 0xFFFFFFFFu) >= threshold) return m >> 32;
  }
}

double Generator::uniform() { return kernels::uniform_f64(words(1)[0]); }

Tensor rand_uniform(const Shape& s, Generator& g, double lo, double hi, DType t, Device d) {
  Tensor y = empty(s, t, d);
  const uint64_t at = g.advance(y.numel());
  detail::dispatch_float(t, "rand_uniform", [&]<class T>() {
    LOCO_DISPATCH(d, T, uniform_fill, y.data<T>(), y.numel(), g.seed(), g.stream(), at, lo, hi);
  });
  return y;
}

Tensor rand_normal(const Shape& s, Generator& g, double mean, double std, DType t, Device d) {
  Tensor y = empty(s, t, d);
  const uint64_t at = g.advance(2 * ((y.numel() + 1) / 2));
  detail::dispatch_float(t, "rand_normal", [&]<class T>() {
    LOCO_DISPATCH(d, T, normal_fill, y.data<T>(), y.numel(), g.seed(), g.stream(), at, mean, std);
  });
  return y;
}

std::vector<int64_t> rand_permutation(int64_t n, Generator& g) { return rand_sample(n, n, g); }

std::vector<int64_t> rand_sample(int64_t n, int64_t k, Generator& g) {
  LOCO_CHECK(0 <= k && k <= n, "rand_sample: cannot draw ", k, " distinct values from ", n);
  std::vector<int64_t> a(static_cast<size_t>(n));
  std::iota(a.begin(), a.end(), 0);
  // Forward Fisher–Yates: position i takes a uniform pick among the not yet placed.
  for (int64_t i = 0; i < k && i + 1 < n; ++i) {
    const auto j = i + static_cast<int64_t>(g.below(static_cast<uint64_t>(n - i)));
    std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
  }
  a.resize(static_cast<size_t>(k));
  return a;
}

}  // namespace loco
