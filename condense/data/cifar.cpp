// CIFAR binary readers. A file is a run of fixed-size records: label byte(s), then 3072 pixel
// bytes already in CHW order (1024 red, 1024 green, 1024 blue, rows top to bottom). CIFAR-10:
// 1 label byte (0..9); CIFAR-100: a coarse (0..19) then a fine (0..99) label byte, and the
// fine label is the class. A file's size must be a whole number of records.
// Shape letters: N images, C = 3, H×W = 32×32, K classes.
#include <cstring>
#include <filesystem>

#include "condense/data/dataset.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPixels = 3 * 32 * 32;
// The official files hold 10 000 (CIFAR-10 batch, CIFAR-100 test) or 50 000 records; anything
// far beyond is not a CIFAR file, and refusing it early keeps a wrong path from filling memory.
constexpr uint64_t kMaxBytes = uint64_t{1} << 31;

struct Format {
  const char* subdir;                    // the folder inside the official archive
  std::vector<std::string> train, test;  // file names
  int64_t label_bytes;                   // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  int64_t coarse_classes;                // CIFAR-100's 20 superclasses; 0 for CIFAR-10
};

// dir itself when it holds the first file, else dir/<subdir> when that does.
std::string resolve(const std::string& dir, const Format& f, const DatasetInfo& info) {
  std::error_code ec;
  const fs::path first = f.train.front();
  if (fs::is_regular_file(fs::path(dir) / first, ec)) return dir;
  const fs::path sub = fs::path(dir) / f.subdir;
  if (fs::is_regular_file(sub / first, ec)) return sub.string();
  LOCO_FAIL(info.name, ": missing ", (fs::path(dir) / first).string(), " (looked in ", dir, " and ", sub.string(), ")");
}

struct Records {
  std::string path;
  std::vector<uint8_t> bytes;
  int64_t n;
};

Records read_records(const std::string& path, const Format& f, const DatasetInfo& info) {
  const int64_t rec = f.label_bytes + kPixels;
  Records r{path, detail::read_file(path, kMaxBytes), 0};
  const auto size = static_cast<int64_t>(r.bytes.size());
  LOCO_CHECK(size > 0 && size % rec == 0, path, ": ", size, " bytes is not a whole number of ", rec, "-byte records (",
             f.label_bytes, " label byte", f.label_bytes > 1 ? "s" : "", " + 3072 pixels): truncated, or not a ",
             info.name, " binary file");
  r.n = size / rec;
  for (int64_t i = 0; i < r.n; ++i) {
    const uint8_t* p = r.bytes.data() + i * rec;
    if (f.coarse_classes)
      LOCO_CHECK(p[0] < f.coarse_classes, path, ": coarse label ", int{p[0]}, " of record ", i, " is outside [0, ",
                 f.coarse_classes, ")");
    const uint8_t y = p[f.label_bytes - 1];
    LOCO_CHECK(y < info.classes, path, ": label ", int{y}, " of record ", i, " is outside [0, ", info.classes, ")");
  }
  return r;
}

Dataset read_split(const std::string& dir, const std::vector<std::string>& names, const Format& f,
                   const DatasetInfo& info) {
  LOCO_CHECK(info.channels == 3 && info.height == 32 && info.width == 32, info.name,
             ": CIFAR holds 3×32×32 images, not ", info.channels, "×", info.height, "×", info.width);
  std::vector<Records> files;
  int64_t n = 0;
  for (const auto& name : names) {
    files.push_back(read_records((fs::path(dir) / name).string(), f, info));
    n += files.back().n;
  }
  Dataset d = detail::make_split(info, n);
  uint8_t* x = d.pixels.data<uint8_t>();
  int64_t* lab = d.labels.data<int64_t>();
  const int64_t rec = f.label_bytes + kPixels;
  int64_t row = 0;
  for (const Records& r : files) {
    for (int64_t i = 0; i < r.n; ++i) {  // records are label bytes then the CHW planes, as stored
      const uint8_t* p = r.bytes.data() + i * rec;
      lab[row + i] = p[f.label_bytes - 1];
      std::memcpy(x + (row + i) * kPixels, p + f.label_bytes, kPixels);
    }
    row += r.n;
  }
  return d;
}

DatasetPair read(const std::string& dir, const Format& f, const DatasetInfo& info) {
  const std::string root = resolve(dir, f, info);
  return {read_split(root, f.train, f, info), read_split(root, f.test, f, info)};
}

}  // namespace

DatasetPair read_cifar10(const std::string& dir, const DatasetInfo& info) {
  static const Format f{
      "cifar-10-batches-bin",
      {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
      {"test_batch.bin"},
      1,
      0};
  return read(dir, f, info);
}

DatasetPair read_cifar100(const std::string& dir, const DatasetInfo& info) {
  static const Format f{"cifar-100-binary", {"train.bin"}, {"test.bin"}, 2, 20};
  return read(dir, f, info);
}

}  // namespace loco::condense
