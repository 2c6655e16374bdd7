// The figure layer (tools/figure.h): one draw function per kind of figure, run once on each
// requested surface (a cairo image surface encoded as PNG, a cairo SVG surface), so PNG and
// SVG cannot drift apart. Text goes through cairo's font selection (fontconfig: DejaVu Sans,
// which ./run installs), so labels are real rendered glyphs in both formats.
#include "tools/figure.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "engine/check.h"
#include "engine/io/atomic_file.h"

namespace loco::figure {
namespace {

constexpr const char* kFont = "DejaVu Sans";
// matplotlib's tab10: distinct, and readable on white.
constexpr uint32_t kColours[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd,
                                 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

void set_colour(cairo_t* cr, uint32_t rgb, double alpha = 1.0) {
  cairo_set_source_rgba(cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0, (rgb & 255) / 255.0, alpha);
}

void font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Text with its anchor at (x, y): ax 0 left, 0.5 centre, 1 right; the y anchor is the middle of
// the font's capital height, so labels line up with tick marks.
void text(cairo_t* cr, double x, double y, const std::string& s, double ax) {
  cairo_font_extents_t f;
  cairo_font_extents(cr, &f);
  cairo_move_to(cr, x - ax * text_width(cr, s), y + 0.36 * f.ascent);
  cairo_show_text(cr, s.c_str());
}

std::string status_text(cairo_status_t s) { return cairo_status_to_string(s); }

void append(std::string* out, const unsigned char* data, unsigned int n) {
  out->append(reinterpret_cast<const char*>(data), n);
}
cairo_status_t append_cb(void* closure, const unsigned char* data, unsigned int n) {
  append(static_cast<std::string*>(closure), data, n);
  return CAIRO_STATUS_SUCCESS;
}

// Runs draw on a white width×height page of each requested format and writes the files.
void render(int width, int height, const Outputs& out, const std::function<void(cairo_t*)>& draw) {
  const std::string& name = out.png.empty() ? out.svg : out.png;
  LOCO_CHECK(!out.png.empty() || !out.svg.empty(), "figure: no PNG or SVG path to write");
  LOCO_CHECK(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide, name, ": a ", width, "×", height,
             " picture is not drawable (each side 1…", kMaxSide, ")");
  auto paint = [&](cairo_surface_t* s, const std::string& path) {
    cairo_t* cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw(cr);
    const cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    LOCO_CHECK(st == CAIRO_STATUS_SUCCESS, path, ": drawing failed (cairo: ", status_text(st), ")");
  };
  if (!out.png.empty()) {
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    std::string bytes;
    cairo_status_t st = cairo_surface_status(s);
    if (st == CAIRO_STATUS_SUCCESS) {
      try {
        paint(s, out.png);
      } catch (...) {
        cairo_surface_destroy(s);
        throw;
      }
      cairo_surface_flush(s);
      st = cairo_surface_write_to_png_stream(s, append_cb, &bytes);
    }
    cairo_surface_destroy(s);
    LOCO_CHECK(st == CAIRO_STATUS_SUCCESS, out.png, ": PNG of ", width, "×", height, " failed (cairo: ", status_text(st), ")");
    write_file_atomic(out.png, [&](FileSink& f) { f.write(bytes); });
  }
  if (!out.svg.empty()) {
    std::string bytes;
    cairo_surface_t* s = cairo_svg_surface_create_for_stream(append_cb, &bytes, width, height);
    cairo_status_t st = cairo_surface_status(s);
    if (st == CAIRO_STATUS_SUCCESS) {
      try {
        paint(s, out.svg);
      } catch (...) {
        cairo_surface_destroy(s);
        throw;
      }
      cairo_surface_finish(s);  // the SVG is complete only once the surface is finished
      st = cairo_surface_status(s);
    }
    cairo_surface_destroy(s);
    LOCO_CHECK(st == CAIRO_STATUS_SUCCESS, out.svg, ": SVG failed (cairo: ", status_text(st), ")");
    write_file_atomic(out.svg, [&](FileSink& f) { f.write(bytes); });
  }
}

// ---- line plots ----

// 4–8 round tick values covering [lo, hi], and the decimals their labels need.
std::vector<double> linear_ticks(double lo, double hi, int& decimals) {
  const double span = std::max(hi - lo, 1e-12);
  double step = std::pow(10.0, std::floor(std::log10(span / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= 8) {
      step *= m;
      break;
    }
  decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string fixed(double v, int decimals) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

// Exponents of 10 in [lo, hi] (log10 units); 2× and 5× between them when the range is short.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  const bool fine = hi - lo < 2.5;
  for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
    for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double v = e + std::log10(m);
      if (v >= lo - 1e-9 && v <= hi + 1e-9) t.push_back(v);
    }
  return t;
}

std::string log_label(double v) {  // v in log10 units
  const double x = std::pow(10.0, v);
  char b[48];
  if (v >= -3.01 && v <= 4.01) std::snprintf(b, sizeof b, "%g", std::round(x * 1e4) / 1e4);
  else {  // 1e-5, 2e-5, 5e-5: the mantissa and the exponent, no padding
    const int e = static_cast<int>(std::floor(v + 1e-9));
    std::snprintf(b, sizeof b, "%.0fe%d", std::round(x / std::pow(10.0, e)), e);
  }
  return b;
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

void check_plot(const LinePlot& p, const std::string& file) {
  LOCO_CHECK(!p.series.empty(), file, ": the panel '", p.title, "' has no series to draw");
  for (const auto& s : p.series)
    LOCO_CHECK(s.x.size() == s.y.size() && (s.spread.empty() || s.spread.size() == s.x.size()), file, ": series '",
               s.name, "' of '", p.title, "' has ", s.x.size(), " x, ", s.y.size(), " y and ", s.spread.size(),
               " spread values");
}

void draw_plot(cairo_t* cr, const LinePlot& p, double ox, double w, double h) {
  const double L = 78, R = 18, T = 40, B = 58;
  const double x0p = ox + L, x1p = ox + w - R, y0p = T, y1p = h - B;  // the plot area
  auto ty = [&](double v) { return p.log_y ? (v > 0 ? std::log10(v) : NAN) : v; };
  Range xr, yr;
  for (const auto& s : p.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double d = s.spread.empty() ? 0.0 : s.spread[i];
      xr.add(s.x[i]);
      yr.add(ty(s.y[i]));  // a band edge at log(≤ 0) is NaN and left out of the range
      yr.add(ty(s.y[i] + d));
      yr.add(ty(s.y[i] - d));
    }
  if (xr.empty()) xr = {0, 1};
  if (yr.empty()) yr = p.log_y ? Range{-1, 0} : Range{0, 1};
  if (xr.hi == xr.lo) xr.lo -= 0.5, xr.hi += 0.5;
  if (yr.hi - yr.lo < 1e-12) yr.lo -= p.log_y ? 0.5 : std::max(0.5, std::fabs(yr.lo) * 0.1), yr.hi += p.log_y ? 0.5 : std::max(0.5, std::fabs(yr.hi) * 0.1);
  const double pad = (yr.hi - yr.lo) * 0.06;
  yr.lo -= pad, yr.hi += pad;
  if (p.y_min) yr.lo = ty(*p.y_min);
  if (p.y_max) yr.hi = ty(*p.y_max);
  auto px = [&](double x) { return x0p + (x - xr.lo) / (xr.hi - xr.lo) * (x1p - x0p); };
  auto py = [&](double v) { return y1p - (v - yr.lo) / (yr.hi - yr.lo) * (y1p - y0p); };

  // Grid lines and tick labels.
  cairo_set_line_width(cr, 1);
  font(cr, 13);
  int ydec = 0, xdec = 0;
  const std::vector<double> yt = p.log_y ? log_ticks(yr.lo, yr.hi) : linear_ticks(yr.lo, yr.hi, ydec);
  for (double t : yt) {
    set_colour(cr, 0xdddddd);
    cairo_move_to(cr, x0p, std::round(py(t)) + 0.5);
    cairo_line_to(cr, x1p, std::round(py(t)) + 0.5);
    cairo_stroke(cr);
    set_colour(cr, 0x222222);
    text(cr, x0p - 7, py(t), p.log_y ? log_label(t) : fixed(t, ydec), 1.0);
  }
  for (double t : linear_ticks(xr.lo, xr.hi, xdec)) {
    set_colour(cr, 0x222222);
    cairo_move_to(cr, std::round(px(t)) + 0.5, y1p);
    cairo_line_to(cr, std::round(px(t)) + 0.5, y1p + 5);
    cairo_stroke(cr);
    text(cr, px(t), y1p + 17, fixed(t, xdec), 0.5);
  }
  set_colour(cr, 0x000000);
  cairo_rectangle(cr, std::round(x0p) + 0.5, std::round(y0p) + 0.5, std::round(x1p - x0p), std::round(y1p - y0p));
  cairo_stroke(cr);
  // Labels and title.
  font(cr, 14);
  text(cr, (x0p + x1p) / 2, h - 18, p.x_label, 0.5);
  cairo_save(cr);
  cairo_translate(cr, ox + 18, (y0p + y1p) / 2);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, 0, 0, p.y_label, 0.5);
  cairo_restore(cr);
  font(cr, 15, true);
  text(cr, (x0p + x1p) / 2, 20, p.title, 0.5);

  // Bands, then lines and markers, clipped to the plot area.
  cairo_save(cr);
  cairo_rectangle(cr, x0p, y0p, x1p - x0p, y1p - y0p);
  cairo_clip(cr);
  const double floor_v = yr.lo - (yr.hi - yr.lo);  // where a band's lower edge goes when log(≤0)
  for (size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    if (s.spread.empty() || s.x.empty()) continue;
    set_colour(cr, kColours[k % 10], 0.18);
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double v = ty(s.y[i] + s.spread[i]);
      cairo_line_to(cr, px(s.x[i]), py(std::isfinite(v) ? v : floor_v));
    }
    for (size_t i = s.x.size(); i-- > 0;) {
      const double v = ty(s.y[i] - s.spread[i]);
      cairo_line_to(cr, px(s.x[i]), py(std::isfinite(v) ? v : floor_v));
    }
    cairo_close_path(cr);
    cairo_fill(cr);
  }
  for (size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    set_colour(cr, kColours[k % 10]);
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    bool open = false;
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double v = ty(s.y[i]);
      if (!std::isfinite(v) || !std::isfinite(s.x[i])) {  // a gap, not a line to nowhere
        open = false;
        continue;
      }
      if (open) cairo_line_to(cr, px(s.x[i]), py(v));
      else cairo_move_to(cr, px(s.x[i]), py(v));
      open = true;
    }
    cairo_stroke(cr);
    if (p.markers && s.x.size() <= 60)
      for (size_t i = 0; i < s.x.size(); ++i) {
        const double v = ty(s.y[i]);
        if (!std::isfinite(v)) continue;
        cairo_arc(cr, px(s.x[i]), py(v), 3.2, 0, 2 * M_PI);
        cairo_fill(cr);
      }
  }
  cairo_restore(cr);

  // The legend, in the corner of the plot area the data crowd least.
  font(cr, 13);
  double lw = 0;
  for (const auto& s : p.series) lw = std::max(lw, text_width(cr, s.name));
  const double row = 20, bw = lw + 46, bh = row * static_cast<double>(p.series.size()) + 10;
  int best = 0;
  size_t fewest = SIZE_MAX;
  for (int corner = 0; corner < 4; ++corner) {  // 0 top right, 1 bottom right, 2 top left, 3 bottom left
    const double bx = corner < 2 ? x1p - bw - 8 : x0p + 8, by = corner % 2 == 0 ? y0p + 8 : y1p - bh - 8;
    size_t inside = 0;
    for (const auto& s : p.series)
      for (size_t i = 0; i < s.x.size(); ++i)  // the lines and their bands' edges, sampled along each segment
        for (int t = 0; t < (i + 1 < s.x.size() ? 8 : 1); ++t) {
          const size_t j = std::min(i + 1, s.x.size() - 1);
          const double f = t / 8.0, x = s.x[i] + f * (s.x[j] - s.x[i]), y = s.y[i] + f * (s.y[j] - s.y[i]);
          const double d = s.spread.empty() ? 0.0 : s.spread[i] + f * (s.spread[j] - s.spread[i]);
          for (double v : {y, y + d, y - d}) {
            const double X = px(x), Y = py(ty(v));
            inside += X >= bx - 4 && X <= bx + bw + 4 && Y >= by - 4 && Y <= by + bh + 4;
          }
        }
    if (inside < fewest) fewest = inside, best = corner;
  }
  const double bx = best < 2 ? x1p - bw - 8 : x0p + 8, by = best % 2 == 0 ? y0p + 8 : y1p - bh - 8;
  cairo_rectangle(cr, bx, by, bw, bh);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
  cairo_fill_preserve(cr);
  set_colour(cr, 0xbbbbbb);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t k = 0; k < p.series.size(); ++k) {
    const double y = by + 5 + row * (static_cast<double>(k) + 0.5);
    set_colour(cr, kColours[k % 10]);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, bx + 8, y);
    cairo_line_to(cr, bx + 34, y);
    cairo_stroke(cr);
    set_colour(cr, 0x111111);
    text(cr, bx + 40, y, p.series[k].name, 0.0);
  }
}

}  // namespace

