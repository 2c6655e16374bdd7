// The device path of dist::sum_over_ranks (dist_nccl.h): NCCL's all-gather on loco's one
// stream, one communicator for the job, made on first use with its id broadcast over MPI.
#include "dist/dist_nccl.h"

#include <nccl.h>

#include "dist/dist.h"
#include "engine/check.h"
#include "kernels/memory.h"

namespace loco::dist {
namespace {

#define LOCO_NCCL_CHECK(call)                                                           \
  do {                                                                                  \
    const ncclResult_t loco_nccl_err = (call);                                          \
    LOCO_CHECK(loco_nccl_err == ncclSuccess, "rank ", rank(), " of ", size(), ": ", #call, \
               " failed: ", ncclGetErrorString(loco_nccl_err));                          \
  } while (0)

ncclComm_t communicator() {
  static ncclComm_t comm = [] {
    ncclUniqueId id;
    if (is_root()) LOCO_NCCL_CHECK(ncclGetUniqueId(&id));
    broadcast(&id, sizeof id);
    ncclComm_t c;
    LOCO_NCCL_CHECK(ncclCommInitRank(&c, size(), id, rank()));
    return c;
  }();
  return comm;
}

}  // namespace

void device_allgather(const void* send, void* recv, size_t bytes) {
  auto* stream = static_cast<cudaStream_t>(kernels::cuda::stream_handle());
  LOCO_NCCL_CHECK(ncclAllGather(send, recv, bytes, ncclChar, communicator(), stream));
}

}  // namespace loco::dist
