// Study reports: which rows go into which figure, panel and series; the summary tables; index.html.
#include "tools/cli/study_report.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "alloc/solvers/solver.h"
#include "sim/hw_config.h"
#include "tools/cli/svg.h"

namespace bitsim::tools {

using study::StudyResult;
using study::StudyRow;
using study::StudySpec;

namespace {

// "4 GB/s" -> (4, "GB/s"); nothing when the text does not start with a number.
std::optional<std::pair<double, std::string>> leading_number(const std::string& text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc()) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  unit.erase(0, unit.find_first_not_of(' '));
  return std::pair(v, unit);
}

// A varied parameter as plots see it: its values as numbers (or their index), its label, its scale.
struct AxisInfo {
  std::string key, label;
  bool numeric = true;
  bool log = false;
  std::vector<double> of_value;
};

AxisInfo axis_info(const study::StudyAxis& a) {
  AxisInfo x;
  x.key = a.key;
  std::string unit;
  for (const std::string& v : a.values) {
    const auto n = leading_number(v);
    if (!n) {
      x.numeric = false;
      break;
    }
    unit = n->second;
    x.of_value.push_back(n->first);
  }
  if (!x.numeric) {
    x.of_value.clear();
    for (std::size_t i = 0; i < a.values.size(); ++i) x.of_value.push_back(static_cast<double>(i));
    x.label = a.key + " (value index)";
    return x;
  }
  x.label = unit.empty() ? a.key : fmt::format("{} ({})", a.key, unit);
  const auto [lo, hi] = std::minmax_element(x.of_value.begin(), x.of_value.end());
  x.log = *lo > 0 && *hi / *lo >= 16;
  return x;
}

// Hardware x workload pairs, hardware-major, named for files by the inputs' file names.
struct Pair {
  std::size_t hardware, workload;
  std::string file_suffix;  // "tpu-resnet50"
};

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ? c : '_';
  return out;
}

std::vector<Pair> pairs_of(const StudySpec& spec) {
  std::vector<Pair> out;
  std::set<std::string> seen;
  for (std::size_t h = 0; h < spec.hardware.size(); ++h)
    for (std::size_t w = 0; w < spec.workloads.size(); ++w) {
      std::string name = fmt::format("{}-{}", file_safe(std::filesystem::path(spec.hardware[h]).stem().string()),
                                     file_safe(std::filesystem::path(spec.workloads[w]).stem().string()));
      if (!seen.insert(name).second) name = fmt::format("{}-{}-{}", name, h, w);  // two inputs of one file name
      out.push_back({h, w, name});
    }
  return out;
}

std::size_t drawn_pairs(const StudySpec& spec) { return std::min(pairs_of(spec).size(), kMaxFigures); }

// The numeric varied parameters with 2 to kMaxHeatValues values (the heatmap's axes: one with more
// would make cells too small to read).
constexpr std::size_t kMaxHeatValues = 40;
std::vector<std::size_t> numeric_axes(const StudySpec& spec) {
  std::vector<std::size_t> out;
  for (std::size_t a = 0; a < spec.vary.size(); ++a)
    if (spec.vary[a].values.size() > 1 && spec.vary[a].values.size() <= kMaxHeatValues &&
        axis_info(spec.vary[a]).numeric)
      out.push_back(a);
  return out;
}

std::string csv_text(const Table& t) {
  std::ostringstream s;
  t.write_csv(s);
  return s.str();
}

std::string solver_order_key(const StudySpec& spec, const std::string& solver) {
  // equal first, then the spec's solvers as listed
  if (solver == alloc::equal_solver().name) return "0";
  for (std::size_t i = 0; i < spec.solvers.size(); ++i)
    if (spec.solvers[i]->name == solver) return fmt::format("{:03}", i + 1);
  return "999" + solver;
}

