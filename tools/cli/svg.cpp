// SVG plots: a fixed canvas, nice ticks, one colour per series from a fixed palette.
#include "tools/cli/svg.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>

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

constexpr double kLeft = 80, kRight = 250, kTop = 40;  // margins; the legend is on the right
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string esc(const std::string& s) { return xml_escape(s); }

std::string num(double v) { return fmt::format("{:.6g}", v); }
std::string px(double v) { return fmt::format("{:.1f}", v); }

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
    if (log) {
      for (double d = std::pow(10.0, std::floor(std::log10(lo))); d <= hi * 1.0001; d *= 10)
        for (double m : {1.0, 2.0, 5.0})
          if (d * m >= lo * 0.9999 && d * m <= hi * 1.0001) out.push_back(d * m);
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

struct Canvas {
  std::string body;
  double width, height, bottom;  // pixels; the plot area ends `bottom` above the lower edge
  explicit Canvas(const Axes& axes, double width_px = 900, double bottom_px = 60)
      : width(width_px), height(460 + bottom_px), bottom(bottom_px) {
    body = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">{3}</text>\n",
        width, height, px((kLeft + width - kRight) / 2), esc(axes.title));
  }
  void frame(const Axes& axes, const Scale& x, const Scale& y, bool x_ticks) {
    const double x0 = kLeft, x1 = width - kRight, y0 = height - bottom, y1 = kTop;
    const double label_y = x_ticks ? height - 14 : height - 8;
    for (double t : y.ticks()) {
      const double py = y(t);
      body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e0e0e0\"/>\n", px(x0), px(py),
                          px(x1), px(py));
      body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(x0 - 6), px(py + 4), num(t));
    }
    if (x_ticks)
      for (double t : x.ticks()) {
        const double p = x(t);
        body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e0e0e0\"/>\n", px(p), px(y0),
                            px(p), px(y1));
        body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(p), px(y0 + 16), num(t));
      }
    body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", px(x0),
                        px(y1), px(x1 - x0), px(y0 - y1));
    body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px((x0 + x1) / 2), px(label_y),
                        esc(axes.x_label));
    body += fmt::format("<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">{1}</text>\n",
                        px((y0 + y1) / 2), esc(axes.y_label));
  }
  void legend(const std::vector<std::string>& names) {
    const double x = width - kRight + 14;
    for (std::size_t i = 0; i < names.size() && i < 30; ++i) {
      const double y = kTop + 10 + 18 * static_cast<double>(i);
      body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", px(x), px(y - 10),
                          kPalette[i % std::size(kPalette)]);
      body += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(x + 18), px(y), esc(names[i]));
    }
    if (names.size() > 30)
      body += fmt::format("<text x=\"{}\" y=\"{}\">... {} more</text>\n", px(x), px(kTop + 10 + 18 * 30.0),
                          names.size() - 30);
  }
  std::string done() const { return body + "</svg>\n"; }
};

std::vector<double> all(const std::vector<Series>& series, bool x) {
  std::vector<double> v;
  for (const Series& s : series) v.insert(v.end(), (x ? s.x : s.y).begin(), (x ? s.x : s.y).end());
  return v;
}

std::string points_chart(const Axes& axes, const std::vector<Series>& series, bool lines) {
  Canvas c(axes);
  const Scale x = fit(all(series, true), axes.log_x, kLeft, c.width - kRight, false);
  const Scale y = fit(all(series, false), axes.log_y, c.height - c.bottom, kTop, !axes.log_y);
  c.frame(axes, x, y, true);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const char* colour = kPalette[i % std::size(kPalette)];
    names.push_back(s.name);
    std::string path;
    for (std::size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
      if ((axes.log_x && !(s.x[k] > 0)) || (axes.log_y && !(s.y[k] > 0)) || !std::isfinite(s.y[k])) continue;
      const double px_ = x(s.x[k]), py = y(s.y[k]);
      path += fmt::format("{}{},{}", path.empty() ? "" : " ", px(px_), px(py));
      if (s.x.size() <= 400)  // tooltips; large series stay small files
        c.body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}: {}, {}</title></circle>\n",
                              px(px_), px(py), colour, esc(s.name), num(s.x[k]), num(s.y[k]));
      else
        c.body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n", px(px_), px(py), colour);
    }
    if (lines && !path.empty())
      c.body +=
          fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", path, colour);
  }
  c.legend(names);
  return c.done();
}

}  // namespace

std::string line_chart(const Axes& axes, const std::vector<Series>& series) { return points_chart(axes, series, true); }

std::string scatter_chart(const Axes& axes, const std::vector<Series>& series) {
  return points_chart(axes, series, false);
}

std::string bar_chart(const Axes& axes, const Bars& bars) {
  const std::size_t n = bars.categories.size();
  // Wide enough for every category label (about 9 px each) and the bars.
  const double per_category = std::max(9.0, 3.0 * static_cast<double>(bars.series.size()) + 3);
  Canvas c(axes, std::max(900.0, kLeft + kRight + per_category * static_cast<double>(n)), 140);
  const double height = c.height, bottom = c.bottom;
  const Scale y = fit(all(bars.series, false), axes.log_y, height - bottom, kTop, true);
  Scale x;
  x.lo = 0;
  x.hi = static_cast<double>(std::max<std::size_t>(n, 1));
  x.from = kLeft;
  x.to = c.width - kRight;
  c.frame(axes, x, y, false);
  const double slot = (x.to - x.from) / x.hi;
  const double per = slot * 0.8 / static_cast<double>(std::max<std::size_t>(bars.series.size(), 1));
  for (std::size_t s = 0; s < bars.series.size(); ++s)
    for (std::size_t k = 0; k < n && k < bars.series[s].y.size(); ++k) {
      const double v = bars.series[s].y[k];
      if (!std::isfinite(v)) continue;
      const int group = bars.bar_group.empty() ? static_cast<int>(s) : bars.bar_group[k];
      const double left = x.from + slot * (static_cast<double>(k) + 0.1) + per * static_cast<double>(s);
      const double top = y(std::max(v, axes.log_y ? y.lo : 0.0)), base = y(axes.log_y ? y.lo : 0.0);
      c.body += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n", px(left),
          px(top), px(std::max(per, 0.5)), px(std::max(base - top, 0.0)),
          kPalette[static_cast<std::size_t>(group) % std::size(kPalette)], esc(bars.categories[k]),
          esc(bars.series[s].name), num(v));
    }
  // Category labels, thinned only if they would overlap.
  const std::size_t every = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(9.0 / slot)));
  for (std::size_t k = 0; k < n; k += every) {
    const double cx = x.from + slot * (static_cast<double>(k) + 0.5) + 3, cy = height - bottom + 8;
    c.body += fmt::format(
        "<text x=\"{0}\" y=\"{1}\" font-size=\"8\" text-anchor=\"end\" transform=\"rotate(-60 {0} {1})\">{2}</text>\n",
        px(cx), px(cy), esc(bars.categories[k]));
  }
  std::vector<std::string> names;
  if (bars.bar_group.empty())
    for (const Series& s : bars.series) names.push_back(s.name);
  else
    names = bars.group_names;
  c.legend(names);
  return c.done();
}

}  // namespace bitsim::tools
