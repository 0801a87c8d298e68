// The curves CSV format and Pareto pruning.
#include "alloc/curves.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <ostream>
#include <set>

#include "sim/base/table.h"
#include "sim/base/text.h"
#include "sim/bit_plan.h"

namespace bitsim::alloc {

std::int64_t RateDistortionCurves::total_values() const {
  std::int64_t sum = 0;
  for (const auto& t : tensors) sum += t.count;
  return sum;
}

double RateDistortionCurves::min_rate_bits() const {
  double sum = 0;
  for (const auto& t : tensors) {
    double best = INFINITY;
    for (const auto& o : t.options) best = std::min(best, o.rate_bits);
    sum += best;
  }
  return sum;
}

double RateDistortionCurves::max_rate_bits() const {
  double sum = 0;
  for (const auto& t : tensors) {
    const auto front = pareto_front(t);
    sum += t.options[static_cast<std::size_t>(front.back())].rate_bits;
  }
  return sum;
}

std::vector<int> pareto_front(const TensorCurve& curve) {
  std::vector<int> order(curve.options.size());
  std::iota(order.begin(), order.end(), 0);
  const auto& o = curve.options;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const auto &x = o[static_cast<std::size_t>(a)], &y = o[static_cast<std::size_t>(b)];
    if (x.rate_bits != y.rate_bits) return x.rate_bits < y.rate_bits;
    if (x.distortion != y.distortion) return x.distortion < y.distortion;
    return a < b;
  });
  std::vector<int> front;
  double best = INFINITY;
  for (int i : order) {
    if (o[static_cast<std::size_t>(i)].distortion < best) {
      front.push_back(i);
      best = o[static_cast<std::size_t>(i)].distortion;
    }
  }
  return front;
}

namespace {

const std::vector<std::string> kColumns = {"tensor",     "option",       "rate_bits", "distortion", "kind",
                                           "layer",      "bits",         "levels",    "beta",       "count",
                                           "fixed_bits", "entropy_bits", "coded_bits"};
const std::vector<std::string> kRequired = {"tensor", "option", "rate_bits", "distortion"};

}  // namespace

namespace {

// Reads a curves CSV line by line into `curves`, collecting every problem in `diag`.
class CurvesReader {
 public:
  CurvesReader(const std::string& path, Diagnostics& diag) : m_path(path), m_diag(diag) {
    m_curves.source = path;
    m_curves.provenance = "measured";
  }

  void line(const std::string& text, int line_no) {
    m_line = line_no;
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return;
    if (text[first] == '#') return metadata(std::string_view(text).substr(first + 1), static_cast<int>(first + 1));
    const CsvLine split = split_csv_line(text);
    if (split.error) return m_diag.error(at(split.error->first), split.error->second);
    if (!m_have_header) return header(split.fields);
    if (split.fields.size() != m_column.size()) {  // extra fields point at the first one, missing ones at the end
      const int col =
          split.fields.size() > m_column.size() ? split.fields[m_column.size()].col : static_cast<int>(text.size()) + 1;
      return m_diag.error(at(col), fmt::format("expected {} fields (one per header column), got {}", m_column.size(),
                                               split.fields.size()));
    }
    row(split.fields);
  }

  RateDistortionCurves finish() {
    if (!m_have_header)
      m_diag.error({m_path, 0, 0}, "empty file: expected a header line (tensor,option,rate_bits,distortion,...)");
    else if (m_curves.tensors.empty() && m_diag.empty())
      m_diag.error({m_path, 0, 0}, "no curve rows after the header");
    m_diag.throw_if_any();
    return std::move(m_curves);
  }

 private:
  SourceLocation at(int col) const { return {m_path, m_line, col}; }

  // "# rate: coded" and "# provenance: ..." carry metadata; other comments are ignored.
  void metadata(std::string_view body, int col) {
    const auto colon = body.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view key = trim(body.substr(0, colon)), value = trim(body.substr(colon + 1));
    if (key == "rate") {
      if (const auto kind = kRateKindNames.find(value))
        m_curves.rate = *kind;
      else
        m_diag.expected(at(col), "# rate", kRateKindNames.alternatives(), fmt::format("'{}'", value));
    } else if (key == "provenance") {
      m_curves.provenance = std::string(value);
    }
  }

