// loco::Error and the checks that throw it. Every user-facing failure (bad shape, bad file,
// bad flag) is a loco::Error whose message names the op, file or flag at fault.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace loco {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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

}  // namespace loco

// LOCO_CHECK(cond, "op: what", value, ...) throws loco::Error with the streamed message.
#define LOCO_CHECK(cond, ...) \
  do { if (!(cond)) ::loco::detail::fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define LOCO_FAIL(...) ::loco::detail::fail(__FILE__, __LINE__, __VA_ARGS__)
