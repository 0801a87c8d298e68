// Tables the CLI prints: one column list renders as an aligned text table, CSV or JSON, so every
// figure on screen is also available as data with the same snake_case column names.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace bitsim {

using Cell = std::variant<std::int64_t, double, std::string>;

// A value that does not exist (a paper figure for a row the paper lacks, the time of an infeasible
// plan): a NaN that CSV writes as an empty field, text as "-" and JSON as null. Infinity stays a
// value ("inf"; JSON null), e.g. an unlimited DRAM bandwidth.
inline Cell missing() { return std::numeric_limits<double>::quiet_NaN(); }

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : m_columns(std::move(columns)) {}
  void add_row(std::vector<Cell> row);
  const std::vector<std::string>& columns() const { return m_columns; }
  const std::vector<std::vector<Cell>>& rows() const { return m_rows; }

  void write_text(std::ostream& out) const;  // numbers to 4 significant digits, right-aligned
  void write_csv(std::ostream& out) const;   // full precision (shortest round-trip); missing() empty

 private:
  std::vector<std::string> m_columns;
  std::vector<std::vector<Cell>> m_rows;
};

// A result that is one record rather than rows: fields in order, some under a group name. Every
// format shows the same fields: JSON nests each run of fields of one group as an object; CSV
// writes "# group.key: value" comment lines (above a table, say); text aligns "group.key  value".
class Record {
 public:
  void add(std::string key, Cell value) { m_fields.push_back({{}, std::move(key), std::move(value), {}}); }
  void add(std::string group, std::string key, Cell value) {
    m_fields.push_back({std::move(group), std::move(key), std::move(value), {}});
  }
  // A yes/no field: true/false in JSON, yes/no in text and CSV.
  void add_flag(std::string key, bool value) {
    m_fields.push_back({{}, std::move(key), std::string(value ? "yes" : "no"), value});
  }

  void write_text(std::ostream& out) const;  // numbers to 4 significant digits, like Table
  void write_csv_comments(std::ostream& out) const;

 private:
  friend class JsonWriter;
  struct Field {
    std::string group;  // "" = top level
    std::string key;
    Cell value;                // what text and CSV show
    std::optional<bool> flag;  // set for a yes/no field: JSON writes it as a boolean
  };
  std::vector<Field> m_fields;
};

// Minimal JSON writer with deterministic number formatting.
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : m_out(out) {}
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(const std::string& k);
  void value(const Cell& v);
  void value(bool v);
  // key(k) then value(v).
  void field(const std::string& k, const Cell& v);
  void flag(const std::string& k, bool v);  // not an overload of field: integers would convert to bool
  // An object per row, with the table's columns as keys.
  void rows_of(const Table& t);
  // The record's fields in the current object (groups as nested objects).
  void fields_of(const Record& r);

 private:
  void separate();
  std::ostream& m_out;
  std::vector<bool> m_first;  // per open container: no element written yet
  bool m_after_key = false;
};

std::string json_escape(const std::string& s);
std::string format_cell_text(const Cell& c);
std::string format_cell_exact(const Cell& c);

}  // namespace bitsim
