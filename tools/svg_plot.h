// A line plot as a standalone SVG (any browser shows it): one line per series with a shaded
// band of ± its spread, axes with ticks, a legend. For `loco cl`'s accuracy curves.
#pragma once
#include <string>
#include <vector>

namespace loco::cli {

struct Series {
  std::string name;
  std::vector<double> x, y, spread;  // spread: the band's half-width at each point (may be empty)
};

// Written atomically to path; throws naming it on failure.
void write_svg_plot(const std::string& path, const std::string& title, const std::string& x_label,
                    const std::string& y_label, const std::vector<Series>& series);

}  // namespace loco::cli
