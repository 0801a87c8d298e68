// The curves CSV format and Pareto pruning.
#include "alloc/curves.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <ostream>
#include <set>

#include "sim/base/table.h"
#include "sim/base/text.h"

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

RateDistortionCurves load_curves(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  Diagnostics diag;
  RateDistortionCurves curves;
  curves.source = path;
  curves.provenance = "measured";
  std::map<std::string, int> column;  // name -> index
  std::map<std::string, std::size_t> tensor_index;
  std::set<std::pair<std::string, std::string>> seen;
  std::string line;
  int line_no = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] == '#') {
      // "# rate: coded" and "# provenance: ..." carry metadata; other comments are ignored.
      const std::string body = line.substr(first + 1);
      const auto colon = body.find(':');
      if (colon == std::string::npos) continue;
      std::string key = body.substr(0, colon);
      std::string value = body.substr(colon + 1);
      key.erase(0, key.find_first_not_of(' '));
      key.erase(key.find_last_not_of(' ') + 1);
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of(" \r") + 1);
      if (key == "rate") {
        if (const auto kind = kRateKindNames.find(value))
          curves.rate = *kind;
        else
          diag.expected({path, line_no, static_cast<int>(first + 1)}, "# rate", kRateKindNames.alternatives(),
                        fmt::format("'{}'", value));
      } else if (key == "provenance") {
        curves.provenance = value;
      }
      continue;
    }
    const CsvLine split = split_csv_line(line);
    if (split.error) {
      diag.error({path, line_no, split.error->first}, split.error->second);
      continue;
    }
    const std::vector<CsvField>& cells = split.fields;
    if (!have_header) {
      have_header = true;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string& name = cells[i].text;
        if (std::find(kColumns.begin(), kColumns.end(), name) == kColumns.end()) {
          std::string msg = fmt::format("unknown column '{}'", name);
          const std::string guess = did_you_mean(name, kColumns);
          if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
          diag.error({path, line_no, cells[i].col}, msg + fmt::format("; expected: {}", fmt::join(kColumns, ", ")));
        } else if (!column.emplace(name, static_cast<int>(i)).second) {
          diag.error({path, line_no, cells[i].col}, fmt::format("column '{}' appears twice", name));
        }
      }
      for (const auto& r : kRequired)
        if (!column.count(r))
          diag.error({path, line_no, 1},
                     fmt::format("missing column '{}' (required: {})", r, fmt::join(kRequired, ", ")));
      diag.throw_if_any();
      continue;
    }
    if (cells.size() != column.size()) {  // extra fields point at the first one, missing ones at the end
      const int col = cells.size() > column.size() ? cells[column.size()].col : static_cast<int>(line.size()) + 1;
      diag.error({path, line_no, col},
                 fmt::format("expected {} fields (one per header column), got {}", column.size(), cells.size()));
      continue;
    }
    auto cell = [&](const char* name) -> const CsvField* {
      const auto it = column.find(name);
      return it == column.end() ? nullptr : &cells[static_cast<std::size_t>(it->second)];
    };
    bool ok = true;
    // A non-negative finite number; `present` is false for an empty optional cell.
    auto number = [&](const char* name, bool required, double& out) {
      const CsvField* c = cell(name);
      if (c == nullptr || (c->text.empty() && !required)) return;
      const auto v = parse_number(c->text);
      if (!v || *v < 0) {
        diag.expected({path, line_no, c->col}, name, "a finite number >= 0", fmt::format("'{}'", c->text));
        ok = false;
        return;
      }
      out = *v;
    };
    auto integer = [&](const char* name, std::int64_t max, std::int64_t& out) {
      const CsvField* c = cell(name);
      if (c == nullptr || c->text.empty()) return;
      const auto v = parse_integer(c->text);
      if (!v || *v < 1 || *v > max) {
        diag.expected({path, line_no, c->col}, name, fmt::format("an integer from 1 to {}", max),
                      fmt::format("'{}'", c->text));
        ok = false;
        return;
      }
      out = *v;
    };
    CurveOption opt;
    opt.where = {path, line_no, 1};
    const std::string tensor = cell("tensor")->text;
    opt.name = cell("option")->text;
    if (tensor.empty()) {
      diag.error({path, line_no, cell("tensor")->col},
                 "tensor: expected a tensor name like conv1:w, got an empty field");
      continue;
    }
    if (opt.name.empty()) {
      diag.error({path, line_no, cell("option")->col}, "option: expected an option name, got an empty field");
      continue;
    }
    number("rate_bits", true, opt.rate_bits);
    number("distortion", true, opt.distortion);
    number("beta", false, opt.beta);
    number("fixed_bits", false, opt.fixed_bits);
    number("entropy_bits", false, opt.entropy_bits);
    number("coded_bits", false, opt.coded_bits);
    std::int64_t bits = 0, levels = 0, count = 0;
    integer("bits", 64, bits);
    integer("levels", INT32_MAX, levels);
    integer("count", INT64_MAX / 64, count);
    opt.bits = static_cast<int>(bits);
    opt.levels = static_cast<int>(levels);
    CurveTensorKind kind = tensor.size() > 2 && tensor.substr(tensor.size() - 2) == ":a" ? CurveTensorKind::Activations
                                                                                         : CurveTensorKind::Weights;
    if (const CsvField* k = cell("kind"); k && !k->text.empty()) {
      if (k->text == "weight")
        kind = CurveTensorKind::Weights;
      else if (k->text == "activation")
        kind = CurveTensorKind::Activations;
      else {
        diag.expected({path, line_no, k->col}, "kind", "weight or activation", fmt::format("'{}'", k->text));
        ok = false;
      }
    }
    if (!ok) continue;
    if (!seen.emplace(tensor, opt.name).second) {
      diag.error({path, line_no, cell("option")->col},
                 fmt::format("tensor {} has option '{}' twice", tensor, opt.name));
      continue;
    }
    auto [it, inserted] = tensor_index.emplace(tensor, curves.tensors.size());
    if (inserted) {
      TensorCurve t;
      t.tensor = tensor;
      t.kind = kind;
      const auto colon = tensor.rfind(':');
      t.layer = colon == std::string::npos ? tensor : tensor.substr(0, colon);
      if (const CsvField* l = cell("layer"); l && !l->text.empty()) t.layer = l->text;
      t.count = count;
      curves.tensors.push_back(std::move(t));
    }
    TensorCurve& t = curves.tensors[it->second];
    if (count != 0 && t.count != 0 && count != t.count)
      diag.error({path, line_no, cell("count")->col},
                 fmt::format("count: tensor {} was given {} values earlier, got {}", tensor, t.count, count));
    if (t.count == 0) t.count = count;
    t.options.push_back(std::move(opt));
  }
  if (!have_header)
    diag.error({path, 0, 0}, "empty file: expected a header line (tensor,option,rate_bits,distortion,...)");
  else if (curves.tensors.empty() && diag.empty())
    diag.error({path, 0, 0}, "no curve rows after the header");
  diag.throw_if_any();
  return curves;
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
      table.add_row({t.tensor, o.name, o.rate_bits, o.distortion,
                     std::string(t.kind == CurveTensorKind::Weights ? "weight" : "activation"), t.layer,
                     opt_int(o.bits), opt_int(o.levels), opt_num(o.beta), opt_int(t.count), opt_num(o.fixed_bits),
                     opt_num(o.entropy_bits), opt_num(o.coded_bits)});
  table.write_csv(out);
}

}  // namespace bitsim::alloc
