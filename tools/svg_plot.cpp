#include "tools/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/io/atomic_file.h"

namespace loco::cli {
namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

// 4–8 round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = std::max(hi - lo, 1e-9);
  double step = std::pow(10.0, std::floor(std::log10(span / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= 8) {
      step *= m;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9; v += step) t.push_back(v);
  return t;
}

}  // namespace

void write_svg_plot(const std::string& path, const std::string& title, const std::string& x_label,
                    const std::string& y_label, const std::vector<Series>& series) {
  static const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double d = i < s.spread.size() ? s.spread[i] : 0.0;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i] - d), y1 = std::max(y1, s.y[i] + d);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  const double pad = std::max((y1 - y0) * 0.08, 0.5);
  y0 = std::max(0.0, y0 - pad), y1 = std::min(100.0, y1 + pad);
  if (y1 <= y0) y1 = y0 + 1;
  const double W = 720, H = 440, L = 70, R = 180, T = 40, B = 60;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (std::clamp(y, y0, y1) - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o.precision(5);
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='13'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << W / 2 - R / 2 << "' y='24' text-anchor='middle' font-size='15'>" << escape(title) << "</text>\n";
  for (double t : ticks(y0, y1))
    o << "<line x1='" << L << "' x2='" << W - R << "' y1='" << py(t) << "' y2='" << py(t) << "' stroke='#ddd'/>"
      << "<text x='" << L - 6 << "' y='" << py(t) + 4 << "' text-anchor='end'>" << t << "</text>\n";
  for (double t : ticks(x0, x1))
    o << "<line x1='" << px(t) << "' x2='" << px(t) << "' y1='" << H - B << "' y2='" << H - B + 5 << "' stroke='black'/>"
      << "<text x='" << px(t) << "' y='" << H - B + 20 << "' text-anchor='middle'>" << t << "</text>\n";
  o << "<line x1='" << L << "' x2='" << W - R << "' y1='" << H - B << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<line x1='" << L << "' x2='" << L << "' y1='" << T << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<text x='" << (L + W - R) / 2 << "' y='" << H - 18 << "' text-anchor='middle'>" << escape(x_label) << "</text>\n"
    << "<text transform='translate(20," << (T + H - B) / 2 << ") rotate(-90)' text-anchor='middle'>" << escape(y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* c = kColours[k % 8];
    if (!s.spread.empty()) {
      o << "<polygon fill='" << c << "' fill-opacity='0.15' stroke='none' points='";
      for (size_t i = 0; i < s.x.size(); ++i) o << px(s.x[i]) << "," << py(s.y[i] + s.spread[i]) << " ";
      for (size_t i = s.x.size(); i-- > 0;) o << px(s.x[i]) << "," << py(s.y[i] - s.spread[i]) << " ";
      o << "'/>\n";
    }
    o << "<polyline fill='none' stroke='" << c << "' stroke-width='2' points='";
    for (size_t i = 0; i < s.x.size(); ++i) o << px(s.x[i]) << "," << py(s.y[i]) << " ";
    o << "'/>\n";
    for (size_t i = 0; i < s.x.size(); ++i) o << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i]) << "' r='3' fill='" << c << "'/>\n";
    const double ly = T + 10 + 22 * static_cast<double>(k);
    o << "<line x1='" << W - R + 15 << "' x2='" << W - R + 40 << "' y1='" << ly << "' y2='" << ly << "' stroke='" << c
      << "' stroke-width='3'/><text x='" << W - R + 46 << "' y='" << ly + 4 << "'>" << escape(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  const std::string text = o.str();
  write_file_atomic(path, [&](FileSink& f) { f.write(text); });
}

}  // namespace loco::cli
