// What `bitsim simulate` reports about one simulated plan, as tables, so that every front end (the
// CLI's text, CSV and JSON; the Python module's dicts) shows the same columns.
#pragma once

#include <vector>

#include "sim/activation_traffic.h"
#include "sim/analytical_model.h"
#include "sim/base/table.h"
#include "sim/bit_plan.h"
#include "sim/detailed_model.h"
#include "sim/network.h"

namespace bitsim::study {

// `bitsim inspect`: one row per layer (inputs included): layer, op, inputs (space-separated names),
// channels, height, width (of its output), weights, parameters, macs (per image), gemm_m, gemm_k,
// gemm_n, groups.
Table workload_layer_table(const sim::Network& net);

// One row per layer (network inputs left out): layer, op, fused_into, macs, weights, compute_cycles,
// dram_bytes, weight_bytes, input_bytes, output_bytes, dram_time_s, decode_time_s, compute_time_s,
// time_s, bottleneck, then SCALE-Sim's report columns (folds, utilization, mapping_efficiency,
// sram_*_reads/writes), rs's mapping and the layer's energy per batch (dram_, sram_, pe_, mac_,
// decoder_energy_j, energy_j); with `detail` (the SystemC engine) start_s, end_s, stall_dram_s,
// stall_decode_s, stall_buffer_s, tiles after them. `model` gives the mappings and traffic `r` came
// from, `plan` the bit widths it was simulated with.
Table simulation_layer_table(const sim::Network& net, const sim::AnalyticalModel& model, const sim::BitPlan& plan,
                             const sim::SimResult& r, const sim::DetailedResult* detail);

// One row: batch, macs, weights, activations, stored_activations, compute_cycles, dram_bytes, time_s,
// time_per_image_s, inference_rate_per_s, the energy per batch and its split, energy_per_image_j,
// the chip's area and its split (and the SystemC engine's busy times and buffer peaks).
Table simulation_totals_table(const sim::Network& net, const sim::AnalyticalModel& model, const sim::BitPlan& plan,
                              const sim::SimResult& r, const sim::DetailedResult* detail);

// The CSV's last row, aligned with the layer table's analytical columns.
std::vector<Cell> simulation_total_row(const sim::Network& net, const sim::AnalyticalModel& model,
                                       const sim::BitPlan& plan, const sim::SimResult& r, int batch);

}  // namespace bitsim::study