// A facet dimension: the budget, or a varied parameter other than the x axis.
struct Dim {
  std::string key;
  std::vector<std::string> labels;
  int axis = -1;  // index in spec.vary; -1: the budget
  std::size_t of(const StudySpec& spec, const StudyRow& row) const {
    if (axis >= 0) return row.axis_value[static_cast<std::size_t>(axis)];
    return static_cast<std::size_t>(std::find(spec.avg_bits.begin(), spec.avg_bits.end(), row.avg_bits) -
                                    spec.avg_bits.begin());
  }
};

// Which panels a figure gets: the dimensions kept (at most kMaxPanels combinations, the first dimension
// cut to its first values if it alone has more) and those pinned to their last value (in a study
// written smallest first, the largest: that resource then limits least, and the others show).
struct PanelPlan {
  std::vector<Dim> kept;
  std::vector<std::size_t> kept_count;  // values of each kept dimension drawn
  std::vector<Dim> pinned;
  std::size_t panels = 1;
  std::string note;
};

PanelPlan plan_panels(std::vector<Dim> dims) {
  PanelPlan p;
  std::vector<std::string> notes;
  for (Dim& d : dims) {
    if (d.labels.size() <= 1) continue;
    if (p.kept.empty() && d.labels.size() > kMaxPanels) {
      notes.push_back(fmt::format("{}: the first {} of {} values", d.key, kMaxPanels, d.labels.size()));
      p.kept_count.push_back(kMaxPanels);
      p.panels = kMaxPanels;
      p.kept.push_back(std::move(d));
    } else if (p.panels * d.labels.size() <= kMaxPanels) {
      p.kept_count.push_back(d.labels.size());
      p.panels *= d.labels.size();
      p.kept.push_back(std::move(d));
    } else {
      notes.push_back(fmt::format("{} = {} (its {} other value{}: in the CSV)", d.key, d.labels.back(),
                                  d.labels.size() - 1, d.labels.size() == 2 ? "" : "s"));
      p.pinned.push_back(std::move(d));
    }
  }
  if (!notes.empty()) p.note = fmt::format("{}", fmt::join(notes, "; "));
  return p;
}

// The panel of a row, or nothing if the plan leaves it out.
std::optional<std::size_t> panel_of(const PanelPlan& p, const StudySpec& spec, const StudyRow& row) {
  for (const Dim& d : p.pinned)
    if (d.of(spec, row) + 1 != d.labels.size()) return std::nullopt;
  std::size_t index = 0;
  for (std::size_t k = 0; k < p.kept.size(); ++k) {
    const std::size_t v = p.kept[k].of(spec, row);
    if (v >= p.kept_count[k]) return std::nullopt;
    index = index * p.kept_count[k] + v;
  }
  return index;
}

