// Formatting and collection of input errors.
#include "sim/base/diagnostics.h"

#include <fmt/format.h>
#include <algorithm>

namespace bitsim {

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.where.file;
  if (d.where.line > 0) {
    out += fmt::format(":{}", d.where.line);
    if (d.where.col > 0) out += fmt::format(":{}", d.where.col);
  }
  if (!out.empty()) out += ": ";
  return out + "error: " + d.message;
}

namespace {
std::string join_diagnostics(const std::vector<Diagnostic>& list) {
  std::string out;
  for (const auto& d : list) {
    if (!out.empty()) out += '\n';
    out += format_diagnostic(d);
  }
  return out;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_diagnostics(diagnostics)), m_diagnostics(std::move(diagnostics)) {}

InputError::InputError(SourceLocation where, std::string message)
    : InputError(std::vector<Diagnostic>{{std::move(where), std::move(message)}}) {}

void Diagnostics::error(SourceLocation where, std::string message) {
  m_list.push_back({std::move(where), std::move(message)});
}

void Diagnostics::expected(SourceLocation where, std::string_view key, std::string_view expected,
                           std::string_view got) {
  error(std::move(where), fmt::format("{}: expected {}, got {}", key, expected, got));
}

void Diagnostics::throw_if_any() const {
  if (!m_list.empty()) throw InputError(m_list);
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  // A candidate that starts with what was written ("rate" for "rate_bits") is the likeliest.
  if (word.size() >= 3)
    for (const auto& c : candidates)
      if (c.size() > word.size() && c.compare(0, word.size(), word) == 0) return c;
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

[[noreturn]] void check_failed(const char* expr, const char* file, int line) {
  throw std::logic_error(fmt::format("internal error (a bug in bitsim): check `{}` failed at {}:{}", expr, file, line));
}

}  // namespace bitsim
