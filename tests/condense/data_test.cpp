// Dataset readers (condense/data): every format on tiny files written here (IDX plain and
// gzipped, CIFAR-10, CIFAR-100, TinyImageNet JPEG folders), checked pixel by pixel against a
// naive normalisation; corrupt versions (truncated, wrong magic, label out of range, wrong
// image size, count mismatch, missing file), each a loco::Error naming the file; ClassIndex
// sampling. The real Fashion-MNIST is checked only when installed (skipped otherwise).
// Shape letters: N images, C channels, H×W image, K classes.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "tests/harness/scratch_dir.h"

// Static copies: the engine and the reader carry their own stb, and these must not clash.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace loco::condense {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

using DataTest = testing::ScratchDirTest;

void write_bytes(const std::string& p, const Bytes& b) {
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << p;
}
void write_gz(const std::string& p, const Bytes& b) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr) << p;
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  gzclose(f);
}
Bytes read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// The call must throw loco::Error whose message holds every part (file names, the fault).
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one naming " << parts.front();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a loco::Error: " << e.what();
  }
}

float naive_norm(uint8_t v, float mean, float stdev) { return (static_cast<float>(v) / 255.0f - mean) / stdev; }

// ---- IDX ----

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
uint8_t idx_pixel(int64_t i, int64_t p) { return static_cast<uint8_t>((i * 37 + p * 11) % 256); }

Bytes idx_images(int64_t n, uint32_t magic = 2051, uint32_t rows = 28, uint32_t cols = 28) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, static_cast<uint32_t>(n));
  put_be32(b, rows);
  put_be32(b, cols);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < int64_t{rows} * cols; ++p) b.push_back(idx_pixel(i, p));
  return b;
}
Bytes idx_labels(const Bytes& y, uint32_t magic = 2049) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, static_cast<uint32_t>(y.size()));
  b.insert(b.end(), y.begin(), y.end());
  return b;
}
const Bytes kTrainY = {3, 0, 9, 1, 1}, kTestY = {7, 2, 5};

// Writes the four files, gzipped or plain.
void write_idx(const std::string& dir, bool gz) {
  auto w = [&](const std::string& stem, const Bytes& b) {
    gz ? write_gz(dir + "/" + stem + ".gz", b) : write_bytes(dir + "/" + stem, b);
  };
  fs::create_directories(dir);
  w("train-images-idx3-ubyte", idx_images(5));
  w("train-labels-idx1-ubyte", idx_labels(kTrainY));
  w("t10k-images-idx3-ubyte", idx_images(3));
  w("t10k-labels-idx1-ubyte", idx_labels(kTestY));
}

void expect_idx_split(const Dataset& d, const Bytes& y, const DatasetInfo& info) {
  const auto n = static_cast<int64_t>(y.size());
  ASSERT_EQ(d.pixels.shape(), (Shape{n, 1, 28, 28}));
  ASSERT_EQ(d.labels.dtype(), DType::i64);
  EXPECT_EQ(d.labels.to_vector<int64_t>(), std::vector<int64_t>(y.begin(), y.end()));
  EXPECT_EQ(d.name, info.name);
  EXPECT_EQ(d.classes, 10);
  const std::vector<float> x = d.images(0, d.size()).to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < 784; ++p)
      ASSERT_EQ(x[static_cast<size_t>(i * 784 + p)], naive_norm(idx_pixel(i, p), info.mean[0], info.std[0]))
          << "image " << i << " pixel " << p;
}

TEST_F(DataTest, IdxPlain) {
  write_idx(path("f"), false);
  const DatasetPair d = load_dataset("FashionMNIST", path("f"));
  const DatasetInfo& info = dataset_info("FashionMNIST");
  expect_idx_split(d.train, kTrainY, info);
  expect_idx_split(d.test, kTestY, info);
  // The table's constants, and the extremes in double as a second opinion.
  EXPECT_EQ(d.train.mean, std::vector<float>{0.2861f});
  EXPECT_EQ(d.train.std, std::vector<float>{0.3530f});
  EXPECT_NEAR(d.train.images(0, d.train.size()).to_vector<float>()[0], (0 / 255.0 - 0.2861) / 0.3530, 1e-6);
}

