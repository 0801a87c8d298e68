// SVG plots: panels laid out in a grid, nice ticks, a legend sized to its longest entry, series
// styles from a colour-blind-safe palette (with markers and dashes beyond its size).
#include "tools/cli/svg.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace bitsim::tools {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Okabe-Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, black, yellow.
constexpr const char* kPalette[kPaletteSize] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                                "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr const char* kDashes[] = {"", "6 3", "2 3", "8 3 2 3"};
constexpr const char* kBackground = "#c8c8c8";

}  // namespace

SeriesStyle series_style(std::size_t i) {
  return {kPalette[i % kPaletteSize], static_cast<int>((i + i / kPaletteSize) % 5),
          kDashes[(i / kPaletteSize) % std::size(kDashes)]};
}

double text_width_px(const std::string& text, double font_px) {
  std::size_t glyphs = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++glyphs;  // UTF-8: count lead bytes only
  return 0.6 * font_px * static_cast<double>(glyphs);
}

namespace {

std::string esc(const std::string& s) { return xml_escape(s); }
std::string num(double v) { return fmt::format("{:.6g}", v); }
std::string px(double v) { return fmt::format("{:.1f}", v); }
// Three significant digits, without an exponent below a million (1230, not 1.23e+03).
std::string short_num(double v) {
  return std::abs(v) >= 1000 && std::abs(v) < 1e6 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v);
}

// Maps data to pixels along one axis (linear or log10).
struct Scale {
  double lo = 0, hi = 1, from = 0, to = 1;
  bool log = false;
  double operator()(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return from + t * (to - from);
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {  // 1, 2, 5 per decade; every digit where that leaves fewer than three ticks
      for (const bool fine : {false, true}) {
        out.clear();
        for (double d = std::pow(10.0, std::floor(std::log10(lo))); d <= hi * 1.0001; d *= 10)
          for (double m : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0})
            if ((fine || m == 1 || m == 2 || m == 5) && d * m >= lo * 0.9999 && d * m <= hi * 1.0001)
              out.push_back(d * m);
        if (out.size() >= 3) break;
      }
      return out;
    }
    const double raw = (hi - lo) / 6, mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
      out.push_back(std::abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
};

Scale fit(std::vector<double> v, bool log, double from, double to, bool include_zero) {
  Scale s;
  s.log = log;
  s.from = from;
  s.to = to;
  if (log) v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !(x > 0); }), v.end());
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) v = {1, 10};
  s.lo = *std::min_element(v.begin(), v.end());
  s.hi = *std::max_element(v.begin(), v.end());
  if (include_zero && !log) s.lo = std::min(s.lo, 0.0);
  if (s.hi <= s.lo) {
    s.hi = log ? s.lo * 10 : s.lo + 1;
    if (log) s.lo /= 10;
  }
  if (!log) {
    const double pad = (s.hi - s.lo) * 0.05;
    s.hi += pad;
    if (!include_zero || s.lo < 0) s.lo -= pad;
  }
  return s;
}

// A marker of `shape` centred on (x, y).
std::string marker(int shape, double x, double y, double r, const char* colour, bool hollow) {
  const std::string paint = hollow ? fmt::format("fill=\"white\" stroke=\"{}\" stroke-width=\"1.5\"", colour)
                                   : fmt::format("fill=\"{}\"", colour);
  switch (shape) {
    case 1:
      return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}", px(x - r), px(y - r), px(2 * r),
                         px(2 * r), paint);
    case 2:
      return fmt::format("<path d=\"M{} {}L{} {}L{} {}Z\" {}", px(x), px(y - 1.2 * r), px(x + 1.1 * r), px(y + 0.8 * r),
                         px(x - 1.1 * r), px(y + 0.8 * r), paint);
    case 3:
      return fmt::format("<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" {}", px(x), px(y - 1.3 * r), px(x + 1.3 * r), px(y),
                         px(x), px(y + 1.3 * r), px(x - 1.3 * r), px(y), paint);
    case 4:
      return fmt::format("<path d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{}\" stroke-width=\"2\"", px(x - r), px(y - r),
                         px(x + r), px(y + r), px(x - r), px(y + r), px(x + r), px(y - r), colour);
    default:
      return fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {}", px(x), px(y), px(r), paint);
  }
}