  void header(const std::vector<CsvField>& cells) {
    m_have_header = true;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string& name = cells[i].text;
      if (std::find(kColumns.begin(), kColumns.end(), name) == kColumns.end()) {
        std::string msg = fmt::format("unknown column '{}'", name);
        const std::string guess = did_you_mean(name, kColumns);
        if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
        m_diag.error(at(cells[i].col), msg + fmt::format("; expected: {}", fmt::join(kColumns, ", ")));
      } else if (!m_column.emplace(name, i).second) {
        m_diag.error(at(cells[i].col), fmt::format("column '{}' appears twice", name));
      }
    }
    for (const auto& r : kRequired)
      if (!m_column.contains(r))
        m_diag.error(at(1), fmt::format("missing column '{}' (required: {})", r, fmt::join(kRequired, ", ")));
    m_diag.throw_if_any();
  }

  const CsvField* cell(const std::vector<CsvField>& cells, const char* name) const {
    const auto it = m_column.find(name);
    return it == m_column.end() ? nullptr : &cells[it->second];
  }

  // A non-negative finite number, at most `max` (an empty optional cell leaves `out` as it is).
  // False on a bad value.
  bool number(const std::vector<CsvField>& cells, const char* name, bool required, double& out,
              double max = std::numeric_limits<double>::max()) {
    const CsvField* c = cell(cells, name);
    if (c == nullptr || (c->text.empty() && !required)) return true;
    const auto v = parse_number(c->text);
    if (!v || *v < 0 || *v > max) {
      m_diag.expected(at(c->col), name,
                      max < std::numeric_limits<double>::max() ? fmt::format("a number from 0 to {}", max)
                                                               : std::string("a finite number >= 0"),
                      fmt::format("'{}'", c->text));
      return false;
    }
    out = *v;
    return true;
  }

  bool integer(const std::vector<CsvField>& cells, const char* name, std::int64_t max, std::int64_t& out) {
    const CsvField* c = cell(cells, name);
    if (c == nullptr || c->text.empty()) return true;
    const auto v = parse_integer(c->text);
    if (!v || *v < 1 || *v > max) {
      m_diag.expected(at(c->col), name, fmt::format("an integer from 1 to {}", max), fmt::format("'{}'", c->text));
      return false;
    }
    out = *v;
    return true;
  }

  // The tensor's kind: the kind column if given, else from the name (":a" is an activation).
  std::optional<CurveTensorKind> kind(const std::vector<CsvField>& cells, const std::string& tensor) {
    if (const CsvField* k = cell(cells, "kind"); k && !k->text.empty()) {
      if (const auto v = kCurveTensorKindNames.find(k->text)) return v;
      m_diag.expected(at(k->col), "kind", kCurveTensorKindNames.alternatives(), fmt::format("'{}'", k->text));
      return std::nullopt;
    }
    return tensor.size() > 2 && tensor.ends_with(":a") ? CurveTensorKind::Activation : CurveTensorKind::Weight;
  }