TEST_F(DataTest, IdxGzipMatchesPlainAndMnistNormalisation) {
  write_idx(path("gz"), true);
  write_idx(path("plain"), false);
  const DatasetPair g = load_dataset("mnist", path("gz"));
  expect_idx_split(g.train, kTrainY, dataset_info("MNIST"));
  expect_idx_split(g.test, kTestY, dataset_info("MNIST"));
  const DatasetPair p = load_dataset("MNIST", path("plain"));
  EXPECT_EQ(g.train.images(0, g.train.size()).to_vector<float>(), p.train.images(0, p.train.size()).to_vector<float>());
  // With both present the .gz is the one read: a broken plain copy must not matter.
  write_bytes(path("gz/train-images-idx3-ubyte"), Bytes{1, 2, 3});
  EXPECT_NO_THROW(load_dataset("MNIST", path("gz")));
}

// `cat a.gz b.gz` is a valid gzip file (RFC 1952: a file is a series of members).
TEST_F(DataTest, IdxGzipOfSeveralMembersReads) {
  write_idx(path("cat"), true);
  const Bytes whole = idx_images(kTrainY.size());
  const size_t half = whole.size() / 2;
  write_gz(path("cat/a.gz"), Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(half)));
  write_gz(path("cat/b.gz"), Bytes(whole.begin() + static_cast<std::ptrdiff_t>(half), whole.end()));
  Bytes joined = read_bytes(path("cat/a.gz"));
  const Bytes b = read_bytes(path("cat/b.gz"));
  joined.insert(joined.end(), b.begin(), b.end());
  write_bytes(path("cat/train-images-idx3-ubyte.gz"), joined);
  write_idx(path("plain"), false);
  EXPECT_EQ(load_dataset("MNIST", path("cat")).train.pixels.to_vector<uint8_t>(),
            load_dataset("MNIST", path("plain")).train.pixels.to_vector<uint8_t>());
}

struct IdxCase {
  const char* what;
  const char* file;  // the file whose name the error must carry
  std::function<void(const std::string&)> corrupt;
  std::vector<std::string> parts;
};