std::string panel_title(const PanelPlan& p, std::size_t index) {
  std::vector<std::string> parts(p.kept.size());
  for (std::size_t k = p.kept.size(); k-- > 0;) {
    const std::size_t v = index % p.kept_count[k];
    index /= p.kept_count[k];
    parts[k] = p.kept[k].axis < 0 ? p.kept[k].labels[v] : fmt::format("{}={}", p.kept[k].key, p.kept[k].labels[v]);
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string bits_label(double bits) { return fmt::format("{} bits", bits); }

Dim budget_dim(const StudySpec& spec) {
  Dim d;
  d.key = "avg_bits";
  for (double b : spec.avg_bits) d.labels.push_back(bits_label(b));
  return d;
}

Dim axis_dim(const StudySpec& spec, std::size_t a) {
  return {spec.vary[a].key, spec.vary[a].values, static_cast<int>(a)};
}

// The small multiples of one (hardware, workload) pair: y per row against the first varied
// parameter (or the budget when nothing is varied), a line per (budget, solver) or per solver.
Figure pair_figure(const StudySpec& spec, const StudyResult& result, const Pair& pair, const std::string& title,
                   const std::string& y_label, bool include_equal, double (*y)(const StudyRow&)) {
  const bool varied = !spec.vary.empty();
  const AxisInfo x =
      varied ? axis_info(spec.vary.front()) : AxisInfo{"avg_bits", "average bits per value", true, false, {}};
  std::size_t solvers = spec.solvers.size() + (include_equal ? 1 : 0);
  for (const alloc::SolverInfo* s : spec.solvers)
    if (s == &alloc::equal_solver()) --solvers;  // listed, and counted once
  const bool budget_in_series = varied && spec.avg_bits.size() * std::max<std::size_t>(solvers, 1) <= kMaxSeries;
  std::vector<Dim> dims;
  if (varied && !budget_in_series) dims.push_back(budget_dim(spec));
  for (std::size_t a = 1; a < spec.vary.size(); ++a) dims.push_back(axis_dim(spec, a));
  const PanelPlan plan = plan_panels(std::move(dims));
  Figure f;
  f.axes = {
      fmt::format("{}: {}, {}", title, result.hardware[pair.hardware].name, result.networks[pair.workload].name()),
      x.label, y_label, x.log, false};
  f.note = plan.note;
  if (plan.kept.size() >= 2 && plan.kept_count.back() <= 4) f.columns = plan.kept_count.back();
  f.panels.resize(plan.panels);
  for (std::size_t i = 0; i < plan.panels; ++i) f.panels[i].title = panel_title(plan, i);
  // Series by (budget, solver) or solver, styled in a fixed order shared by every panel.
  std::map<std::string, std::pair<std::string, int>> series_key;  // order key -> (name, style)
  for (const StudyRow& row : result.rows)
    if (row.feasible && (include_equal || row.solver != alloc::equal_solver().name)) {
      const std::string k = budget_in_series
                                ? fmt::format("{:012.4f} {}", row.avg_bits, solver_order_key(spec, row.solver))
                                : solver_order_key(spec, row.solver);
      series_key.try_emplace(
          k, budget_in_series ? fmt::format("{}, {}", bits_label(row.avg_bits), row.solver) : row.solver, 0);
    }
  int style = 0;
  for (auto& [k, v] : series_key) v.second = style++;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const StudyRow& row : result.rows) {
    if (!row.feasible || row.hardware != pair.hardware || row.workload != pair.workload) continue;
    if (!include_equal && row.solver == alloc::equal_solver().name) continue;
    const std::optional<std::size_t> panel = panel_of(plan, spec, row);
    if (!panel) continue;
    const std::string k = budget_in_series
                              ? fmt::format("{:012.4f} {}", row.avg_bits, solver_order_key(spec, row.solver))
                              : solver_order_key(spec, row.solver);
    const std::string& name = series_key.at(k).first;
    const int st = series_key.at(k).second;
    std::vector<Series>& ss = f.panels[*panel].series;
    auto it = std::find_if(ss.begin(), ss.end(), [&](const Series& s) { return s.name == name; });
    if (it == ss.end()) it = ss.insert(ss.end(), {name, {}, {}, st, false});
    it->x.push_back(varied ? x.of_value[row.axis_value.front()] : row.avg_bits);
    it->y.push_back(y(row));
    if (y(row) > 0) {
      lo = std::min(lo, y(row));
      hi = std::max(hi, y(row));
    }
  }
  for (Panel& p : f.panels)  // the legend's order in every panel
    std::sort(p.series.begin(), p.series.end(), [](const Series& a, const Series& b) { return a.style < b.style; });
  f.axes.log_y = include_equal && hi / lo >= 30;  // images/s across bandwidth: orders of magnitude
  return f;
}

double rate_of(const StudyRow& row) { return row.inference_rate_per_s; }
double speedup_of(const StudyRow& row) {
  return row.speedup_vs_equal > 0 ? row.speedup_vs_equal : std::numeric_limits<double>::quiet_NaN();
}

// The solver and budget the heatmap fixes: the first solver the study lists (equal if none), its first budget.
std::string heat_solver(const StudySpec& spec) {
  for (const alloc::SolverInfo* s : spec.solvers)
    if (s != &alloc::equal_solver()) return std::string(s->name);
  return std::string(alloc::equal_solver().name);
}

// images/s over two numeric parameters, per (hardware, workload): each cell the best over the
// other varied parameters.
HeatmapFigure heatmap(const StudySpec& spec, const StudyResult& result, std::size_t ax, std::size_t ay) {
  HeatmapFigure h;
  const std::string solver = heat_solver(spec);
  const double bits = spec.avg_bits.front();
  std::vector<std::string> others;
  for (std::size_t a = 0; a < spec.vary.size(); ++a)
    if (a != ax && a != ay && spec.vary[a].values.size() > 1) others.push_back(spec.vary[a].key);
  h.title = fmt::format("Simulated images/s over {} and {}", spec.vary[ax].key, spec.vary[ay].key);
  h.note = fmt::format(
      "{}, {} bits per value{}", solver, bits,
      others.empty() ? std::string() : fmt::format("; each cell the best over {}", fmt::join(others, ", ")));
  const std::vector<Pair> pairs = pairs_of(spec);
  h.x_label = spec.vary[ax].key;
  h.y_label = spec.vary[ay].key;
  h.value_label = "images/s";
  const std::size_t nx = spec.vary[ax].values.size(), ny = spec.vary[ay].values.size();
  for (std::size_t p = 0; p < std::min(pairs.size(), kMaxFigures); ++p) {
    HeatPanel panel;
    panel.title =
        fmt::format("{}, {}", result.hardware[pairs[p].hardware].name, result.networks[pairs[p].workload].name());
    panel.x_labels = spec.vary[ax].values;
    panel.y_labels = spec.vary[ay].values;
    panel.values.assign(nx * ny, std::numeric_limits<double>::quiet_NaN());
    for (const StudyRow& row : result.rows) {
      if (!row.feasible || row.hardware != pairs[p].hardware || row.workload != pairs[p].workload ||
          row.solver != solver || row.avg_bits != bits)
        continue;
      double& cell = panel.values[row.axis_value[ay] * nx + row.axis_value[ax]];
      if (!(cell >= row.inference_rate_per_s)) cell = row.inference_rate_per_s;
    }
    h.panels.push_back(std::move(panel));
  }
  return h;
}

// A varied parameter in the summary CSVs, as the rows' CSV (sweep.csv) names and writes it (README
// "CSV files"): a hardware parameter by its data column in base units, read from the point's
// resolved config; anything else by its key, as written.
std::string axis_column(const StudySpec& spec, std::size_t a) {
  const auto params = sim::hardware_parameters();
  const std::string& key = spec.vary[a].key;
  const bool hardware =
      std::any_of(params.begin(), params.end(), [&](const sim::ParamInfo& p) { return p.key == key; });
  return hardware ? sim::parameter_column(key) : key;
}
Cell axis_cell(const StudySpec& spec, const StudyResult& result, const StudyRow& row, std::size_t a) {
  const std::string& key = spec.vary[a].key;
  if (axis_column(spec, a) == key) return spec.vary[a].values[row.axis_value[a]];
  return sim::parameter_value(result.configs[row.point], key);
}

// The columns naming a row's configuration and its figures: hardware, every varied parameter,
// solver, then images/s, area, energy and predicted error (the summaries' common tail).
void add_row_columns(std::vector<std::string>& cols, const StudySpec& spec) {
  cols.emplace_back("hardware");
  for (std::size_t a = 0; a < spec.vary.size(); ++a) cols.push_back(axis_column(spec, a));
  for (const char* c : {"solver", "inference_rate_per_s", "area_mm2", "energy_per_image_j", "predicted_distortion"})
    cols.emplace_back(c);
}

void add_row_cells(std::vector<Cell>& cells, const StudySpec& spec, const StudyResult& result, const StudyRow& row) {
  cells.emplace_back(result.hardware[row.hardware].name);
  for (std::size_t a = 0; a < spec.vary.size(); ++a) cells.push_back(axis_cell(spec, result, row, a));
  cells.emplace_back(row.solver);
  for (double v : {row.inference_rate_per_s, row.area_mm2, row.energy_per_image_j, row.output_error})
    cells.emplace_back(v);
}

// Per (workload, budget, value of the first varied parameter; without varied parameters, hardware
// config): the row with the most images/s, i.e. the configuration that gives it.
Table best_per_x(const StudySpec& spec, const StudyResult& result) {
  const bool varied = !spec.vary.empty();
  std::vector<std::string> cols = {"workload", "avg_bits"};
  add_row_columns(cols, spec);
  Table t(cols);
  const std::size_t nx = varied ? spec.vary.front().values.size() : spec.hardware.size();
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, std::size_t> best;  // (workload, budget, x) -> row
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    const StudyRow& row = result.rows[i];
    if (!row.feasible) continue;
    const auto b = static_cast<std::size_t>(std::find(spec.avg_bits.begin(), spec.avg_bits.end(), row.avg_bits) -
                                            spec.avg_bits.begin());
    const std::size_t xv = varied ? row.axis_value.front() : row.hardware;
    auto [it, fresh] = best.try_emplace({row.workload, b, xv}, i);
    if (!fresh && row.inference_rate_per_s > result.rows[it->second].inference_rate_per_s) it->second = i;
  }
  for (std::size_t w = 0; w < result.networks.size(); ++w)
    for (std::size_t b = 0; b < spec.avg_bits.size(); ++b)
      for (std::size_t xv = 0; xv < nx; ++xv) {
        auto it = best.find({w, b, xv});
        if (it == best.end()) continue;
        std::vector<Cell> cells = {result.networks[w].name(), spec.avg_bits[b]};
        add_row_cells(cells, spec, result, result.rows[it->second]);
        t.add_row(std::move(cells));
      }
  return t;
}

