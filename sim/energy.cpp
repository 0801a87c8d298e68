// Energy per inference and area from the counts of the performance model (see energy.h).
#include "sim/energy.h"

#include <algorithm>
#include <cmath>

namespace bitsim::sim {

namespace {
constexpr double kKib = 1024.0;
constexpr double kAccessBits = 64.0;  // Horowitz's SRAM and DRAM figures are per 64-bit access
}  // namespace

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  dram_j += o.dram_j;
  sram_j += o.sram_j;
  pe_j += o.pe_j;
  mac_j += o.mac_j;
  decoder_j += o.decoder_j;
  return *this;
}

double sram_access_energy_j(const EnergyParams& e, double bytes) {
  if (!(bytes > 0)) return 0;
  // Power law through (8 KiB, sram_8kib), (32 KiB, sram_32kib), (1 MiB, sram_1mib), piecewise.
  const double at_32 = 32 * kKib;
  const bool small = bytes <= at_32;
  const double exponent = small ? std::log(e.sram_32kib / e.sram_8kib) / std::log(4.0)
                                : std::log(e.sram_1mib / e.sram_32kib) / std::log(32.0);
  return e.sram_32kib * std::pow(bytes / at_32, exponent);
}

double mac_energy_j(const EnergyParams& e, int a_bits, int b_bits) {
  const double a = a_bits, b = b_bits;
  return e.mult_8bit * a * b / 64.0 + e.add_8bit * (a + b) / 8.0;
}

namespace {

// What every layer of one config pays per unit (the SRAM rule's powers computed once per inference).
struct Rates {
  double act_value = 0, filter_value = 0;  // per value read or written in each SRAM
  double decoder_symbol = 0;
  double native_mac = 0;
  double pe_per_mac = 0;  // registers (os/ws/is) or scratchpads (rs)
};

Rates rates_of(const HardwareConfig& hw) {
  const EnergyParams& e = hw.energy;
  const auto native = static_cast<int>(hw.native_bits);
  const double per_value = native / kAccessBits;  // 64-bit accesses per value
  Rates r;
  r.act_value = sram_access_energy_j(e, hw.sram_activation_bytes) * per_value;
  r.filter_value =
      hw.dataflow == Dataflow::RowStationary ? r.act_value : sram_access_energy_j(e, hw.sram_weight_bytes) * per_value;
  r.decoder_symbol = sram_access_energy_j(e, hw.decoder_table_bytes);
  r.native_mac = mac_energy_j(e, native, native);
  switch (hw.dataflow) {
    case Dataflow::OutputStationary:
      r.pe_per_mac = 4.0 * native * e.register_per_bit;
      break;
    case Dataflow::WeightStationary:
    case Dataflow::InputStationary:
      r.pe_per_mac = 3.0 * native * e.register_per_bit;
      break;
    case Dataflow::RowStationary:
      r.pe_per_mac = 4.0 * e.rf_access_in_macs * r.native_mac;
      break;
  }
  return r;
}

EnergyBreakdown energy_at(const AnalyticalModel& model, std::size_t i, const BitPlan& plan, const LayerTiming& t,
                          const Rates& rates) {
  const HardwareConfig& hw = model.hardware();
  const Layer& l = model.network().layer(i);
  EnergyBreakdown out;
  if (l.op == LayerOp::Input) return out;
  out.dram_j = t.dram_bytes * 8.0 * hw.energy.dram_per_bit;
  out.decoder_j = static_cast<double>(t.decode_symbols) * rates.decoder_symbol;
  const ArrayCost& cost = model.array_cost(i);
  out.sram_j = (cost.sram_ifmap_reads + cost.sram_ofmap_writes + cost.sram_psum_reads) * rates.act_value +
               cost.sram_filter_reads * rates.filter_value;
  if (!l.on_array() || t.compute_cycles == 0) return out;
  const double macs = static_cast<double>(l.macs) * model.batch();
  out.pe_j = macs * rates.pe_per_mac;
  out.mac_j = macs * rates.native_mac;
  if (hw.energy.mac_width == MacWidth::Plan) {
    const auto native = static_cast<int>(hw.native_bits);
    int input_bits = 0;
    for (int p : l.inputs) input_bits = std::max(input_bits, plan.activations[static_cast<std::size_t>(p)].bits);
    const int weight_bits = plan.weights[i].bits;
    out.mac_j =
        macs * mac_energy_j(hw.energy, weight_bits > 0 ? weight_bits : native, input_bits > 0 ? input_bits : native);
  }
  return out;
}

}  // namespace

EnergyBreakdown layer_energy(const AnalyticalModel& model, std::size_t i, const BitPlan& plan, const LayerTiming& t) {
  return energy_at(model, i, plan, t, rates_of(model.hardware()));
}

EnergyBreakdown inference_energy(const AnalyticalModel& model, const BitPlan& plan, const SimResult& r) {
  const Rates rates = rates_of(model.hardware());
  EnergyBreakdown out;
  for (std::size_t i = 0; i < r.layers.size(); ++i) out += energy_at(model, i, plan, r.layers[i], rates);
  return out;
}

AreaBreakdown chip_area(const HardwareConfig& hw) {
  const AreaParams& a = hw.area;
  const double n = static_cast<double>(hw.native_bits);
  const double register_bits =
      hw.dataflow == Dataflow::RowStationary ? static_cast<double>(hw.rs_ifmap_spad + hw.rs_psum_spad) * n : 4.0 * n;
  const double pe = a.mult_8bit * n * n / 64.0 + a.add_8bit * 2.0 * n / 8.0 + register_bits * a.register_per_bit;
  AreaBreakdown out;
  out.pe_m2 = static_cast<double>(hw.array_rows * hw.array_cols) * pe;
  out.sram_m2 = (hw.sram_weight_bytes + hw.sram_activation_bytes) * 8.0 * a.sram_bit;
  out.decoder_m2 = static_cast<double>(hw.decoder_lanes) * hw.decoder_table_bytes * 8.0 * a.sram_bit;
  return out;
}

}  // namespace bitsim::sim
