// Profiling marks: NVTX ranges (header-only NVTX3 from the toolkit) so that a profiler's
// timeline reads by op and phase name, and LOCO_CUDA_SYNC=1, which synchronises after every
// CUDA op so that an asynchronous fault is reported at the op that caused it. Without CUDA
// these compile to nothing.
#pragma once
#include <functional>

namespace loco::kernels {
#ifdef LOCO_HAS_CUDA
namespace cuda {
void range_push(const char* name);
void range_pop();
// Called after each dispatched CUDA op: with LOCO_CUDA_SYNC=1, waits for the stream and
// throws loco::Error naming `op` if anything queued so far failed.
void after_op(const char* op);
// Milliseconds that fn's work takes on the stream, between two CUDA events (benchmarks).
double time_ms(const std::function<void()>& fn);
void synchronize();
}  // namespace cuda
#endif

// RAII NVTX range.
class ProfileRange {
 public:
#ifdef LOCO_HAS_CUDA
  explicit ProfileRange(const char* name) { cuda::range_push(name); }
  ~ProfileRange() { cuda::range_pop(); }
#else
  explicit ProfileRange(const char*) {}
#endif
  ProfileRange(const ProfileRange&) = delete;
  ProfileRange& operator=(const ProfileRange&) = delete;
};

}  // namespace loco::kernels