constexpr double kTargets[] = {0.25, 0.5, 0.75, 0.9, 1.0};

// Per (workload, budget) and target (a fraction of the best images/s there): the row of least chip
// area reaching it (ties: less energy per image, then the earlier row).
Table cheapest_reaching(const StudySpec& spec, const StudyResult& result) {
  std::vector<std::string> cols = {"workload", "avg_bits", "target_fraction", "target_inference_rate_per_s"};
  add_row_columns(cols, spec);
  Table t(cols);
  for (std::size_t w = 0; w < result.networks.size(); ++w)
    for (double bits : spec.avg_bits) {
      double top = 0;
      for (const StudyRow& row : result.rows)
        if (row.feasible && row.workload == w && row.avg_bits == bits) top = std::max(top, row.inference_rate_per_s);
      if (!(top > 0)) continue;
      for (double f : kTargets) {
        const StudyRow* pick = nullptr;
        for (const StudyRow& row : result.rows) {
          if (!row.feasible || row.workload != w || row.avg_bits != bits || row.inference_rate_per_s < f * top)
            continue;
          if (!pick || row.area_mm2 < pick->area_mm2 ||
              (row.area_mm2 == pick->area_mm2 && row.energy_per_image_j < pick->energy_per_image_j))
            pick = &row;
        }
        if (!pick) continue;
        std::vector<Cell> cells = {result.networks[w].name(), bits, f, f * top};
        add_row_cells(cells, spec, result, *pick);
        t.add_row(std::move(cells));
      }
    }
  return t;
}