struct Style {
  std::string colour;
  int marker = 0;
  std::string dash;
};

Style style_of(const Series& s, std::size_t position) {
  if (s.style == kBackgroundStyle) return {kBackground, 0, ""};
  const SeriesStyle st = series_style(s.style >= 0 ? static_cast<std::size_t>(s.style) : position);
  return {st.colour, st.marker, st.dash};
}

// One legend entry per distinct (style, hollow), named by the first series that has it.
struct LegendEntry {
  std::string name;
  Style style;
  bool hollow = false;
  bool background = false;
};

// The svg element, a white background, the title and the note.
std::string svg_open(double width, double height, const std::string& title, const std::string& note) {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"16\" y=\"24\" font-size=\"15\">{2}</text>\n",
      px(width), px(height), esc(title));
  if (!note.empty()) out += fmt::format("<text x=\"16\" y=\"42\" fill=\"#444\">{}</text>\n", esc(note));
  return out;
}

double header_px(const std::string& note) { return note.empty() ? 40 : 58; }

// The legend at (x, y): a swatch (marker and line, or bar) and the name per entry; beyond
// kMaxLegendEntries a line says how many are left out. Returns its height.
double draw_legend(std::string& body, double x, double y, const std::vector<LegendEntry>& entries, bool bars,
                   bool lines) {
  body += "<g class=\"legend\">\n";
  const std::size_t shown = std::min(entries.size(), kMaxLegendEntries);
  for (std::size_t i = 0; i < shown; ++i) {
    const LegendEntry& e = entries[i];
    const double cy = y + 18 * static_cast<double>(i);
    if (bars) {
      body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\" stroke=\"{}\"/>\n", px(x),
                          px(cy - 10), e.hollow ? "white" : e.style.colour, e.style.colour);
    } else {
      if (lines && !e.background)
        body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n",
                            px(x), px(cy - 4), px(x + 22), px(cy - 4), e.style.colour,
                            e.style.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", e.style.dash));
      body += marker(e.style.marker, x + 11, cy - 4, e.background ? 2.5 : 4, e.style.colour.c_str(), e.hollow) + "/>\n";
    }
    body += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(x + 28), px(cy), esc(e.name));
  }
  if (entries.size() > shown)
    body += fmt::format("<text x=\"{}\" y=\"{}\">and {} more series (not drawn apart: see the CSV)</text>\n", px(x),
                        px(y + 18 * static_cast<double>(shown)), entries.size() - shown);
  body += "</g>\n";
  return 18 * static_cast<double>(shown + (entries.size() > shown ? 1 : 0));
}

double legend_width(const std::vector<LegendEntry>& entries) {
  double w = 0;
  const std::size_t shown = std::min(entries.size(), kMaxLegendEntries);
  for (std::size_t i = 0; i < shown; ++i) w = std::max(w, 28 + text_width_px(entries[i].name));
  if (entries.size() > shown)
    w = std::max(w, text_width_px(fmt::format("and {} more series (not drawn apart: see the CSV)", entries.size())));
  return w;
}

std::size_t auto_columns(std::size_t panels) {
  if (panels <= 3) return std::max<std::size_t>(panels, 1);
  if (panels == 4) return 2;
  if (panels <= 9) return 3;
  return 4;
}

// The x label under a grid of panels `grid_w` wide (its baseline `below` pixels under `top`), and the
// y label turned along the grid's left edge.
void draw_axis_labels(std::string& body, double left, double top, double grid_w, double below,
                      const std::string& x_label, const std::string& y_label) {
  body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(left + grid_w / 2),
                      px(top + below), esc(x_label));
  body += fmt::format("<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">{1}</text>\n",
                      px(top + (below - 16) / 2), esc(y_label));
}

