// Hardware configs: the shipped YAML files resolve to seed 004's Table 2; SCALE-Sim .cfg files are
// read with SCALE-Sim's meaning; every mistake gets its exact located message.
#include <gtest/gtest.h>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>

#include "sim/base/diagnostics.h"
#include "sim/hw_config.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

const std::string kRoot = BITSIM_SOURCE_DIR;

TEST(ShippedConfigs, TpuMatchesSeed004Table2) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  EXPECT_EQ(hw.array_rows * hw.array_cols, 65536);
  EXPECT_DOUBLE_EQ(hw.dram_bytes_per_s, 13e9);
  EXPECT_DOUBLE_EQ(hw.sram_weight_bytes + hw.sram_activation_bytes, 28.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(2 * hw.peak_macs_per_s(), 96e12);  // 96 TOPs at 2 ops per MAC
  EXPECT_EQ(hw.native_bits, 8);
  EXPECT_EQ(hw.dataflow, Dataflow::WeightStationary);
  EXPECT_EQ(hw.dram_policy, DramPolicy::Stream);
}

TEST(ShippedConfigs, EyerissMatchesSeed004Table2) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  EXPECT_EQ(hw.array_rows * hw.array_cols, 168);
  EXPECT_DOUBLE_EQ(hw.dram_bytes_per_s, 1e9);
  EXPECT_DOUBLE_EQ(hw.sram_weight_bytes + hw.sram_activation_bytes, 181.5 * 1024);
  EXPECT_NEAR(hw.peak_macs_per_s(), 34e9, 1e3);  // 34 GOPs at 1 op per MAC
  EXPECT_EQ(hw.native_bits, 16);
}

TEST(ScaleSimConfig, V2ConfigsReadAsSpecified) {
  const HardwareConfig g = load_hardware_config(kRoot + "/tests/data/scalesim/google.cfg");
  EXPECT_EQ(g.name, "GoogleTPU_v1_ws");
  EXPECT_EQ(g.array_rows, 256);
  EXPECT_EQ(g.array_cols, 256);
  EXPECT_EQ(g.dataflow, Dataflow::WeightStationary);
  EXPECT_DOUBLE_EQ(g.sram_weight_bytes, 6144.0 * 1024);
  EXPECT_DOUBLE_EQ(g.sram_activation_bytes, (6144.0 + 2048.0) * 1024);
  EXPECT_TRUE(std::isinf(g.dram_bytes_per_s));  // CALC mode
  const HardwareConfig s = load_hardware_config(kRoot + "/tests/data/scalesim/scale.cfg");
  EXPECT_EQ(s.dataflow, Dataflow::OutputStationary);
  EXPECT_EQ(s.array_rows, 32);
}

TEST(ScaleSimConfig, V1ConfigWithoutKbSuffix) {
  const HardwareConfig g = load_hardware_config(kRoot + "/tests/data/scalesim/v1_google.cfg");
  EXPECT_EQ(g.dataflow, Dataflow::OutputStationary);
  EXPECT_DOUBLE_EQ(g.sram_weight_bytes, 8192.0 * 1024);
}

TEST(ScaleSimConfig, UserModeGivesEachBufferTheBandwidth) {
  const std::string path =
      testing::write_temp("user.cfg",
                          "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 64\n"
                          "FilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: os\nBandwidth: 10, 20\n"
                          "[run_presets]\nInterfaceBandwidth: USER\n");
  EXPECT_DOUBLE_EQ(load_hardware_config(path).dram_bytes_per_s, 3 * 10 * 1e9);
}

std::string config_error(const std::string& name, const std::string& text) {
  return testing::error_of(name, text, [](const std::string& path) { load_hardware_config(path); });
}

const std::string kValid = R"(name: t
array: {rows: 4, cols: 4, dataflow: os}
clock: "1 GHz"
sram: {weights: "64 KiB", activations: "64 KiB"}
dram: {bandwidth: "1 GB/s"}
datapath: {native_bits: 8}
)";

TEST(HardwareYaml, MinimalConfigGetsTheTableDefaults) {
  const HardwareConfig hw = load_hardware_config(testing::write_temp("ok.yaml", kValid));
  EXPECT_EQ(hw.decoder_lanes, 0);
  EXPECT_DOUBLE_EQ(hw.decoder_symbols_per_cycle, 1);
  EXPECT_DOUBLE_EQ(hw.dram_latency_s, 0);
  EXPECT_EQ(hw.precision_scaling, PrecisionScaling::None);
  const auto echo = describe_config(hw);
  ASSERT_EQ(echo.size(), hardware_parameters().size());
  EXPECT_EQ(echo[4].first, "array.grouped_mapping");
  EXPECT_EQ(echo[4].second, "split");
  EXPECT_EQ(echo[8].first, "dram.bandwidth");
  EXPECT_EQ(echo[8].second, "1 GB/s");
}