// images/s against x per workload: every feasible row as a grey dot, the front's rows on top with
// a style per bit budget (so each front point keeps its bit width).
Figure front_figure(const StudySpec& spec, const StudyResult& result, const std::vector<bool>& front, Axes axes,
                    double (*x)(const StudyRow&)) {
  Figure f;
  f.axes = std::move(axes);
  f.lines = false;
  f.shared_x = false;
  f.shared_y = false;
  const std::size_t panels = std::min(result.networks.size(), kMaxPanels);
  if (result.networks.size() > panels)
    f.note = fmt::format("the first {} of {} workloads (all in pareto.csv)", panels, result.networks.size());
  for (std::size_t w = 0; w < panels; ++w) {
    Panel p;
    p.title = result.networks[w].name();
    p.series.push_back({"every row", {}, {}, kBackgroundStyle, false});
    for (std::size_t b = 0; b < spec.avg_bits.size(); ++b)
      p.series.push_back({fmt::format("front, {}", bits_label(spec.avg_bits[b])), {}, {}, static_cast<int>(b), false});
    for (std::size_t i = 0; i < result.rows.size(); ++i) {
      const StudyRow& row = result.rows[i];
      if (!row.feasible || row.workload != w) continue;
      p.series[0].x.push_back(x(row));
      p.series[0].y.push_back(row.inference_rate_per_s);
      if (!front[i]) continue;
      const auto b = static_cast<std::size_t>(std::find(spec.avg_bits.begin(), spec.avg_bits.end(), row.avg_bits) -
                                              spec.avg_bits.begin());
      p.series[1 + b].x.push_back(x(row));
      p.series[1 + b].y.push_back(row.inference_rate_per_s);
    }
    f.panels.push_back(std::move(p));
  }
  return f;
}

