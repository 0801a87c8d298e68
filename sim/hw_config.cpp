// Hardware configs: the parameter table, the YAML loader and the SCALE-Sim .cfg reader.
#include "sim/hw_config.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>

#include "sim/base/diagnostics.h"
#include "sim/base/text.h"
#include "sim/base/units.h"
#include "sim/base/yaml_fields.h"

namespace bitsim::sim {

namespace {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

// How a parameter is read from YAML and written back.
struct Param {
  ParamInfo info;
  // Parses `node` into `hw`; reports into `r` and returns false on a bad value.
  std::function<bool(const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw)> read;
  std::function<std::string(const HardwareConfig& hw)> show;
  // The value as data: a number in the unit of parameter_column(), or the text of a choice.
  std::function<Cell(const HardwareConfig& hw)> value;
};

// Text-valued parameters (names, choices, booleans) are data as they are written.
std::function<Cell(const HardwareConfig&)> as_text(std::function<std::string(const HardwareConfig&)> show) {
  return [show = std::move(show)](const HardwareConfig& hw) { return Cell(show(hw)); };
}

// Areas are data in mm2, the one exception to base units (README "CSV files"); the rest in base units.
double data_scale(Dimension dim) { return dim == Dimension::SquareMeters ? 1e6 : 1; }

Param quantity(std::string_view key, std::string_view type, Dimension dim, std::string_view def, std::string_view desc,
               double HardwareConfig::*field, bool allow_unlimited = false) {
  return {{key, type, def, desc},
          [=](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
            if (node.IsScalar() && allow_unlimited && node.Scalar() == "unlimited") {
              hw.*field = kUnlimited;
              return true;
            }
            const auto v = node.IsScalar() ? parse_quantity(node.Scalar(), dim) : std::nullopt;
            if (!v) {
              r.diag.expected(yaml::where(r.file, node), key,
                              fmt::format("a quantity with a unit ({}){}", unit_examples(dim),
                                          allow_unlimited ? " or 'unlimited'" : ""),
                              yaml::describe(node));
              return false;
            }
            hw.*field = *v;
            return true;
          },
          [=](const HardwareConfig& hw) {
            return std::isinf(hw.*field) ? std::string("unlimited") : format_quantity(hw.*field, dim);
          },
          [=](const HardwareConfig& hw) { return Cell(hw.*field * data_scale(dim)); }};
}

Param integer(std::string_view key, std::int64_t min, std::int64_t max, std::string_view def, std::string_view desc,
              std::int64_t HardwareConfig::*field) {
  return {{key, "integer", def, desc},
          [=](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
            const auto v = r.integer(node, std::string(key), min, max);
            if (v) hw.*field = *v;
            return v.has_value();
          },
          [=](const HardwareConfig& hw) { return fmt::format("{}", hw.*field); },
          [=](const HardwareConfig& hw) { return Cell(hw.*field); }};
}

// A plain number > 0, no unit.
Param number(std::string_view key, std::string_view def, std::string_view desc, double HardwareConfig::*field) {
  return {{key, "number", def, desc},
          [=](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
            const auto v = r.number(node, std::string(key), 0);
            if (v && *v == 0) r.diag.expected(yaml::where(r.file, node), key, "a number > 0", yaml::describe(node));
            if (v && *v > 0) hw.*field = *v;
            return v && *v > 0;
          },
          [=](const HardwareConfig& hw) { return fmt::format("{}", hw.*field); },
          [=](const HardwareConfig& hw) { return Cell(hw.*field); }};
}

// A quantity of one of the config's sub-structs (energy, area), >= 0.
template <typename S>
Param sub_quantity(std::string_view key, std::string_view type, Dimension dim, std::string_view def,
                   std::string_view desc, S HardwareConfig::*section, double S::*field) {
  return {{key, type, def, desc},
          [=](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
            const auto v = node.IsScalar() ? parse_quantity(node.Scalar(), dim) : std::nullopt;
            if (!v) {
              r.diag.expected(yaml::where(r.file, node), key,
                              fmt::format("a quantity with a unit ({})", unit_examples(dim)), yaml::describe(node));
              return false;
            }
            (hw.*section).*field = *v;
            return true;
          },
          [=](const HardwareConfig& hw) { return format_quantity((hw.*section).*field, dim); },
          [=](const HardwareConfig& hw) { return Cell((hw.*section).*field * data_scale(dim)); }};
}

// One of a closed set, spelt as its name table says; the type column lists the names.
template <typename Enum, std::size_t N>
Param choice(std::string_view key, const NameTable<Enum, N>& names, std::string_view def, std::string_view desc,
             Enum HardwareConfig::*field) {
  static const std::string type = names.choices();  // one per name table: the ParamInfo keeps a view
  auto show = [=](const HardwareConfig& hw) { return std::string(names.name(hw.*field)); };
  return {{key, type, def, desc},
          [=](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
            const auto v = r.choice(node, std::string(key), names.names());
            if (v) hw.*field = *names.find(*v);
            return v.has_value();
          },
          show,
          as_text(show)};
}

// The checks between fields (or of values a field's own parse allows), in one place for the YAML
// loader and set_hardware_parameter(): (the key the problem is reported at, the message).
std::vector<std::pair<std::string, std::string>> cross_field_problems(const HardwareConfig& hw) {
  std::vector<std::pair<std::string, std::string>> out;
  if (hw.precision_scaling == PrecisionScaling::Packed && hw.native_bits < 2)
    out.emplace_back("datapath.precision_scaling",
                     "datapath.precision_scaling: packed needs datapath.native_bits >= 2");
  // Below 1 Hz or 1 B/s, times overflow to infinity (2^62 bytes at 1 B/s is still finite); a decoder
  // slower than one symbol per 1024 cycles, or faster than 1024 per cycle, is no hardware either.
  if (!(hw.clock_hz >= 1))
    out.emplace_back("clock", fmt::format("clock: expected a frequency of at least 1 Hz, got {}",
                                          format_quantity(hw.clock_hz, Dimension::Hertz)));
  if (!(hw.dram_bytes_per_s >= 1))
    out.emplace_back("dram.bandwidth", fmt::format("dram.bandwidth: expected a bandwidth of at least 1 B/s, got {}",
                                                   format_quantity(hw.dram_bytes_per_s, Dimension::BytesPerSecond)));
  if (!(hw.decoder_symbols_per_cycle >= 1.0 / 1024 && hw.decoder_symbols_per_cycle <= 1024))
    out.emplace_back("decoder.symbols_per_cycle",
                     fmt::format("decoder.symbols_per_cycle: expected a number from 1/1024 to 1024, got {}",
                                 hw.decoder_symbols_per_cycle));
  // The SRAM energy rule interpolates in log(energy) between these three points (sim/energy_table.h).
  for (const auto& [key, value] :
       {std::pair{"energy.sram_8kib", hw.energy.sram_8kib}, std::pair{"energy.sram_32kib", hw.energy.sram_32kib},
        std::pair{"energy.sram_1mib", hw.energy.sram_1mib}})
    if (!(value > 0))
      out.emplace_back(key, fmt::format("{}: expected an energy above 0 (the SRAM rule takes its logarithm), got {}",
                                        key, format_quantity(value, Dimension::Joules)));
  // Between the points the energy grows with size, at most in proportion to it (exponent 0 to 1).
  auto grows = [&](const char* key, double small, double large, const char* small_key, double factor) {
    if (small > 0 && large > 0 && !(large >= small && large <= small * factor))
      out.emplace_back(key, fmt::format("{}: expected from {} ({}) to {} times it, got {}", key, small_key,
                                        format_quantity(small, Dimension::Joules), factor,
                                        format_quantity(large, Dimension::Joules)));
  };
  grows("energy.sram_32kib", hw.energy.sram_8kib, hw.energy.sram_32kib, "energy.sram_8kib", 4);
  grows("energy.sram_1mib", hw.energy.sram_32kib, hw.energy.sram_1mib, "energy.sram_32kib", 32);
  return out;
}

const std::vector<Param>& params() {
  static const std::string mac_width_type = kMacWidthNames.choices();  // the ParamInfo keeps a view
  static const std::vector<Param> table = {
      {{"name", "string", "", "a label for tables and reports"},
       [](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
         const auto v = r.text(node, "name");
         if (v) hw.name = *v;
         return v.has_value();
       },
       [](const HardwareConfig& hw) { return hw.name; },
       [](const HardwareConfig& hw) { return Cell(hw.name); }},
      integer("array.rows", 1, 1 << 20, "", "systolic array rows R (PEs)", &HardwareConfig::array_rows),
      integer("array.cols", 1, 1 << 20, "", "systolic array columns C (PEs)", &HardwareConfig::array_cols),
      choice("array.dataflow", kDataflowNames, "",
             "os, ws, is: output, weight or input stationary (SCALE-Sim's folding); rs: row stationary (Eyeriss, "
             "see row_stationary.*)",
             &HardwareConfig::dataflow),
      choice("array.grouped_mapping", kGroupedMappingNames, kGroupedMappingNames.name(GroupedMapping::Split),
             "grouped/depthwise convs: split = one GEMM per group in turn (SCALE-Sim v2's DP rows); block_diagonal = "
             "one GEMM with K = kernel x C, N = C, zeros off the block diagonal made on chip; diagonal_tiles = that "
             "GEMM without its all-zero folds",
             &HardwareConfig::grouped_mapping),
      quantity("clock", "frequency", Dimension::Hertz, "", "array clock; the decoder runs at the same clock",
               &HardwareConfig::clock_hz),
      quantity("sram.weights", "size", Dimension::Bytes, "", "on-chip SRAM for weights",
               &HardwareConfig::sram_weight_bytes),
      quantity("sram.activations", "size", Dimension::Bytes, "", "on-chip SRAM for activations (inputs and outputs)",
               &HardwareConfig::sram_activation_bytes),
      quantity("dram.bandwidth", "bandwidth", Dimension::BytesPerSecond, "",
               "off-chip bandwidth, shared by all reads and writes ('unlimited' = SCALE-Sim CALC mode)",
               &HardwareConfig::dram_bytes_per_s, true),
      quantity("dram.latency", "time", Dimension::Seconds, "0 s", "charged once per batch (pipeline fill)",
               &HardwareConfig::dram_latency_s),
      choice("dram.policy", kDramPolicyNames, dram_policy_name(DramPolicy::Stream),
             "stream: every layer reads weights and inputs and writes its output (seed 004); resident: keep "
             "on chip what fits",
             &HardwareConfig::dram_policy),
      choice("dram.overlap", kDramOverlapNames, dram_overlap_name(DramOverlap::All),
             "all: a layer's DRAM transfers run while it computes; weights: only its weight fetches do, its "
             "activation reads and writes run before and after its compute (the Eyeriss chip: JSSC 2017 VI-A, no "
             "processing while ifmaps load or ofmaps are written back; V-A, filters preloaded during passes)",
             &HardwareConfig::dram_overlap),
      integer("decoder.lanes", 0, 1 << 20, "0", "entropy decoder lanes (0: none; entropy-coded plans are infeasible)",
              &HardwareConfig::decoder_lanes),
      number("decoder.symbols_per_cycle", "1", "symbols each lane decodes per clock cycle",
             &HardwareConfig::decoder_symbols_per_cycle),
      // Native plans (`allocate` defaults, studies' native rows) store tensors at native_bits: the
      // range plans accept (sim/bit_plan.cpp), so that every plan bitsim writes reads back.
      integer("datapath.native_bits", 1, 32, "", "operand precision of the MAC datapath (bits, 1 to 32 as in plans)",
              &HardwareConfig::native_bits),
      choice("datapath.precision_scaling", kPrecisionScalingNames, precision_scaling_name(PrecisionScaling::None),
             "none: fewer bits do not speed up compute; packed: floor(native/bits) MACs per PE per cycle",
             &HardwareConfig::precision_scaling),
      choice("datapath.fusion", kFusionNames, kFusionNames.name(Fusion::None),
             "none: every layer output is a tensor in DRAM; elementwise: add/mul/scale/pad run in their producer's "
             "output path (no tensor of their input); elementwise_pool: pooling too (activation functions always "
             "do)",
             &HardwareConfig::fusion),
      choice("datapath.shortcut", kShortcutPolicyNames, kShortcutPolicyNames.name(ShortcutPolicy::Dram),
             "dram: each reader of a tensor fetches it; on_chip_if_fits: later readers use an on-chip copy, and a "
             "tensor only fused ops read never leaves the chip, while it fits in half of sram.activations at "
             "native_bits",
             &HardwareConfig::shortcut),
      // Eyeriss's chip (Chen et al., JSSC 2017): 12, 224 and 24 16-bit scratchpad entries per PE,
      // 64-bit global-buffer banks, RLC of feature maps in DRAM. See sim/row_stationary.h.
      integer("row_stationary.ifmap_spad", 1, 1 << 20, "12",
              "dataflow rs: ifmap scratchpad per PE (values): q channels x S filter columns must fit",
              &HardwareConfig::rs_ifmap_spad),
      integer("row_stationary.filter_spad", 1, 1 << 20, "224",
              "dataflow rs: filter scratchpad per PE (values): p filters x q channels x S columns must fit",
              &HardwareConfig::rs_filter_spad),
      integer("row_stationary.psum_spad", 1, 1 << 20, "24",
              "dataflow rs: psum scratchpad per PE (values): p filters' partial sums", &HardwareConfig::rs_psum_spad),
      integer("row_stationary.bus_bits", 1, 1 << 20, "64",
              "dataflow rs: width of the global-buffer buses for filters, psums in and psums out (JSSC 2017 "
              "V-B: 64); the global buffer is sram.activations",
              &HardwareConfig::rs_bus_bits),
      integer("row_stationary.ifmap_bus_bits", 1, 1 << 20, "64",
              "dataflow rs: width of the global-buffer bus that multicasts ifmap values to the array (JSSC 2017 "
              "V-B: 16 on the chip; 64, the default, is the model before this key, every bus as wide)",
              &HardwareConfig::rs_ifmap_bus_bits),
      {{"row_stationary.rlc", "boolean", "false",
        "dataflow rs: feature maps cross DRAM run-length coded (5-bit runs, 3 run-level pairs per 64-bit word; "
        "fixed-length activation tensors, not network inputs)"},
       [](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
         const auto v = r.boolean(node, "row_stationary.rlc");
         if (v) hw.rs_rlc = *v;
         return v.has_value();
       },
       [](const HardwareConfig& hw) { return std::string(hw.rs_rlc ? "true" : "false"); },
       [](const HardwareConfig& hw) { return Cell(std::string(hw.rs_rlc ? "true" : "false")); }},
      {{"row_stationary.zero_fraction", "number", "0",
        "dataflow rs with rlc: fraction of zeros in the coded feature maps (0 to 1; a property of the data)"},
       [](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
         const auto v = node.IsScalar() ? parse_number(node.Scalar()) : std::nullopt;
         if (!v || !(*v >= 0 && *v <= 1)) {
           r.diag.expected(yaml::where(r.file, node), "row_stationary.zero_fraction", "a number from 0 to 1",
                           yaml::describe(node));
           return false;
         }
         hw.rs_zero_fraction = *v;
         return true;
       },
       [](const HardwareConfig& hw) { return fmt::format("{}", hw.rs_zero_fraction); },
       [](const HardwareConfig& hw) { return Cell(hw.rs_zero_fraction); }},
      quantity("decoder.table", "size", Dimension::Bytes, "8 KiB",
               "per decoder lane, the table it reads one 64-bit entry of per symbol: the decoder's energy per symbol "
               "(SRAM rule of energy.sram_*) and area (area.sram_bit); ours, see sim/energy_table.h",
               &HardwareConfig::decoder_table_bytes),
      // Energy per access and area per component, with their sources: sim/energy_table.h.
      sub_quantity("energy.dram_per_bit", "energy", Dimension::Joules, "20.3125 pJ",
                   "DRAM energy per bit moved (Horowitz, ISSCC 2014, 45 nm: 1.3-2.6 nJ per 64 bits; the low end)",
                   &HardwareConfig::energy, &EnergyParams::dram_per_bit),
      sub_quantity("energy.sram_8kib", "energy", Dimension::Joules, "10 pJ",
                   "64-bit access of an 8 KiB SRAM (Horowitz 2014); sizes between and beyond by a power law",
                   &HardwareConfig::energy, &EnergyParams::sram_8kib),
      sub_quantity("energy.sram_32kib", "energy", Dimension::Joules, "20 pJ",
                   "64-bit access of a 32 KiB SRAM (Horowitz 2014)", &HardwareConfig::energy,
                   &EnergyParams::sram_32kib),
      sub_quantity("energy.sram_1mib", "energy", Dimension::Joules, "100 pJ",
                   "64-bit access of a 1 MiB SRAM (Horowitz 2014)", &HardwareConfig::energy, &EnergyParams::sram_1mib),
      sub_quantity("energy.mult_8bit", "energy", Dimension::Joules, "0.2 pJ",
                   "8-bit integer multiply (Horowitz 2014); scaled by the product of the operand widths / 64",
                   &HardwareConfig::energy, &EnergyParams::mult_8bit),
      sub_quantity("energy.add_8bit", "energy", Dimension::Joules, "0.03 pJ",
                   "8-bit integer add (Horowitz 2014); scaled by the adder's width / 8 (accumulator: the product's "
                   "width)",
                   &HardwareConfig::energy, &EnergyParams::add_8bit),
      {{"energy.mac_width", mac_width_type, "native",
        "native: a MAC costs a native_bits x native_bits multiply whatever the plan; plan: the plan's weight x "
        "input bits (precision-scalable MACs)"},
       [](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
         const auto v = r.choice(node, "energy.mac_width", kMacWidthNames.names());
         if (v) hw.energy.mac_width = *kMacWidthNames.find(*v);
         return v.has_value();
       },
       [](const HardwareConfig& hw) { return std::string(kMacWidthNames.name(hw.energy.mac_width)); },
       [](const HardwareConfig& hw) { return Cell(std::string(kMacWidthNames.name(hw.energy.mac_width))); }},
      sub_quantity("energy.register_per_bit", "energy", Dimension::Joules, "0.009 pJ",
                   "os/ws/is: a pipeline-register bit written (Aladdin's 40 nm register, as Accelergy's Aladdin "
                   "plug-in); per MAC os writes 4 x native_bits, ws and is 3 x",
                   &HardwareConfig::energy, &EnergyParams::register_per_bit),
      {{"energy.rf_access_in_macs", "number", "1",
        "rs: one scratchpad access (4 per MAC: 3 reads, 1 write) in MACs at native_bits (Eyeriss, ISCA 2016, "
        "Table IV: RF 1x)"},
       [](const yaml::Reader& r, const YAML::Node& node, HardwareConfig& hw) {
         const auto v = r.number(node, "energy.rf_access_in_macs", 0);
         if (v) hw.energy.rf_access_in_macs = *v;
         return v.has_value();
       },
       [](const HardwareConfig& hw) { return fmt::format("{}", hw.energy.rf_access_in_macs); },
       [](const HardwareConfig& hw) { return Cell(hw.energy.rf_access_in_macs); }},
      sub_quantity("area.mult_8bit", "area", Dimension::SquareMeters, "282 um2",
                   "8-bit integer multiplier (Horowitz 2014, 45 nm); scaled by the product of the widths / 64",
                   &HardwareConfig::area, &AreaParams::mult_8bit),
      sub_quantity("area.add_8bit", "area", Dimension::SquareMeters, "36 um2",
                   "8-bit integer adder (Horowitz 2014); scaled by width / 8 (accumulator: 2 x native_bits)",
                   &HardwareConfig::area, &AreaParams::add_8bit),
      sub_quantity("area.register_per_bit", "area", Dimension::SquareMeters, "5.98 um2",
                   "a register bit (Aladdin's 40 nm table); per PE 4 x native_bits (rs: its ifmap and psum "
                   "scratchpads)",
                   &HardwareConfig::area, &AreaParams::register_per_bit),
      sub_quantity("area.sram_bit", "area", Dimension::SquareMeters, "0.346 um2",
                   "an SRAM bit cell (Intel 45 nm, Mistry et al., IEDM 2007), for sram.* and decoder tables; cells "
                   "only (no periphery)",
                   &HardwareConfig::area, &AreaParams::sram_bit),
  };
  return table;
}

}  // namespace

std::span<const ParamInfo> hardware_parameters() {
  static const std::vector<ParamInfo> infos = [] {
    std::vector<ParamInfo> out;
    for (const auto& p : params()) out.push_back(p.info);
    return out;
  }();
  return infos;
}

std::vector<std::pair<std::string, std::string>> describe_config(const HardwareConfig& hw) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : params()) out.emplace_back(p.info.key, p.show(hw));
  return out;
}