TEST_F(DataTest, IdxCorruptFilesNameTheFile) {
  const std::string ti = "train-images-idx3-ubyte", tl = "train-labels-idx1-ubyte";
  const std::vector<IdxCase> cases = {
      {"truncated images",
       "train-images-idx3-ubyte",
       [&](const std::string& d) {
         Bytes b = idx_images(5);
         b.resize(b.size() - 10);
         write_bytes(d + "/" + ti, b);
       },
       {"truncated"}},
      {"truncated header",
       "train-images-idx3-ubyte",
       [&](const std::string& d) {
         write_bytes(d + "/" + ti, {0, 0, 8});
       },
       {"header"}},
      {"empty file",
       "train-labels-idx1-ubyte",
       [&](const std::string& d) { write_bytes(d + "/" + tl, {}); },
       {"header"}},
      {"trailing bytes",
       "train-images-idx3-ubyte",
       [&](const std::string& d) {
         Bytes b = idx_images(5);
         b.push_back(0);
         write_bytes(d + "/" + ti, b);
       },
       {"longer"}},
      {"huge count",
       "train-images-idx3-ubyte",
       [&](const std::string& d) {
         Bytes b = idx_images(5);
         b[4] = b[5] = b[6] = b[7] = 0xFF;
         write_bytes(d + "/" + ti, b);
       },
       {"truncated"}},
      {"wrong image magic",
       "train-images-idx3-ubyte",
       [&](const std::string& d) { write_bytes(d + "/" + ti, idx_images(5, 2049)); },
       {"magic", "2051"}},
      {"wrong label magic",
       "train-labels-idx1-ubyte",
       [&](const std::string& d) { write_bytes(d + "/" + tl, idx_labels(kTrainY, 2051)); },
       {"magic", "2049"}},
      {"label out of range",
       "train-labels-idx1-ubyte",
       [&](const std::string& d) {
         write_bytes(d + "/" + tl, idx_labels({1, 2, 10, 0, 0}));
       },
       {"label 10", "item 2"}},
      {"wrong image size",
       "train-images-idx3-ubyte",
       [&](const std::string& d) { write_bytes(d + "/" + ti, idx_images(5, 2051, 32, 32)); },
       {"32×32", "28×28"}},
      {"count mismatch",
       "train-labels-idx1-ubyte",
       [&](const std::string& d) {
         write_bytes(d + "/" + tl, idx_labels({1, 2, 3, 4}));
       },
       {"train-images-idx3-ubyte", "5 images", "4 labels"}},
      {"missing file",
       "t10k-labels-idx1-ubyte",
       [&](const std::string& d) { fs::remove(d + "/t10k-labels-idx1-ubyte"); },
       {"missing"}},
      {"truncated gzip",
       "train-images-idx3-ubyte.gz",
       [&](const std::string& d) {
         write_gz(d + "/" + ti + ".gz", idx_images(5));
         Bytes b = read_bytes(d + "/" + ti + ".gz");
         b.resize(b.size() / 2);
         write_bytes(d + "/" + ti + ".gz", b);
       },
       {"train-images-idx3-ubyte.gz"}},
      {"corrupt gzip",
       "train-labels-idx1-ubyte.gz",
       [&](const std::string& d) {
         write_gz(d + "/" + tl + ".gz", idx_labels(kTrainY));
         Bytes b = read_bytes(d + "/" + tl + ".gz");
         for (size_t i = 12; i < b.size(); ++i) b[i] ^= 0x5A;
         write_bytes(d + "/" + tl + ".gz", b);
       },
       {"train-labels-idx1-ubyte.gz"}},
      // zlib's gzread accepted these three: the trailer was never checked, trailing bytes ignored.
      {"gzip without its length",
       "train-images-idx3-ubyte.gz",
       [&](const std::string& d) {
         write_gz(d + "/" + ti + ".gz", idx_images(5));
         Bytes b = read_bytes(d + "/" + ti + ".gz");
         b.resize(b.size() - 4);
         write_bytes(d + "/" + ti + ".gz", b);
       },
       {"truncated gzip"}},
      {"gzip with a wrong CRC",
       "train-images-idx3-ubyte.gz",
       [&](const std::string& d) {
         write_gz(d + "/" + ti + ".gz", idx_images(5));
         Bytes b = read_bytes(d + "/" + ti + ".gz");
         b[b.size() - 8] ^= 1;
         write_bytes(d + "/" + ti + ".gz", b);
       },
       {"corrupt gzip", "check"}},
      {"gzip with trailing garbage",
       "train-labels-idx1-ubyte.gz",
       [&](const std::string& d) {
         write_gz(d + "/" + tl + ".gz", idx_labels(kTrainY));
         Bytes b = read_bytes(d + "/" + tl + ".gz");
         b.push_back('x');
         write_bytes(d + "/" + tl + ".gz", b);
       },
       {"after the end of the gzip stream"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string d = path(std::string("case_") + std::to_string(&c - cases.data()));
    write_idx(d, false);
    c.corrupt(d);
    std::vector<std::string> parts = c.parts;
    parts.push_back(d + "/" + c.file);
    expect_error([&] { load_dataset("FashionMNIST", d); }, parts);
  }
}

// ---- CIFAR ----

uint8_t cifar_pixel(int64_t rec, int64_t c, int64_t p) {
  return static_cast<uint8_t>((rec * 29 + c * 101 + p * 7) % 256);
}

// Records from labels; label_bytes 1 (CIFAR-10) or 2 (coarse = fine / 5, then fine). rec0 numbers
// records across files so every image is distinct.
Bytes cifar_file(const std::vector<int>& y, int label_bytes, int64_t rec0) {
  Bytes b;
  for (size_t i = 0; i < y.size(); ++i) {
    if (label_bytes == 2) b.push_back(static_cast<uint8_t>(y[i] / 5));
    b.push_back(static_cast<uint8_t>(y[i]));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 1024; ++p) b.push_back(cifar_pixel(rec0 + static_cast<int64_t>(i), c, p));
  }
  return b;
}

void expect_cifar_split(const Dataset& d, const std::vector<int>& y, int64_t rec0, const DatasetInfo& info) {
  const auto n = static_cast<int64_t>(y.size());
  ASSERT_EQ(d.pixels.shape(), (Shape{n, 3, 32, 32}));
  EXPECT_EQ(d.labels.to_vector<int64_t>(), std::vector<int64_t>(y.begin(), y.end()));
  EXPECT_EQ(d.classes, info.classes);
  const std::vector<float> x = d.images(0, d.size()).to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 1024; ++p)
        ASSERT_EQ(x[static_cast<size_t>((i * 3 + c) * 1024 + p)],
                  naive_norm(cifar_pixel(rec0 + i, c, p), info.mean[static_cast<size_t>(c)],
                             info.std[static_cast<size_t>(c)]))
            << "image " << i << " channel " << c << " pixel " << p;
}