// The resolved base configs (every parameter, defaults included).
Table configs_table(const StudyResult& result) {
  std::vector<std::string> cols = {"parameter"};
  const std::vector<sim::HardwareConfig>& bases = result.hardware;
  for (const sim::HardwareConfig& hw : bases) cols.push_back(hw.name + " (" + hw.source + ")");
  Table t(cols);
  if (bases.empty()) return t;
  const auto first = sim::describe_config(bases.front());
  for (std::size_t i = 0; i < first.size(); ++i) {
    std::vector<Cell> row = {first[i].first};
    for (const auto& hw : bases) row.emplace_back(sim::describe_config(hw)[i].second);
    t.add_row(std::move(row));
  }
  return t;
}

constexpr const char* kFrontPlots[][2] = {{"pareto-energy.svg", "energy"},
                                          {"pareto-area.svg", "area"},
                                          {"pareto-error.svg", "error"},
                                          {"pareto-cost.svg", "cost"}};

}  // namespace

std::vector<std::string> study_report_files(const StudySpec& spec, StudyKind kind) {
  std::vector<std::string> names = {"index.html", "best.csv", "cheapest.csv"};
  if (numeric_axes(spec).size() >= 2) names.emplace_back("heatmap.svg");
  if (kind == StudyKind::Codesign)
    for (const auto& p : kFrontPlots) names.emplace_back(p[0]);
  const std::vector<Pair> pairs = pairs_of(spec);
  for (std::size_t p = 0; p < drawn_pairs(spec); ++p) {
    names.push_back(fmt::format("rate-{}.svg", pairs[p].file_suffix));
    if (kind == StudyKind::Sweep) names.push_back(fmt::format("speedup-{}.svg", pairs[p].file_suffix));
  }
  return names;
}