void save_line_plots(const std::vector<LinePlot>& panels, const Outputs& out, int panel_width, int panel_height) {
  const std::string& name = out.png.empty() ? out.svg : out.png;
  LOCO_CHECK(!panels.empty(), name, ": a figure with no panels");
  for (const auto& p : panels) check_plot(p, name);
  LOCO_CHECK(panel_width >= 200 && panel_height >= 150, name, ": panels of ", panel_width, "×", panel_height,
             " are too small to read (at least 200×150)");
  const int64_t w = static_cast<int64_t>(panel_width) * static_cast<int64_t>(panels.size());
  LOCO_CHECK(w <= kMaxSide, name, ": ", panels.size(), " panels of width ", panel_width, " exceed ", kMaxSide, " pixels");
  render(static_cast<int>(w), panel_height, out, [&](cairo_t* cr) {
    for (size_t i = 0; i < panels.size(); ++i)
      draw_plot(cr, panels[i], static_cast<double>(i) * panel_width, panel_width, panel_height);
  });
}

// ---- image grids ----

namespace {
constexpr double kTitleFont = 18;
// Class names grow with the rows they name (15 px at 1:1 MNIST, 24 px at 256-pixel rows).
double label_font(const ImageGrid& g) {
  int ch = 0;
  for (const auto& c : g.cells)
    if (!c.pixels.empty()) ch = c.height * g.scale;
  return std::clamp(ch * 0.09, 13.0, 24.0);
}

// The width the row labels take, measured with the font they are drawn in.
int label_width(const ImageGrid& g) {
  if (g.row_labels.empty()) return 0;
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t* cr = cairo_create(s);
  font(cr, label_font(g));
  double w = 0;
  for (const auto& l : g.row_labels) w = std::max(w, text_width(cr, l));
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  return static_cast<int>(std::ceil(w)) + 12;
}
int title_height(const ImageGrid& g) { return g.title.empty() ? 0 : 34; }
}  // namespace

