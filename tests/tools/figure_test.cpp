// The figure layer (tools/figure.h) and set grids (tools/set_grid.h): pictures decoded back
// with cairo and checked pixel by pixel against a naive reference (de-normalisation, layout,
// nearest-neighbour upscale); files checked as PNG and SVG by their own bytes; bad input named.
#include <gtest/gtest.h>

#include <cairo.h>

#include <cmath>
#include <filesystem>

#include "engine/tensor.h"
#include "tests/harness/figure_check.h"
#include "tests/harness/scratch_dir.h"
#include "tools/figure.h"
#include "tools/set_grid.h"

namespace loco {
namespace {

namespace fs = std::filesystem;
using testing::png_size;
using testing::svg_size;

class FigureTest : public testing::ScratchDirTest {
 protected:
  size_t files() const { return static_cast<size_t>(std::distance(fs::directory_iterator(root()), {})); }
};

// A decoded PNG: RGB of each pixel.
struct Decoded {
  int w = 0, h = 0;
  std::vector<uint32_t> px;  // 0xRRGGBB
  uint32_t at(int r, int q) const { return px[static_cast<size_t>(r * w + q)]; }
};
Decoded decode(const std::string& p) {
  Decoded d;
  cairo_surface_t* s = cairo_image_surface_create_from_png(p.c_str());
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    ADD_FAILURE() << "cairo cannot decode " << p;
    cairo_surface_destroy(s);
    return d;
  }
  d.w = cairo_image_surface_get_width(s), d.h = cairo_image_surface_get_height(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int r = 0; r < d.h; ++r)
    for (int q = 0; q < d.w; ++q)
      d.px.push_back(reinterpret_cast<const uint32_t*>(data + static_cast<ptrdiff_t>(r) * stride)[q] & 0xffffff);
  cairo_surface_destroy(s);
  return d;
}
uint32_t grey(uint8_t v) { return uint32_t{v} << 16 | uint32_t{v} << 8 | v; }

// The naive reference: the 8-bit value shown for normalised x.
uint8_t expected_byte(float x, float mean, float stdev) {
  double v = static_cast<double>(x) * stdev + mean;
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  return static_cast<uint8_t>(std::floor(v * 255 + 0.5));
}

TEST(SetGrid, DisplayBytesDenormaliseAndClamp) {
  // By hand: 9 and 3.9 saturate, −9 clamps to 0; −0.3 → 0.5 − 0.075 = 0.425 → 108.4 → 108;
  // 1.5 → 0.875 → 223.1 → 223; NaN shows as black.
  EXPECT_EQ(cli::display_byte(9.0f, 0.5f, 0.25f), 255);
  EXPECT_EQ(cli::display_byte(3.9f, 0.5f, 0.25f), 255);
  EXPECT_EQ(cli::display_byte(-9.0f, 0.5f, 0.25f), 0);
  EXPECT_EQ(cli::display_byte(-0.3f, 0.5f, 0.25f), 108);
  EXPECT_EQ(cli::display_byte(1.5f, 0.5f, 0.25f), 223);
  EXPECT_EQ(cli::display_byte(NAN, 0.5f, 0.25f), 0);
  // CIFAR-10's channels at 0 show their means (125, 123, 114), at +1 mean + std (177, 174, 165).
  const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, stdev[3] = {0.2023f, 0.1994f, 0.2010f};
  const uint8_t at0[3] = {125, 123, 114}, at1[3] = {177, 174, 165};
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(cli::display_byte(0.0f, mean[c], stdev[c]), at0[c]);
    EXPECT_EQ(cli::display_byte(1.0f, mean[c], stdev[c]), at1[c]);
    for (float x : {-3.0f, -0.7f, 0.2f, 2.2f}) EXPECT_EQ(cli::display_byte(x, mean[c], stdev[c]), expected_byte(x, mean[c], stdev[c]));
  }
}

