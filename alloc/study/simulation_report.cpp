// The tables of `bitsim simulate` (simulation_report.h).
#include "alloc/study/simulation_report.h"

#include <map>
#include <string>

#include "sim/energy.h"

namespace bitsim::study {

using namespace bitsim::sim;

namespace {

// The per-layer table; the SystemC engine adds its columns after the analytical ones. fused_into:
// the layer whose output path runs this one (datapath.fusion); its DRAM bytes split into weights
// read, inputs read and output written (under fusion, the chain's output is written by its first
// layer). Then SCALE-Sim's report columns (analytical_model.h): folds (rs: processing passes),
// utilization, mapping_efficiency, on-chip buffer traffic in values, and rs's mapping. Last, the
// layer's energy per batch and its split (sim/energy.h).
const std::vector<std::string>& analytical_columns() {
  static const std::vector<std::string> columns = {"layer",
                                                   "op",
                                                   "fused_into",
                                                   "macs",
                                                   "weights",
                                                   "compute_cycles",
                                                   "dram_bytes",
                                                   "weight_bytes",
                                                   "input_bytes",
                                                   "output_bytes",
                                                   "dram_time_s",
                                                   "decode_time_s",
                                                   "compute_time_s",
                                                   "time_s",
                                                   "bottleneck",
                                                   "folds",
                                                   "utilization",
                                                   "mapping_efficiency",
                                                   "sram_ifmap_reads",
                                                   "sram_filter_reads",
                                                   "sram_ofmap_writes",
                                                   "sram_psum_reads",
                                                   "mapping",
                                                   "dram_energy_j",
                                                   "sram_energy_j",
                                                   "pe_energy_j",
                                                   "mac_energy_j",
                                                   "decoder_energy_j",
                                                   "energy_j"};
  return columns;
}

}  // namespace

Table workload_layer_table(const Network& net) {
  Table t({"layer", "op", "inputs", "channels", "height", "width", "weights", "parameters", "macs", "gemm_m", "gemm_k",
           "gemm_n", "groups"});
  for (const Layer& l : net.layers()) {
    std::string inputs;
    for (int p : l.inputs) inputs += (inputs.empty() ? "" : " ") + net.layer(static_cast<std::size_t>(p)).name;
    t.add_row({l.name, std::string(op_name(l.op)), inputs, l.output.channels, l.output.height, l.output.width,
               l.weights, l.parameters, l.macs, l.gemm.m, l.gemm.k, l.gemm.n, l.gemm.groups});
  }
  return t;
}

Table simulation_layer_table(const Network& net, const AnalyticalModel& model, const BitPlan& plan, const SimResult& r,
                             const DetailedResult* detail) {
  const ActivationTraffic& traffic = model.traffic();
  std::vector<std::string> columns = analytical_columns();
  if (detail)
    for (const char* c : {"start_s", "end_s", "stall_dram_s", "stall_decode_s", "stall_buffer_s", "tiles"})
      columns.emplace_back(c);
  Table t(columns);
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.op == LayerOp::Input) continue;
    const LayerTiming& x = r.layers[i];
    const LayerReport rep = model.report(i, x);
    const int anchor = traffic.layer(i).fused_into;
    const EnergyBreakdown e = layer_energy(model, i, plan, x);
    std::vector<Cell> row = {l.name,
                             std::string(op_name(l.op)),
                             anchor >= 0 ? net.layer(static_cast<std::size_t>(anchor)).name : std::string(),
                             l.macs * r.batch,
                             l.weights,
                             x.compute_cycles,
                             x.dram_bytes,
                             x.weight_read_bytes,
                             x.input_read_bytes,
                             x.output_write_bytes,
                             x.dram_time_s,
                             x.decode_time_s,
                             x.compute_time_s,
                             x.time_s,
                             std::string(bottleneck_name(x.bottleneck)),
                             rep.folds,
                             rep.utilization,
                             rep.mapping_efficiency,
                             rep.sram_ifmap_reads,
                             rep.sram_filter_reads,
                             rep.sram_ofmap_writes,
                             rep.sram_psum_reads,
                             model.array_cost(i).mapping,
                             e.dram_j,
                             e.sram_j,
                             e.pe_j,
                             e.mac_j,
                             e.decoder_j,
                             e.total_j()};
    if (detail) {
      const LayerDetail& d = detail->layers[i];
      for (const Cell& c : {Cell(d.start_s), Cell(d.end_s), Cell(d.stall_dram_s), Cell(d.stall_decode_s),
                            Cell(d.stall_buffer_s), Cell(static_cast<std::int64_t>(d.tiles))})
        row.push_back(c);
    }
    t.add_row(std::move(row));
  }
  return t;
}

