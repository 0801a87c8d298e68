// Pieces shared by the CLI's commands: output format flags, --bits parsing, the resolved-config
// echo, and writing files without overwriting what the user wrote.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "sim/analytical_model.h"
#include "sim/base/table.h"
#include "sim/bit_plan.h"
#include "sim/engine.h"
#include "sim/hw_config.h"
#include "sim/network.h"
#include "sim/workload.h"

namespace bitsim::tools {

enum class Format { Text, Csv, Json };

struct OutputFlags {
  bool json = false;
  bool csv = false;
  Format format() const { return json ? Format::Json : csv ? Format::Csv : Format::Text; }
};

void add_output_flags(CLI::App* cmd, OutputFlags& flags, bool csv = true);

// A table on standard output as the flags ask: aligned text, CSV, or JSON {"rows": [...]}.
void print_rows(const Table& t, Format format);

// --bits: "B" (weights and activations), "W/A", or "native".
sim::BitPlan parse_bits(const std::string& text, const sim::Network& net, const sim::HardwareConfig& hw);

void print_config(const sim::HardwareConfig& hw, std::ostream& out);
void json_config(JsonWriter& j, const sim::HardwareConfig& hw);

// Refuses (InputError) a path bitsim may not write: a symbolic link or a folder there, or an existing
// file without `force`.
void check_replaceable(const std::string& path, bool force, const std::string& flag);
// check_replaceable, and its folder must take files (a probe file is created and removed): call
// before long work, so that the work is not lost to an unwritable path.
void check_new_file(const std::string& path, bool force, const std::string& flag);
// Writes `text` to `path` whole or not at all (sim/base/files.h), after check_replaceable.
void write_new_file(const std::string& path, const std::string& text, bool force, const std::string& flag);
// Whether two paths name the same file, existing or not (`R/plan.yaml` and `./R/plan.yaml`).
bool same_path(const std::string& a, const std::string& b);

// --hw with its --set overrides: each "key=value" with the keys and value texts of a study's `vary`
// (`bitsim explain-config`), applied together by sim::set_hardware_parameters. Errors name the flag
// and the setting: "--set 'dram.bandwdth=8 GB/s': error: 'dram.bandwdth' is not a hardware parameter
// (did you mean 'dram.bandwidth'?) ...".
sim::HardwareConfig load_hardware(const std::string& hw_path, const std::vector<std::string>& settings);
void add_set_option(CLI::App* cmd, std::vector<std::string>& settings);

// --input-shape "C,H,W" (empty: none) -> workload options.
sim::WorkloadOptions workload_options(const std::string& input_shape, bool logits = false);

// --engine: analytical or systemc (InputError otherwise).
sim::Engine parse_engine(const std::string& text);

// "2,4" -> {2, 4}; positive finite numbers only.
std::vector<double> parse_number_list(const std::string& text, const std::string& flag);

}  // namespace bitsim::tools
