#include "engine/storage.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "engine/check.h"
#include "kernels/memory.h"

namespace loco {
namespace {

// Best-fit free list keyed by block size. A cached block is reused for any request between
// half its size and its size, so shape-stable loops hit the cache on every allocation.
class CachingAllocator {
 public:
  explicit CachingAllocator(Device d) : device_(d) {}
  ~CachingAllocator() { release_all(); }

  void* allocate(size_t& bytes) {
    bytes = round_up(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.lower_bound(bytes);
    if (it != free_.end() && it->first <= 2 * bytes) {
      void* p = it->second;
      bytes = it->first;
      stats_.cached_bytes -= bytes;
      stats_.live_bytes += bytes;
      free_.erase(it);
      return p;
    }
    void* p = os_alloc(bytes);
    if (!p) {  // out of memory: give the cache back and try once more
      release_locked();
      p = os_alloc(bytes);
    }
    if (!p)
      throw OutOfMemory("out of " + std::string(device_name(device_)) + " memory allocating " + std::to_string(bytes) +
                        " bytes (" + std::to_string(stats_.live_bytes >> 20) + " MiB in use)");
    ++stats_.os_allocs;
    stats_.live_bytes += bytes;
    return p;
  }

  void deallocate(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.emplace(bytes, p);
    stats_.cached_bytes += bytes;
    stats_.live_bytes -= bytes;
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mu_);
    release_locked();
  }

 private:
  static size_t round_up(size_t b) {
    const size_t q = b < (1u << 20) ? 256 : (1u << 16);
    return b == 0 ? q : (b + q - 1) / q * q;
  }
  void* os_alloc(size_t bytes) {
    if (device_ == Device::cpu) return std::aligned_alloc(64, bytes);
    #ifdef LOCO_HAS_CUDA
    return kernels::cuda::malloc_device(bytes);
#else
    LOCO_FAIL("CUDA memory requested, but this loco was built without CUDA");
#endif
  }
  void os_free(void* p) {
    if (device_ == Device::cpu) std::free(p);
    #ifdef LOCO_HAS_CUDA
    else kernels::cuda::free_device(p);
#endif
  }
  void release_locked() {
    for (auto& [b, p] : free_) os_free(p);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  Device device_;
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  AllocatorStats stats_;
};

CachingAllocator& allocator(Device d) {
  // Leaked on purpose: tensors held in static objects may die after a function-local static.
  static auto* cpu = new CachingAllocator(Device::cpu);
  static auto* cuda = new CachingAllocator(Device::cuda);
  return d == Device::cpu ? *cpu : *cuda;
}

// Keep glibc from returning memory to the OS between iterations (Eigen's GEMM packing
// buffers and other short-lived heap blocks would otherwise be mmap'ed and faulted anew).
const bool kMallocTuned = [] {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

bool g_poison[2] = {false, false};

}  // namespace

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  ptr_ = allocator(device).allocate(bytes_);
  if (!g_poison[static_cast<int>(device)]) return;
  if (device == Device::cpu) {
    std::memset(ptr_, 0xFF, bytes_);
  } else {
#ifdef LOCO_HAS_CUDA
    kernels::cuda::memset_bytes(ptr_, 0xFF, bytes_);
#endif
  }
}
Storage::~Storage() { allocator(device_).deallocate(ptr_, bytes_); }

AllocatorStats allocator_stats(Device d) { return allocator(d).stats(); }
void set_poison_allocations(Device d, bool on) { g_poison[static_cast<int>(d)] = on; }

}  // namespace loco