namespace {
const Param* find_param(std::string_view key) {
  const auto& table = params();
  const auto it = std::find_if(table.begin(), table.end(), [&](const Param& p) { return p.info.key == key; });
  return it == table.end() ? nullptr : &*it;
}
}  // namespace

std::string parameter_column(std::string_view key) {
  const Param* p = find_param(key);
  BITSIM_CHECK(p != nullptr);
  std::string name(key);
  std::replace(name.begin(), name.end(), '.', '_');
  const std::string_view type = p->info.type;
  for (const auto& [t, unit] :
       {std::pair{"size", "_bytes"}, std::pair{"bandwidth", "_bytes_per_s"}, std::pair{"frequency", "_hz"},
        std::pair{"time", "_s"}, std::pair{"energy", "_j"}, std::pair{"area", "_mm2"}})
    if (type == t) name += unit;
  return name;
}

Cell parameter_value(const HardwareConfig& hw, std::string_view key) {
  const Param* p = find_param(key);
  BITSIM_CHECK(p != nullptr);
  return p->value(hw);
}

std::vector<std::pair<std::string, Cell>> config_data(const HardwareConfig& hw) {
  std::vector<std::pair<std::string, Cell>> out;
  for (const auto& p : params()) out.emplace_back(parameter_column(p.info.key), p.value(hw));
  return out;
}

