// CIFAR binary batches. The first byte picks the file the rest becomes: bit 0 CIFAR-10 (six
// files, one record each) or CIFAR-100 (two files, one record each), the higher bits which file.
#include <filesystem>
#include <vector>

#include "condense/data/dataset.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  using loco::fuzz::write_file;
  if (size == 0) return 0;
  static const std::vector<std::string> c10 = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                               "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
  static const std::vector<std::string> c100 = {"train.bin", "test.bin"};
  static const std::string root = [] {
    const std::string d = loco::fuzz::scratch_dir() + "/cifar";
    fs::create_directories(d + "/10");
    fs::create_directories(d + "/100");
    std::vector<uint8_t> r10(1 + 3072, 9), r100(2 + 3072, 9);
    r10[0] = 4;
    r100[0] = 3, r100[1] = 17;
    for (const auto& f : c10) write_file(d + "/10/" + f, r10.data(), r10.size());
    for (const auto& f : c100) write_file(d + "/100/" + f, r100.data(), r100.size());
    return d;
  }();
  const bool hundred = data[0] & 1;
  const auto& files = hundred ? c100 : c10;
  const std::string dir = root + (hundred ? "/100" : "/10");
  const std::string file = dir + "/" + files[(data[0] >> 1) % files.size()];
  const std::string valid = file + ".valid";
  std::error_code ec;
  if (!fs::exists(valid, ec)) fs::copy_file(file, valid);
  write_file(file, data + 1, size - 1);
  loco::fuzz::refuse_only_with_loco_errors([&] {
    if (hundred)
      loco::condense::read_cifar100(dir, loco::condense::dataset_info("CIFAR100"));
    else
      loco::condense::read_cifar10(dir, loco::condense::dataset_info("CIFAR10"));
  });
  fs::copy_file(valid, file, fs::copy_options::overwrite_existing);
  return 0;
}
