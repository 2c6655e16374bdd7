// safetensors reader and writer (engine/io/safetensors.h). The reader trusts nothing in the
// file: every length is checked against the file size before anything is allocated, so a
// corrupt header costs an error message, not a crash or a huge allocation.
#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/io/atomic_file.h"

namespace loco {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so must the host be");

using Json = nlohmann::json;
constexpr const char* kMetadataKey = "__metadata__";
// The reference implementation's limit; a larger header is a corrupt length, not a real file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::i32: return "I32";
    case DType::u8: return "U8";
  }
  return "?";
}

bool st_dtype_parse(const std::string& s, DType& t) {
  for (DType d : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8})
    if (s == st_dtype_name(d)) {
      t = d;
      return true;
    }
  return false;
}

// A non-negative JSON integer that fits in int64 (shapes and offsets), or false.
bool as_index(const Json& j, uint64_t& v) {
  if (!j.is_number_unsigned()) return false;
  v = j.get<uint64_t>();
  return v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& path, const std::string& name, const Json& j, uint64_t data_bytes) {
  auto bad = [&](const auto&... what) { LOCO_FAIL("load_safetensors: ", path, ": tensor '", name, "': ", what...); };
  if (!j.is_object()) bad("expected an object with dtype, shape and data_offsets, got ", j.type_name());
  Entry e{name, DType::f32, {}, 0, 0};

  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) bad("missing or non-string \"dtype\"");
  if (!st_dtype_parse(dt->get<std::string>(), e.dtype))
    bad("unsupported dtype \"", dt->get<std::string>(), "\" (loco reads F32, F64, I64, I32, U8)");

  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) bad("missing or non-array \"shape\"");
  std::vector<int64_t> dims;
  // numel × dtype size is bounded by data_bytes as it grows, so the product cannot overflow.
  uint64_t numel = 1;
  bool too_big = false;
  for (const Json& d : *sh) {
    uint64_t v = 0;
    if (!as_index(d, v)) bad("shape ", sh->dump(), " holds something that is not a non-negative integer");
    dims.push_back(static_cast<int64_t>(v));
    if (v == 0) numel = 0;
    else if (!too_big && numel > data_bytes / v) too_big = true;
    else if (!too_big) numel *= v;
  }
  e.shape = Shape(std::move(dims));

  auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2 || !as_index((*off)[0], e.begin) ||
      !as_index((*off)[1], e.end))
    bad("\"data_offsets\" must be [begin, end] with non-negative integers");
  if (e.begin > e.end) bad("data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  if (e.end > data_bytes)
    bad("data_offsets [", e.begin, ", ", e.end, "] run past the data buffer (", data_bytes, " bytes)");
  const uint64_t span = e.end - e.begin;
  if (numel != 0 && (too_big || numel > span / dtype_size(e.dtype) || numel * dtype_size(e.dtype) != span))
    bad("shape ", e.shape, " of ", st_dtype_name(e.dtype), " does not fill data_offsets [", e.begin, ", ", e.end,
        "] (", span, " bytes)");
  if (numel == 0 && span != 0) bad("an empty shape ", e.shape, " with ", span, " bytes of data");
  return e;
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<Tensor> host;
  host.reserve(tensors.size());
  std::set<std::string> names;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LOCO_CHECK(name != kMetadataKey, "save_safetensors: ", path, ": \"", kMetadataKey, "\" is reserved, not a tensor name");
    LOCO_CHECK(names.insert(name).second, "save_safetensors: ", path, ": tensor name '", name, "' appears twice");
    LOCO_CHECK(t.defined(), "save_safetensors: ", path, ": tensor '", name, "' is undefined");
    host.push_back(t.to(Device::cpu));
    const uint64_t bytes = t.nbytes();
    header[name] = {{"dtype", st_dtype_name(t.dtype())}, {"shape", t.shape().dims()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    LOCO_FAIL("save_safetensors: ", path, ": cannot encode the header (", e.what(), ")");
  }
  text.resize((text.size() + 7) / 8 * 8, ' ');  // data starts 8-aligned, as the spec recommends
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  write_file_atomic(path, [&](FileSink& out) {
    out.write(len, 8);
    out.write(text);
    for (const Tensor& t : host) out.write(t.raw(), t.nbytes());
  });
}

SafetensorsFile load_safetensors(const std::string& path, const std::function<bool(const std::string&)>& wanted) {
  auto bad = [&](const auto&... what) { LOCO_FAIL("load_safetensors: ", path, ": ", what...); };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) bad("no such file (or not a regular file)");
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (ec) bad("cannot read its size (", ec.message(), ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) bad("cannot open (", std::strerror(errno), ")");
  auto read_at = [&](uint64_t pos, void* dst, uint64_t n, const char* what) {
    in.seekg(static_cast<std::streamoff>(pos));
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!in || static_cast<uint64_t>(in.gcount()) != n) bad("short read of ", what, " (", n, " bytes at ", pos, ")");
  };

  if (file_bytes < 8) bad("the file is ", file_bytes, " bytes, too short for the 8-byte header length");
  uint8_t len[8];
  read_at(0, len, 8, "the header length");
  uint64_t header_bytes = 0;
  for (int i = 0; i < 8; ++i) header_bytes |= static_cast<uint64_t>(len[i]) << (8 * i);
  if (header_bytes > file_bytes - 8)
    bad("header length ", header_bytes, " runs past the end of the file (", file_bytes, " bytes): truncated or not safetensors");
  if (header_bytes > kMaxHeaderBytes) bad("header length ", header_bytes, " is over the ", kMaxHeaderBytes, "-byte limit");
  if (header_bytes < 2) bad("header length ", header_bytes, " is too short for a JSON object");
  std::string text(header_bytes, '\0');
  read_at(8, text.data(), header_bytes, "the header");
  const uint64_t data_start = 8 + header_bytes;
  const uint64_t data_bytes = file_bytes - data_start;

  Json header;
  try {
    header = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad("the header is not valid JSON (", e.what(), ")");
  }
  if (!header.is_object()) bad("the header is a JSON ", header.type_name(), ", not an object");

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      if (!value.is_object()) bad("\"", kMetadataKey, "\" must be an object of strings, got ", value.type_name());
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) bad("metadata \"", k, "\" is a ", v.type_name(), ", not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value, data_bytes));
  }

  // Empty tensors occupy no bytes, so they may sit anywhere; the rest must not share a byte.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& a = *by_offset[i - 1];
    const Entry& b = *by_offset[i];
    if (b.begin < a.end)
      bad("tensors '", a.name, "' [", a.begin, ", ", a.end, ") and '", b.name, "' [", b.begin, ", ", b.end, ") overlap");
  }

  for (const Entry& e : entries) {
    out.index.emplace(e.name, SafetensorsEntry{e.dtype, e.shape});
    if (wanted && !wanted(e.name)) continue;
    Tensor t = empty(e.shape, e.dtype, Device::cpu);
    if (e.end > e.begin) read_at(data_start + e.begin, t.raw(), e.end - e.begin, ("tensor '" + e.name + "'").c_str());
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace loco
