// safetensors files (the format PyTorch, JAX and numpy read): an 8-byte little-endian header
// length n, n bytes of JSON header padded with spaces to a multiple of 8,
//   {"name": {"dtype": "F32"|"F64"|"I64"|"I32"|"U8", "shape": [..], "data_offsets": [begin, end]},
//    "__metadata__": {"key": "value", ..}}
// then the data buffer, offsets relative to its start. Writes go through write_file_atomic
// (engine/io/atomic_file.h). Reads check every field against the file before allocating.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace loco {

// Writes tensors (any device: copied to the host first) in the given order. Names must be
// unique and not "__metadata__". Throws loco::Error naming path; never leaves a partial file.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

struct SafetensorsEntry {
  DType dtype;
  Shape shape;
};
struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // on the CPU: the ones read
  std::map<std::string, std::string> metadata;
  std::map<std::string, SafetensorsEntry> index;  // every tensor in the file, read or not
};

// Reads a file's header and its tensors (those `wanted` accepts, when given: an expert's
// trajectory holds 51 snapshots and a distillation step needs two). Any malformed input
// (truncation, bad JSON, unknown dtype, offsets outside the data or overlapping, shape not
// matching its byte span) throws loco::Error naming path, whichever tensors are wanted.
SafetensorsFile load_safetensors(const std::string& path,
                                 const std::function<bool(const std::string& name)>& wanted = {});

}  // namespace loco
