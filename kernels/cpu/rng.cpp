#include "kernels/rng.h"

#include <cmath>

#include "kernels/philox.h"

namespace loco::kernels::cpu {

template <class T> void uniform_fill(T* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double lo, double hi) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t w = philox_word(seed, stream, offset, static_cast<uint64_t>(i));
    if constexpr (sizeof(T) == 4) y[i] = static_cast<T>(lo) + static_cast<T>(hi - lo) * uniform_f32(w);
    else y[i] = static_cast<T>(lo + (hi - lo) * uniform_f64(w));
  }
}

template <class T> void normal_fill(T* y, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, double mean, double std) {
  const int64_t pairs = (n + 1) / 2;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t p = 0; p < pairs; ++p) {
    const uint32_t w0 = philox_word(seed, stream, offset, static_cast<uint64_t>(2 * p));
    const uint32_t w1 = philox_word(seed, stream, offset, static_cast<uint64_t>(2 * p + 1));
    // (w + 1)·2⁻³² lies in (0, 1], so the log is finite.
    const double u1 = (static_cast<double>(w0) + 1.0) * (1.0 / 4294967296.0);
    const double u2 = static_cast<double>(w1) * (1.0 / 4294967296.0);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586 * u2;
    y[2 * p] = static_cast<T>(mean + std * r * std::cos(a));
    if (2 * p + 1 < n) y[2 * p + 1] = static_cast<T>(mean + std * r * std::sin(a));
  }
}

template void uniform_fill<float>(float*, int64_t, uint64_t, uint64_t, uint64_t, double, double);
template void uniform_fill<double>(double*, int64_t, uint64_t, uint64_t, uint64_t, double, double);
template void normal_fill<float>(float*, int64_t, uint64_t, uint64_t, uint64_t, double, double);
template void normal_fill<double>(double*, int64_t, uint64_t, uint64_t, uint64_t, double, double);

}  // namespace loco::kernels::cpu