void set_hardware_parameters(HardwareConfig& hw, std::span<const HardwareSetting> settings) {
  for (const HardwareSetting& s : settings) {
    const Param* it = find_param(s.key);
    if (it == nullptr) {
      const auto& table = params();
      std::vector<std::string> keys;
      keys.reserve(table.size());
      for (const auto& p : table) keys.emplace_back(p.info.key);
      const std::string guess = did_you_mean(s.key, keys);
      throw InputError(s.where, fmt::format("'{}' is not a hardware parameter{} (see `bitsim explain-config`)", s.key,
                                            guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess)));
    }
    Diagnostics diag;
    const yaml::Reader r{s.where.file, diag};
    it->read(r, YAML::Node(s.value), hw);
    if (!diag.empty()) {
      try {
        diag.throw_if_any();
      } catch (const InputError& e) {
        throw InputError(s.where, e.diagnostics().front().message);
      }
    }
  }
  const auto problems = cross_field_problems(hw);
  if (problems.empty() || settings.empty()) return;
  const std::string& key = problems.front().first;
  const auto at =
      std::find_if(settings.begin(), settings.end(), [&](const HardwareSetting& s) { return s.key == key; });
  throw InputError(at != settings.end() ? at->where : settings.back().where, problems.front().second);
}

