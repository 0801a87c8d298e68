// The per-access energies and per-component areas behind energy per inference and silicon area
// (sim/energy.h), each with its published source. The hardware YAML overrides any of them under
// `energy:` and `area:` (sim/hw_config.cpp declares the keys, with these values as their defaults:
// a test keeps the two equal). Values are in SI units (J, m^2).
//
// | key                        | default   | source                                                        |
// |----------------------------|-----------|---------------------------------------------------------------|
// | energy.dram_per_bit        | 20.3125 pJ| Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm):   |
// |                            |           | DRAM 1.3-2.6 nJ per 64-bit access; the low end, 1.3 nJ / 64   |
// | energy.sram_8kib           | 10 pJ     | Horowitz 2014: 64-bit read of an 8 KB SRAM                    |
// | energy.sram_32kib          | 20 pJ     | Horowitz 2014: 64-bit read of a 32 KB SRAM                    |
// | energy.sram_1mib           | 100 pJ    | Horowitz 2014: 64-bit read of a 1 MB SRAM                     |
// | energy.mult_8bit           | 0.2 pJ    | Horowitz 2014: 8-bit integer multiply                         |
// | energy.add_8bit            | 0.03 pJ   | Horowitz 2014: 8-bit integer add                              |
// | energy.register_per_bit    | 0.009 pJ  | Aladdin's 40 nm register, 1 bit, one write (data/reg.csv of   |
// |                            |           | Accelergy's Aladdin plug-in; Shao et al., ISCA 2014)          |
// | energy.rf_access_in_macs   | 1         | Eyeriss (Chen, Emer, Sze, ISCA 2016, Table IV): a 0.5 KB      |
// |                            |           | scratchpad access costs 1x a 16-bit MAC (global buffer 6x,    |
// |                            |           | array 2x, DRAM 200x)                                          |
// | area.mult_8bit             | 282 um2   | Horowitz 2014: 8-bit integer multiplier                       |
// | area.add_8bit              | 36 um2    | Horowitz 2014: 8-bit integer adder                            |
// | area.register_per_bit      | 5.98 um2  | Aladdin's 40 nm register, 1 bit (its power/area table)        |
// | area.sram_bit              | 0.346 um2 | Intel 45 nm 6T SRAM cell (Mistry et al., IEDM 2007): cells    |
// |                            |           | only, without decoders, sense amplifiers and wiring           |
// | decoder.table              | 8 KiB     | ours (no published figure at hand): a table-driven entropy    |
// |                            |           | decoder lane reads one 64-bit entry of an 8 KiB table per     |
// |                            |           | symbol (energy from the SRAM rule below, area as SRAM cells)  |
//
// Scaling rules (stated, not fitted):
// - Multiplier energy and area grow with the product of the operand widths, adder energy and area
//   with the adder's width (Accelergy's Aladdin plug-in: quadratic and linear interpolation in the
//   width). Check on Horowitz's own 32-bit figures: 0.2 pJ x 32 x 32 / 64 = 3.2 pJ against his
//   3.1 pJ, 282 um2 x 16 = 4512 um2 against his 3495 um2, 0.03 pJ x 4 = 0.12 pJ against his 0.1.
// - SRAM energy per 64-bit access with size: a power law through Horowitz's three points (8 KiB,
//   32 KiB, 1 MiB; his KB read as KiB), piecewise: below 32 KiB with the 8-32 KiB exponent
//   (log(20/10) / log 4 = 0.5, CACTI-like sqrt(size)), above with the 32 KiB-1 MiB one
//   (log(100/20) / log 32 = 0.464). Beyond 1 MiB this is an extrapolation. An access of v values
//   of b bits costs v b / 64 accesses of 64 bits; reads and writes cost the same (Horowitz gives
//   reads).
#pragma once

#include "sim/base/names.h"

namespace bitsim::sim {

// Which operand widths a MAC's energy is charged at.
enum class MacWidth {
  Native,  // the datapath's multiplier at datapath.native_bits, whatever the plan (default)
  Plan,    // the plan's weight and input bits (a precision-scalable MAC or gated operand bits)
};
inline constexpr NameTable kMacWidthNames{
    std::array{NamedValue<MacWidth>{MacWidth::Native, "native"}, NamedValue<MacWidth>{MacWidth::Plan, "plan"}}};
static_assert(kMacWidthNames.complete());

struct EnergyParams {  // joules
  double dram_per_bit = 1.3e-9 / 64;
  double sram_8kib = 10e-12, sram_32kib = 20e-12, sram_1mib = 100e-12;  // per 64-bit access
  double mult_8bit = 0.2e-12;
  double add_8bit = 0.03e-12;
  MacWidth mac_width = MacWidth::Native;
  double register_per_bit = 0.009e-12;
  double rf_access_in_macs = 1;  // rs only: one scratchpad access, in MACs at native_bits
  bool operator==(const EnergyParams&) const = default;
};

struct AreaParams {  // square metres
  double mult_8bit = 282e-12;
  double add_8bit = 36e-12;
  double register_per_bit = 5.98e-12;
  double sram_bit = 0.346e-12;
  bool operator==(const AreaParams&) const = default;
};

}  // namespace bitsim::sim
