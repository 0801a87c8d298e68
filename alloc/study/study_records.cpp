// Study rows as exact text: shortest round-trip decimals (fmt's "{}"), read back with from_chars.
#include "alloc/study/study_records.h"

#include <fmt/format.h>
#include <charconv>
#include <iterator>
#include <limits>

#include "sim/base/diagnostics.h"

namespace bitsim::study {

namespace {

constexpr std::string_view kHeader =
    "point,hardware,workload,batch,axis_values,avg_bits,solver,plan,rate_bits,output_error,inference_rate_per_s,"
    "speedup_vs_equal,speedup_vs_native,hardware_cost,energy_per_image_j,area_mm2,compute_bound,dram_bound,"
    "decode_bound,proven_optimal,feasible,native_rate_per_s,choice,status\n";

template <typename T>
void append_list(std::string& out, const std::vector<T>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ';';
    fmt::format_to(std::back_inserter(out), "{}", values[i]);
  }
}

// One line being read: fields split at commas, the status the rest of the line.
class RecordReader {
 public:
  RecordReader(std::string_view line, const std::string& file, int line_number)
      : m_rest(line), m_file(file), m_line(line_number) {}

  std::string_view field(const char* name) {
    const auto comma = m_rest.find(',');
    if (comma == std::string_view::npos) fail(fmt::format("expected the field '{}', the line ends", name));
    const std::string_view f = m_rest.substr(0, comma);
    m_rest.remove_prefix(comma + 1);
    return f;
  }
  template <typename T>
  T number(const char* name) {
    return parse<T>(field(name), name);
  }
  template <typename T>
  T parse(std::string_view text, const char* name) const {
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail(fmt::format("{}: expected a number, got '{}'", name, text));
    return v;
  }
  template <typename T>
  std::vector<T> list(const char* name) {
    std::vector<T> out;
    std::string_view f = field(name);
    while (!f.empty()) {
      const auto semi = f.find(';');
      out.push_back(parse<T>(f.substr(0, semi), name));
      f.remove_prefix(semi == std::string_view::npos ? f.size() : semi + 1);
    }
    return out;
  }
  std::string status() {
    std::string s;
    for (std::size_t i = 0; i < m_rest.size(); ++i) {
      if (m_rest[i] != '\\') {
        s += m_rest[i];
        continue;
      }
      const char e = i + 1 < m_rest.size() ? m_rest[++i] : '\0';
      if (e != '\\' && e != 'n' && e != 'r') fail("status: expected \\\\, \\n or \\r after a backslash");
      s += e == 'n' ? '\n' : e == 'r' ? '\r' : '\\';
    }
    return s;
  }
  [[noreturn]] void fail(const std::string& message) const { throw InputError({m_file, m_line, 0}, message); }

 private:
  std::string_view m_rest;
  const std::string& m_file;
  int m_line;
};

}  // namespace

std::string_view point_records_header() { return kHeader; }

void append_point_records(const StudyResult& result, std::size_t point, std::string& out) {
  const std::size_t per_point = result.rows_per_point();
  auto it = std::back_inserter(out);
  for (std::size_t i = point * per_point; i < (point + 1) * per_point; ++i) {
    const StudyRow& r = result.rows[i];
    fmt::format_to(it, "{},{},{},{},", r.point, r.hardware, r.workload, r.batch);
    append_list(out, r.axis_value);
    fmt::format_to(it, ",{},{},", r.avg_bits, r.solver);
    if (result.row_plan[i] != kNoPlan) fmt::format_to(it, "{}", result.row_plan[i]);
    fmt::format_to(it, ",{},{},{},{},{},{},{},{},{},{},{},{:d},{:d},{},", r.rate_bits, r.output_error,
                   r.inference_rate_per_s, r.speedup_vs_equal, r.speedup_vs_native, r.cost, r.energy_per_image_j,
                   r.area_mm2, r.compute_bound, r.dram_bound, r.decode_bound, r.proven_optimal ? 1 : 0,
                   r.feasible ? 1 : 0, result.native_rate_per_s[point]);
    append_list(out, r.choice);
    out += ',';
    for (const char c : r.status) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else
        out += c;
    }
    out += '\n';
  }
}

RestoredPoints restore_point_records(StudyResult& result, std::string_view text, const std::string& file) {
  RestoredPoints restored;
  if (text.substr(0, kHeader.size()) != kHeader)
    throw InputError({file, 1, 0}, "expected bitsim's row records, headed by their column names");
  const std::size_t per_point = result.rows_per_point();
  const std::size_t points = result.configs.size();
  BITSIM_CHECK(per_point > 0 && result.point_done.size() == points);
  std::size_t pos = kHeader.size();
  restored.valid_bytes = pos;
  int line_number = 1;
  std::size_t in_point = 0, current = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) break;  // cut off while writing
    ++line_number;
    RecordReader rd(text.substr(pos, eol - pos), file, line_number);
    const auto point = rd.number<std::size_t>("point");
    if (in_point == 0) {
      if (point >= points) rd.fail(fmt::format("point {} is out of range: the study has {} points", point, points));
      if (result.point_done[point]) rd.fail(fmt::format("point {} is given twice", point));
      current = point;
    } else if (point != current) {
      rd.fail(
          fmt::format("expected {} rows of point {}, got {} and then point {}", per_point, current, in_point, point));
    }
    const std::size_t at = point * per_point + in_point;
    StudyRow& r = result.rows[at];
    r.point = point;
    r.hardware = rd.number<std::size_t>("hardware");
    r.workload = rd.number<std::size_t>("workload");
    r.batch = rd.number<int>("batch");
    r.axis_value = rd.list<std::size_t>("axis_values");
    r.avg_bits = rd.number<double>("avg_bits");
    r.solver = std::string(rd.field("solver"));
    const std::string_view plan = rd.field("plan");
    result.row_plan[at] = plan.empty() ? kNoPlan : rd.parse<std::size_t>(plan, "plan");
    if (result.row_plan[at] != kNoPlan && result.row_plan[at] >= result.plans.size())
      rd.fail(fmt::format("plan {} is out of range: the study has {} plans", result.row_plan[at], result.plans.size()));
    r.rate_bits = rd.number<double>("rate_bits");
    r.output_error = rd.number<double>("output_error");
    r.inference_rate_per_s = rd.number<double>("inference_rate_per_s");
    r.speedup_vs_equal = rd.number<double>("speedup_vs_equal");
    r.speedup_vs_native = rd.number<double>("speedup_vs_native");
    r.cost = rd.number<double>("hardware_cost");
    r.energy_per_image_j = rd.number<double>("energy_per_image_j");
    r.area_mm2 = rd.number<double>("area_mm2");
    r.compute_bound = rd.number<std::int64_t>("compute_bound");
    r.dram_bound = rd.number<std::int64_t>("dram_bound");
    r.decode_bound = rd.number<std::int64_t>("decode_bound");
    r.proven_optimal = rd.number<int>("proven_optimal") != 0;
    r.feasible = rd.number<int>("feasible") != 0;
    result.native_rate_per_s[point] = rd.number<double>("native_rate_per_s");
    r.choice = rd.list<int>("choice");
    r.status = rd.status();
    pos = eol + 1;
    if (++in_point == per_point) {
      result.point_done[point] = 1;
      restored.points.push_back(point);
      restored.valid_bytes = pos;
      in_point = 0;
    }
  }
  return restored;
}

}  // namespace bitsim::study
