// Energy per inference and area (sim/energy.h) on cases worked by hand from the table in
// sim/energy_table.h, and the energy and area keys of the hardware YAML.
#include <gtest/gtest.h>
#include <cmath>

#include "sim/analytical_model.h"
#include "sim/base/units.h"
#include "sim/energy.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

using testing::write_temp;

constexpr double kPj = 1e-12, kUm2 = 1e-12;

// input 2x4x4 -> a: 1x1 conv to 4 channels (8 weights, 128 MACs) -> fc: 10 outputs (650 weights).
Network tiny_net() {
  return load_workload(write_temp("energy_tiny.yaml", R"(name: tiny
input: {shape: [2, 4, 4]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 1}
  - {name: fc, op: fc, out_features: 10}
)"));
}

const std::string kTinyHw = R"(name: tiny
array: {rows: 4, cols: 4, dataflow: ws}
clock: "1 GHz"
sram: {weights: "1 KiB", activations: "1 KiB"}
dram: {bandwidth: "1 GB/s"}
decoder: {lanes: 2}
datapath: {native_bits: 8}
)";

HardwareConfig tiny_hw(const std::string& extra = "") {
  return load_hardware_config(write_temp("energy_tiny_hw.yaml", kTinyHw + extra));
}

std::string config_error(const std::string& extra) {
  return testing::error_of("e.yaml", kTinyHw + extra, [](const std::string& path) { load_hardware_config(path); });
}

constexpr std::size_t kA = 1;

TEST(Energy, SramRuleGoesThroughHorowitzsPoints) {
  const EnergyParams e;
  EXPECT_NEAR(sram_access_energy_j(e, 8 * 1024), 10 * kPj, 1e-9 * kPj);
  EXPECT_NEAR(sram_access_energy_j(e, 32 * 1024), 20 * kPj, 1e-9 * kPj);
  EXPECT_NEAR(sram_access_energy_j(e, 1024 * 1024), 100 * kPj, 1e-9 * kPj);
  // Below 32 KiB the 8-32 KiB exponent, log(2) / log(4) = 1/2: sqrt(size).
  EXPECT_NEAR(sram_access_energy_j(e, 2 * 1024), 5 * kPj, 1e-9 * kPj);
  // Above, log(5) / log(32): 128 KiB (4 x 32 KiB) costs 20 x 4^0.4644 = 38.07 pJ.
  EXPECT_NEAR(sram_access_energy_j(e, 128 * 1024), 20 * kPj * std::pow(4.0, std::log(5.0) / std::log(32.0)),
              1e-9 * kPj);
  EXPECT_EQ(sram_access_energy_j(e, 0), 0);
  double last = 0;
  for (double kib = 0.5; kib <= 65536; kib *= 2) {
    EXPECT_GT(sram_access_energy_j(e, kib * 1024), last) << kib;
    last = sram_access_energy_j(e, kib * 1024);
  }
}

TEST(Energy, MacScalesWithTheProductOfWidthsAndTheAdderWithItsWidth) {
  const EnergyParams e;
  // 8 x 8: Horowitz's multiply 0.2 pJ and a 16-bit add 2 x 0.03 pJ.
  EXPECT_NEAR(mac_energy_j(e, 8, 8), 0.26 * kPj, 1e-12 * kPj);
  // 32 x 32: 0.2 x 16 = 3.2 pJ (Horowitz: 3.1) and a 64-bit add 0.24 pJ.
  EXPECT_NEAR(mac_energy_j(e, 32, 32), 3.44 * kPj, 1e-12 * kPj);
  EXPECT_NEAR(mac_energy_j(e, 4, 8), (0.1 + 0.045) * kPj, 1e-12 * kPj);
}