void set_hardware_parameter(HardwareConfig& hw, const std::string& key, const std::string& value,
                            const SourceLocation& where) {
  const HardwareSetting setting{key, value, where};
  set_hardware_parameters(hw, std::span(&setting, 1));
}

std::string hardware_yaml(const HardwareConfig& hw, const std::string& comment) {
  // Sections in the order of their first key in the table (the loader reads any order).
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> sections;
  for (const auto& [key, value] : describe_config(hw)) {
    const auto dot = key.find('.');
    const std::string section = dot == std::string::npos ? "" : key.substr(0, dot);
    auto it = std::find_if(sections.begin(), sections.end(), [&](const auto& s) { return s.first == section; });
    if (it == sections.end()) it = sections.insert(sections.end(), {section, {}});
    it->second.emplace_back(dot == std::string::npos ? key : key.substr(dot + 1), value);
  }
  YAML::Emitter e;
  e << YAML::Comment(comment) << YAML::BeginMap;
  for (const auto& [section, entries] : sections) {
    if (!section.empty()) e << YAML::Key << section << YAML::Value << YAML::BeginMap;
    for (const auto& [leaf, value] : entries) e << YAML::Key << leaf << YAML::Value << value;
    if (!section.empty()) e << YAML::EndMap;
  }
  e << YAML::EndMap;
  BITSIM_CHECK(e.good());
  return std::string(e.c_str()) + "\n";
}

