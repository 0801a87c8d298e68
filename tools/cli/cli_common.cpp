// Shared CLI helpers.
#include "tools/cli/cli_common.h"
#include "sim/base/text.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "sim/base/diagnostics.h"
#include "sim/base/files.h"

namespace bitsim::tools {

void add_output_flags(CLI::App* cmd, OutputFlags& flags, bool csv) {
  auto* json = cmd->add_flag("--json", flags.json, "print one JSON document");
  if (csv) cmd->add_flag("--csv", flags.csv, "print CSV")->excludes(json);
}

sim::BitPlan parse_bits(const std::string& text, const sim::Network& net, const sim::HardwareConfig& hw) {
  if (text == "native") {
    sim::BitPlan plan = sim::BitPlan::uniform(net, static_cast<int>(hw.native_bits), static_cast<int>(hw.native_bits));
    plan.label = fmt::format("native ({} bits)", hw.native_bits);
    return plan;
  }
  auto number = [](std::string_view s) -> std::optional<int> {
    const auto v = parse_integer(s);
    if (!v || *v < 1 || *v > 32) return std::nullopt;
    return static_cast<int>(*v);
  };
  const auto slash = text.find('/');
  const auto w = number(std::string_view(text).substr(0, slash));
  const auto a = slash == std::string::npos ? w : number(std::string_view(text).substr(slash + 1));
  if (!w || !a)
    throw InputError({}, fmt::format("--bits: expected B, W/A (bits from 1 to 32) or native, got '{}'", text));
  return sim::BitPlan::uniform(net, *w, *a);
}

void print_config(const sim::HardwareConfig& hw, std::ostream& out) {
  out << "hardware " << hw.name << " (" << hw.source << "):";
  for (const auto& [k, v] : sim::describe_config(hw)) out << ' ' << k << '=' << v;
  out << '\n';
}

void json_config(JsonWriter& j, const sim::HardwareConfig& hw) {
  j.key("hardware");
  j.begin_object();
  j.field("source", Cell(hw.source));
  for (const auto& [k, v] : sim::config_data(hw)) j.field(k, v);
  j.end_object();
}

void print_rows(const Table& t, Format format) {
  switch (format) {
    case Format::Json: {
      JsonWriter j(std::cout);
      j.begin_object();
      j.key("rows");
      j.rows_of(t);
      j.end_object();
      break;
    }
    case Format::Csv:
      t.write_csv(std::cout);
      break;
    case Format::Text:
      t.write_text(std::cout);
      break;
  }
}

void check_replaceable(const std::string& path, bool force, const std::string& flag) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (std::filesystem::is_symlink(status))
    throw InputError({path, 0, 0}, fmt::format("{}: is a symbolic link: bitsim does not write through links", flag));
  if (std::filesystem::is_directory(status))
    throw InputError({path, 0, 0}, fmt::format("{}: is a folder, not a file", flag));
  if (!force && std::filesystem::exists(status))
    throw InputError({}, fmt::format("{}: {} exists (pass --force to replace it)", flag, path));
}

void check_new_file(const std::string& path, bool force, const std::string& flag) {
  check_replaceable(path, force, flag);
  check_folder_writable(std::filesystem::path(path).parent_path().string());
}

void write_new_file(const std::string& path, const std::string& text, bool force, const std::string& flag) {
  check_replaceable(path, force, flag);
  write_file_atomically(path, text);
}

bool same_path(const std::string& a, const std::string& b) {
  std::error_code ec_a, ec_b;
  const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec_a);
  const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec_b);
  return !ec_a && !ec_b && ca == cb;
}

sim::HardwareConfig load_hardware(const std::string& hw_path, const std::vector<std::string>& settings) {
  sim::HardwareConfig hw = sim::load_hardware_config(hw_path);
  std::vector<sim::HardwareSetting> parsed;
  parsed.reserve(settings.size());
  for (const std::string& text : settings) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError({"--set", 0, 0}, fmt::format("expected key=value (a hardware parameter key, as in a study's "
                                                    "vary, e.g. --set \"dram.bandwidth=8 GB/s\"), got '{}'",
                                                    text));
    parsed.push_back({text.substr(0, eq), text.substr(eq + 1), {fmt::format("--set '{}'", text), 0, 0}});
  }
  sim::set_hardware_parameters(hw, parsed);
  return hw;
}

void add_set_option(CLI::App* cmd, std::vector<std::string>& settings) {
  cmd->add_option(
         "--set", settings,
         "override a --hw parameter, repeatable: key=value with the keys and values of a study's vary (`bitsim "
         "explain-config`), e.g. --set \"dram.bandwidth=8 GB/s\" --set array.rows=64")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

sim::WorkloadOptions workload_options(const std::string& input_shape, bool logits) {
  sim::WorkloadOptions options;
  options.logits = logits;
  if (input_shape.empty()) return options;
  // Each dimension up to 2^31 - 1, as a workload file's (their product is checked by the network).
  std::vector<std::int64_t> v;
  for (std::string_view rest = input_shape;;) {
    const auto comma = rest.find(',');
    const auto d = parse_integer(rest.substr(0, comma));
    v.push_back(d && *d >= 1 && *d <= INT32_MAX ? *d : 0);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (v.size() != 3 || std::count(v.begin(), v.end(), 0) > 0)
    throw InputError({}, fmt::format("--input-shape: expected C,H,W (three positive integers), got '{}'", input_shape));
  options.input_shape = sim::Shape{v[0], v[1], v[2]};
  return options;
}

std::vector<double> parse_number_list(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto v = parse_number(item);
    if (!v || *v <= 0)
      throw InputError({},
                       fmt::format("{}: expected a comma-separated list of positive numbers, got '{}'", flag, text));
    out.push_back(*v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

sim::Engine parse_engine(const std::string& text) {
  if (const auto e = sim::kEngineNames.find(text)) return *e;
  throw InputError({}, fmt::format("--engine: expected {}, got '{}'", sim::kEngineNames.alternatives(), text));
}

}  // namespace bitsim::tools
