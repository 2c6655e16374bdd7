// File IO (engine/io): safetensors round trips for every dtype, the byte layout the spec
// prescribes (checked with an independent JSON parse), corrupt and truncated files that must
// each give a loco::Error naming the file, atomic writes (no temporary left, nothing written on
// failure). PNG grids are the figure layer's (tests/tools/figure_test.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"
#include "tests/harness/scratch_dir.h"

namespace loco {
namespace {

namespace fs = std::filesystem;

class IoTest : public testing::ScratchDirTest {
 protected:
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root())) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
// A file by hand: length, header text as given (padded to 8 with spaces), data.
std::string make_file(std::string header, const std::string& data) {
  header.resize((header.size() + 7) / 8 * 8, ' ');
  return le64(header.size()) + header + data;
}

// Loading p must throw a loco::Error that names p and mentions `what`.
void expect_load_error(const std::string& p, const std::string& what, const std::string& label) {
  try {
    load_safetensors(p);
    ADD_FAILURE() << label << ": loaded without an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p), std::string::npos) << label << ": message does not name the file: " << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << label << ": message does not say '" << what << "': " << msg;
  }
}

template <class T> void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  ASSERT_EQ(got.dtype(), want.dtype()) << name;
  ASSERT_EQ(got.shape(), want.shape()) << name;
  EXPECT_EQ(got.device(), Device::cpu) << name;
  EXPECT_EQ(got.to_vector<T>(), want.to_vector<T>()) << name;
}

std::vector<std::pair<std::string, Tensor>> every_dtype() {
  return {
      {"weights", from_vector<float>({1.5f, -2.25f, 3.0e-8f, 1e30f, -0.0f, 7.0f}, Shape{2, 3})},
      {"f64", from_vector<double>({3.141592653589793, -1e-300, 2.0, 0.1}, Shape{4})},
      {"labels", from_vector<int64_t>({-1, 0, int64_t{1} << 40}, Shape{3})},
      {"i32", from_vector<int32_t>({-7, 8, 2147483647, -2147483647 - 1}, Shape{2, 2})},
      {"bytes", from_vector<uint8_t>({0, 1, 127, 128, 255}, Shape{5})},
      {"scalar", from_vector<float>({0.5f}, Shape{})},
      {"empty", zeros(Shape{0, 3})},
  };
}

TEST_F(IoTest, SafetensorsRoundTripsEveryDtypeAndMetadata) {
  const auto tensors = every_dtype();
  const std::map<std::string, std::string> meta = {{"method", "LoDM"}, {"rank", "4"}, {"note", "größe \"quoted\""}};
  save_safetensors(path("a.safetensors"), tensors, meta);
  SafetensorsFile f = load_safetensors(path("a.safetensors"));
  EXPECT_EQ(f.metadata, meta);
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (const auto& [name, want] : tensors) {
    ASSERT_TRUE(f.tensors.count(name)) << name;
    const Tensor& got = f.tensors.at(name);
    switch (want.dtype()) {
      case DType::f32: expect_same<float>(got, want, name); break;
      case DType::f64: expect_same<double>(got, want, name); break;
      case DType::i64: expect_same<int64_t>(got, want, name); break;
      case DType::i32: expect_same<int32_t>(got, want, name); break;
      case DType::u8: expect_same<uint8_t>(got, want, name); break;
    }
  }
  EXPECT_EQ(f.tensors.at("scalar").ndim(), 0);
}

TEST_F(IoTest, SafetensorsWithoutMetadataOrTensors) {
  save_safetensors(path("none.safetensors"), {});
  SafetensorsFile f = load_safetensors(path("none.safetensors"));
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
}

TEST_F(IoTest, SafetensorsFileFollowsTheSpec) {
  Tensor a = from_vector<float>({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, Shape{2, 3});
  Tensor b = from_vector<int64_t>({42}, Shape{});
  save_safetensors(path("s.safetensors"), {{"a", a}, {"b", b}}, {{"k", "v"}});
  const std::string bytes = read_bytes(path("s.safetensors"));
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[static_cast<size_t>(i)])) << (8 * i);
  EXPECT_EQ(n % 8, 0u) << "the data should start 8-aligned";
  ASSERT_EQ(bytes.size(), 8 + n + 6 * 4 + 8) << "length + header + 24 bytes of a + 8 of b";
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_last_not_of(' ') + 1, header.find_last_of('}') + 1) << "only spaces after the JSON";
  const auto j = nlohmann::json::parse(header);
  EXPECT_EQ(j["__metadata__"], nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(j["a"]["dtype"], "F32");
  EXPECT_EQ(j["a"]["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(j["b"]["dtype"], "I64");
  EXPECT_EQ(j["b"]["shape"], nlohmann::json::array());
  const auto oa = j["a"]["data_offsets"].get<std::vector<uint64_t>>();
  const auto ob = j["b"]["data_offsets"].get<std::vector<uint64_t>>();
  ASSERT_EQ(oa, (std::vector<uint64_t>{0, 24}));
  ASSERT_EQ(ob, (std::vector<uint64_t>{24, 32}));
  float af[6];
  std::memcpy(af, bytes.data() + 8 + n, sizeof af);
  EXPECT_EQ(std::vector<float>(af, af + 6), a.to_vector<float>());
  int64_t bv = 0;
  std::memcpy(&bv, bytes.data() + 8 + n + 24, 8);
  EXPECT_EQ(bv, 42);
}

TEST_F(IoTest, SafetensorsReadsAHandWrittenFile) {
  // As another writer might lay it out: no metadata, tensors out of order, a hole-free buffer.
  std::string data(12, '\0');
  const int32_t v[3] = {5, -6, 7};
  std::memcpy(data.data(), v, 12);
  write_bytes(path("h.safetensors"),
              make_file(R"({"y":{"dtype":"I32","shape":[2],"data_offsets":[4,12]},"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                        data));
  SafetensorsFile f = load_safetensors(path("h.safetensors"));
  EXPECT_EQ(f.tensors.at("x").to_vector<int32_t>(), (std::vector<int32_t>{5}));
  EXPECT_EQ(f.tensors.at("y").to_vector<int32_t>(), (std::vector<int32_t>{-6, 7}));
}

TEST_F(IoTest, SafetensorsTruncatedFilesThrow) {
  save_safetensors(path("good.safetensors"), every_dtype(), {{"k", "v"}});
  const std::string bytes = read_bytes(path("good.safetensors"));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[static_cast<size_t>(i)])) << (8 * i);
  for (size_t cut : {size_t{0}, size_t{5}, size_t{8}, static_cast<size_t>(8 + n / 2), static_cast<size_t>(8 + n),
                     static_cast<size_t>(8 + n + 5), bytes.size() - 1}) {
    write_bytes(path("cut.safetensors"), bytes.substr(0, cut));
    expect_load_error(path("cut.safetensors"), "", "cut at " + std::to_string(cut));
  }
}

