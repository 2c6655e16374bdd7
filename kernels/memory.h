// Contract of the memory family: fill and copy. N elements.
#pragma once
#include <cstddef>
#include <cstdint>

namespace loco::kernels {
namespace cpu {
template <class T> void fill(T* y, T value, int64_t n);
}  // namespace cpu
#ifdef LOCO_HAS_CUDA
namespace cuda {
enum class CopyKind { h2d, d2h, d2d };
void copy_bytes(void* dst, const void* src, size_t n, CopyKind kind);
void fill(float* y, float value, int64_t n);
void memset_bytes(void* p, int byte, size_t n);
bool device_present();
// cudaSetDevice(index mod the device count); the device chosen, or −1 when there is none.
int select_device(int index);
// The one stream (a cudaStream_t), for libraries that enqueue on it (NCCL).
void* stream_handle();
// Device memory for the engine's caching allocator: null when the driver has none left (the
// allocator then frees its cache and retries).
void* malloc_device(size_t bytes);
void free_device(void* p);
// TF32 tensor-core math in cuBLAS and cuDNN: off by default, so CUDA matches the CPU to ~1e-6.
void set_tf32(bool on);
bool tf32();
}  // namespace cuda
#endif
}  // namespace loco::kernels
