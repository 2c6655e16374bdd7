// IDX (MNIST, Fashion-MNIST), plain and gzipped. The first byte picks what the rest becomes:
//   bit 0: the images file (0) or the labels file (1) of the train split;
//   bit 1: write the rest gzip-compressed (the parser behind a valid stream);
//   bit 2: write the rest as is under the .gz name (the inflater: headers, CRC, trailers).
// The other three files are valid one-item files.
#include <zlib.h>

#include <filesystem>
#include <vector>

#include "condense/data/dataset.h"
#include "fuzz/fuzz_support.h"

namespace {

std::vector<uint8_t> be32(std::vector<uint8_t> b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  return b;
}

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, size) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  using loco::fuzz::write_file;
  if (size == 0) return 0;
  static const std::string dir = [] {
    const std::string d = loco::fuzz::scratch_dir() + "/idx";
    fs::create_directories(d);
    for (const char* split : {"train", "t10k"}) {
      std::vector<uint8_t> im = be32(be32(be32(be32({}, 2051), 1), 28), 28);
      im.resize(im.size() + 28 * 28, 7);
      const std::vector<uint8_t> lab = be32(be32({}, 2049), 1), one = {3};
      write_file(d + "/" + split + "-images-idx3-ubyte", im.data(), im.size());
      std::vector<uint8_t> l = lab;
      l.insert(l.end(), one.begin(), one.end());
      write_file(d + "/" + split + "-labels-idx1-ubyte", l.data(), l.size());
    }
    return d;
  }();
  const uint8_t mode = data[0];
  const std::string stem = dir + "/train-" + ((mode & 1) ? "labels-idx1-ubyte" : "images-idx3-ubyte");
  const std::string valid = stem + ".valid";
  std::error_code ec;
  if (!fs::exists(valid, ec)) fs::copy_file(stem, valid);
  fs::remove(stem + ".gz", ec);
  fs::remove(stem, ec);
  if (mode & 2) {
    const std::vector<uint8_t> z = gzip(data + 1, size - 1);
    write_file(stem + ".gz", z.data(), z.size());
  } else if (mode & 4) {
    write_file(stem + ".gz", data + 1, size - 1);
  } else {
    write_file(stem, data + 1, size - 1);
  }
  loco::fuzz::refuse_only_with_loco_errors([&] { loco::condense::read_idx(dir, loco::condense::dataset_info("MNIST")); });
  fs::remove(stem + ".gz", ec);
  fs::copy_file(valid, stem, fs::copy_options::overwrite_existing);
  return 0;
}
