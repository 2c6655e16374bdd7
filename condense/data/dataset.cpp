// The dataset table (spec/condensation.md §1), name lookup, default locations, the shared
// normalisation, load_dataset's dispatch to the readers, and ClassIndex.
// Shape letters: N images, C channels, H×W image, K classes.
#include "condense/data/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/ops.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

const std::vector<DatasetInfo>& table() {
  static const std::vector<DatasetInfo> t = {
      {"MNIST", 1, 28, 28, 10, {0.1307f}, {0.3081f}, 60000, 10000, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
      // The names in the order of the official labels (Fashion-MNIST's README, CIFAR-10's batches.meta.txt).
      {"FashionMNIST", 1, 28, 28, 10, {0.2861f}, {0.3530f}, 60000, 10000,
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}},
      {"CIFAR10", 3, 32, 32, 10, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}, 50000, 10000,
       {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}},
      {"CIFAR100", 3, 32, 32, 100, {0.5071f, 0.4866f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}, 50000, 10000},
      {"TinyImageNet", 3, 64, 64, 200, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 100000, 10000},
  };
  return t;
}

std::string squash(const std::string& s) {
  std::string out;
  for (char ch : s)
    if (ch != '-' && ch != '_' && ch != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string slug(const std::string& canonical) {
  if (canonical == "FashionMNIST") return "fashion-mnist";
  if (canonical == "TinyImageNet") return "tiny-imagenet";
  return squash(canonical);
}

}  // namespace

const DatasetInfo& dataset_info(const std::string& name) {
  std::string key = squash(name);
  if (key == "fmnist") key = "fashionmnist";
  if (key == "tiny" || key == "tinyimagenet200") key = "tinyimagenet";
  for (const auto& d : table())
    if (squash(d.name) == key) return d;
  std::string known;
  for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  LOCO_FAIL("unknown dataset '", name, "' (known: ", known, ")");
}

std::string class_name(const DatasetInfo& info, int64_t k) {
  LOCO_CHECK(k >= 0 && k < info.classes, info.name, ": class ", k, " is not one of 0…", info.classes - 1);
  return info.class_names.empty() ? std::to_string(k) : info.class_names[static_cast<size_t>(k)];
}

std::vector<std::string> dataset_names() {
  std::vector<std::string> v;
  for (const auto& d : table()) v.push_back(d.name);
  return v;
}

std::string default_data_dir(const std::string& name) {
  const DatasetInfo& info = dataset_info(name);
  const std::string s = slug(info.name);
  std::vector<std::string> candidates;
  if (const char* root = std::getenv("LOCO_DATA"); root && *root) candidates.push_back(std::string(root) + "/" + s);
  if (info.name == "FashionMNIST") candidates.push_back("/usr/share/datasets/fashion-mnist");
  candidates.push_back("../shared/data/" + s);
  candidates.push_back("data/" + s);
  std::error_code ec;
  for (const auto& c : candidates)
    if (fs::is_directory(c, ec)) return c;
  return candidates.front();
}

DatasetPair load_dataset(const std::string& name, const std::string& dir) {
  const DatasetInfo& info = dataset_info(name);
  std::error_code ec;
  LOCO_CHECK(fs::is_directory(dir, ec), info.name, ": data directory ", dir,
             " does not exist (give one with --data-dir",
             info.name == "FashionMNIST" ? ", or install the Debian package dataset-fashion-mnist)" : ")");
  if (info.name == "MNIST" || info.name == "FashionMNIST") return read_idx(dir, info);
  if (info.name == "CIFAR10") return read_cifar10(dir, info);
  if (info.name == "CIFAR100") return read_cifar100(dir, info);
  return read_tiny_imagenet(dir, info);
}

// ---- Dataset ----

Tensor Dataset::images(const Tensor& rows) const {
  LOCO_CHECK(pixels.defined(), name, ": the split holds no images");
  NoGradGuard data;
  if (pixels.dtype() == DType::u8) return gather_normalise(pixels, rows, mean, std);
  return gather_rows(pixels, rows);
}

Tensor Dataset::images(const std::vector<int64_t>& rows) const { return images(index_tensor(rows, device())); }

Tensor Dataset::images(int64_t begin, int64_t end) const {
  LOCO_CHECK(0 <= begin && begin <= end && end <= size(), name, ": rows [", begin, ", ", end, ") of a split of ",
             size());
  if (pixels.dtype() != DType::u8) {
    NoGradGuard data;
    return slice(pixels, begin, end).detach();
  }
  std::vector<int64_t> rows(static_cast<size_t>(end - begin));
  for (int64_t i = begin; i < end; ++i) rows[static_cast<size_t>(i - begin)] = i;
  return images(rows);
}

Dataset Dataset::to(Device d) const {
  Dataset o = *this;
  o.pixels = pixels.to(d);
  return o;
}

Dataset Dataset::subset(const std::vector<int64_t>& rows) const {
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  std::vector<int64_t> ys;
  ys.reserve(rows.size());
  for (int64_t r : rows) {
    LOCO_CHECK(r >= 0 && r < size(), name, ": row ", r, " outside a split of ", size());
    ys.push_back(y[static_cast<size_t>(r)]);
  }
  Dataset o = *this;
  const Shape image{channels(), height(), width()};
  o.pixels = empty(Shape{static_cast<int64_t>(rows.size()), image[0], image[1], image[2]}, pixels.dtype(), device());
  const size_t bytes = static_cast<size_t>(image.numel()) * dtype_size(pixels.dtype());
  for (size_t i = 0; i < rows.size(); ++i)
    copy_bytes(static_cast<char*>(o.pixels.raw()) + i * bytes, device(),
               static_cast<const char*>(pixels.raw()) + static_cast<size_t>(rows[i]) * bytes, device(), bytes);
  o.labels = from_vector(ys, Shape{static_cast<int64_t>(ys.size())});
  return o;
}

Dataset Dataset::of_images(const Tensor& images, const Tensor& labels, int64_t classes, const std::string& name) {
  LOCO_CHECK(images.defined() && images.ndim() == 4 && images.dtype() == DType::f32, name,
             ": expected f32 images [N, C, H, W], got ", images.defined() ? images.shape().str() : "none");
  LOCO_CHECK(labels.defined() && labels.ndim() == 1 && labels.dtype() == DType::i64 && labels.dim(0) == images.dim(0),
             name, ": labels ", labels.defined() ? labels.shape().str() : "none", " for ", images.dim(0), " images");
  Dataset d;
  d.name = name;
  d.pixels = images.detach();
  d.labels = labels.to(Device::cpu);
  d.classes = classes;
  return d;
}

// ---- ClassIndex ----

ClassIndex::ClassIndex(const Tensor& labels, int64_t classes) {
  LOCO_CHECK(classes >= 1, "ClassIndex: ", classes, " classes");
  LOCO_CHECK(labels.ndim() == 1 && labels.dtype() == DType::i64, "ClassIndex: labels must be i64 [N], got ",
             labels.dtype(), " ", labels.shape());
  rows_.resize(static_cast<size_t>(classes));
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  for (size_t i = 0; i < y.size(); ++i) {
    LOCO_CHECK(0 <= y[i] && y[i] < classes, "ClassIndex: label ", y[i], " at row ", i, " is outside [0, ", classes,
               ")");
    rows_[static_cast<size_t>(y[i])].push_back(static_cast<int64_t>(i));
  }
}

const std::vector<int64_t>& ClassIndex::rows(int64_t c) const {
  LOCO_CHECK(0 <= c && c < classes(), "ClassIndex: class ", c, " is outside [0, ", classes(), ")");
  return rows_[static_cast<size_t>(c)];
}

std::vector<int64_t> ClassIndex::sample(int64_t c0, int64_t c1, int64_t n, Generator& g) const {
  LOCO_CHECK(n >= 0 && 0 <= c0 && c0 <= c1 && c1 <= classes(), "ClassIndex::sample: ", n, " rows of classes [", c0,
             ", ", c1, ") of ", classes());
  std::vector<int64_t> out;
  for (int64_t c = c0; c < c1; ++c) {
    const std::vector<int64_t>& r = rows(c);
    const auto size = static_cast<int64_t>(r.size());
    for (int64_t p : rand_sample(size, std::min(n, size), g)) out.push_back(r[static_cast<size_t>(p)]);
  }
  return out;
}

int64_t ClassIndex::smallest_class() const {
  size_t m = rows_.empty() ? 0 : rows_[0].size();
  for (const auto& r : rows_) m = std::min(m, r.size());
  return static_cast<int64_t>(m);
}

Tensor index_tensor(const std::vector<int64_t>& rows, Device d) {
  return from_vector(rows, Shape{static_cast<int64_t>(rows.size())}, d);
}

// ---- shared by the readers ----

namespace detail {

Dataset make_split(const DatasetInfo& info, int64_t n) {
  Dataset d;
  d.name = info.name;
  d.classes = info.classes;
  d.mean = info.mean;
  d.std = info.std;
  d.pixels = empty(Shape{n, info.channels, info.height, info.width}, DType::u8);
  d.labels = empty(Shape{n}, DType::i64);
  return d;
}

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  LOCO_CHECK(fs::is_regular_file(path, ec), path, ": missing (or not a regular file)");
  const uint64_t size = fs::file_size(path, ec);
  LOCO_CHECK(!ec, path, ": cannot read its size (", ec.message(), ")");
  LOCO_CHECK(size <= max_bytes, path, ": ", size, " bytes, more than the ", max_bytes, " such a file can hold");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  LOCO_CHECK(f, path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> buf(static_cast<size_t>(size));
  const size_t got = buf.empty() ? 0 : std::fread(buf.data(), 1, buf.size(), f.get());
  LOCO_CHECK(got == buf.size(), path, ": read ", got, " of its ", size, " bytes");
  return buf;
}

}  // namespace detail

std::string data_fingerprint(const DatasetPair& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const Dataset* d : {&data.train, &data.test})
    for (const Tensor* t : {&d->pixels, &d->labels}) {
      if (!t->defined()) continue;  // a split the caller has none of (GDumb condenses without a test split)
      const Tensor host = t->to(Device::cpu);
      const auto* p = static_cast<const Bytef*>(host.raw());
      for (size_t left = host.nbytes(); left > 0;) {
        const auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
        crc = crc32(crc, p, n);
        p += n;
        left -= n;
      }
    }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08lx", crc & 0xffffffffUL);
  return data.train.name + " train " + std::to_string(data.train.size()) + " test " + std::to_string(data.test.size()) +
         " crc32 " + hex;
}

}  // namespace loco::condense