TEST(HardwareYaml, RowStationaryDefaultsAreTheChipsAndTheStructs) {
  // The table's defaults (Eyeriss's chip, JSSC 2017) and HardwareConfig's initializers agree, so a
  // config built in code maps as a loaded one.
  const HardwareConfig hw = load_hardware_config(testing::write_temp("ok.yaml", kValid));
  const HardwareConfig code;
  EXPECT_EQ(hw.rs_ifmap_spad, 12);
  EXPECT_EQ(hw.rs_filter_spad, 224);
  EXPECT_EQ(hw.rs_psum_spad, 24);
  EXPECT_EQ(hw.rs_bus_bits, 64);
  EXPECT_EQ(hw.rs_ifmap_bus_bits, 64);
  EXPECT_FALSE(hw.rs_rlc);
  EXPECT_EQ(hw.rs_zero_fraction, 0);
  EXPECT_EQ(code.rs_ifmap_spad, hw.rs_ifmap_spad);
  EXPECT_EQ(code.rs_filter_spad, hw.rs_filter_spad);
  EXPECT_EQ(code.rs_psum_spad, hw.rs_psum_spad);
  EXPECT_EQ(code.rs_bus_bits, hw.rs_bus_bits);
  EXPECT_EQ(code.rs_ifmap_bus_bits, hw.rs_ifmap_bus_bits);
  EXPECT_EQ(code.rs_rlc, hw.rs_rlc);
  EXPECT_EQ(code.rs_zero_fraction, hw.rs_zero_fraction);
  // The shipped Eyeriss config is row stationary; its ws twin keeps the SCALE-Sim folding.
  EXPECT_EQ(load_hardware_config(kRoot + "/configs/eyeriss.yaml").dataflow, Dataflow::RowStationary);
  EXPECT_EQ(load_hardware_config(kRoot + "/configs/eyeriss_ws.yaml").dataflow, Dataflow::WeightStationary);
  // The chip as JSSC 2017 measured it: 200 MHz core, 64-bit link at 60 MHz, 100 KiB of buffer for
  // ifmaps and psums, a 16-bit ifmap bus.
  const HardwareConfig chip = load_hardware_config(kRoot + "/configs/eyeriss_jssc.yaml");
  EXPECT_EQ(chip.dataflow, Dataflow::RowStationary);
  EXPECT_DOUBLE_EQ(chip.clock_hz, 200e6);
  EXPECT_DOUBLE_EQ(chip.dram_bytes_per_s, 8 * 60e6);
  EXPECT_DOUBLE_EQ(chip.sram_activation_bytes, 100 * 1024);
  EXPECT_EQ(chip.rs_ifmap_bus_bits, 16);
  EXPECT_EQ(chip.rs_bus_bits, 64);
  EXPECT_EQ(chip.dram_overlap, DramOverlap::Weights);
  EXPECT_EQ(hw.dram_overlap, DramOverlap::All);  // the default: every transfer overlaps compute
}

TEST(HardwareYaml, RowStationaryValuesChecked) {
  EXPECT_EQ(config_error("z.yaml", kValid + "row_stationary: {rlc: yes, zero_fraction: 1.5, psum_spad: 0}\n"),
            "F:7:59: error: row_stationary.psum_spad: expected an integer from 1 to 1048576, got '0'\n"
            "F:7:23: error: row_stationary.rlc: expected true or false, got 'yes'\n"
            "F:7:43: error: row_stationary.zero_fraction: expected a number from 0 to 1, got '1.5'");
}

TEST(HardwareYaml, UnknownKeyGetsDidYouMean) {
  std::string text = kValid;
  text.replace(text.find("dram: {bandwidth"), 16, "dram: {bandwith");
  EXPECT_EQ(config_error("k.yaml", text),
            "F:5:8: error: dram.bandwith: unknown key (did you mean 'bandwidth'?); expected one of: bandwidth, "
            "latency, policy, overlap\n"
            "F:5:7: error: dram.bandwidth: missing (required: bandwidth, off-chip bandwidth, shared by all reads and "
            "writes ('unlimited' = SCALE-Sim CALC mode))");
}

TEST(HardwareYaml, QuantityWithoutUnit) {
  std::string text = kValid;
  text.replace(text.find("\"1 GB/s\""), 8, "13");
  EXPECT_EQ(config_error("u.yaml", text),
            "F:5:19: error: dram.bandwidth: expected a quantity with a unit (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, "
            "GiB/s) or 'unlimited', got '13'");
}

