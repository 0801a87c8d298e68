// Reading text fields: trimming, numbers that must be the whole field (no "12abc"), and CSV lines
// split with RFC 4180 quoting and the 1-based column of every field, for located error messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitsim {

// Without leading and trailing spaces, tabs and carriage returns.
std::string_view trim(std::string_view s);

// The whole of `text` as a number; nothing if any character is left over, or on overflow.
std::optional<std::int64_t> parse_integer(std::string_view text);
// Finite numbers only (no "inf", "nan").
std::optional<double> parse_number(std::string_view text);

struct CsvField {
  std::string text;  // unquoted ("" inside quotes read as "), trimmed unless quoted
  int col = 0;       // 1-based column of the field's first character (its opening quote, if quoted)
};

struct CsvLine {
  std::vector<CsvField> fields;
  // Set when the line is malformed: the column and what is wrong (an unterminated quote, text
  // after a closing quote). `fields` then holds the fields before the problem.
  std::optional<std::pair<int, std::string>> error;
};

// How quotes are read: RFC 4180 (as Table::write_csv writes: a field in double quotes may contain
// commas and doubled quotes; a quoted field cannot span lines here), or as ordinary characters
// (SCALE-Sim reads its topologies with a plain split on commas).
enum class CsvQuotes { Rfc4180, Literal };

// One line of CSV: fields separated by commas, each trimmed of blanks unless quoted.
CsvLine split_csv_line(std::string_view line, CsvQuotes quotes = CsvQuotes::Rfc4180);

}  // namespace bitsim