  void row(const std::vector<CsvField>& cells) {
    CurveOption opt;
    opt.where = at(1);
    const std::string tensor = cell(cells, "tensor")->text;
    opt.name = cell(cells, "option")->text;
    if (tensor.empty())
      return m_diag.error(at(cell(cells, "tensor")->col),
                          "tensor: expected a tensor name like conv1:w, got an empty field");
    if (opt.name.empty())
      return m_diag.error(at(cell(cells, "option")->col), "option: expected an option name, got an empty field");
    std::int64_t bits = 0, levels = 0, count = 0;
    // Sizes up to 2^53 bits: whole numbers of bits stay exact in a double, and sums of them in int64.
    constexpr double kMaxBits = 9007199254740992.0;
    bool ok = number(cells, "rate_bits", true, opt.rate_bits, kMaxBits);
    ok &= number(cells, "distortion", true, opt.distortion);
    ok &= number(cells, "beta", false, opt.beta);
    ok &= number(cells, "fixed_bits", false, opt.fixed_bits, kMaxBits);
    ok &= number(cells, "entropy_bits", false, opt.entropy_bits, kMaxBits);
    ok &= number(cells, "coded_bits", false, opt.coded_bits, kMaxBits);
    ok &= integer(cells, "bits", 32, bits);  // what plans hold (sim/bit_plan.h)
    ok &= integer(cells, "levels", INT32_MAX, levels);
    ok &= integer(cells, "count", INT64_MAX / 64, count);
    const std::optional<CurveTensorKind> k = kind(cells, tensor);
    if (!ok || !k) return;
    opt.bits = static_cast<int>(bits);
    opt.levels = static_cast<int>(levels);
    // The plan rule (sim::levels_problem), so that a plan allocate writes from these curves loads.
    if (levels > 0)
      switch (sim::levels_problem(levels, bits > 0 ? std::optional<int>(opt.bits) : std::nullopt,
                                  *k == CurveTensorKind::Activation)) {
        case sim::LevelsProblem::None:
          break;
        case sim::LevelsProblem::WeightLevels:
          return m_diag.expected(at(cell(cells, "levels")->col), "levels",
                                 "an odd number >= 3 for a weight tensor (seed 004 eq. 1: t = 2k + 1 levels)",
                                 fmt::format("'{}'", levels));
        case sim::LevelsProblem::ActivationLevels:
          return m_diag.expected(at(cell(cells, "levels")->col), "levels",
                                 "a number >= 2 for an activation tensor (one level stores nothing)",
                                 fmt::format("'{}'", levels));
        case sim::LevelsProblem::TooFewBits:
          return m_diag.error(at(cell(cells, "levels")->col),
                              fmt::format("levels: {} levels need {} bits (symbols 0 to t-1 take ceil(log2 t) bits), "
                                          "but bits is {}",
                                          levels, sim::bits_for_levels(levels), bits));
      }
    if (!m_seen.emplace(tensor, opt.name).second)
      return m_diag.error(at(cell(cells, "option")->col),
                          fmt::format("tensor {} has option '{}' twice", tensor, opt.name));
    TensorCurve& t = tensor_curve(cells, tensor, *k, count);
    if (count != 0 && t.count != 0 && count != t.count)
      m_diag.error(at(cell(cells, "count")->col),
                   fmt::format("count: tensor {} was given {} values earlier, got {}", tensor, t.count, count));
    if (t.count == 0) t.count = count;
    t.options.push_back(std::move(opt));
  }

  // The tensor's curve, created at its first row.
  TensorCurve& tensor_curve(const std::vector<CsvField>& cells, const std::string& tensor, CurveTensorKind kind,
                            std::int64_t count) {
    auto [it, inserted] = m_tensor_index.emplace(tensor, m_curves.tensors.size());
    if (inserted) {
      TensorCurve t;
      t.tensor = tensor;
      t.kind = kind;
      const auto colon = tensor.rfind(':');
      t.layer = colon == std::string::npos ? tensor : tensor.substr(0, colon);
      if (const CsvField* l = cell(cells, "layer"); l && !l->text.empty()) t.layer = l->text;
      t.count = count;
      m_curves.tensors.push_back(std::move(t));
    }
    return m_curves.tensors[it->second];
  }

  std::string m_path;
  Diagnostics& m_diag;
  RateDistortionCurves m_curves;
  int m_line = 0;
  bool m_have_header = false;
  std::map<std::string, std::size_t> m_column;  // name -> index
  std::map<std::string, std::size_t> m_tensor_index;
  std::set<std::pair<std::string, std::string>> m_seen;
};

}  // namespace

RateDistortionCurves load_curves(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  return read_curves(in, path);
}

RateDistortionCurves read_curves(std::istream& in, const std::string& source, int first_line) {
  Diagnostics diag;
  CurvesReader reader(source, diag);
  std::string line;
  for (int line_no = first_line; std::getline(in, line); ++line_no) reader.line(line, line_no);
  return reader.finish();
}

void write_curves(std::ostream& out, const RateDistortionCurves& curves) {
  out << "# bitsim rate-distortion curves\n";
  out << "# provenance: " << curves.provenance << "\n";
  out << "# rate: " << rate_kind_name(curves.rate) << "\n";
  // Through Table's CSV writer, so that a name with a comma or a quote is quoted (and reads back).
  Table table(kColumns);
  auto opt_num = [](double v) { return v < 0 ? Cell(std::string()) : Cell(v); };
  auto opt_int = [](std::int64_t v) { return v <= 0 ? Cell(std::string()) : Cell(v); };
  for (const auto& t : curves.tensors)
    for (const auto& o : t.options)
      table.add_row({t.tensor, o.name, o.rate_bits, o.distortion, std::string(kCurveTensorKindNames.name(t.kind)),
                     t.layer, opt_int(o.bits), opt_int(o.levels), opt_num(o.beta), opt_int(t.count),
                     opt_num(o.fixed_bits), opt_num(o.entropy_bits), opt_num(o.coded_bits)});
  table.write_csv(out);
}

}  // namespace bitsim::alloc