// Panels in rows of `cols` cells: panel i's plot area starts at (x(i), y(i)), after the y labels'
// margin and the panel's title.
struct Grid {
  std::size_t cols = 1;
  double left = 0, top = 0, cell_w = 0, cell_h = 0, margin_l = 0;
  double x(std::size_t i) const { return left + static_cast<double>(i % cols) * cell_w + margin_l; }
  double y(std::size_t i) const {
    const std::size_t row = i / cols;
    return top + static_cast<double>(row) * cell_h + 22;
  }
};

// Tick labels of one axis, thinned so that neighbours do not overlap (by their pixel positions:
// log axes space them unevenly).
std::vector<double> thin_ticks(const Scale& scale, bool horizontal) {
  std::vector<double> out;
  double last = 0;
  for (double t : scale.ticks()) {
    const double p = scale(t), room = horizontal ? text_width_px(num(t), 11) + 8 : 16.0;
    if (!out.empty() && std::abs(p - last) < room) continue;
    out.push_back(t);
    last = p;
  }
  return out;
}

std::vector<double> values_of(const std::vector<Series>& series, bool x) {
  std::vector<double> v;
  for (const Series& s : series) v.insert(v.end(), (x ? s.x : s.y).begin(), (x ? s.x : s.y).end());
  return v;
}

// Grid lines, tick labels and the frame of one plot area.
void draw_frame(std::string& body, const Scale& x, const Scale& y, bool x_ticks) {
  const double x0 = x.from, x1 = x.to, y0 = y.from, y1 = y.to;
  for (double t : thin_ticks(y, false)) {
    const double p = y(t);
    body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\"/>\n", px(x0), px(p), px(x1),
                        px(p));
    body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", px(x0 - 5),
                        px(p + 4), num(t));
  }
  if (x_ticks)
    for (double t : thin_ticks(x, true)) {
      const double p = x(t);
      body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\"/>\n", px(p), px(y0), px(p),
                          px(y1));
      body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", px(p),
                          px(y0 + 15), num(t));
    }
  body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", px(x0),
                      px(y1), px(x1 - x0), px(y0 - y1));
}

// The widest y tick label over the scales, for the panels' left margin.
double y_label_room(const std::vector<Scale>& scales) {
  double w = 20;
  for (const Scale& s : scales)
    for (double t : s.ticks()) w = std::max(w, text_width_px(num(t), 11));
  return w + 10;
}

// The points of one series in a panel: background series as one path of dots, one per pixel.
void draw_series(std::string& body, const Series& s, const Style& st, const Scale& x, const Scale& y, bool lines,
                 double r) {
  std::string path;
  if (s.style == kBackgroundStyle) {
    std::set<std::pair<long, long>> seen;
    for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
      if ((x.log && !(s.x[k] > 0)) || (y.log && !(s.y[k] > 0)) || !std::isfinite(s.x[k]) || !std::isfinite(s.y[k]))
        continue;
      const long px_ = std::lround(x(s.x[k])), py = std::lround(y(s.y[k]));
      if (seen.insert({px_, py}).second) path += fmt::format("M{} {}h0", px_, py);
    }
    if (!path.empty())
      body += fmt::format(
          "<path d=\"{}\" stroke=\"{}\" stroke-width=\"3\" stroke-linecap=\"round\" fill=\"none\"><title>{}</title>"
          "</path>\n",
          path, kBackground, esc(s.name));
    return;
  }
  std::string markers;
  for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
    if ((x.log && !(s.x[k] > 0)) || (y.log && !(s.y[k] > 0)) || !std::isfinite(s.x[k]) || !std::isfinite(s.y[k]))
      continue;
    const double px_ = x(s.x[k]), py = y(s.y[k]);
    path += fmt::format("{}{},{}", path.empty() ? "" : " ", px(px_), px(py));
    if (lines && s.x.size() > 400) continue;  // a long line reads without markers, and stays a small file
    markers += marker(st.marker, px_, py, r, st.colour.c_str(), s.hollow);
    markers += s.x.size() <= 400  // tooltips; large series stay small files
                   ? fmt::format("><title>{}: {}, {}</title>{}\n", esc(s.name), num(s.x[k]), num(s.y[k]),
                                 st.marker == 1   ? "</rect>"
                                 : st.marker == 0 ? "</circle>"
                                                  : "</path>")
                   : "/>\n";
  }
  if (lines && !path.empty())
    body += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n", path,
                        st.colour, st.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", st.dash));
  body += markers;
}

