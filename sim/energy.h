// Energy per inference and silicon area: the counts the performance model already has (DRAM
// bytes, on-chip buffer accesses, MACs, decoded symbols) times per-access energies, and the
// hardware's components times per-component areas. The values and their sources are in
// sim/energy_table.h; every one is a hardware YAML key (`bitsim explain-config`).
//
// Energy of a layer, per batch (J):
//   dram    = dram_bytes x 8 x energy.dram_per_bit
//   sram    = sum over the report's buffer counts (analytical_model.h: ifmap and filter reads, ofmap
//             writes, psum reads; rs: its global buffer's) of values x native_bits / 64 x E64(size),
//             size = sram.weights for filter reads under os/ws/is, sram.activations otherwise
//             (rs: the global buffer); E64 is the SRAM rule of energy_table.h
//   pe      = os/ws/is: MACs x register bits written per MAC x energy.register_per_bit, the bits
//             being os 4 x native_bits (both operands passed on, the accumulator at twice the
//             width), ws and is 3 x (one operand and the partial sum passed on);
//             rs: MACs x 4 scratchpad accesses (3 reads, 1 write: Eyeriss) x energy.rf_access_in_macs
//             x the MAC energy at native_bits
//   mac     = MACs x (mult_8bit x a b / 64 + add_8bit x (a + b) / 8), a, b = native_bits, or with
//             energy.mac_width: plan the weight bits and the widest input's bits
//   decoder = decoded symbols x E64(decoder.table) (one 64-bit table entry per symbol)
// MACs are the layer's multiply-accumulates x batch on array layers (pooling, adds and the other
// data-moving layers use no MACs here). Left out: the DRAM fills and drains of the SRAM, Eyeriss's
// inter-PE network (its "array" level, 2x a MAC per hop), clock tree, control and leakage.
//
// Area (m^2):
//   pe      = R x C x (mult_8bit x n^2 / 64 + add_8bit x 2n / 8 + register bits x register_per_bit),
//             n = native_bits, register bits 4 n (two operand registers, a 2n accumulator), rs: its
//             ifmap and psum scratchpads, (ifmap_spad + psum_spad) x n (its filter scratchpads are
//             sram.weights in configs/eyeriss.yaml)
//   sram    = (sram.weights + sram.activations) x 8 x area.sram_bit
//   decoder = decoder.lanes x decoder.table x 8 x area.sram_bit
// Left out: the DRAM interface (PHY), SRAM periphery, the decoder's logic beyond its table, wiring.
#pragma once

#include <cstddef>

#include "sim/analytical_model.h"
#include "sim/bit_plan.h"
#include "sim/hw_config.h"

namespace bitsim::sim {

struct EnergyBreakdown {  // joules
  double dram_j = 0, sram_j = 0, pe_j = 0, mac_j = 0, decoder_j = 0;
  double total_j() const { return dram_j + sram_j + pe_j + mac_j + decoder_j; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};

struct AreaBreakdown {  // square metres
  double pe_m2 = 0, sram_m2 = 0, decoder_m2 = 0;
  double total_m2() const { return pe_m2 + sram_m2 + decoder_m2; }
};

// Energy of one 64-bit access of an SRAM of `bytes` (the power law of energy_table.h).
double sram_access_energy_j(const EnergyParams& e, double bytes);
// Energy of one multiply-accumulate of an a-bit by a b-bit operand (accumulator a + b bits).
double mac_energy_j(const EnergyParams& e, int a_bits, int b_bits);

// Energy of layer i per batch, given the timing the model (or the SystemC engine) gave it.
EnergyBreakdown layer_energy(const AnalyticalModel& model, std::size_t i, const BitPlan& plan, const LayerTiming& t);
// The sum over the layers of `r` (per batch: divide by r.batch for one inference).
EnergyBreakdown inference_energy(const AnalyticalModel& model, const BitPlan& plan, const SimResult& r);

AreaBreakdown chip_area(const HardwareConfig& hw);

}  // namespace bitsim::sim
