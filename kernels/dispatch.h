// LOCO_DISPATCH(device, T, fn, args...): calls kernels::cpu::fn or kernels::cuda::fn.
// The only CPU/CUDA #if outside kernels/cuda/. CUDA twins exist for f32 only (f64 is CPU-only,
// for gradient checks), so T picks whether the CUDA branch is compiled at all.
#pragma once
#include <type_traits>

#include "kernels/base.h"
#include "kernels/profile.h"

#ifdef LOCO_HAS_CUDA
// Each CUDA op runs inside an NVTX range named after its kernel, then after_op (LOCO_CUDA_SYNC).
#define LOCO_CUDA_INVOKE(fn, ...)                           \
  do {                                                      \
    {                                                       \
      ::loco::kernels::ProfileRange loco_range_(#fn);       \
      ::loco::kernels::cuda::fn(__VA_ARGS__);               \
    }                                                       \
    ::loco::kernels::cuda::after_op(#fn);                   \
  } while (0)
#else
#define LOCO_CUDA_INVOKE(fn, ...) \
  LOCO_FAIL(#fn ": this loco was built without CUDA (configure with -DLOCO_CUDA=ON)")
#endif

#define LOCO_DISPATCH(dev, T, fn, ...)                                                 \
  do {                                                                                 \
    if ((dev) == ::loco::Device::cpu) {                                                \
      ::loco::kernels::cpu::fn(__VA_ARGS__);                                           \
    } else {                                                                           \
      if constexpr (std::is_same_v<T, float>) {                                        \
        LOCO_CUDA_INVOKE(fn, __VA_ARGS__);                                             \
      } else {                                                                         \
        LOCO_FAIL(#fn ": only f32 tensors live on CUDA");                              \
      }                                                                                \
    }                                                                                  \
  } while (0)
