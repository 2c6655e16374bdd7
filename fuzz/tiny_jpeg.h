// A valid 64×64 RGB JPEG (a gradient), made with stb_image_write: the TinyImageNet target's
// layout and its seeds. Each fuzz program includes this once, so the implementation is static here.
#pragma once
#include <cstdint>
#include <vector>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace loco::fuzz {

inline std::vector<uint8_t> tiny_jpeg(int shade) {
  std::vector<uint8_t> px(64 * 64 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7 + static_cast<size_t>(shade) * 31) % 256);
  std::vector<uint8_t> out;
  stbi_write_jpg_to_func(
      [](void* ctx, void* d, int n) {
        auto* o = static_cast<std::vector<uint8_t>*>(ctx);
        o->insert(o->end(), static_cast<uint8_t*>(d), static_cast<uint8_t*>(d) + n);
      },
      &out, 64, 64, 3, px.data(), 90);
  return out;
}

}  // namespace loco::fuzz
