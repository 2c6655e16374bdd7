// TinyImageNet reader: the official folder layout; JPEGs decoded with libjpeg-turbo, PNGs with
// stb_image.
//   train/<wnid>/images/*.JPEG          500 per class in the official set
//   val/images/*.JPEG + val/val_annotations.txt ("file \t wnid \t x0 \t y0 \t x1 \t y1")
// The validation set is the test split (spec/evaluation.md §5). Class k is the k-th wnid in
// sorted order, as torchvision's ImageFolder numbers the train folders; wnids.txt, when present,
// fixes the set of wnids (every one must have a train folder, and no other folder may). Images
// must be 64×64; grayscale ones are expanded to RGB (stb's req_comp = 3). Decoding runs in
// parallel; the first failure is rethrown after the loop, naming its file.
// Shape letters: N images, C = 3, H×W = 64×64, K = 200 classes.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "condense/data/dataset.h"

#include <jpeglib.h>  // after <cstdio>: it needs FILE

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

// A 64×64 JPEG is a few kB; a file far larger is not one of them.
constexpr uint64_t kMaxImageBytes = 16u << 20;
constexpr uint64_t kMaxTextBytes = 64u << 20;

struct Item {
  std::string path;
  int64_t label;
};

bool is_image_name(const fs::path& p) {
  std::string e = p.extension().string();
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e == ".jpeg" || e == ".jpg" || e == ".png";
}

std::vector<std::string> lines_of(const std::string& path) {
  const std::vector<uint8_t> bytes = detail::read_file(path, kMaxTextBytes);
  std::vector<std::string> out;
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string resolve(const std::string& dir, const DatasetInfo& info) {
  std::error_code ec;
  if (fs::is_directory(fs::path(dir) / "train", ec)) return dir;
  const fs::path sub = fs::path(dir) / "tiny-imagenet-200";
  if (fs::is_directory(sub / "train", ec)) return sub.string();
  LOCO_FAIL(info.name, ": missing ", (fs::path(dir) / "train").string(), " (looked in ", dir, " and ", sub.string(),
            ")");
}

std::vector<std::string> class_wnids(const fs::path& root, const DatasetInfo& info) {
  std::error_code ec;
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(root / "train", ec))
    if (e.is_directory(ec)) folders.push_back(e.path().filename().string());
  LOCO_CHECK(!ec, (root / "train").string(), ": cannot list (", ec.message(), ")");
  std::sort(folders.begin(), folders.end());

  std::vector<std::string> wnids = folders;
  const fs::path list = root / "wnids.txt";
  if (fs::exists(list, ec)) {
    wnids.clear();
    for (const auto& line : lines_of(list.string()))
      if (const std::string w = trim(line); !w.empty()) wnids.push_back(w);
    std::sort(wnids.begin(), wnids.end());
    const auto dup = std::adjacent_find(wnids.begin(), wnids.end());
    LOCO_CHECK(dup == wnids.end(), list.string(), ": wnid ", dup == wnids.end() ? "" : *dup, " is listed twice");
    for (const auto& f : folders)
      LOCO_CHECK(std::binary_search(wnids.begin(), wnids.end(), f), (root / "train" / f).string(),
                 ": a class folder not listed in ", list.string());
    for (const auto& w : wnids)
      LOCO_CHECK(std::binary_search(folders.begin(), folders.end(), w), (root / "train" / w).string(), ": missing (", w,
                 " is listed in ", list.string(), ")");
  }
  LOCO_CHECK(static_cast<int64_t>(wnids.size()) == info.classes, (root / "train").string(), ": ", wnids.size(),
             " classes, expected ", info.classes);
  return wnids;
}

std::vector<Item> train_items(const fs::path& root, const std::vector<std::string>& wnids) {
  std::vector<Item> items;
  for (size_t k = 0; k < wnids.size(); ++k) {
    const fs::path dir = root / "train" / wnids[k] / "images";
    std::error_code ec;
    LOCO_CHECK(fs::is_directory(dir, ec), dir.string(), ": missing");
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file(ec) && is_image_name(e.path())) files.push_back(e.path().string());
    LOCO_CHECK(!ec, dir.string(), ": cannot list (", ec.message(), ")");
    LOCO_CHECK(!files.empty(), dir.string(), ": holds no JPEG images");
    std::sort(files.begin(), files.end());
    for (auto& f : files) items.push_back({std::move(f), static_cast<int64_t>(k)});
  }
  return items;
}

std::vector<Item> val_items(const fs::path& root, const std::vector<std::string>& wnids) {
  const std::string ann = (root / "val" / "val_annotations.txt").string();
  std::map<std::string, int64_t> label_of;
  for (size_t k = 0; k < wnids.size(); ++k) label_of[wnids[k]] = static_cast<int64_t>(k);
  std::vector<Item> items;
  const std::vector<std::string> lines = lines_of(ann);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::istringstream fields(lines[i]);
    std::string file, wnid;
    if (!(fields >> file)) continue;  // blank line
    LOCO_CHECK(static_cast<bool>(fields >> wnid), ann, ": line ", i + 1, " has a file name but no wnid");
    // A name with a path in it would read outside val/images.
    LOCO_CHECK(file.find('/') == std::string::npos && file != "." && file != "..", ann, ": line ", i + 1, ": '", file,
               "' is not a plain file name");
    const auto it = label_of.find(wnid);
    LOCO_CHECK(it != label_of.end(), ann, ": line ", i + 1, ": unknown wnid ", wnid);
    items.push_back({(root / "val" / "images" / file).string(), it->second});
  }
  LOCO_CHECK(!items.empty(), ann, ": lists no images");
  return items;
}

