// write_file_atomic: every file loco writes goes to "<path>.tmp.<pid>" in the same directory
// and is renamed into place once complete and flushed, so a reader (or a crash) sees the old
// file or the whole new one, never half of one. On any failure the temporary is removed.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "engine/check.h"

namespace loco {

// The open temporary file; write() throws loco::Error naming the final path on a short write.
class FileSink {
 public:
  FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  void write(const void* data, size_t n) {
    if (n == 0) return;
    if (std::fwrite(data, 1, n, f_) != n)
      LOCO_FAIL(path_, ": write failed after ", written_, " bytes (", std::strerror(errno), ")");
    written_ += n;
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  size_t written() const { return written_; }

 private:
  std::FILE* f_;
  const std::string& path_;
  size_t written_ = 0;
};

// Calls fill(sink) to produce the contents, then renames the temporary onto path.
inline void write_file_atomic(const std::string& path, const std::function<void(FileSink&)>& fill) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  LOCO_CHECK(f, path, ": cannot create the temporary file ", tmp, " (", std::strerror(errno), ")");
  auto abandon = [&] {
    if (f) std::fclose(f);
    std::remove(tmp.c_str());
  };
  try {
    FileSink sink(f, path);
    fill(sink);
    // Flushed to the disk before the rename, so a crash cannot leave the new name on empty data.
    const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    const int err = errno;
    const bool closed = std::fclose(f) == 0;
    f = nullptr;
    LOCO_CHECK(flushed && closed, path, ": writing ", tmp, " failed (", std::strerror(flushed ? errno : err), ")");
    LOCO_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": cannot rename ", tmp, " into place (",
               std::strerror(errno), ")");
  } catch (...) {
    abandon();
    throw;
  }
}

}  // namespace loco
