// Input errors in the compiler format `file:line:col: error: key.path: expected X, got Y`.
// A user's mistake throws InputError carrying every problem found; a broken invariant is
// BITSIM_CHECK, which stays on in Release builds.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bitsim {

// Where something was written. line and col are 1-based; 0 means "unknown" (e.g. a whole file).
struct SourceLocation {
  std::string file;
  int line = 0;
  int col = 0;
};

struct Diagnostic {
  SourceLocation where;
  std::string message;  // without the "error: " prefix
};

std::string format_diagnostic(const Diagnostic& d);

// Thrown for bad user input (files, flags). what() is one line per diagnostic.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  InputError(SourceLocation where, std::string message);
  const std::vector<Diagnostic>& diagnostics() const { return m_diagnostics; }

 private:
  std::vector<Diagnostic> m_diagnostics;
};

// Collects problems so that a loader can report all of them at once.
class Diagnostics {
 public:
  void error(SourceLocation where, std::string message);
  // The common shape: "key: expected X, got Y".
  void expected(SourceLocation where, std::string_view key, std::string_view expected, std::string_view got);
  bool empty() const { return m_list.empty(); }
  std::size_t count() const { return m_list.size(); }
  // Throws InputError with everything collected so far, if anything was.
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> m_list;
};

// The closest candidate by edit distance, or "" when nothing is close enough to suggest.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// Internal invariant failure: a bug in bitsim, not in the user's input.
[[noreturn]] void check_failed(const char* expr, const char* file, int line);

}  // namespace bitsim

#define BITSIM_CHECK(expr) ((expr) ? static_cast<void>(0) : ::bitsim::check_failed(#expr, __FILE__, __LINE__))
