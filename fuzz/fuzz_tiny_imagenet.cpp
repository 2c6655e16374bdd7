// The TinyImageNet folder and its JPEG decoding, on a two-class copy of the layout (the reader
// takes the class count from the DatasetInfo it is given). The first byte picks the file the
// rest becomes: 0 a train JPEG, 1 the validation JPEG, 2 val_annotations.txt, 3 wnids.txt.
#include <filesystem>
#include <string>
#include <vector>

#include "condense/data/dataset.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/tiny_jpeg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  using loco::fuzz::write_file;
  if (size == 0) return 0;
  static const std::string root = [] {
    const std::string d = loco::fuzz::scratch_dir() + "/tiny-imagenet-200";
    const std::vector<uint8_t> jpeg = loco::fuzz::tiny_jpeg(5);
    for (const char* w : {"n01", "n02"}) {
      fs::create_directories(d + "/train/" + w + "/images");
      write_file(d + "/train/" + w + "/images/" + w + "_0.JPEG", jpeg.data(), jpeg.size());
    }
    fs::create_directories(d + "/val/images");
    write_file(d + "/val/images/val_0.JPEG", jpeg.data(), jpeg.size());
    write_file(d + "/val/val_annotations.txt", "val_0.JPEG\tn02\t0\t0\t63\t63\n");
    write_file(d + "/wnids.txt", "n01\nn02\n");
    return d;
  }();
  static const std::vector<std::string> files = {root + "/train/n01/images/n01_0.JPEG", root + "/val/images/val_0.JPEG",
                                                 root + "/val/val_annotations.txt", root + "/wnids.txt"};
  static loco::condense::DatasetInfo info = [] {
    loco::condense::DatasetInfo i = loco::condense::dataset_info("TinyImageNet");
    i.classes = 2;
    return i;
  }();
  const std::string& file = files[data[0] % files.size()];
  const std::string valid = file + ".valid";
  std::error_code ec;
  if (!fs::exists(valid, ec)) fs::copy_file(file, valid);
  write_file(file, data + 1, size - 1);
  loco::fuzz::refuse_only_with_loco_errors([&] { loco::condense::read_tiny_imagenet(root, info); });
  fs::copy_file(valid, file, fs::copy_options::overwrite_existing);
  return 0;
}