TEST_F(FigureTest, ImageGridLaysOutAndUpscalesEveryPixel) {
  // Five 2×3 grey pictures in a 2×3 grid at scale 2, gap 1: every pixel of the PNG against the
  // layout by hand (cell (r, q) at gap + q·(2·3 + gap), gap + r·(2·2 + gap)); the sixth cell blank.
  figure::ImageGrid g{.rows = 2, .cols = 3, .scale = 2, .gap = 1};
  for (int i = 0; i < 5; ++i) {
    figure::Picture p{3, 2, 1, {}};
    for (int k = 0; k < 6; ++k) p.pixels.push_back(static_cast<uint8_t>(40 * i + 7 * k));
    g.cells.push_back(p);
  }
  figure::save_image_grid(g, {.png = path("g.png")});
  const Decoded d = decode(path("g.png"));
  ASSERT_EQ(d.w, 3 * (6 + 1) + 1);
  ASSERT_EQ(d.h, 2 * (4 + 1) + 1);
  EXPECT_EQ(figure::image_grid_size(g), (std::pair<int, int>{d.w, d.h}));
  int inside = 0;
  for (int r = 0; r < d.h; ++r)
    for (int q = 0; q < d.w; ++q) {
      const int cr = (r - 1) / 5, cq = (q - 1) / 7, ir = (r - 1) % 5, iq = (q - 1) % 7;
      const int i = cr * 3 + cq;
      const bool in = r >= 1 && q >= 1 && ir < 4 && iq < 6 && i < 5;
      const uint32_t want = in ? grey(static_cast<uint8_t>(40 * i + 7 * ((ir / 2) * 3 + iq / 2))) : 0xffffff;
      ASSERT_EQ(d.at(r, q), want) << "pixel (" << r << ", " << q << ")";
      inside += in;
    }
  EXPECT_EQ(inside, 5 * 24);
}

TEST_F(FigureTest, RgbGridKeepsChannels) {
  figure::ImageGrid g{.rows = 1, .cols = 1, .scale = 1, .gap = 2};
  g.cells.push_back({2, 1, 3, {10, 20, 30, 200, 100, 0}});
  figure::save_image_grid(g, {.png = path("rgb.png"), .svg = path("rgb.svg")});
  const Decoded d = decode(path("rgb.png"));
  ASSERT_EQ(d.w, 6);
  EXPECT_EQ(d.at(2, 2), 0x0a141eu);
  EXPECT_EQ(d.at(2, 3), 0xc86400u);
  EXPECT_EQ(d.at(0, 0), 0xffffffu);
  const auto s = svg_size(path("rgb.svg"));
  ASSERT_TRUE(s) << testing::file_bytes(path("rgb.svg")).substr(0, 300);
  EXPECT_DOUBLE_EQ(s->first, 6);
  EXPECT_DOUBLE_EQ(s->second, 5);
}

TEST_F(FigureTest, SetGridPutsClassesInRowsWithNamesAndReadableRows) {
  // Fashion-MNIST-shaped: 3 images of class 2, 1 of class 0; rows are the 10 classes.
  const condense::DatasetInfo& info = condense::dataset_info("FashionMNIST");
  std::vector<float> x(4 * 784);
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 784; ++k) x[static_cast<size_t>(i * 784 + k)] = static_cast<float>(i) - 1.5f;
  const Tensor images = from_vector(x, Shape{4, 1, 28, 28});
  const Tensor labels = from_vector<int64_t>({2, 0, 2, 2}, Shape{4});
  const figure::ImageGrid g = cli::set_grid(images, labels, info, info.mean, info.std);
  EXPECT_EQ(g.rows, 10);
  EXPECT_EQ(g.cols, 3);
  EXPECT_GE(g.scale * 28, 256) << "rows of small images are upscaled to at least 256 pixels";
  EXPECT_EQ(g.scale, 10);
  ASSERT_EQ(g.row_labels.size(), 10u);
  EXPECT_EQ(g.row_labels[0], "T-shirt/top");
  EXPECT_EQ(g.row_labels[9], "Ankle boot");
  EXPECT_FALSE(g.cells[0].pixels.empty());  // class 0: image 1
  EXPECT_EQ(g.cells[0].pixels[0], expected_byte(-0.5f, info.mean[0], info.std[0]));
  EXPECT_TRUE(g.cells[1].pixels.empty());
  EXPECT_EQ(g.cells[6].pixels[0], expected_byte(-1.5f, info.mean[0], info.std[0]));  // class 2: images 0, 2, 3
  EXPECT_EQ(g.cells[8].pixels[0], expected_byte(1.5f, info.mean[0], info.std[0]));

  cli::save_set_grid(path("grid.png"), images, labels, info, info.mean, info.std);
  const auto size = png_size(path("grid.png"));
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, figure::image_grid_size(g));
  // The names are drawn: dark pixels left of the first cell, in class 0's row.
  const Decoded d = decode(path("grid.png"));
  const int left = d.w - 3 * (280 + g.gap) - g.gap;
  ASSERT_GT(left, 40) << "room for the class names";
  int dark = 0;
  for (int r = g.gap; r < g.gap + 280; ++r)
    for (int q = 0; q < left; ++q) dark += (d.at(r, q) & 0xff) < 128;
  EXPECT_GT(dark, 20);
}