void write_cifar10(const std::string& dir) {
  for (int b = 0; b < 5; ++b)
    write_bytes(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", cifar_file({b, 9 - b}, 1, 2 * b));
  write_bytes(dir + "/test_batch.bin", cifar_file({4, 4, 0}, 1, 100));
}

TEST_F(DataTest, Cifar10FromParentAndFromBatchFolder) {
  write_cifar10(path("c/cifar-10-batches-bin"));
  const DatasetInfo& info = dataset_info("cifar-10");
  for (const std::string& dir : {path("c"), path("c/cifar-10-batches-bin")}) {
    SCOPED_TRACE(dir);
    const DatasetPair d = load_dataset("CIFAR10", dir);
    expect_cifar_split(d.train, {0, 9, 1, 8, 2, 7, 3, 6, 4, 5}, 0, info);
    expect_cifar_split(d.test, {4, 4, 0}, 100, info);
  }
}

TEST_F(DataTest, Cifar100UsesTheFineLabel) {
  const std::string dir = path("c/cifar-100-binary");
  write_bytes(dir + "/train.bin", cifar_file({0, 99, 42, 7}, 2, 0));
  write_bytes(dir + "/test.bin", cifar_file({63}, 2, 50));
  const DatasetPair d = load_dataset("CIFAR100", path("c"));
  expect_cifar_split(d.train, {0, 99, 42, 7}, 0, dataset_info("CIFAR100"));
  expect_cifar_split(d.test, {63}, 50, dataset_info("CIFAR100"));
}

TEST_F(DataTest, CifarCorruptFilesNameTheFile) {
  {
    const std::string d = path("trunc");
    write_cifar10(d);
    Bytes b = read_bytes(d + "/data_batch_2.bin");
    b.pop_back();
    write_bytes(d + "/data_batch_2.bin", b);
    expect_error([&] { load_dataset("CIFAR10", d); }, {d + "/data_batch_2.bin", "3073-byte records"});
  }
  {
    const std::string d = path("label");
    write_cifar10(d);
    write_bytes(d + "/test_batch.bin", cifar_file({1, 10}, 1, 0));
    expect_error([&] { load_dataset("CIFAR10", d); }, {d + "/test_batch.bin", "label 10", "record 1"});
  }
  {
    const std::string d = path("missing");
    write_cifar10(d);
    fs::remove(d + "/data_batch_3.bin");
    expect_error([&] { load_dataset("CIFAR10", d); }, {d + "/data_batch_3.bin", "missing"});
  }
  {
    const std::string d = path("empty");
    fs::create_directories(d);
    expect_error([&] { load_dataset("CIFAR10", d); }, {d + "/data_batch_1.bin", "cifar-10-batches-bin"});
  }
  {
    const std::string d = path("fine");
    write_bytes(d + "/train.bin", cifar_file({1, 2}, 2, 0));
    Bytes b = cifar_file({1}, 2, 0);
    b[1] = 100;
    write_bytes(d + "/test.bin", b);
    expect_error([&] { load_dataset("CIFAR100", d); }, {d + "/test.bin", "label 100"});
    b[1] = 1, b[0] = 20;
    write_bytes(d + "/test.bin", b);
    expect_error([&] { load_dataset("CIFAR100", d); }, {d + "/test.bin", "coarse label 20"});
    // A CIFAR-10 file given as CIFAR-100: 3073-byte records do not divide into 3074.
    write_bytes(d + "/test.bin", cifar_file({1, 2}, 1, 0));
    expect_error([&] { load_dataset("CIFAR100", d); }, {d + "/test.bin", "3074-byte records"});
  }
}

// ---- TinyImageNet ----

std::string wnid(int k) {
  char s[16];
  std::snprintf(s, sizeof s, "n%08d", 1000 + 37 * k);
  return s;
}

// A 64×64 picture whose channels differ and whose red grows left to right, so a swapped
// layout (HWC vs CHW, H vs W) shows.
Bytes picture(int k, int comp, int side = 64) {
  Bytes px(static_cast<size_t>(side * side * comp));
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      for (int c = 0; c < comp; ++c)
        px[static_cast<size_t>((y * side + x) * comp + c)] = static_cast<uint8_t>(c == 0   ? 4 * x
                                                                                  : c == 1 ? 40 + 3 * k
                                                                                           : 200 - 2 * y);
  return px;
}
void write_jpg(const std::string& p, const Bytes& px, int comp, int side = 64) {
  fs::create_directories(fs::path(p).parent_path());
  ASSERT_TRUE(stbi_write_jpg(p.c_str(), side, side, comp, px.data(), 95)) << p;
}
// stb writes every JPEG as YCbCr; a truly one-channel file needs PNG (lossless, too).
void write_gray_png(const std::string& p, const Bytes& px) {
  fs::create_directories(fs::path(p).parent_path());
  ASSERT_TRUE(stbi_write_png(p.c_str(), 64, 64, 1, px.data(), 64)) << p;
}

// K classes (wnids.txt in reverse order, so sorting matters), one train image each, two for
// class 5, a grayscale PNG for class 7; three val images. K ≥ 8.
void write_tiny(const std::string& root, int classes = 200) {
  std::string list;
  for (int k = classes - 1; k >= 0; --k) list += wnid(k) + "\n";
  write_bytes(root + "/wnids.txt", Bytes(list.begin(), list.end()));
  for (int k = 0; k < classes; ++k) {
    const std::string stem = root + "/train/" + wnid(k) + "/images/" + wnid(k) + "_0";
    k == 7 ? write_gray_png(stem + ".png", picture(k, 1)) : write_jpg(stem + ".JPEG", picture(k, 3), 3);
  }
  write_jpg(root + "/train/" + wnid(5) + "/images/" + wnid(5) + "_1.JPEG", picture(50, 3), 3);
  const std::string ann = "val_0.JPEG\t" + wnid(3) + "\t0\t0\t10\t10\nval_1.JPEG\t" + wnid(classes - 1) +
                          "\t1\t2\t3\t4\r\nval_2.JPEG\t" + wnid(0) + "\t5\t5\t60\t60\n";
  write_bytes(root + "/val/val_annotations.txt", Bytes(ann.begin(), ann.end()));
  for (int i = 0; i < 3; ++i) write_jpg(root + "/val/images/val_" + std::to_string(i) + ".JPEG", picture(60 + i, 3), 3);
}

// What the reader must produce for one file: stb's own decode (RGB), normalised, CHW.
std::vector<float> expected_image(const std::string& p, const DatasetInfo& info) {
  int w = 0, h = 0, comp = 0;
  stbi_uc* px = stbi_load(p.c_str(), &w, &h, &comp, 3);
  EXPECT_NE(px, nullptr) << p;
  std::vector<float> out(3 * 64 * 64);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 64 * 64; ++i)
      out[static_cast<size_t>(c * 4096 + i)] =
          naive_norm(px[i * 3 + c], info.mean[static_cast<size_t>(c)], info.std[static_cast<size_t>(c)]);
  stbi_image_free(px);
  return out;
}

