#include "tests/harness/tiny_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace loco::testing {
namespace {

using Bytes = std::vector<uint8_t>;

// n images of 28×28 bytes and their labels.
void generate(int64_t per_class, uint64_t stream, uint64_t seed, Bytes& px, Bytes& y) {
  Generator g(seed, stream);
  const int64_t n = per_class * 10;
  px.assign(static_cast<size_t>(n * 784), 0);
  y.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % 10;
    y[static_cast<size_t>(i)] = static_cast<uint8_t>(k);
    const int64_t r0 = 2 + (k / 5) * 12 + static_cast<int64_t>(g.below(3)), c0 = 1 + (k % 5) * 5;
    for (int64_t p = 0; p < 784; ++p) px[static_cast<size_t>(i * 784 + p)] = static_cast<uint8_t>(g.below(60));
    for (int64_t r = r0; r < r0 + 6; ++r)
      for (int64_t c = c0; c < c0 + 6 && c < 28; ++c)
        px[static_cast<size_t>(i * 784 + r * 28 + c)] = static_cast<uint8_t>(200 + g.below(56));
  }
}

condense::Dataset split(const Bytes& px, const Bytes& y) {
  const auto& info = condense::dataset_info("FashionMNIST");
  const auto n = static_cast<int64_t>(y.size());
  condense::Dataset d = condense::detail::make_split(info, n);
  std::copy(px.begin(), px.end(), d.pixels.data<uint8_t>());
  std::vector<int64_t> labels(y.begin(), y.end());
  d.labels = from_vector(labels, Shape({n}));
  return d;
}

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void write(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  LOCO_CHECK(f.good(), path, ": write failed");
}
void write_split(const std::string& dir, const std::string& stem, const Bytes& px, const Bytes& y) {
  Bytes img, lab;
  put_be32(img, 2051);
  put_be32(img, static_cast<uint32_t>(y.size()));
  put_be32(img, 28);
  put_be32(img, 28);
  img.insert(img.end(), px.begin(), px.end());
  put_be32(lab, 2049);
  put_be32(lab, static_cast<uint32_t>(y.size()));
  lab.insert(lab.end(), y.begin(), y.end());
  write(dir + "/" + stem + "-images-idx3-ubyte", img);
  write(dir + "/" + stem + "-labels-idx1-ubyte", lab);
}

}  // namespace

condense::DatasetPair tiny_dataset(int64_t train_per_class, int64_t test_per_class, uint64_t seed) {
  Bytes px, y;
  condense::DatasetPair d;
  generate(train_per_class, 0, seed, px, y);
  d.train = split(px, y);
  generate(test_per_class, 1, seed, px, y);
  d.test = split(px, y);
  return d;
}

void write_tiny_idx(const std::string& dir, int64_t train_per_class, int64_t test_per_class, uint64_t seed) {
  std::filesystem::create_directories(dir);
  Bytes px, y;
  generate(train_per_class, 0, seed, px, y);
  write_split(dir, "train", px, y);
  generate(test_per_class, 1, seed, px, y);
  write_split(dir, "t10k", px, y);
}

}  // namespace loco::testing
