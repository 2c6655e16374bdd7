// Bilinear resampling ops (engine/ops/grid_sample.h). Shape letters: N batch, C channels, H×W
// input, Ho×Wo output (the grid's). The kernels and the tap weights live in kernels/grid_sample.h.
#include "engine/ops/grid_sample.h"

#include "engine/ops/op_util.h"
#include "kernels/grid_sample.h"

namespace loco {

using detail::dispatch_float;

namespace {

// grid must be [n, Ho, Wo, 2], like t in dtype and device, and constant.
void check_grid(const Tensor& t, const Tensor& grid, const char* op) {
  detail::check_same(t, grid, op);
  LOCO_CHECK(grid.ndim() == 4 && grid.dim(0) == t.dim(0) && grid.dim(3) == 2, op,
             ": grid must be [N, Ho, Wo, 2] with N = ", t.dim(0), ", got ", grid.shape());
  LOCO_CHECK(!grid.requires_grad(), op,
             ": the grid is a constant here (no gradient to sampling positions); pass it detached");
}

}  // namespace

Tensor grid_sample(const Tensor& x, const Tensor& grid) {
  detail::check_floating(x, "grid_sample");
  detail::check_ndim(x, 4, "grid_sample", "x");
  check_grid(x, grid, "grid_sample");
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), ho = grid.dim(1), wo = grid.dim(2);
  Tensor y = empty(Shape{n, c, ho, wo}, x.dtype(), x.device());
  dispatch_float(x.dtype(), "grid_sample", [&]<class T>() {
    LOCO_DISPATCH(x.device(), T, grid_sample_fwd, y.data<T>(), x.data<T>(), grid.data<T>(), n, c, h, w, ho, wo);
  });
  return record("grid_sample", y, {x}, [grid, h, w](const Tensor& dy, const NeedsGrad&) {
    return std::vector<Tensor>{grid_sample_adjoint(dy, grid, h, w)};
  });
}

Tensor grid_sample_adjoint(const Tensor& dy, const Tensor& grid, int64_t in_h, int64_t in_w) {
  detail::check_floating(dy, "grid_sample_adjoint");
  detail::check_ndim(dy, 4, "grid_sample_adjoint", "dy");
  check_grid(dy, grid, "grid_sample_adjoint");
  LOCO_CHECK(grid.dim(1) == dy.dim(2) && grid.dim(2) == dy.dim(3), "grid_sample_adjoint: dy ", dy.shape(),
             " does not match the output size of grid ", grid.shape());
  LOCO_CHECK(in_h >= 1 && in_w >= 1, "grid_sample_adjoint: input size ", in_h, "x", in_w, " is empty");
  const int64_t n = dy.dim(0), c = dy.dim(1), ho = dy.dim(2), wo = dy.dim(3);
  Tensor dx = empty(Shape{n, c, in_h, in_w}, dy.dtype(), dy.device());
  dispatch_float(dy.dtype(), "grid_sample_adjoint", [&]<class T>() {
    LOCO_DISPATCH(dy.device(), T, grid_sample_bwd_data, dx.data<T>(), dy.data<T>(), grid.data<T>(), n, c, in_h,
                  in_w, ho, wo);
  });
  return record("grid_sample_adjoint", dx, {dy}, [grid](const Tensor& g, const NeedsGrad&) {
    return std::vector<Tensor>{grid_sample(g, grid)};
  });
}

}  // namespace loco
