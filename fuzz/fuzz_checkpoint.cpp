// Checkpoint loading (loco condense --resume): a LoDM run's parameters, momentum buffers and
// metadata (config, data fingerprint, iterations done, seconds) restored into a live set.
#include "condense/driver.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/fuzz_runs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static loco::fuzz::TinyRun run("lodm");
  static const std::string path = loco::fuzz::scratch_dir() + "/checkpoint.safetensors";
  loco::fuzz::write_file(path, data, size);
  loco::fuzz::refuse_only_with_loco_errors([&] {
    double seconds = 0;
    loco::condense::restore_checkpoint(path, run.config, run.fingerprint, run.job, seconds);
  });
  return 0;
}