std::pair<int, int> image_grid_size(const ImageGrid& g) {
  int cw = 0, ch = 0;
  for (const auto& c : g.cells)
    if (!c.pixels.empty()) cw = c.width, ch = c.height;
  const int64_t w = label_width(g) + static_cast<int64_t>(g.cols) * (static_cast<int64_t>(cw) * g.scale + g.gap) + g.gap;
  const int64_t h = title_height(g) + static_cast<int64_t>(g.rows) * (static_cast<int64_t>(ch) * g.scale + g.gap) + g.gap;
  return {static_cast<int>(std::min<int64_t>(w, INT32_MAX)), static_cast<int>(std::min<int64_t>(h, INT32_MAX))};
}

void save_image_grid(const ImageGrid& g, const Outputs& out) {
  const std::string& name = out.png.empty() ? out.svg : out.png;
  LOCO_CHECK(g.rows >= 1 && g.cols >= 1, name, ": a ", g.rows, "×", g.cols, " grid has no cells");
  LOCO_CHECK(static_cast<int64_t>(g.cells.size()) <= static_cast<int64_t>(g.rows) * g.cols, name, ": ", g.cells.size(),
             " pictures do not fit a ", g.rows, "×", g.cols, " grid");
  LOCO_CHECK(g.row_labels.empty() || static_cast<int>(g.row_labels.size()) == g.rows, name, ": ", g.row_labels.size(),
             " row labels for ", g.rows, " rows");
  LOCO_CHECK(g.scale >= 1 && g.gap >= 0, name, ": scale ", g.scale, " and gap ", g.gap, " (scale ≥ 1, gap ≥ 0)");
  const Picture* first = nullptr;
  for (const auto& c : g.cells) {
    if (c.pixels.empty()) continue;
    LOCO_CHECK((c.channels == 1 || c.channels == 3) && c.width >= 1 && c.height >= 1 &&
                   c.pixels.size() == static_cast<size_t>(c.width) * c.height * c.channels,
               name, ": a ", c.width, "×", c.height, "×", c.channels, " picture holds ", c.pixels.size(),
               " bytes (1 or 3 channels)");
    if (!first) first = &c;
    LOCO_CHECK(c.width == first->width && c.height == first->height && c.channels == first->channels, name,
               ": pictures of ", first->width, "×", first->height, "×", first->channels, " and ", c.width, "×",
               c.height, "×", c.channels, " in one grid");
  }
  LOCO_CHECK(first, name, ": a grid with no pictures");
  const auto [W, H] = image_grid_size(g);
  LOCO_CHECK(W <= kMaxSide && H <= kMaxSide, name, ": a ", W, "×", H, " picture (", g.rows, "×", g.cols, " cells of ",
             first->width, "×", first->height, " at scale ", g.scale, ") exceeds ", kMaxSide, " pixels a side");
  const int lw = label_width(g), th = title_height(g), cw = first->width * g.scale, ch = first->height * g.scale;
  // Each cell upscaled here, by whole pixels, so PNG and SVG carry the same nearest-neighbour
  // picture (an SVG viewer would otherwise smooth a scaled image).
  std::vector<cairo_surface_t*> surfaces(g.cells.size(), nullptr);
  for (size_t i = 0; i < g.cells.size(); ++i) {
    const Picture& p = g.cells[i];
    if (p.pixels.empty()) continue;
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cw, ch);
    cairo_surface_flush(s);
    unsigned char* d = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < ch; ++y) {
      auto* row = reinterpret_cast<uint32_t*>(d + static_cast<ptrdiff_t>(y) * stride);
      const uint8_t* src = p.pixels.data() + static_cast<size_t>(y / g.scale) * p.width * p.channels;
      for (int x = 0; x < cw; ++x) {
        const uint8_t* q = src + static_cast<size_t>(x / g.scale) * p.channels;
        const uint32_t r = q[0], gr = p.channels == 3 ? q[1] : q[0], b = p.channels == 3 ? q[2] : q[0];
        row[x] = (r << 16) | (gr << 8) | b;
      }
    }
    cairo_surface_mark_dirty(s);
    surfaces[i] = s;
  }
  try {
    render(W, H, out, [&](cairo_t* cr) {
      if (!g.title.empty()) {
        font(cr, kTitleFont, true);
        set_colour(cr, 0x111111);
        text(cr, W / 2.0, 18, g.title, 0.5);
      }
      font(cr, label_font(g));
      for (int r = 0; r < g.rows; ++r) {
        const int top = th + g.gap + r * (ch + g.gap);
        if (!g.row_labels.empty()) {
          set_colour(cr, 0x111111);
          text(cr, lw - 6, top + ch / 2.0, g.row_labels[static_cast<size_t>(r)], 1.0);
        }
        for (int c = 0; c < g.cols; ++c) {
          const size_t i = static_cast<size_t>(r) * g.cols + c;
          if (i >= surfaces.size() || !surfaces[i]) continue;
          cairo_set_source_surface(cr, surfaces[i], lw + g.gap + c * (cw + g.gap), top);
          cairo_paint(cr);
        }
      }
    });
  } catch (...) {
    for (auto* s : surfaces)
      if (s) cairo_surface_destroy(s);
    throw;
  }
  for (auto* s : surfaces)
    if (s) cairo_surface_destroy(s);
}