TEST(SetGrid, LargeSetsShrinkTheScaleToFit) {
  // CIFAR-100's 100 rows of 32 images: the upscale drops until the picture fits.
  const condense::DatasetInfo& info = condense::dataset_info("CIFAR100");
  std::vector<int64_t> y;
  for (int64_t k = 0; k < 100; ++k)
    for (int j = 0; j < 32; ++j) y.push_back(k);
  const Tensor images = zeros(Shape{3200, 3, 32, 32});
  const figure::ImageGrid g = cli::set_grid(images, from_vector(y, Shape{3200}), info, info.mean, info.std);
  const auto [w, h] = figure::image_grid_size(g);
  EXPECT_LE(static_cast<int64_t>(w) * h, 41'000'000);
  EXPECT_LE(h, figure::kMaxSide);
  EXPECT_GE(g.scale, 1);
  EXPECT_EQ(g.row_labels[99], "99") << "CIFAR-100 classes are named by index";
}

TEST_F(FigureTest, LinePlotsWritePngAndSvgOfTheStatedSize) {
  figure::LinePlot acc{.title = "accuracy", .x_label = "iteration", .y_label = "accuracy (%)"};
  acc.series.push_back({"dm", {0, 10, 20}, {40, 60, 70}, {2, 1.5, 1}});
  acc.series.push_back({"lodm", {0, 10, 20}, {45, 66, 75}, {}});
  figure::LinePlot loss{.title = "loss", .x_label = "iteration", .y_label = "loss", .log_y = true};
  loss.series.push_back({"dm", {0, 1, 2, 3}, {10, 1, 0.1, 0}, {}});  // 0 is left out on a log axis
  figure::save_line_plots({acc, loss}, {.png = path("p.png"), .svg = path("p.svg")}, 500, 300);
  EXPECT_EQ(png_size(path("p.png")), (std::pair<int, int>{1000, 300}));
  const auto s = svg_size(path("p.svg"));
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->first, 1000);
  EXPECT_DOUBLE_EQ(s->second, 300);
  EXPECT_EQ(files(), 2u) << "no temporaries left";
  // Something was drawn in the colours of the lines (tab10 blue and red).
  const Decoded d = decode(path("p.png"));
  int blue = 0, red = 0;
  for (uint32_t p : d.px) blue += p == 0x1f77b4, red += p == 0xd62728;
  EXPECT_GT(blue, 50);
  EXPECT_GT(red, 50);
}

TEST_F(FigureTest, BadInputIsNamedAndWritesNothing) {
  auto expect_error = [&](auto&& call, const std::string& what) {
    try {
      call();
      ADD_FAILURE() << what << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  figure::LinePlot empty{.title = "nothing here"};
  expect_error([&] { figure::save_line_plots({empty}, {.png = path("e.png")}); }, "nothing here");
  figure::LinePlot bad{.title = "t"};
  bad.series.push_back({"short", {1, 2}, {1}, {}});
  expect_error([&] { figure::save_line_plots({bad}, {.png = path("e.png")}); }, "short");
  figure::ImageGrid g{.rows = 1, .cols = 2};
  g.cells.push_back({2, 2, 1, std::vector<uint8_t>(4, 0)});
  g.cells.push_back({3, 2, 1, std::vector<uint8_t>(6, 0)});
  expect_error([&] { figure::save_image_grid(g, {.png = path("e.png")}); }, "in one grid");
  g.cells.pop_back();
  g.row_labels = {"a", "b"};
  expect_error([&] { figure::save_image_grid(g, {.png = path("e.png")}); }, "2 row labels for 1 rows");
  expect_error([&] { cli::set_grid(zeros(Shape{2, 2, 4, 4}), from_vector<int64_t>({0, 1}, Shape{2}),
                                   condense::dataset_info("MNIST"), {0, 0}, {1, 1}); }, "[2,2,4,4]");
  expect_error([&] { cli::set_grid(zeros(Shape{2, 1, 4, 4}), from_vector<int64_t>({0, 12}, Shape{2}),
                                   condense::dataset_info("MNIST"), {0}, {1}); }, "label 12");
  EXPECT_EQ(files(), 0u);
  EXPECT_THROW(figure::save_image_grid(figure::ImageGrid{.rows = 1, .cols = 1, .cells = {{1, 1, 1, {0}}}},
                                       {.png = path("missing/g.png")}),
               Error);
  EXPECT_FALSE(fs::exists(path("missing")));
}

}  // namespace
}  // namespace loco
