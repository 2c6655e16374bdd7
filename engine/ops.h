// Every differentiable op, in one include.
#pragma once
#include "engine/autograd/tape.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/distance.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/grid_sample.h"
#include "engine/ops/layout.h"
#include "engine/ops/loss.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/pool.h"
#include "engine/ops/reduce.h"
#include "engine/tensor.h"
