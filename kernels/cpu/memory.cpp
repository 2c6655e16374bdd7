#include "kernels/memory.h"

#include <algorithm>

namespace loco::kernels::cpu {

template <class T> void fill(T* y, T value, int64_t n) {
  if (n > (1 << 16)) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = value;
  } else {
    std::fill(y, y + n, value);
  }
}

template void fill<float>(float*, float, int64_t);
template void fill<double>(double*, double, int64_t);
template void fill<int64_t>(int64_t*, int64_t, int64_t);
template void fill<int32_t>(int32_t*, int32_t, int64_t);
template void fill<uint8_t>(uint8_t*, uint8_t, int64_t);

}  // namespace loco::kernels::cpu