TEST(Energy, HandWorkedLayer) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const AnalyticalModel model(net, hw);
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  const SimResult r = model.evaluate(plan);
  const EnergyBreakdown e = layer_energy(model, kA, plan, r.layers[kA]);
  // DRAM: 104 bytes (8 weights, 32 inputs, 64 outputs) x 8 bits x 1.3 nJ / 64.
  EXPECT_NEAR(e.dram_j, 104 * 8 * 20.3125 * kPj, 1e-9 * kPj);
  // SRAM, ws on a 4x4 array (one row fold, one column fold): ifmap M K = 32 and ofmap M N = 64
  // values in the 1 KiB activation SRAM, filter K N = 8 in the 1 KiB weight SRAM; a 64-bit access
  // of 1 KiB is 20 pJ x sqrt(1/32), a value 8/64 of it.
  const double value = 20 * kPj / std::sqrt(32.0) * 8 / 64;
  EXPECT_NEAR(e.sram_j, (32 + 64 + 8) * value, 1e-9 * kPj);
  // 128 MACs: 0.26 pJ each; ws writes 3 x 8 register bits per MAC at 0.009 pJ.
  EXPECT_NEAR(e.mac_j, 128 * 0.26 * kPj, 1e-9 * kPj);
  EXPECT_NEAR(e.pe_j, 128 * 24 * 0.009 * kPj, 1e-9 * kPj);
  EXPECT_EQ(e.decoder_j, 0);  // nothing entropy-coded
  EXPECT_NEAR(e.total_j(), e.dram_j + e.sram_j + e.mac_j + e.pe_j, 1e-9 * kPj);
  // The inference is the sum of its layers.
  const EnergyBreakdown all = inference_energy(model, plan, r);
  const EnergyBreakdown fc = layer_energy(model, 2, plan, r.layers[2]);
  EXPECT_NEAR(all.total_j(), e.total_j() + fc.total_j(), 1e-9 * kPj);
  // Decoding: one 64-bit read of the 8 KiB table (10 pJ) per symbol.
  BitPlan coded = plan;
  coded.weights[2].coded_bits = 650 * 3;
  coded.weights[2].symbols = 650;
  const SimResult rc = model.evaluate(coded);
  EXPECT_NEAR(layer_energy(model, 2, coded, rc.layers[2]).decoder_j, 650 * 10 * kPj, 1e-9 * kPj);
}

TEST(Energy, MoreBitsMoveMoreDramEnergy) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const AnalyticalModel model(net, hw);
  double last = 0;
  for (int bits : {2, 4, 6, 8}) {
    const BitPlan plan = BitPlan::uniform(net, bits, bits);
    const EnergyBreakdown e = inference_energy(model, plan, model.evaluate(plan));
    EXPECT_GT(e.dram_j, last) << bits;
    last = e.dram_j;
    // The MACs run at native width whatever the plan (energy.mac_width: native).
    EXPECT_NEAR(e.mac_j, (128 + 640) * 0.26 * kPj, 1e-9 * kPj);
  }
  // With mac_width: plan, a 4-bit plan's MACs are 4 x 4: 0.2 / 4 + 0.03 pJ.
  const HardwareConfig plan_hw = tiny_hw("energy: {mac_width: plan}\n");
  const AnalyticalModel plan_model(net, plan_hw);
  const BitPlan four = BitPlan::uniform(net, 4, 4);
  EXPECT_NEAR(inference_energy(plan_model, four, plan_model.evaluate(four)).mac_j, 768 * 0.08 * kPj, 1e-9 * kPj);
}

