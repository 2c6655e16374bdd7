// Datasets in memory. A real split keeps its images as the bytes read, u8 [N, C, H, W] (a
// quarter of f32: TinyImageNet's 100 000 training images take 1.2 GB, not 4.9), and normalises
// per channel on the way out ((x/255 − mean)/std in f32, spec/condensation.md §1, exactly as
// ToTensor + Normalize, through engine/ops/pixels). A synthetic set or a coreset handed to the
// trainer is a Dataset too, holding f32 images that are already normalised. Either way
// images(rows) is the one way a batch leaves a dataset: f32, normalised, on its device.
// Readers of the official formats live one per file: idx.cpp (MNIST, Fashion-MNIST), cifar.cpp
// (CIFAR-10/100 binary), tiny_imagenet.cpp (JPEG folders), generated.cpp (Philox images of a
// dataset's shape, for timing without files). Every reader checks what it reads (magic numbers,
// sizes, label ranges, image sizes) and throws loco::Error naming the file and what was wrong;
// no allocation is sized by a header field before the file has shown it holds that much.
// ClassIndex serves class-balanced random batches (the reference's get_images).
//
// Shape letters: N images, C channels, H×W image, K classes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace loco::condense {

// What the spec's table says about one dataset.
struct DatasetInfo {
  std::string name;  // canonical: "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "TinyImageNet"
  int64_t channels, height, width, classes;
  std::vector<float> mean, std;
  int64_t train_size, test_size;  // the official splits' sizes
  // One per class, for pictures; empty where loco does not carry them (CIFAR-100, TinyImageNet).
  std::vector<std::string> class_names = {};
};
// Class k's name, or its index as text when the dataset's names are not known.
std::string class_name(const DatasetInfo& info, int64_t k);

// Case-insensitive, '-' and '_' ignored ("fashion-mnist", "FMNIST", "cifar_10", "tiny").
// Throws loco::Error listing the known names.
const DatasetInfo& dataset_info(const std::string& name);
std::vector<std::string> dataset_names();

struct Dataset {  // one split, in memory
  std::string name;
  Tensor pixels;  // u8 [N, C, H, W] as read (normalised on the way out), or f32 already normalised
  Tensor labels;  // i64 [N] on the CPU, each in [0, classes)
  int64_t classes = 0;
  std::vector<float> mean, std;

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
  int64_t channels() const { return pixels.dim(1); }
  int64_t height() const { return pixels.dim(2); }
  int64_t width() const { return pixels.dim(3); }
  Device device() const { return pixels.device(); }
  // f32 [n, C, H, W], normalised, on device(); data (nothing recorded). rows: i64 on device().
  Tensor images(const Tensor& rows) const;
  Tensor images(const std::vector<int64_t>& rows) const;
  Tensor images(int64_t begin, int64_t end) const;  // rows [begin, end)
  // The same split with its pixels on d (labels stay on the host).
  Dataset to(Device d) const;
  // The given rows (pixels and labels), in that order; classes and normalisation kept.
  Dataset subset(const std::vector<int64_t>& rows) const;
  // Already-normalised f32 images [N, C, H, W] (a synthetic set, a coreset) with labels [N].
  static Dataset of_images(const Tensor& images, const Tensor& labels, int64_t classes, const std::string& name = "set");
};
struct DatasetPair {
  Dataset train, test;
};
// What identifies the data a run was made on: its name, both splits' sizes and a CRC-32 of their
// pixels and labels as loaded (e.g. "FashionMNIST train 60000 test 10000 crc32 5d2e6a0b"). A
// checkpoint records it, so --resume on other images (another --data-dir) is refused.
std::string data_fingerprint(const DatasetPair& data);

// Loads both splits of a dataset from dir in its official format (see the readers below).
DatasetPair load_dataset(const std::string& name, const std::string& dir);
// Where a dataset is looked for without --data-dir: $LOCO_DATA/<slug> when LOCO_DATA is set,
// Fashion-MNIST's Debian path (/usr/share/datasets/fashion-mnist), ../shared/data/<slug>,
// data/<slug>; the first that exists, else the first candidate (so the error names it).
// Slugs: mnist, fashion-mnist, cifar10, cifar100, tiny-imagenet.
std::string default_data_dir(const std::string& name);

// ---- the readers (load_dataset picks one by name; exposed for tests) ----
// IDX (MNIST, Fashion-MNIST): {train,t10k}-{images-idx3,labels-idx1}-ubyte, each as <stem>.gz
// or plain <stem>. Images 28×28, magic 2051/2049 big-endian, labels < 10.
DatasetPair read_idx(const std::string& dir, const DatasetInfo& info);
// CIFAR-10 (data_batch_1..5.bin, test_batch.bin; 1 label byte + 3072 pixels per record) and
// CIFAR-100 (train.bin, test.bin; coarse + fine label bytes + 3072; the fine label is used).
// dir may be the batch folder itself or its parent holding cifar-10-batches-bin/ or
// cifar-100-binary/.
DatasetPair read_cifar10(const std::string& dir, const DatasetInfo& info);
DatasetPair read_cifar100(const std::string& dir, const DatasetInfo& info);
// TinyImageNet: train/<wnid>/images/*.JPEG, val/images/* labelled by val/val_annotations.txt
// (the test split). Class k is the k-th wnid in sorted order (wnids.txt when present, else the
// train/ folder names). dir may also be the parent of tiny-imagenet-200/.
DatasetPair read_tiny_imagenet(const std::string& dir, const DatasetInfo& info);
// Images of the dataset's shape from the Philox stream of seed, no files needed (`--generated`,
// for timing): class k has its own random template and each image is that template half mixed
// with fresh noise, so networks learn the classes. Labels cycle 0, 1, ..., K−1. train_n / test_n
// of 0 give the official split sizes.
DatasetPair generated_dataset(const DatasetInfo& info, int64_t train_n = 0, int64_t test_n = 0, uint64_t seed = 0);

// Per-class row lists for class-balanced random batches.
class ClassIndex {
 public:
  // labels: i64 [N] on any device, each in [0, classes).
  ClassIndex(const Tensor& labels, int64_t classes);
  int64_t classes() const { return static_cast<int64_t>(rows_.size()); }
  // The rows of class c, ascending.
  const std::vector<int64_t>& rows(int64_t c) const;
  // The one sampler of real images (set initialisation, distribution and gradient matching,
  // random coresets): for each class c of [c0, c1), in order, min(n, |class c|) of its rows
  // drawn uniformly without replacement, in draw order, class-major; a fresh draw every call
  // (the reference's get_images: a new permutation, its first n).
  std::vector<int64_t> sample(int64_t c0, int64_t c1, int64_t n, Generator& g) const;
  int64_t smallest_class() const;

 private:
  std::vector<std::vector<int64_t>> rows_;
};

// An i64 [n] index tensor for gather_rows (engine/ops/layout.h).
Tensor index_tensor(const std::vector<int64_t>& rows, Device d = Device::cpu);

namespace detail {
// An empty split of the dataset's image shape, for readers to fill: u8 pixels [n, C, H, W],
// i64 labels [n].
Dataset make_split(const DatasetInfo& info, int64_t n);
// The whole of a plain file; throws naming it when it is missing, unreadable or over max_bytes.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes);
}  // namespace detail

}  // namespace loco::condense