std::vector<LegendEntry> legend_entries(const std::vector<const std::vector<Series>*>& panels) {
  std::vector<LegendEntry> out;
  std::set<std::pair<int, bool>> seen;
  for (const std::vector<Series>* series : panels) {
    for (std::size_t i = 0; i < series->size(); ++i) {
      const Series& s = (*series)[i];
      const int key = s.style >= 0 || s.style == kBackgroundStyle ? s.style : static_cast<int>(i);
      if (!seen.insert({key, s.hollow}).second) continue;
      out.push_back({s.name, style_of(s, i), s.hollow, s.style == kBackgroundStyle});
    }
  }
  return out;
}

}  // namespace

std::string facet_chart(const Figure& figure) {
  const std::size_t n = std::max<std::size_t>(figure.panels.size(), 1);
  const std::size_t cols = std::min(figure.columns > 0 ? figure.columns : auto_columns(n), n);
  const std::size_t rows = (n + cols - 1) / cols;
  double pw = n == 1 ? 560 : n <= 3 ? 400 : 250;
  const double ph = n == 1 ? 360 : n <= 3 ? 270 : 170;
  for (const Panel& p : figure.panels) pw = std::max(pw, text_width_px(p.title, 12) + 4);
  std::vector<const std::vector<Series>*> all;
  all.reserve(figure.panels.size());
  for (const Panel& p : figure.panels) all.push_back(&p.series);
  const std::vector<LegendEntry> legend = legend_entries(all);
  // Scales: x shared by every panel; y shared or per panel.
  std::vector<double> xs, ys;
  for (const Panel& p : figure.panels) {
    const std::vector<double> px_ = values_of(p.series, true), py = values_of(p.series, false);
    xs.insert(xs.end(), px_.begin(), px_.end());
    ys.insert(ys.end(), py.begin(), py.end());
  }
  const Axes& axes = figure.axes;
  std::vector<Scale> yscale;
  yscale.reserve(figure.panels.size());
  for (const Panel& p : figure.panels)
    yscale.push_back(fit(figure.shared_y ? ys : values_of(p.series, false), axes.log_y, 0, 1, !axes.log_y));
  const double margin_l = y_label_room(yscale);
  const double cell_w = margin_l + pw + 18, cell_h = 22 + ph + 30;
  const double top = header_px(figure.note), left = 30;
  const double legend_w = legend.empty() ? 0 : legend_width(legend) + 20;
  const double legend_h = 18 * static_cast<double>(std::min(legend.size(), kMaxLegendEntries) + 1) + 10;
  double width = left + static_cast<double>(cols) * cell_w + legend_w + 10;
  width = std::max({width, text_width_px(axes.title, 15) + 32, text_width_px(figure.note) + 32});
  const double height = std::max(top + static_cast<double>(rows) * cell_h + 30, top + legend_h);
  std::string body = svg_open(width, height, axes.title, figure.note);
  const Grid grid{cols, left, top, cell_w, cell_h, margin_l};
  for (std::size_t i = 0; i < figure.panels.size(); ++i) {
    const Panel& p = figure.panels[i];
    const double ox = grid.x(i), oy = grid.y(i);
    Scale x = fit(figure.shared_x ? xs : values_of(p.series, true), axes.log_x, ox, ox + pw, false);
    Scale y = yscale[i];
    y.from = oy + ph;
    y.to = oy;
    if (!p.title.empty())
      body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(ox + pw / 2), px(oy - 6),
                          esc(p.title));
    draw_frame(body, x, y, true);
    for (std::size_t s = 0; s < p.series.size(); ++s)
      draw_series(body, p.series[s], style_of(p.series[s], s), x, y, figure.lines, n == 1 ? 3.5 : 3);
  }
  const double grid_w = static_cast<double>(cols) * cell_w;
  draw_axis_labels(body, left, top, grid_w, static_cast<double>(rows) * cell_h + 16, axes.x_label, axes.y_label);
  if (!legend.empty()) draw_legend(body, left + grid_w + 12, top + 22, legend, false, figure.lines);
  return body + "</svg>\n";
}

