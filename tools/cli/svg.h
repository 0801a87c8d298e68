// Plots as standalone SVG, written by bitsim itself: line charts (sweeps), scatter charts (Pareto
// fronts) and per-layer bar charts (bit allocation, layer time by bottleneck). Deterministic text:
// the same data gives the same bytes.
#pragma once

#include <string>
#include <vector>

namespace bitsim::tools {

// Text for XML/HTML content and attributes: & < > " escaped.
std::string xml_escape(const std::string& s);

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct Axes {
  std::string title, x_label, y_label;
  bool log_x = false;
  bool log_y = false;
};

// One polyline with markers per series, and a legend.
std::string line_chart(const Axes& axes, const std::vector<Series>& series);

// Markers only; series drawn in order (later on top), e.g. all points, then the front.
std::string scatter_chart(const Axes& axes, const std::vector<Series>& series);

// Bars per category (e.g. per layer), one bar per series side by side. `bar_group`, when given,
// colours each category's bars by a group index instead (e.g. the layer's bottleneck), with
// `group_names` in the legend.
struct Bars {
  std::vector<std::string> categories;
  std::vector<Series> series;  // y per category (x unused)
  std::vector<int> bar_group;
  std::vector<std::string> group_names;
};
std::string bar_chart(const Axes& axes, const Bars& bars);

}  // namespace bitsim::tools