TEST(HardwareYaml, BadDataflowAndMissingKeysAllReportedAtOnce) {
  EXPECT_EQ(config_error("m.yaml", "name: t\narray: {rows: 0, cols: 4, dataflow: rss}\nclock: 700\n"),
            "F:2:15: error: array.rows: expected an integer from 1 to 1048576, got '0'\n"
            "F:2:37: error: array.dataflow: expected one of os, ws, is, rs, got 'rss' (did you mean 'rs'?)\n"
            "F:3:8: error: clock: expected a quantity with a unit (Hz, kHz, MHz, GHz), got '700'\n"
            "F:1:1: error: sram.weights: missing (required: size, on-chip SRAM for weights)\n"
            "F:1:1: error: sram.activations: missing (required: size, on-chip SRAM for activations (inputs and "
            "outputs))\n"
            "F:1:1: error: dram.bandwidth: missing (required: bandwidth, off-chip bandwidth, shared by all reads and "
            "writes ('unlimited' = SCALE-Sim CALC mode))\n"
            "F:1:1: error: datapath.native_bits: missing (required: integer, operand precision of the MAC datapath "
            "(bits, 1 to 32 as in plans))");
}

TEST(HardwareYaml, NativeBitsWithinWhatPlansAccept) {
  // Native plans are written at native_bits; a plan's bits are 1 to 32, so the config's must be too.
  std::string text = kValid;
  text.replace(text.find("native_bits: 8"), 14, "native_bits: 64");
  EXPECT_EQ(config_error("n.yaml", text),
            "F:6:25: error: datapath.native_bits: expected an integer from 1 to 32, got '64'");
}

// Issue 12 (the command-line campaign): a denormal bandwidth parsed as > 0, every time became
// infinite and the latency solver crashed (a study with `from: 1e-320`). Rates and clocks that make
// finite times are the limit; the decoder's rate too.
TEST(HardwareYaml, RatesThatMakeTimesInfiniteAreRefused) {
  std::string text = kValid;
  text.replace(text.find("\"1 GB/s\""), 8, "\"1e-320 GB/s\"");
  text.replace(text.find("\"1 GHz\""), 7, "\"0.5 Hz\"");
  EXPECT_EQ(config_error("r.yaml", text + "decoder: {lanes: 4, symbols_per_cycle: 1e-9}\n"),
            "F:3:8: error: clock: expected a frequency of at least 1 Hz, got 0.5 Hz\n"
            "F:5:19: error: dram.bandwidth: expected a bandwidth of at least 1 B/s, got 9.99989e-312 B/s\n"
            "F:7:40: error: decoder.symbols_per_cycle: expected a number from 1/1024 to 1024, got 1e-09");
}

TEST(HardwareYaml, DuplicateKeyIsAnError) {
  std::string text = kValid;
  text.replace(text.find("native_bits: 8"), 14, "native_bits: 8, native_bits: 16");
  EXPECT_EQ(config_error("d.yaml", text), "F:6:28: error: datapath.native_bits: duplicate key (first at line 6)");
  EXPECT_EQ(config_error("d2.yaml", kValid + "clock: 1 GHz\n"), "F:7:1: error: clock: duplicate key (first at line 3)");
}

TEST(HardwareYaml, GroupedMappingDefaultsToSplitAndIsChecked) {
  EXPECT_EQ(load_hardware_config(testing::write_temp("ok.yaml", kValid)).grouped_mapping, GroupedMapping::Split);
  std::string text = kValid;
  text.replace(text.find("dataflow: os}"), 13, "dataflow: ws, grouped_mapping: block_diagonal}");
  EXPECT_EQ(load_hardware_config(testing::write_temp("bd.yaml", text)).grouped_mapping, GroupedMapping::BlockDiagonal);
  text.replace(text.find("block_diagonal"), 14, "blockdiagonal");
  EXPECT_EQ(config_error("g.yaml", text),
            "F:2:58: error: array.grouped_mapping: expected one of split, block_diagonal, diagonal_tiles, got "
            "'blockdiagonal' (did "
            "you mean 'block_diagonal'?)");
}