namespace {

// The bitsim YAML format, parsed from `root`; `path` names the file (or text) in messages.
HardwareConfig hardware_from_yaml(const YAML::Node& root, const std::string& path) {
  Diagnostics diag;
  const yaml::Reader r{path, diag};
  if (!r.require_map(root, "(top level)")) diag.throw_if_any();

  // Sections and leaves allowed at each level, from the table.
  std::map<std::string, std::vector<std::string>> keys_in;  // "" = top level
  for (const auto& p : params()) {
    const std::string key(p.info.key);
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      keys_in[""].push_back(key);
    } else {
      const std::string section = key.substr(0, dot);
      auto& top = keys_in[""];
      if (std::find(top.begin(), top.end(), section) == top.end()) top.push_back(section);
      keys_in[section].push_back(key.substr(dot + 1));
    }
  }
  r.reject_unknown_keys(root, "", keys_in[""]);
  for (const auto& [section, keys] : keys_in) {
    if (section.empty() || !root[section]) continue;
    if (r.require_map(root[section], section)) r.reject_unknown_keys(root[section], section, keys);
  }

  HardwareConfig hw;
  hw.source = path;
  // Every parameter from the table: its value, or its default (written in the table only).
  for (const auto& p : params()) {
    const std::string key(p.info.key);
    const auto dot = key.find('.');
    const YAML::Node parent = dot == std::string::npos ? root : root[key.substr(0, dot)];
    const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
    if (parent && parent.IsMap() && parent[leaf]) {
      p.read(r, parent[leaf], hw);
    } else if (!p.info.default_text.empty()) {
      p.read(r, YAML::Node(std::string(p.info.default_text)), hw);
    } else if (!parent || parent.IsMap()) {  // a section that is not a map was reported above
      diag.error(yaml::where(path, parent ? parent : root),
                 fmt::format("{}: missing (required: {}, {})", key, p.info.type, p.info.description));
    }
  }
  diag.throw_if_any();