TEST_F(DataTest, TinyImageNetFolders) {
  const std::string root = path("t/tiny-imagenet-200");
  write_tiny(root);
  const DatasetInfo& info = dataset_info("TinyImageNet");
  const DatasetPair d = load_dataset("tiny-imagenet", path("t"));
  ASSERT_EQ(d.train.pixels.shape(), (Shape{201, 3, 64, 64}));
  ASSERT_EQ(d.test.pixels.shape(), (Shape{3, 3, 64, 64}));
  EXPECT_EQ(d.train.classes, 200);
  // Sorted wnids: wnid(k) sorts as k, and class 5 holds two images.
  std::vector<int64_t> want;
  for (int k = 0; k < 200; ++k) {
    want.push_back(k);
    if (k == 5) want.push_back(5);
  }
  EXPECT_EQ(d.train.labels.to_vector<int64_t>(), want);
  EXPECT_EQ(d.test.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 199, 0}));

  const std::vector<float> x = d.train.images(0, d.train.size()).to_vector<float>(), t = d.test.images(0, d.test.size()).to_vector<float>();
  auto image = [](const std::vector<float>& v, int64_t i) {
    return std::vector<float>(v.begin() + i * 12288, v.begin() + (i + 1) * 12288);
  };
  const std::string tr = root + "/train/";
  // JPEGs are decoded by libjpeg-turbo and the reference here by stb: two correct decoders differ
  // by a rounding step or two (IDCT, chroma upsampling). PNG is lossless: bit for bit.
  auto levels_apart = [&](const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(double(a[i]) - b[i]) * 255.0 * info.std[i / 4096]);
    return worst;
  };
  EXPECT_LE(levels_apart(image(x, 0), expected_image(tr + wnid(0) + "/images/" + wnid(0) + "_0.JPEG", info)), 3.0);
  EXPECT_LE(levels_apart(image(x, 6), expected_image(tr + wnid(5) + "/images/" + wnid(5) + "_1.JPEG", info)), 3.0);
  EXPECT_EQ(image(x, 8), expected_image(tr + wnid(7) + "/images/" + wnid(7) + "_0.png", info));
  EXPECT_LE(levels_apart(image(t, 1), expected_image(root + "/val/images/val_1.JPEG", info)), 3.0);

  // Independent of stb: de-normalised, the picture is near what was written (JPEG is lossy).
  auto pixel = [&](const std::vector<float>& v, int64_t i, int c, int y, int xx) {
    const float z = v[static_cast<size_t>(i * 12288 + c * 4096 + y * 64 + xx)];
    return 255.0f * (z * info.std[static_cast<size_t>(c)] + info.mean[static_cast<size_t>(c)]);
  };
  const Bytes src = picture(0, 3);
  double worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 4; y < 60; ++y)
      for (int xx = 4; xx < 60; ++xx)
        worst =
            std::max(worst, std::abs(double(pixel(x, 0, c, y, xx)) - src[static_cast<size_t>((y * 64 + xx) * 3 + c)]));
  EXPECT_LT(worst, 12.0) << "decoded train image 0 strays from the picture written";
  // Grayscale expanded: all three channels carry the byte written.
  const Bytes gray = picture(7, 1);
  for (int i : {0, 100, 2077, 4095})
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(pixel(x, 8, c, i / 64, i % 64), gray[static_cast<size_t>(i)], 1e-3);
}