namespace {

void write_report(const OutputDir& out, const StudySpec& spec, const StudyResult& result,
                  const std::vector<bool>* front, const StudyReportInfo& info) {
  const bool codesign = info.kind == StudyKind::Codesign;
  const char* command = codesign ? "codesign" : "sweep";
  std::vector<ReportSection> sections;
  // The study: what varied, where every row is.
  ReportSection study;
  study.heading = "Study";
  study.paragraphs.push_back(
      fmt::format("Study {}: {} hardware config(s) x {} workload(s) x {} varied parameter(s) "
                  "= {} points; {} rows (budgets x solvers, equal included). Every row is in "
                  "{}; this page holds summaries and plots. Rerun: bitsim {} {}/study.yaml",
                  info.spec_path, spec.hardware.size(), spec.workloads.size(), spec.vary.size(), spec.points(),
                  result.rows.size(), info.rows_csv, command, info.out_dir));
  if (!spec.vary.empty()) {
    std::vector<std::string> axes;
    axes.reserve(spec.vary.size());
    for (const study::StudyAxis& a : spec.vary)
      axes.push_back(fmt::format("{} ({})", a.key, fmt::join(a.values, ", ")));
    study.paragraphs.push_back(fmt::format("Varied: {}.", fmt::join(axes, "; ")));
  }
  study.paragraphs.push_back(fmt::format("Budgets (bits per value): {}. Solvers: equal (the baseline){}.",
                                         fmt::join(spec.avg_bits, ", "), [&] {
                                           std::string s;
                                           for (const alloc::SolverInfo* v : spec.solvers)
                                             if (v != &alloc::equal_solver()) s += fmt::format(", {}", v->name);
                                           return s;
                                         }()));
  for (const std::string& p : info.paragraphs) study.paragraphs.push_back(p);
  study.paragraphs.emplace_back(
      "predicted_distortion is the predicted output error (sum of the per-tensor curve distortions, seed 004 eq. 4); "
      "images/s come from the analytical model; energy per image and area from sim/energy.h.");
  study.links = {info.rows_csv};
  sections.push_back(std::move(study));

  // Co-design: the fronts, per workload.
  if (codesign && front) {
    ReportSection s;
    s.heading = "Pareto fronts (per workload)";
    s.paragraphs.emplace_back(
        "Each panel is one workload (images/s of different networks are not comparable). Grey: every row; "
        "coloured: the front's rows, by bit budget.");
    const Axes axes[] = {
        {"Co-design: images/s vs energy per image", "energy per image (J)", "images/s", true, false},
        {"Co-design: images/s vs chip area", "area (mm2)", "images/s", false, false},
        {"Co-design: images/s vs predicted output error", "predicted output error", "images/s", true, false},
        {"Co-design: images/s vs hardware cost (the study's proxy)", "hardware cost (proxy)", "images/s", false,
         false}};
    double (*const xs[])(const StudyRow&) = {
        [](const StudyRow& r) { return r.energy_per_image_j; }, [](const StudyRow& r) { return r.area_mm2; },
        [](const StudyRow& r) { return r.output_error; }, [](const StudyRow& r) { return r.cost; }};
    for (std::size_t k = 0; k < std::size(kFrontPlots); ++k) {
      out.write(kFrontPlots[k][0], facet_chart(front_figure(spec, result, *front, axes[k], xs[k])));
      s.images.emplace_back(kFrontPlots[k][0]);
    }
    if (info.front)
      s.tables.push_back(
          {fmt::format("The front's rows ({})", info.front->rows().size()), info.front, kMaxFrontRows, "pareto.csv"});
    sections.push_back(std::move(s));
  }

  // Summaries.
  const Table best = best_per_x(spec, result);
  const Table cheapest = cheapest_reaching(spec, result);
  out.write("best.csv", csv_text(best));
  out.write("cheapest.csv", csv_text(cheapest));
  {
    ReportSection s;
    s.heading = "Best configurations";
    const std::string x = spec.vary.empty() ? "hardware config" : spec.vary.front().key;
    s.tables.push_back(
        {fmt::format("Most images/s per {} (each workload and budget): the configuration that gives it", x), &best, 200,
         "best.csv"});
    s.tables.push_back(
        {"Least chip area reaching a target (a fraction of the best images/s of the workload at that "
         "budget)",
         &cheapest, 200, "cheapest.csv"});
    s.links = {"best.csv", "cheapest.csv"};
    sections.push_back(std::move(s));
  }

  // Small multiples per (hardware, workload).
  const std::vector<Pair> pairs = pairs_of(spec);
  const std::string left_out =
      pairs.size() > kMaxFigures
          ? fmt::format("Figures for the first {} of {} (hardware, workload) pairs; the others' rows are in {}.",
                        kMaxFigures, pairs.size(), info.rows_csv)
          : std::string();
  {
    ReportSection s;
    s.heading = "Images/s";
    s.paragraphs.emplace_back(
        spec.vary.empty()
            ? "One figure per hardware config and workload: images/s against the budget, a line per solver."
            : fmt::format("One figure per hardware config and workload: images/s against {}, one panel per "
                          "combination of the other varied parameters (at most {}; the line under a figure's "
                          "title names what it fixes), a line per budget and solver.",
                          spec.vary.front().key, kMaxPanels));
    if (!left_out.empty()) s.paragraphs.push_back(left_out);
    for (std::size_t p = 0; p < drawn_pairs(spec); ++p) {
      const std::string file = fmt::format("rate-{}.svg", pairs[p].file_suffix);
      out.write(file,
                facet_chart(pair_figure(spec, result, pairs[p], "Simulated images/s", "images/s", true, rate_of)));
      s.images.push_back(file);
    }
    sections.push_back(std::move(s));
  }
  if (!codesign) {
    ReportSection s;
    s.heading = "Speedup over equal allocation";
    s.paragraphs.emplace_back("Each solver's images/s over equal allocation's at the same budget, point and workload.");
    for (std::size_t p = 0; p < drawn_pairs(spec); ++p) {
      const std::string file = fmt::format("speedup-{}.svg", pairs[p].file_suffix);
      out.write(file, facet_chart(pair_figure(spec, result, pairs[p], "Speedup over equal allocation",
                                              "speedup vs equal (images/s ratio)", false, speedup_of)));
      s.images.push_back(file);
    }
    sections.push_back(std::move(s));
  }
  const std::vector<std::size_t> numeric = numeric_axes(spec);
  if (numeric.size() >= 2) {
    ReportSection s;
    s.heading = "Heatmap";
    s.paragraphs.push_back(fmt::format(
        "images/s over {} and {} at a fixed solver and budget ({}, {} bits per value), one panel per hardware config "
        "and workload, each on its own colour scale.",
        spec.vary[numeric[0]].key, spec.vary[numeric[1]].key, heat_solver(spec), spec.avg_bits.front()));
    out.write("heatmap.svg", heatmap_chart(heatmap(spec, result, numeric[0], numeric[1])));
    s.images = {"heatmap.svg"};
    sections.push_back(std::move(s));
  }
  const Table configs = configs_table(result);
  {
    ReportSection s;
    s.heading = "Hardware configs";
    s.paragraphs.emplace_back(
        "The base configs as resolved (every parameter); the varied parameters replace theirs "
        "at each point.");
    s.tables.push_back({"", &configs, 1000, ""});
    s.links = info.links;
    sections.push_back(std::move(s));
  }
  out.write("index.html", html_report(fmt::format("bitsim {}", command), sections));
}

}  // namespace

void write_study_report(const OutputDir& out, const StudySpec& spec, const StudyResult& result,
                        const std::vector<bool>* front, const StudyReportInfo& info) {
  if (spec.batches.size() <= 1) return write_report(out, spec, result, front, info);
  // Images/s at different batches are different quantities (as the fronts say): the plots and
  // summaries show the first batch, the CSVs every batch.
  const int batch = spec.batches.front();
  StudyResult shown = result;
  shown.rows.clear();
  std::vector<bool> shown_front;
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    if (result.rows[i].batch != batch) continue;
    shown.rows.push_back(result.rows[i]);
    if (front) shown_front.push_back((*front)[i]);
  }
  StudyReportInfo with_note = info;
  with_note.paragraphs.push_back(fmt::format(
      "The study has {} batch sizes ({}): the plots and summary tables show batch {} only; {} holds every batch.",
      spec.batches.size(), fmt::join(spec.batches, ", "), batch, info.rows_csv));
  write_report(out, spec, shown, front ? &shown_front : nullptr, with_note);
}

}  // namespace bitsim::tools
