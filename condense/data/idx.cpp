// IDX reader (MNIST, Fashion-MNIST): the four files {train,t10k}-{images-idx3,labels-idx1}-ubyte,
// gzipped (<stem>.gz) or plain; a file is inflated when it starts with the gzip magic, so one
// path serves both. The payload is read in chunks into a growing
// buffer, so a header claiming billions of images costs nothing until the bytes are there.
// Shape letters: N images, H×W = 28×28, K = 10 classes.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "condense/data/dataset.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dims
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dim
constexpr int64_t kSide = 28;

// A file read as a byte stream: inflated when it starts with the gzip magic (1f 8b), as is
// otherwise. zlib's gzread is not used: it accepts a stream cut before its trailer (the CRC and
// length are then never checked) and ignores whatever follows the last member, so a damaged
// download would load. Here the stream must end exactly at a member's verified trailer, and
// only further gzip members (as `cat a.gz b.gz` makes) may follow it.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
    LOCO_CHECK(f_, path, ": cannot open (", std::strerror(errno), ")");
    in_.resize(1 << 16);
    fill();
    gzip_ = have_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
    if (gzip_) {
      LOCO_CHECK(inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK, path_, ": cannot start zlib");
      z_.next_in = in_.data();
      z_.avail_in = static_cast<uInt>(have_);
    }
  }
  ~ByteReader() {
    if (gzip_) inflateEnd(&z_);
    std::fclose(f_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Up to n bytes; fewer only at the end of the data. Throws naming the file on a corrupt or
  // truncated gzip stream.
  size_t read(void* dst, size_t n) {
    const size_t got = gzip_ ? inflate_into(static_cast<uint8_t*>(dst), n) : copy_into(static_cast<uint8_t*>(dst), n);
    total_ += got;
    return got;
  }

  // Exactly n payload bytes after the header, and nothing after them.
  std::vector<uint8_t> read_payload(uint64_t n, uint64_t header) {
    std::vector<uint8_t> buf;
    buf.reserve(static_cast<size_t>(std::min<uint64_t>(n, 64u << 20)));
    constexpr size_t kChunk = 8u << 20;
    while (buf.size() < n) {
      const size_t at = buf.size();
      const auto want = static_cast<size_t>(std::min<uint64_t>(kChunk, n - at));
      buf.resize(at + want);
      const size_t got = read(buf.data() + at, want);
      buf.resize(at + got);
      LOCO_CHECK(got == want, path_, ": truncated: ", header + buf.size(), " bytes, but its header promises ",
                 header + n);
    }
    uint8_t extra;
    LOCO_CHECK(read(&extra, 1) == 0, path_, ": longer than its header says (", header + n, " bytes)");
    return buf;
  }

 private:
  // Refills in_ from the file when it is used up; false at the end of the file.
  bool fill() {
    if (pos_ < have_) return true;
    have_ = std::fread(in_.data(), 1, in_.size(), f_);
    pos_ = 0;
    LOCO_CHECK(!std::ferror(f_), path_, ": read failed after ", total_, " bytes (", std::strerror(errno), ")");
    return have_ > 0;
  }

  size_t copy_into(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n && fill()) {
      const size_t k = std::min(n - got, have_ - pos_);
      std::memcpy(dst + got, in_.data() + pos_, k);
      pos_ += k;
      got += k;
    }
    return got;
  }

  size_t inflate_into(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
      if (ended_) {
        // A member ended at its checked trailer: the data ends here, or another member starts.
        if (z_.avail_in == 0) {
          z_.next_in = in_.data();
          z_.avail_in = static_cast<uInt>(have_ = std::fread(in_.data(), 1, in_.size(), f_));
          LOCO_CHECK(!std::ferror(f_), path_, ": read failed (", std::strerror(errno), ")");
        }
        if (z_.avail_in == 0) break;
        LOCO_CHECK(z_.next_in[0] == 0x1f && (z_.avail_in < 2 || z_.next_in[1] == 0x8b), path_,
                   ": bytes after the end of the gzip stream (", total_ + got, " bytes inflated): not a clean .gz");
        LOCO_CHECK(inflateReset(&z_) == Z_OK, path_, ": zlib reset failed");
        ended_ = false;
      }
      if (z_.avail_in == 0) {
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(have_ = std::fread(in_.data(), 1, in_.size(), f_));
        LOCO_CHECK(!std::ferror(f_), path_, ": read failed (", std::strerror(errno), ")");
        LOCO_CHECK(z_.avail_in > 0, path_, ": truncated gzip stream (it ends after ", total_ + got,
                   " inflated bytes, before its CRC and length trailer)");
      }
      const auto want = static_cast<uInt>(std::min<size_t>(n - got, 1u << 30));
      z_.next_out = dst + got;
      z_.avail_out = want;
      const int r = inflate(&z_, Z_NO_FLUSH);
      got += want - z_.avail_out;
      if (r == Z_STREAM_END) {
        ended_ = true;
      } else if (r != Z_OK && !(r == Z_BUF_ERROR && z_.avail_in == 0)) {
        LOCO_FAIL(path_, ": corrupt gzip stream after ", total_ + got, " inflated bytes (",
                  z_.msg ? z_.msg : "zlib error " + std::to_string(r), ")");
      }
    }
    return got;
  }

  std::string path_;
  std::FILE* f_;
  std::vector<uint8_t> in_;
  size_t have_ = 0, pos_ = 0;
  bool gzip_ = false, ended_ = false;
  z_stream z_{};
  uint64_t total_ = 0;
};

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string find_idx(const std::string& dir, const std::string& stem, const DatasetInfo& info) {
  std::error_code ec;
  const std::string plain = (fs::path(dir) / stem).string();
  if (fs::is_regular_file(plain + ".gz", ec)) return plain + ".gz";
  if (fs::is_regular_file(plain, ec)) return plain;
  LOCO_FAIL(info.name, ": missing ", plain, ".gz (or ", plain, ")");
}

