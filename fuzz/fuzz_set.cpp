// Synthetic-set loading (loco eval FILE): full-pixel "images" or low-rank factors "A", "B",
// checked against the dataset the metadata names before A·B is reconstructed.
#include "condense/run_dir.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = loco::fuzz::scratch_dir() + "/synset.safetensors";
  loco::fuzz::write_file(path, data, size);
  loco::fuzz::refuse_only_with_loco_errors([&] { loco::condense::load_set(path); });
  return 0;
}
