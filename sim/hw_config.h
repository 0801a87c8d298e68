// The accelerator description: systolic array, clock, on-chip SRAM, DRAM, entropy decoder and
// datapath precision. Loaded from bitsim YAML (units explicit) or from a SCALE-Sim .cfg; every
// parameter is declared once in a table that parses, documents (`bitsim explain-config`) and
// echoes the resolved config.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/base/diagnostics.h"
#include "sim/base/names.h"
#include "sim/base/table.h"
#include "sim/energy_table.h"

namespace bitsim::sim {

// os, ws, is: a GEMM folded onto the array as SCALE-Sim v2 does (analytical_model.h); rs: Eyeriss's
// row stationary, a 2-D convolution mapped as its papers describe (row_stationary.h).
enum class Dataflow { OutputStationary, WeightStationary, InputStationary, RowStationary };
inline constexpr NameTable kDataflowNames{std::array{
    NamedValue<Dataflow>{Dataflow::OutputStationary, "os"}, NamedValue<Dataflow>{Dataflow::WeightStationary, "ws"},
    NamedValue<Dataflow>{Dataflow::InputStationary, "is"}, NamedValue<Dataflow>{Dataflow::RowStationary, "rs"}}};
static_assert(kDataflowNames.complete());
constexpr std::string_view dataflow_name(Dataflow d) { return kDataflowNames.name(d); }

// How a grouped or depthwise convolution (G groups, each a GEMM of K x N) runs on the array:
// Split: G GEMMs one after another, each folded and filled on its own (SCALE-Sim v2 splits its
// depthwise "DP" rows into per-channel layers this way); BlockDiagonal: one GEMM of (G K) x (G N)
// whose weight matrix is zero off its G diagonal blocks, which a weight-stationary array loads like
// any dense layer (the zeros are written into the PEs on chip, never fetched from DRAM), every fold
// run; DiagonalTiles: the same GEMM, but the folds (array-sized tiles) that hold only zeros are
// skipped, and a fold streams only the rows or columns of the groups it holds (see
// analytical_model.h for the cycles per dataflow). All three fetch the same weights (G K N values).
enum class GroupedMapping { Split, BlockDiagonal, DiagonalTiles };
inline constexpr NameTable kGroupedMappingNames{
    std::array{NamedValue<GroupedMapping>{GroupedMapping::Split, "split"},
               NamedValue<GroupedMapping>{GroupedMapping::BlockDiagonal, "block_diagonal"},
               NamedValue<GroupedMapping>{GroupedMapping::DiagonalTiles, "diagonal_tiles"}}};
static_assert(kGroupedMappingNames.complete());

// Which tensors cross the chip boundary (see analytical_model.h for the exact rules).
enum class DramPolicy {
  Stream,    // every layer reads its weights and inputs from DRAM and writes its output (seed 004)
  Resident,  // tensors that fit in the on-chip SRAM stay there
};
inline constexpr NameTable kDramPolicyNames{std::array{NamedValue<DramPolicy>{DramPolicy::Stream, "stream"},
                                                       NamedValue<DramPolicy>{DramPolicy::Resident, "resident"}}};
static_assert(kDramPolicyNames.complete());
constexpr std::string_view dram_policy_name(DramPolicy p) { return kDramPolicyNames.name(p); }

// Which DRAM transfers run while a layer computes (analytical_model.h, "Layer time").
enum class DramOverlap {
  All,      // every transfer overlaps compute: time = max(compute, DRAM, decode)
  Weights,  // only weight fetches do; activation reads and writes add to compute (the Eyeriss chip)
};
inline constexpr NameTable kDramOverlapNames{std::array{NamedValue<DramOverlap>{DramOverlap::All, "all"},
                                                        NamedValue<DramOverlap>{DramOverlap::Weights, "weights"}}};
static_assert(kDramOverlapNames.complete());
constexpr std::string_view dram_overlap_name(DramOverlap o) { return kDramOverlapNames.name(o); }

// What runs in a layer's output path, so that its result never exists off chip as a tensor of its
// own (activation functions such as ReLU always do: they are part of their layer). See
// sim/activation_traffic.h for the rules.
enum class Fusion {
  None,             // every layer's output is a tensor of its own (bitsim's rule before fusion)
  Elementwise,      // add, mul, scale and pad run in their producer's output path
  ElementwisePool,  // those, and max and average pooling
};
inline constexpr NameTable kFusionNames{std::array{NamedValue<Fusion>{Fusion::None, "none"},
                                                   NamedValue<Fusion>{Fusion::Elementwise, "elementwise"},
                                                   NamedValue<Fusion>{Fusion::ElementwisePool, "elementwise_pool"}}};
static_assert(kFusionNames.complete());

// Whether a tensor read by more than one layer stays on chip between its readers.
enum class ShortcutPolicy {
  Dram,          // every reader fetches it from DRAM
  OnChipIfFits,  // fetched once, kept on chip for the later readers when it fits (see activation_traffic.h)
};
inline constexpr NameTable kShortcutPolicyNames{
    std::array{NamedValue<ShortcutPolicy>{ShortcutPolicy::Dram, "dram"},
               NamedValue<ShortcutPolicy>{ShortcutPolicy::OnChipIfFits, "on_chip_if_fits"}}};
static_assert(kShortcutPolicyNames.complete());

// How compute speed depends on operand precision below the native width.
enum class PrecisionScaling {
  None,    // sub-native precision runs at native speed (default)
  Packed,  // floor(native_bits / max(weight_bits, activation_bits)) MACs per PE per cycle
};
inline constexpr NameTable kPrecisionScalingNames{
    std::array{NamedValue<PrecisionScaling>{PrecisionScaling::None, "none"},
               NamedValue<PrecisionScaling>{PrecisionScaling::Packed, "packed"}}};
static_assert(kPrecisionScalingNames.complete());
constexpr std::string_view precision_scaling_name(PrecisionScaling p) { return kPrecisionScalingNames.name(p); }

struct HardwareConfig {
  std::string name;
  std::string source;  // file it was read from
  std::int64_t array_rows = 0;
  std::int64_t array_cols = 0;
  Dataflow dataflow = Dataflow::WeightStationary;
  GroupedMapping grouped_mapping = GroupedMapping::Split;
  double clock_hz = 0;
  double sram_weight_bytes = 0;
  double sram_activation_bytes = 0;
  double dram_bytes_per_s = 0;  // +infinity: unlimited (SCALE-Sim CALC mode)
  double dram_latency_s = 0;
  DramPolicy dram_policy = DramPolicy::Stream;
  DramOverlap dram_overlap = DramOverlap::All;
  Fusion fusion = Fusion::None;
  ShortcutPolicy shortcut = ShortcutPolicy::Dram;
  std::int64_t decoder_lanes = 0;        // 0: no entropy decoder on chip
  double decoder_symbols_per_cycle = 1;  // per lane, at clock_hz
  std::int64_t native_bits = 8;
  PrecisionScaling precision_scaling = PrecisionScaling::None;
  // Row stationary (dataflow rs only; sources in row_stationary.h): per-PE scratchpads in values of
  // native_bits, the width of the global-buffer buses to and from the array (the ifmap bus its own),
  // and run-length coding
  // of feature maps in DRAM. The global buffer (ifmaps and psums) is sram.activations. These
  // initializers repeat the parameter table's defaults for configs built in code (a test keeps
  // them equal).
  std::int64_t rs_ifmap_spad = 12;
  std::int64_t rs_filter_spad = 224;
  std::int64_t rs_psum_spad = 24;
  std::int64_t rs_bus_bits = 64;
  std::int64_t rs_ifmap_bus_bits = 64;
  bool rs_rlc = false;
  double rs_zero_fraction = 0;  // zeros among the values of an RLC-coded feature map
  // Energy and area (sim/energy_table.h has every value's source; sim/energy.h the model). These
  // initializers repeat the parameter table's defaults too (a test keeps them equal).
  double decoder_table_bytes = 8192;  // per decoder lane: one 64-bit entry read per symbol
  EnergyParams energy;
  AreaParams area;