std::string line_chart(const Axes& axes, const std::vector<Series>& series) {
  return facet_chart({axes, "", {{"", series}}, true, true, true, 1});
}

std::string scatter_chart(const Axes& axes, const std::vector<Series>& series) {
  return facet_chart({axes, "", {{"", series}}, false, true, true, 1});
}

namespace {

// Viridis (matplotlib's default colour map) through five of its stops; t in [0, 1].
std::string viridis(double t) {
  static constexpr double kStops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(t), 3);
  const double f = t - static_cast<double>(i);
  auto c = [&](int k) { return static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k]))); };
  return fmt::format("#{:02x}{:02x}{:02x}", c(0), c(1), c(2));
}

}  // namespace

std::string heatmap_chart(const HeatmapFigure& figure) {
  const std::size_t n = std::max<std::size_t>(figure.panels.size(), 1);
  const std::size_t cols = std::min<std::size_t>(auto_columns(n), 3);
  const std::size_t rows = (n + cols - 1) / cols;
  std::size_t nx = 1, ny = 1;
  double x_label_w = 0, y_label_w = 0, title_w = 0;
  for (const HeatPanel& p : figure.panels) {
    nx = std::max(nx, p.x_labels.size());
    ny = std::max(ny, p.y_labels.size());
    for (const std::string& l : p.x_labels) x_label_w = std::max(x_label_w, text_width_px(l, 11));
    for (const std::string& l : p.y_labels) y_label_w = std::max(y_label_w, text_width_px(l, 11));
    title_w = std::max(title_w, text_width_px(p.title, 12));
  }
  const double value_w = text_width_px("0.00e-00", 10);  // short_num at most this wide
  const double cell_w = std::clamp(std::max(x_label_w, value_w) + 6, 14.0, 64.0);
  const double cell_h = ny > 20 ? 12 : 22;
  const bool cell_text = cell_w >= value_w + 4 && cell_h >= 20;
  const std::size_t x_every = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil((x_label_w + 6) / cell_w)));
  const double margin_l = y_label_w + 10;
  const double grid_w = std::max(cell_w * static_cast<double>(nx), title_w);
  const double grid_h = cell_h * static_cast<double>(ny);
  const double panel_w = margin_l + grid_w + 24, panel_h = 22 + grid_h + 22 + 22;
  const double top = header_px(figure.note), left = 30;
  const double width = std::max({left + static_cast<double>(cols) * panel_w + 10, text_width_px(figure.title, 15) + 32,
                                 text_width_px(figure.note) + 32});
  const double height = top + static_cast<double>(rows) * panel_h + 30;
  std::string body = svg_open(width, height, figure.title, figure.note);
  const Grid grid{cols, left, top, panel_w, panel_h, margin_l};
  for (std::size_t i = 0; i < figure.panels.size(); ++i) {
    const HeatPanel& p = figure.panels[i];
    const double ox = grid.x(i), oy = grid.y(i);
    body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                        px(ox + cell_w * static_cast<double>(p.x_labels.size()) / 2), px(oy - 6), esc(p.title));
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : p.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    const std::size_t px_n = p.x_labels.size(), py_n = p.y_labels.size();
    for (std::size_t yi = 0; yi < py_n; ++yi) {
      // The first y label at the bottom, as on a plot.
      const double cy = oy + cell_h * static_cast<double>(py_n - 1 - yi);
      body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", px(ox - 5),
                          px(cy + cell_h / 2 + 4), esc(p.y_labels[yi]));
      for (std::size_t xi = 0; xi < px_n; ++xi) {
        const std::size_t k = yi * px_n + xi;
        const double v = k < p.values.size() ? p.values[k] : std::numeric_limits<double>::quiet_NaN();
        const double cx = ox + cell_w * static_cast<double>(xi);
        if (!std::isfinite(v)) {
          body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f4f4f4\"/>\n", px(cx), px(cy),
                              px(cell_w), px(cell_h));
          continue;
        }
        const double t = hi > lo ? (v - lo) / (hi - lo) : 1;
        body += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} = {}, {} = {}: "
            "{}</title></rect>\n",
            px(cx), px(cy), px(cell_w), px(cell_h), viridis(t), esc(figure.x_label), esc(p.x_labels[xi]),
            esc(figure.y_label), esc(p.y_labels[yi]), num(v));
        if (cell_text)
          body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                              px(cx + cell_w / 2), px(cy + cell_h / 2 + 4), t < 0.6 ? "white" : "black", short_num(v));
      }
    }
    for (std::size_t xi = 0; xi < px_n; xi += x_every)
      body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
                          px(ox + cell_w * (static_cast<double>(xi) + 0.5)), px(oy + grid_h + 14), esc(p.x_labels[xi]));
    if (std::isfinite(lo))
      body +=
          fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#444\">colour: {} (dark) to {} (light)</text>\n",
                      px(ox), px(oy + grid_h + 32), short_num(lo), short_num(hi));
  }
  draw_axis_labels(body, left, top, static_cast<double>(cols) * panel_w, static_cast<double>(rows) * panel_h + 14,
                   figure.x_label, figure.y_label);
  return body + "</svg>\n";
}