TEST_F(DataTest, TinyImageNetCorruptFilesNameTheFile) {
  // Ten classes, not 200: file-system calls dominate here, and the checks do not depend on K.
  DatasetInfo small = dataset_info("TinyImageNet");
  small.classes = 10;
  write_tiny(path("template"), 10);
  auto fresh = [&](const std::string& name) {
    const std::string root = path(name);
    fs::copy(path("template"), root, fs::copy_options::recursive);
    return root;
  };
  auto load = [&](const std::string& root) { return [&small, root] { read_tiny_imagenet(root, small); }; };
  EXPECT_NO_THROW(read_tiny_imagenet(path("template"), small));
  expect_error([&] { load_dataset("TinyImageNet", path("template")); },
               {path("template") + "/train", "10 classes, expected 200"});
  {
    const std::string r = fresh("size"), f = r + "/train/" + wnid(9) + "/images/small.JPEG";
    write_jpg(f, picture(0, 3, 32), 3, 32);
    expect_error(load(r), {f, "32×32", "64×64"});
  }
  {
    const std::string r = fresh("garbage"), f = r + "/val/images/val_2.JPEG";
    write_bytes(f, Bytes(300, 0x42));
    expect_error(load(r), {f, "not a decodable image"});
  }
  {
    const std::string r = fresh("cut"), f = r + "/train/" + wnid(1) + "/images/" + wnid(1) + "_0.JPEG";
    Bytes b = read_bytes(f);
    b.resize(40);  // inside the headers, before the frame size: stb cannot even size it
    write_bytes(f, b);
    expect_error(load(r), {f, "not a decodable image"});
  }
  {
    // Cut inside the scan: libjpeg only warns and pads the image with gray; loco refuses it.
    const std::string r = fresh("cutscan"), f = r + "/train/" + wnid(2) + "/images/" + wnid(2) + "_0.JPEG";
    Bytes b = read_bytes(f);
    b.resize(b.size() - b.size() / 4);
    write_bytes(f, b);
    expect_error(load(r), {f, "not a decodable image"});
  }
  {
    const std::string r = fresh("wnid"), a = r + "/val/val_annotations.txt";
    const std::string ann = "val_0.JPEG\tn99999999\t0\t0\t1\t1\n";
    write_bytes(a, Bytes(ann.begin(), ann.end()));
    expect_error(load(r), {a, "line 1", "unknown wnid n99999999"});
  }
  {
    const std::string r = fresh("valmissing"), f = r + "/val/images/val_1.JPEG";
    fs::remove(f);
    expect_error(load(r), {f, "missing"});
  }
  {
    const std::string r = fresh("classmissing"), f = r + "/train/" + wnid(8);
    fs::remove_all(f);
    expect_error(load(r), {f, "missing", "wnids.txt"});
  }
  {
    const std::string r = fresh("noann"), a = r + "/val/val_annotations.txt";
    fs::remove(a);
    expect_error(load(r), {a, "missing"});
  }
  {
    const std::string r = fresh("escape"), a = r + "/val/val_annotations.txt";
    const std::string ann = "../../wnids.txt\t" + wnid(0) + "\n";
    write_bytes(a, Bytes(ann.begin(), ann.end()));
    expect_error(load(r), {a, "not a plain file name"});
  }
  {
    const std::string r = fresh("extra"), f = r + "/train/n77777777";
    fs::create_directories(f + "/images");
    expect_error(load(r), {f, "not listed in", r + "/wnids.txt"});
  }
  {
    const std::string r = fresh("noimages"), f = r + "/train/" + wnid(2) + "/images";
    fs::remove(f + "/" + wnid(2) + "_0.JPEG");
    expect_error(load(r), {f, "holds no JPEG images"});
  }
}