void check_magic(const std::string& path, uint32_t magic, uint32_t want, const char* what) {
  LOCO_CHECK(magic == want, path, ": magic number ", magic, ", expected ", want, " (IDX ", what,
             "); not an IDX file of that kind");
}

struct IdxImages {
  int64_t n;
  std::vector<uint8_t> pixels;  // [N, 28, 28]
};

IdxImages read_images(const std::string& path) {
  ByteReader r(path);
  uint8_t h[16];
  const size_t got = r.read(h, sizeof h);
  LOCO_CHECK(got == sizeof h, path, ": truncated header (", got, " of 16 bytes)");
  check_magic(path, big_endian(h), kImagesMagic, "images: unsigned bytes, 3 dims");
  const int64_t n = big_endian(h + 4), rows = big_endian(h + 8), cols = big_endian(h + 12);
  LOCO_CHECK(rows == kSide && cols == kSide, path, ": images are ", rows, "×", cols, ", expected 28×28");
  LOCO_CHECK(n >= 1, path, ": holds no images");
  return {n, r.read_payload(static_cast<uint64_t>(n) * kSide * kSide, sizeof h)};
}

std::vector<uint8_t> read_labels(const std::string& path, int64_t classes) {
  ByteReader r(path);
  uint8_t h[8];
  const size_t got = r.read(h, sizeof h);
  LOCO_CHECK(got == sizeof h, path, ": truncated header (", got, " of 8 bytes)");
  check_magic(path, big_endian(h), kLabelsMagic, "labels: unsigned bytes, 1 dim");
  const int64_t n = big_endian(h + 4);
  LOCO_CHECK(n >= 1, path, ": holds no labels");
  std::vector<uint8_t> y = r.read_payload(static_cast<uint64_t>(n), sizeof h);
  for (size_t i = 0; i < y.size(); ++i)
    LOCO_CHECK(y[i] < classes, path, ": label ", int{y[i]}, " of item ", i, " is outside [0, ", classes, ")");
  return y;
}

Dataset read_split(const std::string& dir, const std::string& prefix, const DatasetInfo& info) {
  LOCO_CHECK(info.channels == 1 && info.height == kSide && info.width == kSide, info.name,
             ": IDX holds 1×28×28 images, not ", info.channels, "×", info.height, "×", info.width);
  const std::string ipath = find_idx(dir, prefix + "-images-idx3-ubyte", info);
  const std::string lpath = find_idx(dir, prefix + "-labels-idx1-ubyte", info);
  const IdxImages im = read_images(ipath);
  const std::vector<uint8_t> y = read_labels(lpath, info.classes);
  LOCO_CHECK(static_cast<int64_t>(y.size()) == im.n, ipath, " holds ", im.n, " images but ", lpath, " holds ", y.size(),
             " labels");

  Dataset d = detail::make_split(info, im.n);
  std::memcpy(d.pixels.data<uint8_t>(), im.pixels.data(), im.pixels.size());
  int64_t* lab = d.labels.data<int64_t>();
  for (int64_t i = 0; i < im.n; ++i) lab[i] = y[static_cast<size_t>(i)];
  return d;
}

}  // namespace

DatasetPair read_idx(const std::string& dir, const DatasetInfo& info) {
  return {read_split(dir, "train", info), read_split(dir, "t10k", info)};
}

}  // namespace loco::condense
