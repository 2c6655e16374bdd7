// What every figure test asks of a written picture, read from the bytes themselves (no decoder,
// so a test cannot pass by trusting the library that wrote the file): a PNG's signature and its
// IHDR size, an SVG's root element and its size.
#pragma once
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <utility>

namespace loco::testing {

inline std::string file_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// (width, height) from the IHDR chunk, or nothing when the file is not a PNG.
inline std::optional<std::pair<int, int>> png_size(const std::string& p) {
  const std::string b = file_bytes(p);
  static const char kSig[] = "\x89PNG\r\n\x1a\n";
  if (b.size() < 33 || b.compare(0, 8, std::string(kSig, 8)) != 0 || b.compare(12, 4, "IHDR") != 0) return std::nullopt;
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(b[at + i]);
    return static_cast<int>(v);
  };
  if (b.compare(b.size() - 8, 4, "IEND") != 0) return std::nullopt;  // a whole file, not a head
  return std::pair<int, int>{be32(16), be32(20)};
}

// (width, height) of the root <svg> element (cairo writes "…pt" or plain numbers), or nothing
// when the file is not a complete SVG document.
inline std::optional<std::pair<double, double>> svg_size(const std::string& p) {
  const std::string b = file_bytes(p);
  std::smatch m;
  static const std::regex root(R"(<svg[^>]*\swidth="([0-9.]+)(pt|px)?"[^>]*\sheight="([0-9.]+)(pt|px)?")");
  if (b.rfind("<?xml", 0) != 0 || b.find("</svg>") == std::string::npos || !std::regex_search(b, m, root))
    return std::nullopt;
  return std::pair<double, double>{std::stod(m[1]), std::stod(m[3])};
}

}  // namespace loco::testing