// ---- scatter plots ----

void save_scatter_plots(const std::vector<ScatterPlot>& panels, const std::vector<std::string>& group_names,
                        const Outputs& out, int panel_size) {
  const std::string& name = out.png.empty() ? out.svg : out.png;
  LOCO_CHECK(!panels.empty(), name, ": a figure with no panels");
  Range xr, yr;
  for (const auto& p : panels) {
    LOCO_CHECK(!p.points.empty(), name, ": the panel '", p.title, "' has no points");
    for (const auto& q : p.points) xr.add(q.x), yr.add(q.y);
  }
  LOCO_CHECK(!xr.empty() && !yr.empty(), name, ": no finite point to draw");
  const bool legend = !group_names.empty() && group_names.size() <= 20;
  const int legend_w = legend ? 170 : 0;
  const int64_t w = static_cast<int64_t>(panel_size) * static_cast<int64_t>(panels.size()) + legend_w;
  LOCO_CHECK(w <= kMaxSide, name, ": ", panels.size(), " panels exceed ", kMaxSide, " pixels");
  const double span = std::max(xr.hi - xr.lo, yr.hi - yr.lo) * 1.06 + 1e-12;  // one scale for x and y
  const double cx = (xr.lo + xr.hi) / 2, cy = (yr.lo + yr.hi) / 2;
  render(static_cast<int>(w), panel_size + 40, out, [&](cairo_t* cr) {
    for (size_t k = 0; k < panels.size(); ++k) {
      const double ox = static_cast<double>(k) * panel_size, m = 14, side = panel_size - 2 * m;
      const double x0 = ox + m, y0 = 40;
      auto px = [&](double x) { return x0 + ((x - cx) / span + 0.5) * side; };
      auto py = [&](double y) { return y0 + (0.5 - (y - cy) / span) * side; };
      set_colour(cr, 0x000000);
      font(cr, 15, true);
      text(cr, ox + panel_size / 2.0, 22, panels[k].title, 0.5);
      cairo_set_line_width(cr, 1);
      set_colour(cr, 0x888888);
      cairo_rectangle(cr, std::round(x0) + 0.5, std::round(y0) + 0.5, std::round(side), std::round(side));
      cairo_stroke(cr);
      for (bool marked : {false, true})
        for (const auto& q : panels[k].points) {
          if (q.marked != marked || !std::isfinite(q.x) || !std::isfinite(q.y)) continue;
          const uint32_t c = kColours[static_cast<size_t>(q.group) % 10];
          cairo_arc(cr, px(q.x), py(q.y), marked ? 5.0 : 2.2, 0, 2 * M_PI);
          set_colour(cr, c, marked ? 1.0 : 0.45);
          if (marked) {
            cairo_fill_preserve(cr);
            set_colour(cr, 0x000000);
            cairo_set_line_width(cr, 1.2);
            cairo_stroke(cr);
          } else {
            cairo_fill(cr);
          }
        }
    }
    if (!legend) return;
    const double lx = static_cast<double>(panels.size()) * panel_size + 10;
    font(cr, 13);
    for (size_t g = 0; g < group_names.size(); ++g) {
      const double y = 56 + 20.0 * static_cast<double>(g);
      set_colour(cr, kColours[g % 10]);
      cairo_new_sub_path(cr);
      cairo_arc(cr, lx + 8, y, 5, 0, 2 * M_PI);
      cairo_fill(cr);
      set_colour(cr, 0x111111);
      text(cr, lx + 20, y, group_names[g], 0.0);
    }
    const double y = 56 + 20.0 * static_cast<double>(group_names.size()) + 14;
    set_colour(cr, 0x555555);
    cairo_new_sub_path(cr);
    cairo_arc(cr, lx + 8, y, 2.2, 0, 2 * M_PI);
    cairo_fill(cr);
    set_colour(cr, 0x111111);
    text(cr, lx + 20, y, "real", 0.0);
    set_colour(cr, 0x555555);
    cairo_new_sub_path(cr);
    cairo_arc(cr, lx + 8, y + 20, 5, 0, 2 * M_PI);
    cairo_fill_preserve(cr);
    set_colour(cr, 0x000000);
    cairo_stroke(cr);
    set_colour(cr, 0x111111);
    text(cr, lx + 20, y + 20, "synthetic", 0.0);
  });
}

}  // namespace loco::figure