TEST(Energy, YamlOverridesChangeTheResult) {
  const Network net = tiny_net();
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  auto energy = [&](const HardwareConfig& hw) {
    const AnalyticalModel model(net, hw);
    return inference_energy(model, plan, model.evaluate(plan));
  };
  const EnergyBreakdown base = energy(tiny_hw());
  const EnergyBreakdown twice = energy(
      tiny_hw("energy: {dram_per_bit: \"40.625 pJ\", mult_8bit: \"0.4 pJ\", add_8bit: \"0.06 pJ\", "
              "register_per_bit: \"0.018 pJ\", sram_8kib: \"20 pJ\", sram_32kib: \"40 pJ\", sram_1mib: \"200 pJ\"}\n"));
  EXPECT_NEAR(twice.dram_j, 2 * base.dram_j, 1e-9 * kPj);
  EXPECT_NEAR(twice.mac_j, 2 * base.mac_j, 1e-9 * kPj);
  EXPECT_NEAR(twice.pe_j, 2 * base.pe_j, 1e-9 * kPj);
  EXPECT_NEAR(twice.sram_j, 2 * base.sram_j, 1e-9 * kPj);
  std::string text = kTinyHw + "area: {sram_bit: \"0.692 um2\"}\n";
  text.replace(text.find("decoder: {lanes: 2}"), 19, "decoder: {lanes: 2, table: \"16 KiB\"}");
  const HardwareConfig big = load_hardware_config(write_temp("energy_big.yaml", text));
  EXPECT_NEAR(chip_area(big).sram_m2, 2 * chip_area(tiny_hw()).sram_m2, 1e-9 * kUm2);
  EXPECT_NEAR(chip_area(big).decoder_m2, 4 * chip_area(tiny_hw()).decoder_m2, 1e-9 * kUm2);
}

TEST(Energy, BadValuesAreLocatedErrors) {
  EXPECT_EQ(config_error("energy: {dram_per_bit: 20}\n"),
            "F:8:24: error: energy.dram_per_bit: expected a quantity with a unit (fJ, pJ, nJ, uJ, mJ, J), got '20'");
  EXPECT_EQ(config_error("energy: {dram_per_bit: \"-1 pJ\"}\n"),
            "F:8:24: error: energy.dram_per_bit: expected a quantity with a unit (fJ, pJ, nJ, uJ, mJ, J), got '-1 pJ'");
  EXPECT_EQ(config_error("area: {sram_bits: \"1 um2\"}\n"),
            "F:8:8: error: area.sram_bits: unknown key (did you mean 'sram_bit'?); expected one of: mult_8bit, "
            "add_8bit, register_per_bit, sram_bit");
  EXPECT_EQ(config_error("area: {mult_8bit: \"282 um\"}\n"),
            "F:8:19: error: area.mult_8bit: expected a quantity with a unit (um2, mm2, m2), got '282 um'");
  EXPECT_EQ(config_error("energy: {mac_width: operand}\n"),
            "F:8:21: error: energy.mac_width: expected one of native, plan, got 'operand'");
  // The SRAM rule takes logarithms: a zero point is refused, where it was written.
  EXPECT_EQ(
      config_error("energy: {sram_32kib: \"0 pJ\"}\n"),
      "F:8:22: error: energy.sram_32kib: expected an energy above 0 (the SRAM rule takes its logarithm), got 0 J");
  // Between its points the SRAM energy grows with size, at most in proportion to it.
  EXPECT_EQ(config_error("energy: {sram_8kib: \"10 pJ\", sram_32kib: \"5 pJ\", sram_1mib: \"1 nJ\"}\n"),
            "F:8:42: error: energy.sram_32kib: expected from energy.sram_8kib (10 pJ) to 4 times it, got 5 pJ\n"
            "F:8:61: error: energy.sram_1mib: expected from energy.sram_32kib (5 pJ) to 32 times it, got 1 nJ");
}