  // Second pass: fields against each other, reported where the second field was written.
  for (const auto& [key, message] : cross_field_problems(hw)) {
    const auto dot = key.find('.');
    const YAML::Node parent = dot == std::string::npos ? root : root[key.substr(0, dot)];
    const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
    diag.error(parent && parent.IsMap() && parent[leaf] ? yaml::where(path, parent[leaf]) : yaml::where(path, root),
               message);
  }
  diag.throw_if_any();
  return hw;
}

}  // namespace

HardwareConfig load_hardware_yaml(const std::string& path) { return hardware_from_yaml(yaml::load_file(path), path); }

HardwareConfig read_hardware_yaml(const std::string& text, const std::string& source) {
  return hardware_from_yaml(yaml::load_text(text, source), source);
}

namespace {

// A .cfg value with where it was written.
struct CfgValue {
  std::string text;
  SourceLocation where;
};
using CfgValues = std::map<std::string, CfgValue>;  // by lower-case key (sections flattened)

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// SCALE-Sim reads .cfg with Python's configparser: sections, `key: value` or `key = value`,
// keys case-insensitive. These are the keys v1 and v2 write in their shipped configs.
CfgValues read_scalesim_cfg(std::istream& in, const std::string& path, Diagnostics& diag) {
  const std::map<std::string, std::vector<std::string>> known = {
      {"general", {"run_name"}},
      {"architecture_presets",
       {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "ifmapsramsz", "filtersramsz",
        "ofmapsramsz", "ifmapoffset", "filteroffset", "ofmapoffset", "dataflow", "bandwidth", "memorybanks"}},
      {"run_presets", {"interfacebandwidth"}},
  };
  std::vector<std::string> section_names;
  section_names.reserve(known.size());
  for (const auto& [name, keys] : known) section_names.push_back(name);
  auto trimmed = [](std::string_view s) { return std::string(trim(s)); };
  CfgValues values;
  std::string section, line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    const std::string t = trimmed(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    const SourceLocation start{path, line_no, 1};
    if (t.front() == '[') {
      if (t.back() != ']') {
        diag.error(start, fmt::format("expected a section header like [general], got '{}'", t));
        continue;
      }
      section = lower(trimmed(t.substr(1, t.size() - 2)));
      if (!known.contains(section)) {
        std::string msg = fmt::format("unknown section [{}]", section);
        const std::string guess = did_you_mean(section, section_names);
        if (!guess.empty()) msg += fmt::format(" (did you mean [{}]?)", guess);
        diag.error(start, msg + fmt::format("; expected one of: {}", fmt::join(section_names, ", ")));
      }
      continue;
    }
    const auto sep = t.find_first_of(":=");
    if (sep == std::string::npos) {
      diag.error(start, fmt::format("expected 'key: value', got '{}'", t));
      continue;
    }
    const std::string key = lower(trimmed(t.substr(0, sep)));
    const auto it = known.find(section);
    if (it == known.end()) {
      if (section.empty()) diag.error(start, fmt::format("{}: key before any [section]", key));
      continue;
    }
    if (std::find(it->second.begin(), it->second.end(), key) == it->second.end()) {
      std::string msg = fmt::format("{}.{}: unknown key", section, key);
      const std::string guess = did_you_mean(key, it->second);
      if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
      diag.error(start, msg);
      continue;
    }
    const int col = static_cast<int>(line.find_first_not_of(" \t", line.find_first_of(":=") + 1)) + 1;
    values[key] = {trimmed(t.substr(sep + 1)), {path, line_no, col}};
  }
  return values;
}

// SCALE-Sim's dataflows (it has no row stationary).
constexpr NameTable kScaleSimDataflows{std::array{NamedValue<Dataflow>{Dataflow::OutputStationary, "os"},
                                                  NamedValue<Dataflow>{Dataflow::WeightStationary, "ws"},
                                                  NamedValue<Dataflow>{Dataflow::InputStationary, "is"}}};

// What a SCALE-Sim .cfg may give (the YAML parameter table's array limit; SRAM up to 1 TiB).
constexpr std::int64_t kMaxCfgArray = 1 << 20;
constexpr std::int64_t kMaxCfgSramKib = std::int64_t{1} << 30;

// An integer from 1 to `max` into `out`; false when the key is absent (a bad value is reported).
bool positive_value(const CfgValues& values, const std::string& key, std::int64_t& out, Diagnostics& diag,
                    std::int64_t max) {
  const auto it = values.find(key);
  if (it == values.end()) return false;
  const auto v = parse_integer(it->second.text);
  if (!v || *v < 1 || *v > max)
    diag.expected(it->second.where, key, fmt::format("an integer from 1 to {}", max),
                  fmt::format("'{}'", it->second.text));
  else
    out = *v;
  return true;
}

// SCALE-Sim has no clock: 1 GHz makes one cycle one nanosecond, so USER bandwidth in words (bytes)
// per cycle becomes bytes per second. CALC mode (and v1): reads never stall.
void read_interface_bandwidth(const CfgValues& values, HardwareConfig& hw, Diagnostics& diag) {
  hw.dram_bytes_per_s = kUnlimited;
  const auto it = values.find("interfacebandwidth");
  if (it == values.end()) return;
  const std::string mode = lower(it->second.text);
  if (mode == "calc") return;
  if (mode != "user")
    return diag.expected(it->second.where, "InterfaceBandwidth", "CALC or USER", fmt::format("'{}'", it->second.text));
  // v2 gives each of the three buffers `Bandwidth` words/cycle; only the first listed value counts.
  const auto bw = values.find("bandwidth");
  if (bw == values.end())
    return diag.error(it->second.where, "InterfaceBandwidth: USER needs architecture_presets.Bandwidth");
  const std::string first(trim(std::string_view(bw->second.text).substr(0, bw->second.text.find(','))));
  const std::int64_t words = parse_integer(first).value_or(0);
  if (words < 1 || words > kMaxCfgArray)
    diag.expected(bw->second.where, "Bandwidth", fmt::format("an integer from 1 to {} (words per cycle)", kMaxCfgArray),
                  fmt::format("'{}'", first));
  hw.dram_bytes_per_s = 3.0 * static_cast<double>(words) * hw.clock_hz;
}

}  // namespace

