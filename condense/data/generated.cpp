// Generated splits (`--generated`): images of a dataset's shape drawn from Philox, for timing
// runs and tests on machines without the dataset's files. Class k owns a template of uniform
// bytes (stream kTemplates + k); image i of a split is (template + noise) / 2 with the noise
// from its own stream, so the result does not depend on the thread count, and a network can
// learn the classes (the templates differ, the noise does not carry the label).
// Shape letters: N images, C channels, H×W image, K classes.
#include "condense/data/dataset.h"

namespace loco::condense {
namespace {

constexpr uint64_t kTemplates = 1u << 30;
constexpr uint64_t kTrainImages = 2ull << 30, kTestImages = 3ull << 30;

std::vector<uint8_t> random_bytes(Generator g, int64_t n) {
  const std::vector<uint32_t> w = g.words((n + 3) / 4);
  std::vector<uint8_t> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) b[static_cast<size_t>(i)] = static_cast<uint8_t>(w[static_cast<size_t>(i / 4)] >> (8 * (i % 4)));
  return b;
}

Dataset generated_split(const DatasetInfo& info, int64_t n, uint64_t seed, uint64_t stream,
                        const std::vector<std::vector<uint8_t>>& templates) {
  LOCO_CHECK(n >= info.classes, info.name, " (generated): ", n, " images cannot hold all ", info.classes, " classes");
  Dataset d = detail::make_split(info, n);
  const int64_t per = info.channels * info.height * info.width;
  uint8_t* x = d.pixels.data<uint8_t>();
  int64_t* y = d.labels.data<int64_t>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % info.classes;
    y[i] = k;
    const std::vector<uint8_t> noise = random_bytes(Generator(seed, stream + static_cast<uint64_t>(i)), per);
    const std::vector<uint8_t>& t = templates[static_cast<size_t>(k)];
    for (int64_t p = 0; p < per; ++p)
      x[i * per + p] = static_cast<uint8_t>((t[static_cast<size_t>(p)] + noise[static_cast<size_t>(p)]) / 2);
  }
  d.name = info.name;
  return d;
}

}  // namespace

DatasetPair generated_dataset(const DatasetInfo& info, int64_t train_n, int64_t test_n, uint64_t seed) {
  const int64_t per = info.channels * info.height * info.width;
  std::vector<std::vector<uint8_t>> templates;
  for (int64_t k = 0; k < info.classes; ++k)
    templates.push_back(random_bytes(Generator(seed, kTemplates + static_cast<uint64_t>(k)), per));
  return {generated_split(info, train_n > 0 ? train_n : info.train_size, seed, kTrainImages, templates),
          generated_split(info, test_n > 0 ? test_n : info.test_size, seed, kTestImages, templates)};
}

}  // namespace loco::condense