TEST(Energy, TableDefaultsAndStructInitializersAgree) {
  const HardwareConfig hw = tiny_hw();
  const HardwareConfig code;
  EXPECT_DOUBLE_EQ(hw.decoder_table_bytes, code.decoder_table_bytes);
  EXPECT_DOUBLE_EQ(hw.energy.dram_per_bit, code.energy.dram_per_bit);
  EXPECT_DOUBLE_EQ(hw.energy.sram_8kib, code.energy.sram_8kib);
  EXPECT_DOUBLE_EQ(hw.energy.sram_32kib, code.energy.sram_32kib);
  EXPECT_DOUBLE_EQ(hw.energy.sram_1mib, code.energy.sram_1mib);
  EXPECT_DOUBLE_EQ(hw.energy.mult_8bit, code.energy.mult_8bit);
  EXPECT_DOUBLE_EQ(hw.energy.add_8bit, code.energy.add_8bit);
  EXPECT_EQ(hw.energy.mac_width, code.energy.mac_width);
  EXPECT_DOUBLE_EQ(hw.energy.register_per_bit, code.energy.register_per_bit);
  EXPECT_DOUBLE_EQ(hw.energy.rf_access_in_macs, code.energy.rf_access_in_macs);
  EXPECT_DOUBLE_EQ(hw.area.mult_8bit, code.area.mult_8bit);
  EXPECT_DOUBLE_EQ(hw.area.add_8bit, code.area.add_8bit);
  EXPECT_DOUBLE_EQ(hw.area.register_per_bit, code.area.register_per_bit);
  EXPECT_DOUBLE_EQ(hw.area.sram_bit, code.area.sram_bit);
  // The published values themselves (sim/energy_table.h).
  EXPECT_DOUBLE_EQ(hw.energy.dram_per_bit, 1.3e-9 / 64);
  EXPECT_DOUBLE_EQ(hw.area.mult_8bit, 282 * kUm2);
}

TEST(Area, HandCheckedConfig) {
  // 16 PEs of 8 bits: multiplier 282 um2, a 16-bit adder 2 x 36 um2, 4 x 8 register bits x 5.98 um2.
  const AreaBreakdown a = chip_area(tiny_hw());
  EXPECT_NEAR(a.pe_m2, 16 * (282 + 72 + 32 * 5.98) * kUm2, 1e-9 * kUm2);
  // 2 KiB of SRAM and 2 decoder tables of 8 KiB, 0.346 um2 per bit.
  EXPECT_NEAR(a.sram_m2, 2 * 8192 * 0.346 * kUm2, 1e-9 * kUm2);
  EXPECT_NEAR(a.decoder_m2, 2 * 65536 * 0.346 * kUm2, 1e-9 * kUm2);
  EXPECT_NEAR(a.total_m2(), (8725.76 + 5668.864 + 45350.912) * kUm2, 1e-6 * kUm2);
  // The Eyeriss config: 168 PEs of 16 bits, a 16 x 16 multiplier (4 x 282), a 32-bit adder
  // (4 x 36), the 12 + 24-entry ifmap and psum scratchpads as registers; 181.5 KiB of SRAM.
  const AreaBreakdown e = chip_area(load_hardware_config(std::string(BITSIM_SOURCE_DIR) + "/configs/eyeriss.yaml"));
  EXPECT_NEAR(e.pe_m2, 168 * (1128 + 144 + 36 * 16 * 5.98) * kUm2, 1e-6 * kUm2);
  EXPECT_NEAR(e.sram_m2, 181.5 * 8192 * 0.346 * kUm2, 1e-6 * kUm2);
}

TEST(Energy, RowStationaryChargesFourScratchpadAccessesPerMac) {
  const HardwareConfig hw = load_hardware_config(std::string(BITSIM_SOURCE_DIR) + "/configs/eyeriss.yaml");
  const Network net = tiny_net();
  const AnalyticalModel model(net, hw);
  const BitPlan plan = BitPlan::uniform(net, 16, 16);
  const SimResult r = model.evaluate(plan);
  ASSERT_TRUE(r.feasible) << r.reason;
  const EnergyBreakdown e = layer_energy(model, kA, plan, r.layers[kA]);
  // A 16-bit MAC: 0.2 x 4 + 0.03 x 4 = 0.92 pJ; each scratchpad access costs one (Eyeriss: RF 1x).
  EXPECT_NEAR(e.mac_j, 128 * 0.92 * kPj, 1e-9 * kPj);
  EXPECT_NEAR(e.pe_j, 128 * 4 * 0.92 * kPj, 1e-9 * kPj);
}

}  // namespace
}  // namespace bitsim::sim