HardwareConfig load_scalesim_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  Diagnostics diag;
  const CfgValues values = read_scalesim_cfg(in, path, diag);
  HardwareConfig hw;
  hw.source = path;
  const auto run_name = values.find("run_name");
  hw.name = run_name != values.end() ? run_name->second.text : path.substr(path.find_last_of('/') + 1);
  if (!positive_value(values, "arrayheight", hw.array_rows, diag, kMaxCfgArray))
    diag.error({path, 0, 0}, "architecture_presets.ArrayHeight: missing");
  if (!positive_value(values, "arraywidth", hw.array_cols, diag, kMaxCfgArray))
    diag.error({path, 0, 0}, "architecture_presets.ArrayWidth: missing");
  // SRAM sizes: v2 `<X>SramSzkB`, v1 `<X>SramSz`, both KiB of 1-byte words.
  std::int64_t kib[3] = {0, 0, 0};
  const char* operands[3] = {"ifmap", "filter", "ofmap"};
  for (int i = 0; i < 3; ++i) {
    const std::string op(operands[i]);
    if (!positive_value(values, op + "sramszkb", kib[i], diag, kMaxCfgSramKib) &&
        !positive_value(values, op + "sramsz", kib[i], diag, kMaxCfgSramKib))
      diag.error({path, 0, 0}, fmt::format("architecture_presets.{}SramSzkB: missing", op));
  }
  hw.sram_weight_bytes = static_cast<double>(kib[1]) * 1024.0;
  hw.sram_activation_bytes = static_cast<double>(kib[0] + kib[2]) * 1024.0;
  if (const auto it = values.find("dataflow"); it == values.end()) {
    diag.error({path, 0, 0},
               fmt::format("architecture_presets.Dataflow: missing (expected {})", kScaleSimDataflows.alternatives()));
  } else if (const auto d = kScaleSimDataflows.find(it->second.text)) {
    hw.dataflow = *d;
  } else {
    diag.expected(it->second.where, "Dataflow", kScaleSimDataflows.alternatives(),
                  fmt::format("'{}'", it->second.text));
  }
  hw.clock_hz = 1e9;   // see read_interface_bandwidth
  hw.native_bits = 8;  // words are 1 byte
  read_interface_bandwidth(values, hw, diag);
  diag.throw_if_any();
  return hw;
}

HardwareConfig load_hardware_config(const std::string& path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".yaml") || ends_with(".yml")) return load_hardware_yaml(path);
  if (ends_with(".cfg")) return load_scalesim_config(path);
  throw InputError({path, 0, 0},
                   "cannot tell the hardware config format: expected a .yaml, .yml or SCALE-Sim .cfg file");
}

}  // namespace bitsim::sim
