// NCCL between GPUs (a build with CUDA, MPI and NCCL: LOCO_HAS_NCCL): what dist.cpp sends
// device to device instead of through the host.
#pragma once
#include <cstddef>

namespace loco::dist {

// Every rank's `bytes` at send (device memory), concatenated in rank order into recv (size() ×
// bytes, device memory), enqueued on loco's stream.
void device_allgather(const void* send, void* recv, size_t bytes);

}  // namespace loco::dist
