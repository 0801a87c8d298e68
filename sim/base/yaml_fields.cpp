// Typed YAML reads with located errors.
#include "sim/base/yaml_fields.h"
#include "sim/base/text.h"

#include <fmt/format.h>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace bitsim::yaml {

namespace {

// yaml-cpp keeps every entry of a map, and node[key] finds the first: a repeated key would be
// ignored without a word. Reports each later occurrence with the line of the first. Collections
// are visited once (by their position in the file), so aliases cost nothing and cannot loop.
void find_duplicate_keys(const std::string& file, const YAML::Node& node, const std::string& path,
                         std::set<std::size_t>& visited, Diagnostics& diag) {
  if (!node.IsMap() && !node.IsSequence()) return;
  if (!visited.insert(static_cast<std::size_t>(node.Mark().pos)).second) return;
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      find_duplicate_keys(file, node[i], fmt::format("{}[{}]", path, i), visited, diag);
    return;
  }
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;  // keys that are maps or lists: the loaders reject them
    const std::string& key = kv.first.Scalar();
    const SourceLocation at = where(file, kv.first);
    const auto [it, added] = first_line.emplace(key, at.line);
    if (!added)
      diag.error(at, fmt::format("{}: duplicate key (first at line {})", join(path, shorten(key)), it->second));
    find_duplicate_keys(file, kv.second, join(path, shorten(key)), visited, diag);
  }
}

// load_file and load_text: `path` names the text in messages.
YAML::Node load_stream(std::istream& in, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    throw InputError({path, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
  }
  Diagnostics diag;
  std::set<std::size_t> visited;
  find_duplicate_keys(path, root, "", visited, diag);
  diag.throw_if_any();
  return root;
}

}  // namespace

YAML::Node load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  return load_stream(in, path);
}

YAML::Node load_text(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  return load_stream(in, source);
}

SourceLocation where(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined()) return {file, 0, 0};  // also a missing key's zombie node, whose Mark() throws
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return fmt::format("'{}'", shorten(node.Scalar()));
}

std::string shorten(const std::string& text) {
  constexpr std::size_t kMax = 60;
  std::size_t end = std::min(text.find('\n'), kMax);
  if (end >= text.size()) return text;
  // Cut before a UTF-8 continuation byte, never inside a character.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void Reader::reject_unknown_keys(const YAML::Node& map, const std::string& path,
                                 const std::vector<std::string>& allowed) const {
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? shorten(kv.first.Scalar()) : describe(kv.first);
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (known) continue;
    std::string msg = fmt::format("{}: unknown key", join(path, key));
    const std::string guess = did_you_mean(key, allowed);
    if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
    msg += fmt::format("; expected one of: {}", fmt::join(allowed, ", "));
    diag.error(where(file, kv.first), msg);
  }
}

bool Reader::require_map(const YAML::Node& node, const std::string& path) const {
  if (node.IsDefined() && node.IsMap()) return true;
  diag.expected(where(file, node), path, "a map", describe(node));
  return false;
}

std::optional<std::int64_t> Reader::integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                                            std::int64_t max) const {
  const std::string expected =
      max == INT64_MAX ? fmt::format("an integer >= {}", min) : fmt::format("an integer from {} to {}", min, max);
  if (!node.IsDefined() || !node.IsScalar()) {
    diag.expected(where(file, node), path, expected, describe(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  const auto value = parse_integer(s);
  if (!value || *value < min || *value > max) {
    diag.expected(where(file, node), path, expected, describe(node));
    return std::nullopt;
  }
  return value;
}

std::optional<double> Reader::number(const YAML::Node& node, const std::string& path, double min) const {
  const std::string expected = fmt::format("a number >= {}", min);
  if (!node.IsDefined() || !node.IsScalar()) {
    diag.expected(where(file, node), path, expected, describe(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  const auto value = parse_number(s);
  if (!value || *value < min) {
    diag.expected(where(file, node), path, expected, describe(node));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Reader::boolean(const YAML::Node& node, const std::string& path) const {
  if (node.IsDefined() && node.IsScalar()) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  diag.expected(where(file, node), path, "true or false", describe(node));
  return std::nullopt;
}

std::optional<std::string> Reader::text(const YAML::Node& node, const std::string& path) const {
  if (node.IsDefined() && node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  diag.expected(where(file, node), path, "a non-empty string", describe(node));
  return std::nullopt;
}

std::optional<std::string> Reader::choice(const YAML::Node& node, const std::string& path,
                                          const std::vector<std::string>& choices) const {
  if (node.IsDefined() && node.IsScalar())
    for (const auto& c : choices)
      if (node.Scalar() == c) return c;
  std::string msg = fmt::format("{}: expected one of {}, got {}", path, fmt::join(choices, ", "), describe(node));
  if (node.IsDefined() && node.IsScalar()) {
    const std::string guess = did_you_mean(node.Scalar(), choices);
    if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
  }
  diag.error(where(file, node), msg);
  return std::nullopt;
}

}  // namespace bitsim::yaml
