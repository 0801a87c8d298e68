// Plots as standalone SVG, written by bitsim itself: line and scatter charts in one panel or as small
// multiples (one panel per combination of parameters, shared legend), heatmaps, and bar charts (per
// layer, per solver). Deterministic text: the same data gives the same bytes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bitsim::tools {

// Text for XML/HTML content and attributes: & < > " escaped.
std::string xml_escape(const std::string& s);

// Series colours: Okabe and Ito's colour-blind-safe palette ("Color Universal Design", 2008), its
// yellow last; beyond 8 series the marker and the line's dash pattern change too.
inline constexpr std::size_t kPaletteSize = 8;
// At most this many legend entries; a figure with more says how many it leaves out (the callers
// split such figures into panels instead).
inline constexpr std::size_t kMaxLegendEntries = 16;
struct SeriesStyle {
  const char* colour;
  int marker;        // 0 circle, 1 square, 2 triangle, 3 diamond, 4 cross
  const char* dash;  // SVG stroke-dasharray, "" for solid
};
SeriesStyle series_style(std::size_t i);

// Estimated width in pixels of `text` at `font_px` in a sans-serif font (average glyph 0.6 em, the
// widest of the common ones), used to size legends and margins so that no label is cut off.
double text_width_px(const std::string& text, double font_px = 12);

inline constexpr int kBackgroundStyle = -2;  // Series::style: small grey dots behind the others

struct Series {
  std::string name;
  std::vector<double> x, y;
  int style = -1;       // index into series_style; -1: the series' position; kBackgroundStyle
  bool hollow = false;  // bars and markers outlined (e.g. a paper's figures beside bitsim's)
};

struct Axes {
  std::string title, x_label, y_label;
  bool log_x = false;
  bool log_y = false;
};

// One panel of a figure: a title and its series. Series with the same style are one legend entry.
struct Panel {
  std::string title;
  std::vector<Series> series;
};

struct Figure {
  Axes axes;
  std::string note;  // a line under the title: fixed parameters, what was left out
  std::vector<Panel> panels;
  bool lines = true;        // polylines through the points (else markers only)
  bool shared_x = true;     // one x range for every panel (else each panel its own)
  bool shared_y = true;     // one y range for every panel (else each panel its own)
  std::size_t columns = 0;  // panels per row; 0: chosen from the panel count
};

// Small multiples: the panels in a grid with one legend for all (Figure::lines or markers only).
std::string facet_chart(const Figure& figure);

// One polyline with markers per series, and a legend.
std::string line_chart(const Axes& axes, const std::vector<Series>& series);

// Markers only; series drawn in order (later on top), e.g. all points, then the front.
std::string scatter_chart(const Axes& axes, const std::vector<Series>& series);

// Heatmaps: one grid per panel, each cell coloured by its value on the panel's own scale (viridis,
// low dark to high light) and labelled with it where the cell is wide enough.
struct HeatPanel {
  std::string title;
  std::vector<std::string> x_labels, y_labels;
  std::vector<double> values;  // values[y * x_labels.size() + x]; NaN: no value
};
struct HeatmapFigure {
  std::string title, note, x_label, y_label, value_label;
  std::vector<HeatPanel> panels;
};
std::string heatmap_chart(const HeatmapFigure& figure);

// Bars per category (e.g. per layer), one bar per series side by side. `bar_group`, when given,
// colours each category's bars by a group index instead (e.g. the layer's bottleneck), with
// `group_names` in the legend.
struct Bars {
  std::string title;  // the panel's, in bar_panels
  std::vector<std::string> categories;
  std::vector<Series> series;  // y per category (x unused)
  std::vector<int> bar_group;
  std::vector<std::string> group_names;
};
std::string bar_chart(const Axes& axes, const Bars& bars);
// Several bar panels stacked, each with its own linear y range (log with Axes::log_y), one legend.
std::string bar_panels(const Axes& axes, const std::vector<Bars>& panels);

}  // namespace bitsim::tools