TEST(HardwareYaml, DatapathTrafficKeysDefaultToTheOldRuleAndAreChecked) {
  const HardwareConfig plain = load_hardware_config(testing::write_temp("ok.yaml", kValid));
  EXPECT_EQ(plain.fusion, Fusion::None);
  EXPECT_EQ(plain.shortcut, ShortcutPolicy::Dram);
  std::string text = kValid;
  text.replace(text.find("native_bits: 8}"), 15,
               "native_bits: 8, fusion: elementwise_pool, shortcut: on_chip_if_fits}");
  const HardwareConfig fused = load_hardware_config(testing::write_temp("f.yaml", text));
  EXPECT_EQ(fused.fusion, Fusion::ElementwisePool);
  EXPECT_EQ(fused.shortcut, ShortcutPolicy::OnChipIfFits);
  text.replace(text.find("elementwise_pool"), 16, "pooling");
  text.replace(text.find("on_chip_if_fits"), 15, "sram");
  EXPECT_EQ(config_error("f.yaml", text),
            "F:6:36: error: datapath.fusion: expected one of none, elementwise, elementwise_pool, got 'pooling'\n"
            "F:6:55: error: datapath.shortcut: expected one of dram, on_chip_if_fits, got 'sram' (did you mean "
            "'dram'?)");
}

TEST(HardwareYaml, SectionMustBeAMap) {
  std::string text = kValid;
  text.replace(text.find("datapath: {native_bits: 8}"), 26, "datapath: 8");
  EXPECT_EQ(config_error("s.yaml", text), "F:6:11: error: datapath: expected a map, got '8'");
}

TEST(HardwareYaml, PackedScalingNeedsAWideDatapath) {
  std::string text = kValid;
  text.replace(text.find("native_bits: 8}"), 15, "native_bits: 1, precision_scaling: packed}");
  EXPECT_EQ(config_error("p.yaml", text),
            "F:6:47: error: datapath.precision_scaling: packed needs datapath.native_bits >= 2");
}

TEST(ScaleSimConfig, BadCfgGetsLocatedErrors) {
  EXPECT_EQ(config_error("b.cfg", "[architecture_presets]\nArrayHeigth: 8\nArrayWidth: x\nDataflow: rs\n"),
            "F:2:1: error: architecture_presets.arrayheigth: unknown key (did you mean 'arrayheight'?)\n"
            "F: error: architecture_presets.ArrayHeight: missing\n"
            "F:3:13: error: arraywidth: expected an integer from 1 to 1048576, got 'x'\n"
            "F: error: architecture_presets.ifmapSramSzkB: missing\n"
            "F: error: architecture_presets.filterSramSzkB: missing\n"
            "F: error: architecture_presets.ofmapSramSzkB: missing\n"
            "F:4:11: error: Dataflow: expected os, ws or is, got 'rs'");
  // Sizes past the limits (an array 10^14 PEs wide gave 6.7e17 cycles; SRAM could overflow its bytes).
  EXPECT_EQ(config_error("b.cfg",
                         "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 99999999999999\n"
                         "IfmapSramSzkB: 9999999999999999\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\n"
                         "Dataflow: ws\n"),
            "F:3:13: error: arraywidth: expected an integer from 1 to 1048576, got '99999999999999'\n"
            "F:4:16: error: ifmapsramszkb: expected an integer from 1 to 1073741824, got '9999999999999999'");
}

TEST(HardwareConfigFile, UnknownExtension) {
  EXPECT_EQ(config_error("x.json", "{}"),
            "F: error: cannot tell the hardware config format: expected a .yaml, .yml or SCALE-Sim .cfg file");
}

// A front point's hardware file (codesign's plans/pareto-K.hw.yaml) is the resolved config written
// out: it must read back to the same config, every value exact, whatever the values.
TEST(HardwareYaml, ResolvedConfigWrittenOutReadsBackEqual) {
  std::vector<HardwareConfig> configs;
  for (const char* name : {"tpu", "eyeriss", "eyeriss_jssc", "eyeriss_ws"})
    configs.push_back(load_hardware_config(kRoot + "/configs/" + name + ".yaml"));
  HardwareConfig odd = configs.front();
  const std::vector<HardwareSetting> settings = {{"dram.bandwidth", "1.2345678901 GB/s", {}},
                                                 {"clock", "333.3333333 MHz", {}},
                                                 {"sram.weights", "181.5 KB", {}},
                                                 {"energy.add_8bit", "0.0301 pJ", {}},
                                                 {"dram.latency", "unlimited", {}}};
  EXPECT_THROW(set_hardware_parameters(odd, settings), InputError);  // latency cannot be unlimited
  set_hardware_parameters(odd, std::span(settings).first(4));
  configs.push_back(odd);
  HardwareConfig unlimited = configs.front();
  set_hardware_parameter(unlimited, "dram.bandwidth", "unlimited", {});
  configs.push_back(unlimited);
  for (const HardwareConfig& hw : configs) {
    const std::string text = hardware_yaml(hw, "a comment");
    EXPECT_EQ(text.rfind("# a comment\n", 0), 0u) << text;
    HardwareConfig back = read_hardware_yaml(text, "back.yaml");
    back.source = hw.source;
    EXPECT_EQ(back, hw) << text;
  }
}

