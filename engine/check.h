// loco::Error, LOCO_CHECK and LOCO_FAIL, for the engine and everything above it: a re-export of
// kernels/base.h, where they live so that kernels/ stands on its own.
#pragma once
#include "kernels/base.h"
