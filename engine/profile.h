// Named phases on a profiler's timeline (NVTX ranges in a CUDA build; nothing otherwise):
//   loco::ProfileRange r("forward");
// Ops are marked by kernel name in LOCO_DISPATCH; backward and the optimiser step mark
// themselves; callers mark their own phases (forward, evaluation, condensation iteration).
#pragma once
#include "kernels/profile.h"

namespace loco {
using kernels::ProfileRange;
}  // namespace loco