// activations: every layer output; stored_activations: those that exist off chip (the rest stay
// inside a fused datapath or on chip, datapath.fusion and datapath.shortcut). Then energy per batch
// (and its split) and per image, and the chip's area and its split (sim/energy.h).
Table simulation_totals_table(const Network& net, const AnalyticalModel& model, const BitPlan& plan, const SimResult& r,
                              const DetailedResult* detail) {
  std::vector<std::string> columns = {"batch",
                                      "macs",
                                      "weights",
                                      "activations",
                                      "stored_activations",
                                      "compute_cycles",
                                      "dram_bytes",
                                      "time_s",
                                      "time_per_image_s",
                                      "inference_rate_per_s",
                                      "dram_energy_j",
                                      "sram_energy_j",
                                      "pe_energy_j",
                                      "mac_energy_j",
                                      "decoder_energy_j",
                                      "energy_j",
                                      "energy_per_image_j",
                                      "pe_area_mm2",
                                      "sram_area_mm2",
                                      "decoder_area_mm2",
                                      "area_mm2"};
  const std::int64_t stored = model.traffic().stored_values(net);
  const EnergyBreakdown e = inference_energy(model, plan, r);
  const AreaBreakdown area = chip_area(model.hardware());
  std::vector<Cell> row = {static_cast<std::int64_t>(r.batch),
                           net.total_macs() * r.batch,
                           net.total_weights(),
                           net.total_activations() * r.batch,
                           stored * r.batch,
                           r.compute_cycles,
                           r.dram_bytes,
                           r.time_s,
                           r.time_per_image_s,
                           r.inference_rate_per_s,
                           e.dram_j,
                           e.sram_j,
                           e.pe_j,
                           e.mac_j,
                           e.decoder_j,
                           e.total_j(),
                           e.total_j() / r.batch,
                           area.pe_m2 * 1e6,
                           area.sram_m2 * 1e6,
                           area.decoder_m2 * 1e6,
                           area.total_m2() * 1e6};
  if (detail) {
    for (const char* c : {"achieved_dram_bytes_per_s", "dram_busy_s", "decoder_busy_s", "array_busy_s",
                          "peak_weight_buffer_bytes", "peak_activation_buffer_bytes"})
      columns.emplace_back(c);
    for (double v : {detail->achieved_dram_bytes_per_s, detail->dram_busy_s, detail->decoder_busy_s,
                     detail->array_busy_s, detail->peak_weight_buffer_bytes, detail->peak_activation_buffer_bytes})
      row.emplace_back(v);
  }
  Table t(columns);
  t.add_row(std::move(row));
  return t;
}

// The CSV's last row, aligned with the layer columns: sums where a sum means something (time_s:
// the batch's, with dram.latency), the rest empty.
std::vector<Cell> simulation_total_row(const Network& net, const AnalyticalModel& model, const BitPlan& plan,
                                       const SimResult& r, int batch) {
  double weight = 0, input = 0, output = 0, dram_s = 0, decode_s = 0, compute_s = 0;
  double ifmap = 0, filter = 0, ofmap = 0, psum = 0;
  std::int64_t folds = 0;
  const EnergyBreakdown e = inference_energy(model, plan, r);
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const LayerTiming& x = r.layers[i];
    const LayerReport rep = model.report(i, x);
    weight += x.weight_read_bytes;
    input += x.input_read_bytes;
    output += x.output_write_bytes;
    dram_s += x.dram_time_s;
    decode_s += x.decode_time_s;
    compute_s += x.compute_time_s;
    folds += rep.folds;
    ifmap += rep.sram_ifmap_reads;
    filter += rep.sram_filter_reads;
    ofmap += rep.sram_ofmap_writes;
    psum += rep.sram_psum_reads;
  }
  const std::map<std::string, Cell> values = {{"layer", std::string("total")},
                                              {"op", std::string("total")},
                                              {"macs", net.total_macs() * batch},
                                              {"weights", net.total_weights()},
                                              {"compute_cycles", r.compute_cycles},
                                              {"dram_bytes", r.dram_bytes},
                                              {"weight_bytes", weight},
                                              {"input_bytes", input},
                                              {"output_bytes", output},
                                              {"dram_time_s", dram_s},
                                              {"decode_time_s", decode_s},
                                              {"compute_time_s", compute_s},
                                              {"time_s", r.time_s},
                                              {"folds", folds},
                                              {"sram_ifmap_reads", ifmap},
                                              {"sram_filter_reads", filter},
                                              {"sram_ofmap_writes", ofmap},
                                              {"sram_psum_reads", psum},
                                              {"dram_energy_j", e.dram_j},
                                              {"sram_energy_j", e.sram_j},
                                              {"pe_energy_j", e.pe_j},
                                              {"mac_energy_j", e.mac_j},
                                              {"decoder_energy_j", e.decoder_j},
                                              {"energy_j", e.total_j()}};
  std::vector<Cell> row;
  for (const std::string& c : analytical_columns()) {
    const auto it = values.find(c);
    row.push_back(it != values.end() ? it->second : Cell(std::string()));
  }
  return row;
}

}  // namespace bitsim::study
