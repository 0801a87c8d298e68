// Text fields: trim, whole-field numbers, CSV lines with quoting.
#include "sim/base/text.h"

#include <charconv>
#include <cmath>

namespace bitsim {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

CsvLine split_csv_line(std::string_view line, CsvQuotes quotes) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  CsvLine out;
  std::size_t pos = 0;
  while (true) {
    // Leading blanks of a field are not part of it (nor of a quoted field's quotes).
    std::size_t start = pos;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    CsvField field;
    field.col = static_cast<int>(start + 1);
    std::size_t end = start;
    if (quotes == CsvQuotes::Rfc4180 && start < line.size() && line[start] == '"') {
      std::size_t i = start + 1;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.text += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.text += line[i++];
      }
      if (!closed) {
        out.error = {field.col, "unterminated quoted field (a quoted field cannot span lines)"};
        return out;
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        out.error = {static_cast<int>(i + 1), "expected a comma after the closing quote"};
        return out;
      }
      end = i;
    } else {
      end = line.find(',', start);
      if (end == std::string_view::npos) end = line.size();
      const std::string_view raw = line.substr(start, end - start);
      if (quotes == CsvQuotes::Rfc4180 && raw.find('"') != std::string_view::npos) {
        out.error = {static_cast<int>(start + raw.find('"') + 1), "a quote inside an unquoted field"};
        return out;
      }
      field.text = std::string(trim(raw));
      if (field.text.empty()) field.col = static_cast<int>(pos + 1);
    }
    out.fields.push_back(std::move(field));
    if (end >= line.size()) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace bitsim