// ---- names, locations, ClassIndex ----

TEST(Datasets, NamesAndErrors) {
  EXPECT_EQ(dataset_info("fashion-mnist").name, "FashionMNIST");
  EXPECT_EQ(dataset_info("FMNIST").name, "FashionMNIST");
  EXPECT_EQ(dataset_info("cifar_100").classes, 100);
  EXPECT_EQ(dataset_info("TinyImageNet").height, 64);
  expect_error([] { dataset_info("svhn2"); }, {"svhn2", "FashionMNIST", "CIFAR100"});
  expect_error([] { load_dataset("MNIST", "/nonexistent/loco/dir"); }, {"/nonexistent/loco/dir", "--data-dir"});
  EXPECT_EQ(default_data_dir("FashionMNIST").empty(), false);
}

TEST(ClassIndexTest, RowsAndSampling) {
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 60; ++i) y.push_back(i % 7 == 0 ? 2 : i % 2);  // class 2: 9 rows; 3: none
  const ClassIndex idx(from_vector(y, Shape{60}), 4);
  for (int64_t c = 0; c < 4; ++c) {
    const auto& r = idx.rows(c);
    EXPECT_TRUE(std::is_sorted(r.begin(), r.end()));
    EXPECT_EQ(static_cast<int64_t>(r.size()), std::count(y.begin(), y.end(), c));
    for (int64_t i : r) EXPECT_EQ(y[static_cast<size_t>(i)], c);
  }
  Generator g(7);
  std::set<std::vector<int64_t>> draws;
  for (int rep = 0; rep < 20; ++rep) {
    for (int64_t c = 0; c < 4; ++c) {
      const auto& r = idx.rows(c);
      for (int64_t n : {0, 1, 5, 9, 100}) {
        const std::vector<int64_t> s = idx.sample(c, c + 1, n, g);
        EXPECT_EQ(static_cast<int64_t>(s.size()), std::min<int64_t>(n, static_cast<int64_t>(r.size())));
        EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), s.size()) << "a row drawn twice";
        for (int64_t i : s) EXPECT_EQ(y[static_cast<size_t>(i)], c);
      }
    }
    draws.insert(idx.sample(1, 2, 5, g));
  }
  EXPECT_GT(draws.size(), 15u) << "draws repeat: not fresh per call";
  // Uniform: each of class 2's nine rows comes first about equally often.
  std::vector<int> first(60, 0);
  for (int rep = 0; rep < 9000; ++rep) first[static_cast<size_t>(idx.sample(2, 3, 3, g)[0])]++;
  for (int64_t i : idx.rows(2)) EXPECT_NEAR(first[static_cast<size_t>(i)], 1000, 150) << "row " << i;
  // All of a class when n ≥ its size.
  const auto all = idx.sample(2, 3, 50, g);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()), std::set<int64_t>(idx.rows(2).begin(), idx.rows(2).end()));
  expect_error([&] { idx.rows(4); }, {"class 4"});
  expect_error([] { ClassIndex(from_vector(std::vector<int64_t>{0, 3}, Shape{2}), 3); }, {"label 3", "row 1"});
}

