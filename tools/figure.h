// loco's one drawing layer (DESIGN.md, tools/): line plots and image grids drawn with cairo,
// each written as PNG and/or SVG from the same drawing calls, so the two files show the same
// picture. Plain numbers and 8-bit pixels in; nothing here knows of tensors, datasets or runs
// (tools/set_grid.h turns a synthetic set into an ImageGrid). Every file is written through
// write_file_atomic (engine/io/atomic_file.h): a failure never leaves half a picture.
// Sizes are pixels in the PNG and points in the SVG (1 pt = 1 px).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loco::figure {

// Where to write; an empty path skips that format (at least one must be given).
struct Outputs {
  std::string png, svg;
};

struct Series {
  std::string name;                  // its legend entry
  std::vector<double> x, y;
  std::vector<double> spread;        // empty, or the half-width of a shaded band (mean ± std) at each x
};

struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;                // logarithmic y axis; values ≤ 0 are left out of the line
  bool markers = true;               // a dot at each point (dropped for series of more than 60 points)
  std::optional<double> y_min, y_max;  // a fixed y range instead of the data's
};

// Panels side by side, each panel_width × panel_height. Throws loco::Error naming the panel
// when one has no series or a series whose x, y and spread lengths disagree.
void save_line_plots(const std::vector<LinePlot>& panels, const Outputs& out, int panel_width = 640,
                     int panel_height = 420);

// 8-bit pixels, row-major, channels interleaved (1: grey, 3: RGB). An empty one is a blank cell.
struct Picture {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;
};

struct ImageGrid {
  std::string title;                    // above the grid; may be empty
  int rows = 0, cols = 0;
  std::vector<Picture> cells;           // row-major, at most rows·cols; missing ones are blank
  std::vector<std::string> row_labels;  // along the left side; empty, or one per row
  int scale = 1;                        // each pixel becomes scale × scale (nearest neighbour)
  int gap = 4;                          // pixels between cells and around the grid
};

// The picture's size (width, height) save_image_grid writes.
std::pair<int, int> image_grid_size(const ImageGrid& g);
// Throws naming the output when the cells differ in size or channels, a label count is not the
// row count, or the picture would exceed kMaxSide on a side.
void save_image_grid(const ImageGrid& g, const Outputs& out);

// Scatter plots sharing one map (t-SNE): each point coloured by its group (a class), marked
// points (the synthetic ones) drawn larger, outlined, over the others. The coordinates mean
// nothing on their own, so there are no ticks; every panel spans the points of all panels.
struct ScatterPoint {
  double x, y;
  int64_t group;
  bool marked;
};
struct ScatterPlot {
  std::string title;
  std::vector<ScatterPoint> points;
};
// group_names: a legend entry per group (drawn when there are at most 20 groups).
void save_scatter_plots(const std::vector<ScatterPlot>& panels, const std::vector<std::string>& group_names,
                        const Outputs& out, int panel_size = 560);

// cairo's image surfaces stop at 32767 pixels a side.
constexpr int kMaxSide = 32767;

}  // namespace loco::figure