// libjpeg-turbo's errors end in error_exit, which must not return: it jumps back to the decode.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf back;
  char message[JMSG_LENGTH_MAX];
};

// A JPEG into CHW bytes, RGB (grayscale expanded), checked to be width×height. JPEGs go to
// libjpeg-turbo, the decoder OSS-Fuzz keeps fuzzing: Debian's stb_image writes past a table on
// a crafted Huffman segment (found by fuzz/fuzz_tiny_imagenet). No C++ object with a destructor
// lives across the setjmp, so the longjmp skips none.
void decode_jpeg(uint8_t* out, const std::vector<uint8_t>& bytes, const std::string& path, const DatasetInfo& info) {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = [](j_common_ptr c) {
    auto* e = reinterpret_cast<JpegError*>(c->err);
    (*c->err->format_message)(c, e->message);
    std::longjmp(e->back, 1);
  };
  // libjpeg only warns on corrupt data (a file cut short decodes padded with gray): refuse it.
  err.mgr.emit_message = [](j_common_ptr c, int level) {
    if (level < 0) c->err->error_exit(c);
  };
  std::vector<uint8_t> row(static_cast<size_t>(info.width) * 3);  // not touched after setjmp: no indeterminate state
  const char* fault = nullptr;
  int w = 0, h = 0;
  if (setjmp(err.back)) {
    jpeg_destroy_decompress(&cinfo);
    LOCO_FAIL(path, ": not a decodable image (JPEG: ", err.message, ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  w = static_cast<int>(cinfo.image_width);
  h = static_cast<int>(cinfo.image_height);
  if (w != info.width || h != info.height) {
    fault = "size";
  } else {
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const int64_t hw = static_cast<int64_t>(h) * w;
    while (cinfo.output_scanline < cinfo.output_height) {
      const auto y = static_cast<int64_t>(cinfo.output_scanline);
      JSAMPROW r = row.data();
      jpeg_read_scanlines(&cinfo, &r, 1);
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t x = 0; x < w; ++x) out[c * hw + y * w + x] = row[static_cast<size_t>(x * 3 + c)];
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  LOCO_CHECK(!fault, path, ": image is ", w, "×", h, ", expected ", info.width, "×", info.height);
}

// Decodes one image into CHW bytes: JPEG by its magic, anything else (PNG) by stb_image.
void decode_into(uint8_t* out, const Item& item, const DatasetInfo& info) {
  const std::vector<uint8_t> bytes = detail::read_file(item.path, kMaxImageBytes);
  LOCO_CHECK(bytes.size() <= static_cast<size_t>(INT32_MAX), item.path, ": too large");
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decode_jpeg(out, bytes, item.path, info);
  const auto* p = bytes.data();
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  LOCO_CHECK(stbi_info_from_memory(p, len, &w, &h, &comp), item.path, ": not a decodable image (",
             stbi_failure_reason(), ")");
  LOCO_CHECK(w == info.width && h == info.height, item.path, ": image is ", w, "×", h, ", expected ", info.width, "×",
             info.height);
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(p, len, &w, &h, &comp, 3), &stbi_image_free);
  LOCO_CHECK(px, item.path, ": not a decodable image (", stbi_failure_reason(), ")");
  const int64_t hw = static_cast<int64_t>(h) * w;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < hw; ++i) out[c * hw + i] = px.get()[i * 3 + c];
}

Dataset decode_all(const std::vector<Item>& items, const DatasetInfo& info) {
  const auto n = static_cast<int64_t>(items.size());
  Dataset d = detail::make_split(info, n);
  uint8_t* x = d.pixels.data<uint8_t>();
  int64_t* lab = d.labels.data<int64_t>();
  const int64_t per = info.channels * info.height * info.width;
  std::mutex m;
  std::string first_error;
  int64_t first_at = n;
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < n; ++i) {
    try {
      decode_into(x + i * per, items[static_cast<size_t>(i)], info);
      lab[i] = items[static_cast<size_t>(i)].label;
    } catch (const std::exception& e) {
      // Keep the lowest index, so the error does not depend on thread timing.
      std::lock_guard<std::mutex> lock(m);
      if (i < first_at) first_at = i, first_error = e.what();
    }
  }
  if (first_at < n) throw Error(first_error);
  return d;
}

}  // namespace

DatasetPair read_tiny_imagenet(const std::string& dir, const DatasetInfo& info) {
  LOCO_CHECK(info.channels == 3, info.name, ": TinyImageNet images are RGB, not ", info.channels, " channels");
  const fs::path root = resolve(dir, info);
  const std::vector<std::string> wnids = class_wnids(root, info);
  const std::vector<Item> train = train_items(root, wnids);
  const std::vector<Item> val = val_items(root, wnids);
  return {decode_all(train, info), decode_all(val, info)};
}

}  // namespace loco::condense
