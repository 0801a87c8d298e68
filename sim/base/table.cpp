// Text, CSV and JSON rendering of result tables.
#include "sim/base/table.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <sstream>

namespace bitsim {

void Table::add_row(std::vector<Cell> row) {
  row.resize(m_columns.size(), std::string());
  m_rows.push_back(std::move(row));
}

namespace {
// NaN is missing(): `missing_text`; infinities keep their sign; finite values are the caller's.
std::optional<std::string> non_finite_text(double v, const char* missing_text) {
  if (std::isnan(v)) return std::string(missing_text);
  if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
  return std::nullopt;
}
}  // namespace

std::string format_cell_text(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&c)) return non_finite_text(*d, "-").value_or(fmt::format("{:.4g}", *d));
  return std::get<std::string>(c);
}

std::string format_cell_exact(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&c)) return non_finite_text(*d, "").value_or(fmt::format("{}", *d));
  return std::get<std::string>(c);
}

void Table::write_text(std::ostream& out) const {
  // Two passes (widths, then lines), formatting each cell twice: no second copy of the table as text.
  std::vector<std::size_t> width(m_columns.size());
  for (std::size_t c = 0; c < m_columns.size(); ++c) width[c] = m_columns[c].size();
  for (const auto& row : m_rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], format_cell_text(row[c]).size());
  auto line = [&](auto&& get, auto&& numeric) {
    std::string s;
    for (std::size_t c = 0; c < m_columns.size(); ++c) {
      if (c) s += "  ";
      s += numeric(c) ? fmt::format("{:>{}}", get(c), width[c]) : fmt::format("{:<{}}", get(c), width[c]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  auto is_numeric = [&](std::size_t c) {
    return !m_rows.empty() && !std::holds_alternative<std::string>(m_rows[0][c]);
  };
  line([&](std::size_t c) { return m_columns[c]; }, is_numeric);
  for (const auto& row : m_rows) line([&](std::size_t c) { return format_cell_text(row[c]); }, is_numeric);
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}
}  // namespace

void Table::write_csv(std::ostream& out) const {
  for (std::size_t c = 0; c < m_columns.size(); ++c) out << (c ? "," : "") << csv_field(m_columns[c]);
  out << '\n';
  for (const auto& row : m_rows) {
    for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_field(format_cell_exact(row[c]));
    out << '\n';
  }
}

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<int>(ch));
        else
          out += ch;
    }
  }
  return out + "\"";
}

void JsonWriter::separate() {
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (!m_first.empty()) {
    if (!m_first.back()) m_out << ',';
    m_first.back() = false;
    m_out << '\n' << std::string(2 * m_first.size(), ' ');
  }
}

void JsonWriter::begin_object() {
  separate();
  m_out << '{';
  m_first.push_back(true);
}

void JsonWriter::end_object() {
  const bool empty = m_first.back();
  m_first.pop_back();
  if (!empty) m_out << '\n' << std::string(2 * m_first.size(), ' ');
  m_out << '}';
  if (m_first.empty()) m_out << '\n';
}

void JsonWriter::begin_array() {
  separate();
  m_out << '[';
  m_first.push_back(true);
}

void JsonWriter::end_array() {
  const bool empty = m_first.back();
  m_first.pop_back();
  if (!empty) m_out << '\n' << std::string(2 * m_first.size(), ' ');
  m_out << ']';
}

void JsonWriter::key(const std::string& k) {
  separate();
  m_out << json_escape(k) << ": ";
  m_after_key = true;
}

void JsonWriter::value(const Cell& v) {
  separate();
  if (const auto* s = std::get_if<std::string>(&v))
    m_out << json_escape(*s);
  else if (const auto* d = std::get_if<double>(&v); d && !std::isfinite(*d))
    m_out << "null";
  else
    m_out << format_cell_exact(v);
}

void JsonWriter::value(bool v) {
  separate();
  m_out << (v ? "true" : "false");
}

void JsonWriter::field(const std::string& k, const Cell& v) {
  key(k);
  value(v);
}

void JsonWriter::flag(const std::string& k, bool v) {
  key(k);
  value(v);
}

void JsonWriter::rows_of(const Table& t) {
  begin_array();
  for (const auto& row : t.rows()) {
    begin_object();
    for (std::size_t c = 0; c < row.size(); ++c) field(t.columns()[c], row[c]);
    end_object();
  }
  end_array();
}

void JsonWriter::fields_of(const Record& r) {
  const std::string* open = nullptr;  // the group whose object is open
  for (const Record::Field& f : r.m_fields) {
    if (open && *open != f.group) {
      end_object();
      open = nullptr;
    }
    if (!open && !f.group.empty()) {
      key(f.group);
      begin_object();
      open = &f.group;
    }
    if (f.flag)
      flag(f.key, *f.flag);
    else
      field(f.key, f.value);
  }
  if (open) end_object();
}

namespace {
std::string record_key(const std::string& group, const std::string& key) {
  return group.empty() ? key : group + "." + key;
}
}  // namespace

void Record::write_text(std::ostream& out) const {
  Table t({"field", "value"});
  for (const Field& f : m_fields) t.add_row({record_key(f.group, f.key), format_cell_text(f.value)});
  std::ostringstream text;
  t.write_text(text);
  const std::string s = text.str();
  out << s.substr(s.find('\n') + 1);  // without the header line
}

void Record::write_csv_comments(std::ostream& out) const {
  for (const Field& f : m_fields)
    out << "# " << record_key(f.group, f.key) << ": " << format_cell_exact(f.value) << '\n';
}

}  // namespace bitsim