// ---- the real Fashion-MNIST, when installed ----

TEST(RealData, FashionMnist) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << dir << " absent (Debian dataset-fashion-mnist)";
  const DatasetPair d = load_dataset("FashionMNIST", dir);
  ASSERT_EQ(d.train.pixels.shape(), (Shape{60000, 1, 28, 28}));
  ASSERT_EQ(d.test.pixels.shape(), (Shape{10000, 1, 28, 28}));
  const ClassIndex tr(d.train.labels, 10), te(d.test.labels, 10);
  for (int64_t c = 0; c < 10; ++c) {
    EXPECT_EQ(tr.rows(c).size(), 6000u);
    EXPECT_EQ(te.rows(c).size(), 1000u);
  }
  // The table's mean and std are the training set's own: normalised, it is ~N(0, 1) overall.
  double s = 0, s2 = 0;
  const std::vector<float> x = d.train.images(0, d.train.size()).to_vector<float>();
  for (float v : x) s += v, s2 += double(v) * v;
  const double mean = s / double(x.size()), var = s2 / double(x.size()) - mean * mean;
  EXPECT_NEAR(mean, 0.0, 1e-3);
  EXPECT_NEAR(std::sqrt(var), 1.0, 1e-3);
}

}  // namespace
}  // namespace loco::condense
