// safetensors loading: the header (length, JSON, dtypes, shapes, offsets) and the data buffer.
#include "engine/io/safetensors.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = loco::fuzz::scratch_dir() + "/input.safetensors";
  loco::fuzz::write_file(path, data, size);
  loco::fuzz::refuse_only_with_loco_errors([&] { loco::load_safetensors(path); });
  return 0;
}