TEST_F(IoTest, SafetensorsCorruptFilesThrowNamingTheFileAndTheFault) {
  const std::string p = path("bad.safetensors");
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data(8, '\0');
  auto check = [&](const std::string& bytes, const std::string& what, const std::string& label) {
    write_bytes(p, bytes);
    expect_load_error(p, what, label);
  };
  write_bytes(p, make_file("{" + ok_entry + "}", data));
  ASSERT_NO_THROW(load_safetensors(p)) << "the uncorrupted base case must load";

  expect_load_error(path("missing.safetensors"), "no such file", "missing file");
  check(le64(1000) + "{}      ", "runs past the end", "header length larger than the file");
  check(le64(uint64_t{1} << 62) + "{}      ", "runs past the end", "absurd header length");
  check(make_file("{not json", data), "not valid JSON", "bad JSON");
  check(make_file("[1,2]", data), "not an object", "header is an array");
  check(make_file(R"({"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", data), "BF16", "unknown dtype");
  check(make_file(R"({"t":{"shape":[2],"data_offsets":[0,8]}})", data), "dtype", "missing dtype");
  check(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,1000]}})", data), "run past the data",
        "offsets out of range");
  check(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,4]}})", data), "end before", "begin > end");
  check(make_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data), "does not fill",
        "shape larger than the offsets");
  check(make_file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", data), "does not fill",
        "shape smaller than the offsets");
  check(make_file(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", data),
        "does not fill", "shape whose element count overflows");
  check(make_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data), "non-negative integer",
        "negative dim");
  check(make_file(R"({"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data), "non-negative integer",
        "fractional dim");
  check(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data), "data_offsets",
        "one offset");
  check(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  data),
        "overlap", "overlapping tensors");
  check(make_file(R"({"__metadata__":{"k":3},)" + ok_entry + "}", data), "not a string", "metadata not strings");
  check(make_file(R"({"__metadata__":[1],)" + ok_entry + "}", data), "__metadata__", "metadata not an object");
}

TEST_F(IoTest, SafetensorsSaveLeavesNoTemporaryAndReplacesAtomically) {
  const std::string p = path("out.safetensors");
  save_safetensors(p, {{"x", full(Shape{3}, 1.0)}});
  EXPECT_EQ(listing(), std::vector<std::string>{"out.safetensors"});
  save_safetensors(p, {{"x", full(Shape{3}, 2.0)}});
  EXPECT_EQ(listing(), std::vector<std::string>{"out.safetensors"});
  EXPECT_EQ(load_safetensors(p).tensors.at("x").to_vector<float>(), (std::vector<float>{2.0f, 2.0f, 2.0f}));

  // A save that fails keeps the previous file whole.
  EXPECT_THROW(save_safetensors(p, {{"x", full(Shape{3}, 3.0)}, {"x", full(Shape{1}, 3.0)}}), Error);
  EXPECT_THROW(save_safetensors(p, {{"__metadata__", full(Shape{1}, 3.0)}}), Error);
  EXPECT_THROW(save_safetensors(p, {{"u", Tensor()}}), Error);
  EXPECT_EQ(listing(), std::vector<std::string>{"out.safetensors"});
  EXPECT_EQ(load_safetensors(p).tensors.at("x").to_vector<float>(), (std::vector<float>{2.0f, 2.0f, 2.0f}));
}

TEST_F(IoTest, SafetensorsSaveIntoAMissingDirectoryThrowsAndLeavesNothing) {
  const std::string p = path("no_such_dir/out.safetensors");
  try {
    save_safetensors(p, {{"x", full(Shape{3}, 1.0)}});
    ADD_FAILURE() << "saved into a directory that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path("no_such_dir")));
  EXPECT_TRUE(listing().empty());
}

TEST_F(IoTest, SafetensorsSavesCudaTensorsThroughTheHost) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  Tensor x = from_vector<float>({1.0f, -2.0f, 3.5f}, Shape{3}, Device::cuda);
  save_safetensors(path("cuda.safetensors"), {{"x", x}});
  Tensor y = load_safetensors(path("cuda.safetensors")).tensors.at("x");
  EXPECT_EQ(y.device(), Device::cpu);
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
}

}  // namespace
}  // namespace loco
