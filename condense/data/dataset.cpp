// The dataset table (spec/condensation.md §1), name lookup, default locations, the shared
// normalisation, load_dataset's dispatch to the readers, and ClassIndex.
// Shape letters: N images, C channels, H×W image, K classes.
#include "condense/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

const std::vector<DatasetInfo>& table() {
  static const std::vector<DatasetInfo> t = {
      {"MNIST", 1, 28, 28, 10, {0.1307f}, {0.3081f}},
      {"FashionMNIST", 1, 28, 28, 10, {0.2861f}, {0.3530f}},
      {"CIFAR10", 3, 32, 32, 10, {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}},
      {"CIFAR100", 3, 32, 32, 100, {0.5071f, 0.4866f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}},
      {"TinyImageNet", 3, 64, 64, 200, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}},
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

std::vector<int64_t> ClassIndex::sample(int64_t c, int64_t n, Generator& g) const {
  const std::vector<int64_t>& r = rows(c);
  LOCO_CHECK(n >= 0, "ClassIndex::sample: negative count ", n);
  const auto size = static_cast<int64_t>(r.size());
  std::vector<int64_t> pick = rand_sample(size, std::min(n, size), g);
  for (auto& p : pick) p = r[static_cast<size_t>(p)];
  return pick;
}

Tensor index_tensor(const std::vector<int64_t>& rows, Device d) {
  return from_vector(rows, Shape{static_cast<int64_t>(rows.size())}, d);
}

// ---- shared by the readers ----

namespace detail {

Normaliser::Normaliser(const DatasetInfo& info) : lut(static_cast<size_t>(info.channels)) {
  for (size_t c = 0; c < lut.size(); ++c) {
    lut[c].resize(256);
    // The same f32 operations as ToTensor (x.float().div(255)) then Normalize ((x − m)/s).
    for (int v = 0; v < 256; ++v)
      lut[c][static_cast<size_t>(v)] = (static_cast<float>(v) / 255.0f - info.mean[c]) / info.std[c];
  }
}

void Normaliser::plane(float* out, const uint8_t* in, int64_t hw, int64_t c) const {
  const float* t = lut[static_cast<size_t>(c)].data();
  for (int64_t i = 0; i < hw; ++i) out[i] = t[in[i]];
}

void Normaliser::hwc_image(float* out, const uint8_t* in, int64_t h, int64_t w, int64_t channels) const {
  const int64_t hw = h * w;
  for (int64_t c = 0; c < channels; ++c) {
    const float* t = lut[static_cast<size_t>(c)].data();
    float* o = out + c * hw;
    for (int64_t i = 0; i < hw; ++i) o[i] = t[in[i * channels + c]];
  }
}

Dataset make_split(const DatasetInfo& info, int64_t n) {
  Dataset d;
  d.name = info.name;
  d.classes = info.classes;
  d.mean = info.mean;
  d.std = info.std;
  d.images = empty(Shape{n, info.channels, info.height, info.width}, DType::f32);
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

}  // namespace loco::condense
