// Storage: one block of device memory, returned to its device's caching allocator when the
// last tensor viewing it dies. Steady-state iterations allocate nothing from the OS: on these
// machines a first touch of fresh pages runs at ~0.6 GB/s, slower than the kernels that fill them.
#pragma once
#include <cstddef>
#include <memory>

#include "engine/dtype.h"

namespace loco {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// Statistics of the caching allocators, for tests and benchmarks.
struct AllocatorStats {
  size_t os_allocs = 0;     // blocks obtained from the OS / driver
  size_t cached_bytes = 0;  // bytes held in free lists
  size_t live_bytes = 0;    // bytes handed out and not yet returned
};
AllocatorStats allocator_stats(Device d);
// Tests: while on, every block handed out on device d is first filled with 0xFF bytes (NaN
// in f32), so an output element a kernel never writes shows up as non-finite.
void set_poison_allocations(Device d, bool on);


}  // namespace loco
