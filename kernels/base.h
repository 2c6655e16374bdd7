// What every layer shares, from the bottom: loco::Error and the checks that throw it, and the
// element types and devices. kernels/ needs nothing above it; engine/check.h and engine/dtype.h
// re-export this. Every user-facing failure (bad shape, bad file, bad flag) is a loco::Error
// whose message names the op, file or flag at fault. C++17-clean: .cu files include it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace loco {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An allocation the device could not satisfy: its own type, so the command line can name the
// flags that bound memory instead of suggesting a retry that would fail the same way.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... A>
[[noreturn]] void fail(const char* file, int line, const A&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  s << " [" << file << ":" << line << "]";
  throw Error(s.str());
}
}  // namespace detail

// Element types and devices. f32 lives on every device; f64 only on the CPU (gradient checks);
// integer types carry labels, indices and raw dataset pixels (u8).
enum class DType : uint8_t { f32, f64, i64, i32, u8 };
enum class Device : uint8_t { cpu, cuda };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::f64: case DType::i64: return 8;
    case DType::u8: return 1;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i64: return "i64";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
  }
  return "?";
}
inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }
inline const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }
inline std::ostream& operator<<(std::ostream& o, DType t) { return o << dtype_name(t); }
inline std::ostream& operator<<(std::ostream& o, Device d) { return o << device_name(d); }

}  // namespace loco

// LOCO_CHECK(cond, "op: what", value, ...) throws loco::Error with the streamed message.
#define LOCO_CHECK(cond, ...) \
  do { if (!(cond)) ::loco::detail::fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define LOCO_FAIL(...) ::loco::detail::fail(__FILE__, __LINE__, __VA_ARGS__)