// A study's vary values and --set apply together: the fields are checked against each other once
// all are set, so an order that passes through an invalid config is no error.
TEST(HardwareSettings, AppliedTogetherThenCheckedOnce) {
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  // sram_32kib must be at least sram_8kib: raising both, the first alone would break that.
  const std::vector<HardwareSetting> raise = {{"energy.sram_8kib", "30 pJ", {"--set a", 0, 0}},
                                              {"energy.sram_32kib", "60 pJ", {"--set b", 0, 0}}};
  HardwareConfig one_by_one = hw;
  EXPECT_THROW(set_hardware_parameter(one_by_one, raise[0].key, raise[0].value, {}), InputError);
  set_hardware_parameters(hw, raise);
  EXPECT_DOUBLE_EQ(hw.energy.sram_32kib, 60e-12);
  // A cross-field problem is reported at the setting of the key it names; a bad value at its own.
  try {
    set_hardware_parameters(hw,
                            std::vector<HardwareSetting>{{"datapath.precision_scaling", "packed", {"--set p", 0, 0}},
                                                         {"datapath.native_bits", "1", {"--set n", 0, 0}}});
    ADD_FAILURE() << "packed at 1 bit accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--set p: error: datapath.precision_scaling: packed needs datapath.native_bits >= 2");
  }
  try {
    set_hardware_parameters(hw, std::vector<HardwareSetting>{{"array.rows", "64", {"--set r", 0, 0}},
                                                             {"array.colz", "64", {"--set c", 0, 0}}});
    ADD_FAILURE() << "unknown key accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--set c: error: 'array.colz' is not a hardware parameter (did you mean 'array.cols'?) (see `bitsim "
              "explain-config`)");
  }
}

}  // namespace
}  // namespace bitsim::sim

namespace bitsim::sim {
namespace {

// Every parameter as a data column: its unit in the name, its value a number in that unit (areas in
// mm2, the README's one exception to base units), choices as text; set from YAML text and read back.
TEST(ParameterColumns, NamesCarryTheUnitAndValuesAreBaseUnits) {
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  const SourceLocation here{"test", 1, 1};
  const std::vector<std::tuple<std::string, std::string, std::string, Cell>> cases = {
      {"dram.bandwidth", "4 GB/s", "dram_bandwidth_bytes_per_s", 4e9},
      {"dram.bandwidth", "unlimited", "dram_bandwidth_bytes_per_s", std::numeric_limits<double>::infinity()},
      {"sram.weights", "181.5 KB", "sram_weights_bytes", 181500.0},
      {"sram.activations", "2 KiB", "sram_activations_bytes", 2048.0},
      {"clock", "700 MHz", "clock_hz", 7e8},
      {"dram.latency", "100 ns", "dram_latency_s", 100e-9},
      {"energy.dram_per_bit", "20 pJ", "energy_dram_per_bit_j", 20e-12},
      {"area.mult_8bit", "282 um2", "area_mult_8bit_mm2", 282e-12 * 1e6},
      {"array.rows", "32", "array_rows", std::int64_t{32}},
      {"decoder.symbols_per_cycle", "2", "decoder_symbols_per_cycle", 2.0},
      {"array.dataflow", "os", "array_dataflow", std::string("os")},
      {"row_stationary.rlc", "true", "row_stationary_rlc", std::string("true")},
  };
  for (const auto& [key, text, column, value] : cases) {
    set_hardware_parameter(hw, key, text, here);
    EXPECT_EQ(parameter_column(key), column);
    const Cell got = parameter_value(hw, key);
    if (std::holds_alternative<double>(value) && std::isfinite(std::get<double>(value)))  // unit scaling rounds
      EXPECT_DOUBLE_EQ(std::get<double>(got), std::get<double>(value)) << key << ": " << text;
    else
      EXPECT_EQ(got, value) << key << ": " << text;
  }
  // Every parameter has one, and no two share a column name.
  std::set<std::string> names;
  for (const ParamInfo& p : hardware_parameters()) {
    EXPECT_TRUE(names.insert(parameter_column(p.key)).second) << p.key;
    EXPECT_EQ(parameter_column(p.key).find('.'), std::string::npos);
  }
}

}  // namespace
}  // namespace bitsim::sim
