// Internal helpers for the YAML loaders: typed reads that keep yaml-cpp's marks and report
// `file:line:col: error: key.path: expected X, got Y` into a Diagnostics collector.
// Included only by sim/*.cpp; yaml-cpp stays out of the public headers.
#pragma once

#include <yaml-cpp/yaml.h>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/diagnostics.h"

namespace bitsim::yaml {

// Loads a whole file; a missing file, a syntax error or a key repeated in a map (yaml-cpp would keep
// the first silently) throws InputError with its location.
YAML::Node load_file(const std::string& path);
// The same for YAML text that was not read from a file; `source` names it in messages (e.g. "<dict>").
YAML::Node load_text(const std::string& text, const std::string& source);

SourceLocation where(const std::string& file, const YAML::Node& node);

// A short description of what a node holds, for "got ..." in messages; a scalar is quoted through
// shorten(), so that a text file read as YAML is not echoed whole.
std::string describe(const YAML::Node& node);
// `text` up to its first line break and at most 60 bytes, with "..." when cut.
std::string shorten(const std::string& text);

// Joins a key path: join("array", "rows") == "array.rows"; join("", "rows") == "rows".
std::string join(const std::string& prefix, const std::string& key);

// Context for reads from one file. The typed reads accept a missing key's node (report "got
// nothing", without a line: check presence first where the parent's line is wanted).
struct Reader {
  std::string file;
  Diagnostics& diag;

  // Reports keys of `map` not in `allowed`, with a did-you-mean.
  void reject_unknown_keys(const YAML::Node& map, const std::string& path,
                           const std::vector<std::string>& allowed) const;
  // True if `node` is a map; otherwise reports "expected a map".
  bool require_map(const YAML::Node& node, const std::string& path) const;

  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                                      std::int64_t max) const;
  std::optional<double> number(const YAML::Node& node, const std::string& path, double min) const;
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path) const;
  std::optional<std::string> text(const YAML::Node& node, const std::string& path) const;
  // One of `choices`; the message lists them.
  std::optional<std::string> choice(const YAML::Node& node, const std::string& path,
                                    const std::vector<std::string>& choices) const;
};

}  // namespace bitsim::yaml
