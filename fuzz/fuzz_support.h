// What every fuzz target shares: a scratch folder of its own (the readers take paths, so an
// input becomes a file), and the rule being checked: a reader may refuse its input only with a
// loco::Error. Any other exception, a crash, a sanitizer report, a leak or an allocation past
// libFuzzer's -malloc_limit_mb is a finding.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "engine/check.h"

namespace loco::fuzz {

// $TMPDIR/loco-fuzz-<pid> (tmpfs /dev/shm when there is one: a file per input, millions of times),
// removed at exit.
inline const std::string& scratch_dir() {
  // On the heap and never freed: the exit handler that removes the folder runs after static
  // destructors would have freed it.
  static const std::string* dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path d = base / ("loco-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code e;
      fs::remove_all(*dir, e);
    });
    return new std::string(d.string());
  }();
  return *dir;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness itself failed: not a finding about loco
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}
inline void write_file(const std::string& path, std::string_view s) {
  write_file(path, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Runs a reader; a loco::Error is the reader doing its job.
template <class F>
void refuse_only_with_loco_errors(F&& f) {
  try {
    f();
  } catch (const loco::Error&) {
  }
}

}  // namespace loco::fuzz
