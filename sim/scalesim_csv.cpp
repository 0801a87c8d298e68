// SCALE-Sim v2 topology CSVs, read with v2's semantics (shared/reference/scalesim/README.md) but
// with a file:line:col error where v2 would crash.
//
// Choices where v2 is loose:
// - As in v2, the first line is a header, blank lines are skipped, and the last comma-separated
//   field is dropped (so rows need a trailing comma; text after it, like "#dw", is ignored).
// - Dimensions must be positive integers; fields after the column stride are ignored.
// - A repeated layer name gets "@<line>" appended, since bitsim names tensors after layers.
// - A "DP" (depthwise) row becomes one grouped conv with groups = channels and N filters per
//   group: the same GEMMs as v2's split into per-channel layers, reported as one row whose compute
//   cycles are the sum of the split layers' cycles.
// Each row reads its own IFMAP (a separate network input named "<layer>_ifmap"): the rows of a
// SCALE-Sim topology are independent layers, not a chain.
#include <fmt/format.h>
#include <charconv>
#include <fstream>
#include <optional>
#include <set>

#include "sim/base/text.h"
#include "sim/workload.h"

namespace bitsim::sim {
namespace {

enum class Kind { Conv, Gemm };

// The numeric columns of a row, each a positive integer: the kind's columns, and for conv rows a
// stride width when the row has one more field. Nothing (reported) if any is bad.
std::optional<std::vector<std::int64_t>> row_numbers(const std::vector<CsvField>& fields, Kind kind,
                                                     const std::vector<std::string_view>& columns,
                                                     const SourceLocation& line, Diagnostics& diag) {
  std::vector<std::int64_t> v;
  bool ok = true;
  const std::size_t numeric = columns.size() + (kind == Kind::Conv && fields.size() > 8 ? 1 : 0);
  for (std::size_t i = 1; i <= numeric; ++i) {
    const std::string_view col_name = i <= columns.size() ? columns[i - 1] : std::string_view("Stride Width");
    const std::string& t = fields[i].text;
    const auto x = parse_integer(t);
    if (!x || *x < 1 || *x > INT32_MAX) {
      diag.error({line.file, line.line, fields[i].col},
                 fmt::format("{}: expected a positive integer, got '{}'", col_name, t));
      ok = false;
      continue;
    }
    v.push_back(*x);
  }
  if (!ok) return std::nullopt;
  return v;
}

// A row as two layers: its own IFMAP input and the conv (a GEMM row: a 1 x K kernel over an M x K map).
bool add_row_layers(std::vector<LayerSpec>& specs, const std::string& name, const std::vector<std::int64_t>& v,
                    Kind kind, const std::vector<CsvField>& fields, const SourceLocation& where, Diagnostics& diag) {
  LayerSpec ifmap;
  ifmap.op = LayerOp::Input;
  ifmap.name = name + "_ifmap";
  ifmap.where = where;
  LayerSpec conv;
  conv.op = LayerOp::Conv;
  conv.name = name;
  conv.inputs = {ifmap.name};
  conv.where = where;
  conv.window.ceil_mode = true;
  if (kind == Kind::Gemm) {
    // v2: [name, H=M, W=K, R=1, S=K, C=1, N, stride 1]
    ifmap.input_shape = {1, v[0], v[2]};
    conv.out_channels = v[1];
    conv.window.kernel_h = 1;
    conv.window.kernel_w = v[2];
  } else {
    const std::int64_t h = v[0], w = v[1], r = v[2], s = v[3], c = v[4], n = v[5];
    if (r > h || s > w) {
      diag.error({where.file, where.line, fields[r > h ? 3 : 4].col},
                 fmt::format("filter {}x{} is larger than the IFMAP {}x{}", r, s, h, w));
      return false;
    }
    ifmap.input_shape = {c, h, w};
    conv.window.kernel_h = r;
    conv.window.kernel_w = s;
    conv.window.stride_h = v[6];
    conv.window.stride_w = v.size() > 7 ? v[7] : v[6];
    conv.out_channels = n;
    if (name.find("DP") != std::string::npos) {
      conv.groups = c;
      conv.out_channels = c * n;
    }
  }
  specs.push_back(std::move(ifmap));
  specs.push_back(std::move(conv));
  return true;
}

Network load(const std::string& path, Kind kind) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  Diagnostics diag;
  std::vector<LayerSpec> specs;
  std::set<std::string, std::less<>> seen;
  const std::vector<std::string_view> columns =
      kind == Kind::Conv ? std::vector<std::string_view>{"IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                                         "Channels",     "Num Filter",  "Strides"}
                         : std::vector<std::string_view>{"M", "N", "K"};
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line_no == 1 || trim(line).empty()) continue;          // header; blank lines
    CsvLine split = split_csv_line(line, CsvQuotes::Literal);  // v2: line.split(',')
    if (split.error) {
      diag.error({path, line_no, split.error->first}, split.error->second);
      continue;
    }
    std::vector<CsvField>& fields = split.fields;
    fields.pop_back();  // v2 drops the last field: the empty one after the trailing comma
    if (fields.size() < columns.size() + 1) {
      diag.error({path, line_no, static_cast<int>(line.size()) + 1},
                 fmt::format("expected {} comma-separated fields (name, {}) ending with a trailing comma, got {} "
                             "(SCALE-Sim drops the field after the last comma)",
                             columns.size() + 1, fmt::join(columns, ", "), fields.size()));
      continue;
    }
    if (fields[0].text.empty()) {
      diag.error({path, line_no, fields[0].col}, "layer name: expected a name, got an empty field");
      continue;
    }
    const SourceLocation where{path, line_no, 1};
    const auto v = row_numbers(fields, kind, columns, where, diag);
    if (!v) continue;
    std::string name(fields[0].text);
    if (!seen.insert(name).second) name += fmt::format("@{}", line_no);
    seen.insert(name);
    add_row_layers(specs, name, *v, kind, fields, where, diag);
  }
  if (specs.empty() && diag.empty())
    diag.error({path, 0, 0}, "no layers (expected a header line, then one row per layer)");
  diag.throw_if_any();
  std::string net_name = path.substr(path.find_last_of('/') + 1);
  net_name = net_name.substr(0, net_name.rfind('.'));
  return Network::build(net_name, specs);
}

}  // namespace

Network load_scalesim_topology(const std::string& path, const WorkloadOptions&) { return load(path, Kind::Conv); }
Network load_scalesim_gemm(const std::string& path, const WorkloadOptions&) { return load(path, Kind::Gemm); }

}  // namespace bitsim::sim