  double peak_macs_per_s() const { return static_cast<double>(array_rows * array_cols) * clock_hz; }
  bool operator==(const HardwareConfig&) const = default;  // every field, `source` included
};

// One declared parameter: its YAML key path, type, unit, default ("" = required), description.
struct ParamInfo {
  std::string_view key;
  std::string_view type;
  std::string_view default_text;
  std::string_view description;
};
std::span<const ParamInfo> hardware_parameters();

// The resolved value of every parameter, in table order, as it would be written in YAML.
std::vector<std::pair<std::string, std::string>> describe_config(const HardwareConfig& hw);

// A parameter as a column of data (CSV, JSON): its key in snake_case with the unit of its value,
// "dram.bandwidth" -> "dram_bandwidth_bytes_per_s" (sizes _bytes, bandwidths _bytes_per_s,
// frequencies _hz, times _s, energies _j, areas _mm2; integers, numbers and choices no suffix), and
// its value in `hw`: a number in that unit (unlimited bandwidth: +inf), or the text of a choice or
// boolean. The key must be one of hardware_parameters() (a broken invariant otherwise).
std::string parameter_column(std::string_view key);
Cell parameter_value(const HardwareConfig& hw, std::string_view key);
// Every parameter of `hw` as (parameter_column, parameter_value), in table order: the config as data
// (JSON outputs, allocate's record), where describe_config() is the config as YAML would hold it.
std::vector<std::pair<std::string, Cell>> config_data(const HardwareConfig& hw);

// The resolved config as bitsim YAML: every parameter, in table order, each value as exact text
// (read_hardware_yaml gives back a config equal to `hw`, `source` aside); `comment` heads it.
std::string hardware_yaml(const HardwareConfig& hw, const std::string& comment);

// One parameter by its key (as in hardware_parameters(), e.g. "dram.bandwidth") and the text it
// would have in YAML (e.g. "4 GB/s"): a study's `vary` value, a `--set key=value`, a Python dict entry.
struct HardwareSetting {
  std::string key;
  std::string value;
  SourceLocation where;  // where the setting was written, for its errors
};

// Applies every setting, then checks the fields against each other once, so that their order does
// not matter. Throws InputError at a setting's `where`: unknown key (with a did-you-mean),
// "key: expected ..., got ...", or a cross-field problem (at the setting of the key it is reported
// at, else at the last setting).
void set_hardware_parameters(HardwareConfig& hw, std::span<const HardwareSetting> settings);
// One setting.
void set_hardware_parameter(HardwareConfig& hw, const std::string& key, const std::string& value,
                            const SourceLocation& where);

// Format chosen by extension: .yaml/.yml (bitsim) or .cfg (SCALE-Sim v1/v2). Throws InputError.
HardwareConfig load_hardware_config(const std::string& path);
HardwareConfig load_hardware_yaml(const std::string& path);
// The bitsim YAML format from text rather than a file (the Python module's configs from dicts): the
// same checks and messages, located in `text` and naming `source` as the file.
HardwareConfig read_hardware_yaml(const std::string& text, const std::string& source);
HardwareConfig load_scalesim_config(const std::string& path);

}  // namespace bitsim::sim
