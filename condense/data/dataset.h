// Datasets in memory: one split is all its images as f32 [N, C, H, W], normalised per channel
// ((x/255 − mean)/std, spec/condensation.md §1), with i64 labels [N]. Readers of the official
// formats live one per file: idx.cpp (MNIST, Fashion-MNIST), cifar.cpp (CIFAR-10/100 binary),
// tiny_imagenet.cpp (JPEG folders). Every reader checks what it reads (magic numbers, sizes,
// label ranges, image sizes) and throws loco::Error naming the file and what was wrong; no
// allocation is sized by a header field before the file has shown it holds that much.
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
};

// Case-insensitive, '-' and '_' ignored ("fashion-mnist", "FMNIST", "cifar_10", "tiny").
// Throws loco::Error listing the known names.
const DatasetInfo& dataset_info(const std::string& name);
std::vector<std::string> dataset_names();

struct Dataset {  // one split, in memory, normalised
  std::string name;
  Tensor images;  // f32 [N, C, H, W]
  Tensor labels;  // i64 [N], each in [0, classes)
  int64_t classes = 0;
  std::vector<float> mean, std;

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};
struct DatasetPair {
  Dataset train, test;
};

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

// Per-class row lists for class-balanced random batches.
class ClassIndex {
 public:
  // labels: i64 [N] on any device, each in [0, classes).
  ClassIndex(const Tensor& labels, int64_t classes);
  int64_t classes() const { return static_cast<int64_t>(rows_.size()); }
  // The rows of class c, ascending.
  const std::vector<int64_t>& rows(int64_t c) const;
  // min(n, |class c|) rows of class c drawn uniformly without replacement, in draw order; a
  // fresh draw every call (the reference's get_images: a new permutation, its first n).
  std::vector<int64_t> sample(int64_t c, int64_t n, Generator& g) const;

 private:
  std::vector<std::vector<int64_t>> rows_;
};

// An i64 [n] index tensor for gather_rows (engine/ops/layout.h).
Tensor index_tensor(const std::vector<int64_t>& rows, Device d = Device::cpu);

namespace detail {
// out[i] = (in[i]/255 − mean[c])/std[c] for one CHW image's channel c plane of hw pixels, in
// f32 exactly as PyTorch's ToTensor + Normalize compute it.
struct Normaliser {
  explicit Normaliser(const DatasetInfo& info);
  void plane(float* out, const uint8_t* in, int64_t hw, int64_t c) const;
  // One image's bytes interleaved HWC (as decoders give them) to normalised CHW.
  void hwc_image(float* out, const uint8_t* in, int64_t h, int64_t w, int64_t channels) const;
  std::vector<std::vector<float>> lut;  // [C][256]
};
// An empty split of the dataset's image shape, for readers to fill: images [n, C, H, W].
Dataset make_split(const DatasetInfo& info, int64_t n);
// The whole of a plain file; throws naming it when it is missing, unreadable or over max_bytes.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes);
}  // namespace detail

}  // namespace loco::condense
