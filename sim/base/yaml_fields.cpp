// Typed YAML reads with located errors.
#include "sim/base/yaml_fields.h"
#include "sim/base/text.h"

#include <fmt/format.h>
#include <charconv>
#include <cmath>
#include <fstream>

namespace bitsim::yaml {

YAML::Node load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  try {
    return YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    throw InputError({path, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
  }
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
  return fmt::format("'{}'", node.Scalar());
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void Reader::reject_unknown_keys(const YAML::Node& map, const std::string& path,
                                 const std::vector<std::string>& allowed) const {
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : describe(kv.first);
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
  if (node.IsMap()) return true;
  diag.expected(where(file, node), path, "a map", describe(node));
  return false;
}

std::optional<std::int64_t> Reader::integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                                            std::int64_t max) const {
  const std::string expected =
      max == INT64_MAX ? fmt::format("an integer >= {}", min) : fmt::format("an integer from {} to {}", min, max);
  if (!node.IsScalar()) {
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
  if (!node.IsScalar()) {
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
  if (node.IsScalar()) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  diag.expected(where(file, node), path, "true or false", describe(node));
  return std::nullopt;
}

std::optional<std::string> Reader::text(const YAML::Node& node, const std::string& path) const {
  if (node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  diag.expected(where(file, node), path, "a non-empty string", describe(node));
  return std::nullopt;
}

std::optional<std::string> Reader::choice(const YAML::Node& node, const std::string& path,
                                          const std::vector<std::string>& choices) const {
  if (node.IsScalar())
    for (const auto& c : choices)
      if (node.Scalar() == c) return c;
  std::string msg = fmt::format("{}: expected one of {}, got {}", path, fmt::join(choices, ", "), describe(node));
  if (node.IsScalar()) {
    const std::string guess = did_you_mean(node.Scalar(), choices);
    if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
  }
  diag.error(where(file, node), msg);
  return std::nullopt;
}

}  // namespace bitsim::yaml