std::string bar_chart(const Axes& axes, const Bars& bars) { return bar_panels(axes, {bars}); }

std::string bar_panels(const Axes& axes, const std::vector<Bars>& panels) {
  std::size_t n_max = 1, series_max = 1;
  double label_w = 0;
  for (const Bars& b : panels) {
    n_max = std::max(n_max, b.categories.size());
    series_max = std::max(series_max, b.series.size());
    for (const std::string& c : b.categories) label_w = std::max(label_w, text_width_px(c, 11));
  }
  // Wide enough for every category's bars; labels upright where they fit, else slanted.
  const double pw =
      std::max(560.0, std::max({9.0, 5.0 * static_cast<double>(series_max) + 4, std::min(label_w + 8, 120.0)}) *
                          static_cast<double>(n_max));
  const double ph = 260, slot = pw / static_cast<double>(n_max);
  const bool slanted = label_w + 8 > slot;
  const double label_h = slanted ? std::min(label_w * 0.87 + 12, 150.0) : 22;
  const double label_font = slanted && slot < 14 ? 8 : 11;
  std::vector<Scale> yscale;
  yscale.reserve(panels.size());
  for (const Bars& b : panels) yscale.push_back(fit(values_of(b.series, false), axes.log_y, 0, 1, true));
  const double margin_l = y_label_room(yscale);
  const double top = header_px(""), left = 30;
  const double panel_h = 22 + ph + label_h + 10;
  // The legend: bar groups, or one entry per (style, hollow) of the series.
  std::vector<LegendEntry> legend;
  if (!panels.empty() && !panels.front().bar_group.empty()) {
    for (std::size_t g = 0; g < panels.front().group_names.size(); ++g)
      legend.push_back({panels.front().group_names[g], {series_style(g).colour, 0, ""}, false, false});
  } else {
    std::vector<const std::vector<Series>*> all;
    all.reserve(panels.size());
    for (const Bars& b : panels) all.push_back(&b.series);
    legend = legend_entries(all);
  }
  const double legend_w = legend.empty() ? 0 : legend_width(legend) + 20;
  const double width = std::max(left + margin_l + pw + 16 + legend_w + 10, text_width_px(axes.title, 15) + 32);
  const double height = std::max(top + static_cast<double>(panels.size()) * panel_h + 10,
                                 top + 18 * static_cast<double>(std::min(legend.size(), kMaxLegendEntries) + 2)) +
                        (axes.x_label.empty() ? 0 : 20);
  std::string body = svg_open(width, height, axes.title, "");
  for (std::size_t pi = 0; pi < panels.size(); ++pi) {
    const Bars& bars = panels[pi];
    const std::size_t n = bars.categories.size();
    const double ox = left + margin_l, oy = top + static_cast<double>(pi) * panel_h + 22;
    Scale y = yscale[pi];
    y.from = oy + ph;
    y.to = oy;
    Scale x;
    x.lo = 0;
    x.hi = static_cast<double>(std::max<std::size_t>(n, 1));
    x.from = ox;
    x.to = ox + pw;
    if (!bars.title.empty())
      body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(ox + pw / 2), px(oy - 6),
                          esc(bars.title));
    draw_frame(body, x, y, false);
    const double cat = pw / x.hi;
    const double per = cat * 0.8 / static_cast<double>(std::max<std::size_t>(bars.series.size(), 1));
    for (std::size_t s = 0; s < bars.series.size(); ++s) {
      const Series& sr = bars.series[s];
      for (std::size_t k = 0; k < n && k < sr.y.size(); ++k) {
        const double v = sr.y[k];
        if (!std::isfinite(v)) continue;
        const std::size_t group = bars.bar_group.empty() ? (sr.style >= 0 ? static_cast<std::size_t>(sr.style) : s)
                                                         : static_cast<std::size_t>(bars.bar_group[k]);
        const char* colour = series_style(group).colour;
        const double l = ox + cat * (static_cast<double>(k) + 0.1) + per * static_cast<double>(s);
        const double base_v = axes.log_y ? y.lo : 0.0;
        const double top_px = y(std::max(v, base_v)), base = y(base_v);
        body += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{} {}: {}</title></rect>\n", px(l),
            px(top_px), px(std::max(per - (sr.hollow ? 1.5 : 0), 0.5)), px(std::max(base - top_px, 0.0)),
            sr.hollow ? "white" : colour,
            sr.hollow ? fmt::format(" stroke=\"{}\" stroke-width=\"1.5\"", colour) : std::string(),
            esc(bars.categories[k]), esc(sr.name), num(v));
      }
    }
    const std::size_t every = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(9.0 / cat)));
    for (std::size_t k = 0; k < n; k += every) {
      const double cx = ox + cat * (static_cast<double>(k) + 0.5), cy = oy + ph + 14;
      if (slanted)
        body += fmt::format(
            "<text x=\"{0}\" y=\"{1}\" font-size=\"{3}\" text-anchor=\"end\" transform=\"rotate(-60 {0} {1})\">{2}"
            "</text>\n",
            px(cx + 3), px(cy - 6), esc(bars.categories[k]), label_font);
      else
        body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", px(cx),
                            px(cy), esc(bars.categories[k]));
    }
  }
  body += fmt::format("<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">{1}</text>\n",
                      px(top + static_cast<double>(panels.size()) * panel_h / 2), esc(axes.y_label));
  if (!axes.x_label.empty())
    body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(left + margin_l + pw / 2),
                        px(height - 6), esc(axes.x_label));
  if (!legend.empty()) draw_legend(body, left + margin_l + pw + 16, top + 22, legend, true, false);
  return body + "</svg>\n";
}

}  // namespace bitsim::tools
