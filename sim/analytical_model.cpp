// The analytical model's formulas; see the header for the model and its assumptions.
#include "sim/analytical_model.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "sim/row_stationary.h"

namespace bitsim::sim {

namespace {
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
}  // namespace

std::int64_t fold_lines(Dataflow dataflow, std::int64_t rows, std::int64_t cols, std::int64_t m, std::int64_t k,
                        std::int64_t n) {
  BITSIM_CHECK(dataflow != Dataflow::RowStationary);
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return ceil_div(m, rows) * ceil_div(n, cols) * (k + rows + cols - 2);  // SCALE-Sim os
    case Dataflow::WeightStationary:
      return ceil_div(k, rows) * ceil_div(n, cols) * (2 * rows + cols + m - 2);  // ws
    case Dataflow::InputStationary:
      return ceil_div(k, rows) * ceil_div(m, cols) * (2 * rows + cols + n - 2);  // is
    case Dataflow::RowStationary:
      break;
  }
  return 0;
}

std::int64_t fold_count(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch) {
  BITSIM_CHECK(dataflow != Dataflow::RowStationary);
  if (gemm.groups == 0 || gemm.m == 0 || gemm.k == 0 || gemm.n == 0) return 0;
  const std::int64_t m = gemm.m * batch;
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return gemm.groups * ceil_div(m, rows) * ceil_div(gemm.n, cols);
    case Dataflow::WeightStationary:
      return gemm.groups * ceil_div(gemm.k, rows) * ceil_div(gemm.n, cols);
    case Dataflow::InputStationary:
      return gemm.groups * ceil_div(gemm.k, rows) * ceil_div(m, cols);
    case Dataflow::RowStationary:
      break;
  }
  return 0;
}

Gemm mapped_gemm(const Gemm& gemm, GroupedMapping mapping) {
  switch (mapping) {
    case GroupedMapping::Split:
      return gemm;
    case GroupedMapping::BlockDiagonal:
    case GroupedMapping::DiagonalTiles:
      return gemm.groups <= 1 ? gemm : Gemm{gemm.m, gemm.k * gemm.groups, gemm.n * gemm.groups, 1};
  }
  return gemm;
}

namespace {

// The block-diagonal GEMM's folds that hold some group's block, and the lines they take
// (analytical_model.h, diagonal_tiles).
struct DiagonalFolds {
  std::int64_t folds = 0, lines = 0;
};

DiagonalFolds diagonal_folds(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& g, int batch) {
  const std::int64_t m = g.m * batch;
  // Groups per fold of a dimension tiled in `tile`s, where group i spans [i per, (i + 1) per).
  auto groups_per_fold = [&](std::int64_t per, std::int64_t tile) {
    std::vector<std::int64_t> count(static_cast<std::size_t>(ceil_div(per * g.groups, tile)), 0);
    for (std::int64_t i = 0; i < g.groups; ++i)
      for (std::int64_t f = i * per / tile; f <= ((i + 1) * per - 1) / tile; ++f) ++count[static_cast<std::size_t>(f)];
    return count;
  };
  DiagonalFolds out;
  switch (dataflow) {
    case Dataflow::WeightStationary: {
      std::int64_t last_row = -1, last_col = -1;  // (row fold, column fold) pairs come in increasing order
      for (std::int64_t i = 0; i < g.groups; ++i)
        for (std::int64_t r = i * g.k / rows; r <= ((i + 1) * g.k - 1) / rows; ++r)
          for (std::int64_t c = i * g.n / cols; c <= ((i + 1) * g.n - 1) / cols; ++c)
            if (r > last_row || (r == last_row && c > last_col)) {
              ++out.folds;
              last_row = r;
              last_col = c;
            }
      out.lines = out.folds * (2 * rows + cols + m - 2);
      break;
    }
    case Dataflow::OutputStationary:
      for (const std::int64_t in_fold : groups_per_fold(g.n, cols)) {
        out.folds += ceil_div(m, rows);
        out.lines += ceil_div(m, rows) * (in_fold * g.k + rows + cols - 2);
      }
      break;
    case Dataflow::InputStationary:
      for (const std::int64_t in_fold : groups_per_fold(g.k, rows)) {
        out.folds += ceil_div(m, cols);
        out.lines += ceil_div(m, cols) * (2 * rows + cols + in_fold * g.n - 2);
      }
      break;
    case Dataflow::RowStationary:
      BITSIM_CHECK(dataflow != Dataflow::RowStationary);
      break;
  }
  return out;
}

// SCALE-Sim v2's mapping efficiency and SRAM counts of a layer's GEMM (analytical_model.h).
void scalesim_counts(const HardwareConfig& hw, const Gemm& gemm, int batch, ArrayCost& out) {
  const double rows = static_cast<double>(hw.array_rows), cols = static_cast<double>(hw.array_cols);
  const auto d = [](std::int64_t v) { return static_cast<double>(v); };
  if (hw.grouped_mapping == GroupedMapping::DiagonalTiles && gemm.groups > 1) {
    // Per group: the row folds and column folds its block meets (folds tile the G K x G N matrix).
    const std::int64_t m = gemm.m * batch, k = gemm.k, n = gemm.n, g = gemm.groups;
    const auto folds_met = [](std::int64_t i, std::int64_t per, std::int64_t tile) {
      return ((i + 1) * per - 1) / tile - i * per / tile + 1;
    };
    double k_reads = 0, n_writes = 0;  // sum over groups of K x (folds of the other side) and N x ...
    for (std::int64_t i = 0; i < g; ++i) {
      switch (hw.dataflow) {
        case Dataflow::WeightStationary:  // rows K (array rows), columns N (array columns)
          k_reads += d(k) * d(folds_met(i, n, hw.array_cols));
          n_writes += d(n) * d(folds_met(i, k, hw.array_rows));
          break;
        case Dataflow::OutputStationary:  // columns N in folds; every fold streams its groups' K
          k_reads += d(k) * d(folds_met(i, n, hw.array_cols));
          break;
        case Dataflow::InputStationary:  // rows K in folds; every fold writes its groups' N
          n_writes += d(n) * d(folds_met(i, k, hw.array_rows));
          break;
        case Dataflow::RowStationary:
          BITSIM_CHECK(hw.dataflow != Dataflow::RowStationary);
          break;
      }
    }
    const double folds = d(layer_fold_count(hw, gemm, batch));
    const double block_values = d(g) * d(k) * d(n);  // every block entry sits in exactly one fold
    switch (hw.dataflow) {
      case Dataflow::WeightStationary:
        out.mapping_efficiency = block_values / (folds * rows * cols);
        out.sram_ifmap_reads = d(m) * k_reads;
        out.sram_filter_reads = block_values;
        out.sram_ofmap_writes = d(m) * n_writes;
        break;
      case Dataflow::OutputStationary:
        out.mapping_efficiency = d(m) * d(g) * d(n) / (folds * rows * cols);
        out.sram_ifmap_reads = d(m) * k_reads;
        out.sram_filter_reads = d(ceil_div(m, hw.array_rows)) * block_values;
        out.sram_ofmap_writes = d(m) * d(g) * d(n) + folds * (rows + cols);
        break;
      case Dataflow::InputStationary:
        out.mapping_efficiency = d(g) * d(k) * d(m) / (folds * rows * cols);
        out.sram_ifmap_reads = d(g) * d(k) * d(m);
        out.sram_filter_reads = d(ceil_div(m, hw.array_cols)) * block_values;
        out.sram_ofmap_writes = d(m) * n_writes;
        break;
      case Dataflow::RowStationary:
        break;
    }
    return;
  }
  const Gemm g = mapped_gemm(gemm, hw.grouped_mapping);
  const std::int64_t m = g.m * batch;
  std::int64_t spatial_rows = 0, spatial_cols = 0;  // SCALE-Sim's Sr and Sc
  double ifmap = 0, filter = 0, ofmap = 0;
  switch (hw.dataflow) {
    case Dataflow::OutputStationary: {
      spatial_rows = m;
      spatial_cols = g.n;
      const double fr = d(ceil_div(m, hw.array_rows)), fc = d(ceil_div(g.n, hw.array_cols));
      ifmap = fc * d(m) * d(g.k);
      filter = fr * d(g.k) * d(g.n);
      ofmap = d(m) * d(g.n) + fr * fc * (rows + cols);
      break;
    }
    case Dataflow::WeightStationary: {
      spatial_rows = g.k;
      spatial_cols = g.n;
      const double fr = d(ceil_div(g.k, hw.array_rows)), fc = d(ceil_div(g.n, hw.array_cols));
      ifmap = fc * d(m) * d(g.k);
      filter = d(g.k) * d(g.n);
      ofmap = fr * d(m) * d(g.n);
      break;
    }
    case Dataflow::InputStationary: {
      spatial_rows = g.k;
      spatial_cols = m;
      const double fr = d(ceil_div(g.k, hw.array_rows)), fc = d(ceil_div(m, hw.array_cols));
      ifmap = d(g.k) * d(m);
      filter = fc * d(g.k) * d(g.n);
      ofmap = fr * d(m) * d(g.n);
      break;
    }
    case Dataflow::RowStationary:
      BITSIM_CHECK(hw.dataflow != Dataflow::RowStationary);
      break;
  }
  const double folds_per_group = d(ceil_div(spatial_rows, hw.array_rows)) * d(ceil_div(spatial_cols, hw.array_cols));
  out.mapping_efficiency = d(spatial_rows) * d(spatial_cols) / (folds_per_group * rows * cols);
  out.sram_ifmap_reads = d(g.groups) * ifmap;
  out.sram_filter_reads = d(g.groups) * filter;
  out.sram_ofmap_writes = d(g.groups) * ofmap;
}

}  // namespace

ArrayCost layer_array_cost(const HardwareConfig& hw, const Network& net, std::size_t index, int batch) {
  const Layer& l = net.layer(index);
  ArrayCost out;
  if (!l.on_array() || l.gemm.groups == 0 || l.gemm.m == 0 || l.gemm.k == 0 || l.gemm.n == 0) return out;
  if (hw.dataflow != Dataflow::RowStationary) {
    out.compute_cycles = layer_compute_cycles(hw, l.gemm, batch);
    out.folds = layer_fold_count(hw, l.gemm, batch);
    scalesim_counts(hw, l.gemm, batch, out);
    return out;
  }
  const ConvShape shape = conv_shape(net, index);
  const RsCost rs = row_stationary_cost(hw, shape, batch);
  if (!rs.feasible) {
    out.infeasible = fmt::format("layer {}: {}", l.name, rs.reason);
    return out;
  }
  const RsMapping& mp = rs.mapping;
  out.mapping = fmt::format("e={};n={};p={};q={};r={};t={};m={};ifmap={}", mp.e, mp.n, mp.p, mp.q, mp.r, mp.t, mp.m,
                            mp.ifmap_resident ? "resident" : "streamed");
  if (mp.f < shape.f) out.mapping += fmt::format(";f={}", mp.f);
  if (mp.parts > 1) out.mapping += fmt::format(";filter_parts={}", mp.parts);
  out.compute_cycles = rs.cycles;
  out.folds = rs.passes;
  out.mapping_efficiency = rs.mapping_efficiency;
  out.sram_ifmap_reads = rs.glb_ifmap_reads;
  out.sram_filter_reads = rs.glb_filter_reads;
  out.sram_ofmap_writes = rs.glb_psum_writes;
  out.sram_psum_reads = rs.glb_psum_reads;
  const double stored_inputs =
      static_cast<double>(net.layer(static_cast<std::size_t>(l.inputs.front())).output.count()) * batch;
  const double kernel = static_cast<double>(shape.groups) * static_cast<double>(shape.m) *
                        static_cast<double>(shape.c) * static_cast<double>(shape.r * shape.s);
  out.ifmap_dram_factor = stored_inputs > 0 ? rs.dram_ifmap_reads / stored_inputs : 1.0;
  out.filter_dram_factor = kernel > 0 ? rs.dram_filter_reads / kernel : 1.0;
  return out;
}

std::int64_t layer_fold_count(const HardwareConfig& hw, const Gemm& gemm, int batch) {
  if (hw.grouped_mapping != GroupedMapping::DiagonalTiles || gemm.groups <= 1 || gemm.m == 0 || gemm.k == 0 ||
      gemm.n == 0)
    return fold_count(hw.dataflow, hw.array_rows, hw.array_cols, mapped_gemm(gemm, hw.grouped_mapping), batch);
  return diagonal_folds(hw.dataflow, hw.array_rows, hw.array_cols, gemm, batch).folds;
}

std::int64_t layer_compute_cycles(const HardwareConfig& hw, const Gemm& gemm, int batch) {
  if (hw.grouped_mapping != GroupedMapping::DiagonalTiles || gemm.groups <= 1 || gemm.m == 0 || gemm.k == 0 ||
      gemm.n == 0)
    return gemm_compute_cycles(hw.dataflow, hw.array_rows, hw.array_cols, mapped_gemm(gemm, hw.grouped_mapping), batch);
  return diagonal_folds(hw.dataflow, hw.array_rows, hw.array_cols, gemm, batch).lines - 1;
}

std::int64_t gemm_compute_cycles(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch) {
  if (gemm.groups == 0 || gemm.m == 0 || gemm.k == 0 || gemm.n == 0) return 0;
  return gemm.groups * (fold_lines(dataflow, rows, cols, gemm.m * batch, gemm.k, gemm.n) - 1);
}

AnalyticalModel::AnalyticalModel(const Network& net, const HardwareConfig& hw, int batch)
    : m_net(net),
      m_hw(hw),
      m_batch(batch),
      m_decode_rate(static_cast<double>(hw.decoder_lanes) * hw.decoder_symbols_per_cycle * hw.clock_hz),
      m_resident(hw.dram_policy == DramPolicy::Resident),
      m_packed(hw.precision_scaling == PrecisionScaling::Packed),
      m_unlimited_dram(std::isinf(hw.dram_bytes_per_s)),
      m_rlc(hw.dataflow == Dataflow::RowStationary && hw.rs_rlc),
      m_serial_activations(hw.dram_overlap == DramOverlap::Weights),
      m_zero_fraction(hw.rs_zero_fraction),
      m_dram_bytes_per_s(hw.dram_bytes_per_s),
      m_clock_hz(hw.clock_hz),
      m_native_bits(hw.native_bits),
      m_traffic(net, hw, batch) {
  BITSIM_CHECK(batch >= 1);
  m_costs.reserve(net.layers().size());
  // Row stationary searches a mapping per layer: layers of one shape share it.
  std::vector<std::pair<ConvShape, std::size_t>> mapped;
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    if (hw.dataflow == Dataflow::RowStationary && l.on_array() && l.gemm.groups > 0) {
      const ConvShape shape = conv_shape(net, i);
      const auto same = std::find_if(mapped.begin(), mapped.end(), [&](const auto& m) { return m.first == shape; });
      if (same != mapped.end()) {
        ArrayCost copy = m_costs[same->second];
        // The factors are per stored value: the same for the same shape.
        if (!copy.infeasible.empty()) copy.infeasible = layer_array_cost(hw, net, i, batch).infeasible;
        m_costs.push_back(std::move(copy));
        continue;
      }
      mapped.emplace_back(shape, i);
    }
    m_costs.push_back(layer_array_cost(hw, net, i, batch));
    if (m_infeasible.empty() && !m_costs.back().infeasible.empty()) m_infeasible = m_costs.back().infeasible;
  }
  m_hot.reserve(m_costs.size());
  for (const ArrayCost& c : m_costs) m_hot.push_back({c.compute_cycles, c.ifmap_dram_factor, c.filter_dram_factor});
}

SimResult AnalyticalModel::evaluate(const BitPlan& plan) const {
  SimResult out;
  evaluate(plan, out);
  return out;
}

namespace {
double fixed_bits(const TensorCoding& c, std::int64_t values) {
  return static_cast<double>(c.bits) * static_cast<double>(values);
}
double offchip_bits(const TensorCoding& c, std::int64_t values) {
  return c.entropy_coded() ? c.coded_bits : fixed_bits(c, values);
}
}  // namespace

// An activation tensor's off-chip bits per image: run-length coded under rs with rlc (not network
// inputs, not entropy-coded tensors).
inline double AnalyticalModel::offchip_activation_bits(std::size_t tensor, const TensorCoding& c) const {
  const Layer& l = m_net.layers()[tensor];
  if (m_rlc && !c.entropy_coded() && l.op != LayerOp::Input) [[unlikely]]
    return rlc_bits(static_cast<double>(l.output.count()), c.bits, m_zero_fraction);
  return offchip_bits(c, l.output.count());
}

bool AnalyticalModel::weights_resident(const BitPlan& plan) const {
  if (m_hw.dram_policy != DramPolicy::Resident) return false;
  const auto layers = m_net.layers();
  double weight_bits_decoded = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) weight_bits_decoded += fixed_bits(plan.weights[i], layers[i].weights);
  return weight_bits_decoded / 8.0 <= m_hw.sram_weight_bytes;
}

bool AnalyticalModel::offchip_output(std::size_t i, const BitPlan& plan) const {
  const Layer& l = m_net.layer(i);
  if (!m_traffic.stored(i)) return false;
  if (m_hw.dram_policy != DramPolicy::Resident || l.op == LayerOp::Input || m_net.consumers(i).empty()) return true;
  return fixed_bits(plan.activations[i], l.output.count()) / 8.0 * m_batch > m_hw.sram_activation_bytes / 2.0;
}

LayerTiming AnalyticalModel::layer_timing(std::size_t i, const BitPlan& plan, bool weights_resident) const {
  LayerTiming t;
  fill_timing(i, plan, weights_resident, t);
  return t;
}

// What a layer's activation tensors contribute to its timing (per batch), before its weights.
struct AnalyticalModel::ActivationPart {
  double input_bits = 0, output_bits = 0, input_symbols = 0;
  int max_input_bits = 0;
};

inline AnalyticalModel::ActivationPart AnalyticalModel::activation_part(std::size_t i, const BitPlan& plan) const {
  const double batch = m_batch;
  const double refetch = m_hot[i].ifmap_factor;  // 1 except under row stationary
  const LayerTraffic& traffic = m_traffic.layer(i);
  ActivationPart a;
  for (int p : traffic.dram_reads) {
    const auto pi = static_cast<std::size_t>(p);
    const TensorCoding& c = plan.activations[pi];
    a.max_input_bits = std::max(a.max_input_bits, c.bits);
    if (m_resident && !offchip_output(pi, plan)) continue;
    a.input_bits += offchip_activation_bits(pi, c) * batch * refetch;
    if (c.entropy_coded()) a.input_symbols += static_cast<double>(c.symbols) * batch * refetch;
  }
  for (int p : traffic.chip_reads)
    a.max_input_bits = std::max(a.max_input_bits, plan.activations[static_cast<std::size_t>(p)].bits);
  if (const int w = traffic.writes; w >= 0 && (!m_resident || offchip_output(static_cast<std::size_t>(w), plan)))
    a.output_bits =
        offchip_activation_bits(static_cast<std::size_t>(w), plan.activations[static_cast<std::size_t>(w)]) * batch;
  return a;
}

// The timing from the activation part and the layer's weights (`w`, ignored where it has none).
inline void AnalyticalModel::finish_timing(std::size_t i, const TensorCoding& w, bool weights_resident,
                                           const ActivationPart& a, LayerTiming& out) const {
  const Layer& l = m_net.layers()[i];
  LayerTiming t;  // a local, written to `out` once (no aliasing with the config's doubles)
  const HotCost& cost = m_hot[i];
  double weight_bits = 0, weight_symbols = 0;
  if (l.weights > 0 && !weights_resident) {
    weight_bits = offchip_bits(w, l.weights) * cost.filter_factor;
    if (w.entropy_coded()) weight_symbols = static_cast<double>(w.symbols) * cost.filter_factor;
  }
  const double bits = weight_bits + a.input_bits + a.output_bits;
  const double symbols = weight_symbols + a.input_symbols;
  t.weight_read_bytes = weight_bits / 8.0;
  t.input_read_bytes = a.input_bits / 8.0;
  t.output_write_bytes = a.output_bits / 8.0;
  t.weight_symbols = static_cast<std::int64_t>(weight_symbols);

  std::int64_t cycles = cost.cycles;
  std::int64_t per_pe = 1;  // MACs per PE per cycle
  if (m_packed && cycles > 0) {
    const int widest = std::max(l.weights > 0 ? w.bits : 0, a.max_input_bits);
    per_pe = std::max<std::int64_t>(1, m_native_bits / std::max(1, widest));
    cycles = (cycles + per_pe - 1) / per_pe;
  }
  t.compute_cycles = cycles;
  t.macs_per_pe_cycle = per_pe;
  t.dram_bytes = bits / 8.0;
  t.decode_symbols = static_cast<std::int64_t>(symbols);
  t.dram_time_s = m_unlimited_dram ? 0.0 : t.dram_bytes / m_dram_bytes_per_s;
  t.decode_time_s = symbols > 0 && m_decode_rate > 0 ? symbols / m_decode_rate : 0.0;
  t.compute_time_s = static_cast<double>(cycles) / m_clock_hz;
  t.time_s = std::max({t.compute_time_s, t.dram_time_s, t.decode_time_s});
  if (t.time_s > 0)  // ties go to compute, then DRAM
    t.bottleneck = t.time_s == t.compute_time_s ? Bottleneck::Compute
                   : t.time_s == t.dram_time_s  ? Bottleneck::Dram
                                                : Bottleneck::Decode;
  if (m_serial_activations && !m_unlimited_dram) {  // activation transfers wait for the array
    const double activation_s = (a.input_bits + a.output_bits) / 8.0 / m_dram_bytes_per_s;
    const double serial_s = t.compute_time_s + activation_s;
    if (serial_s > 0 && serial_s >= t.time_s) {
      t.time_s = serial_s;
      t.bottleneck = t.compute_time_s >= activation_s ? Bottleneck::Compute : Bottleneck::Dram;
    }
  }
  out = t;
}

// The hot path of evaluate(): writes in place.
inline void AnalyticalModel::fill_timing(std::size_t i, const BitPlan& plan, bool weights_resident,
                                         LayerTiming& out) const {
  if (m_net.layers()[i].op == LayerOp::Input) {
    out = LayerTiming{};
    return;
  }
  finish_timing(i, plan.weights[i], weights_resident, activation_part(i, plan), out);
}

void AnalyticalModel::layer_times(std::size_t i, const BitPlan& plan, std::span<const TensorCoding> weight_options,
                                  std::vector<double>& times) const {
  times.resize(weight_options.size());
  if (m_net.layers()[i].op == LayerOp::Input) {
    std::fill(times.begin(), times.end(), 0.0);
    return;
  }
  const ActivationPart a = activation_part(i, plan);
  LayerTiming t;
  for (std::size_t k = 0; k < weight_options.size(); ++k) {
    finish_timing(i, weight_options[k], false, a, t);
    times[k] = t.time_s;
  }
}

void AnalyticalModel::evaluate(const BitPlan& plan, SimResult& out) const {
  const auto layers = m_net.layers();
  const std::size_t n = layers.size();
  BITSIM_CHECK(plan.weights.size() == n && plan.activations.size() == n);
  out.feasible = m_infeasible.empty();
  out.reason = m_infeasible;
  out.batch = m_batch;
  out.layers.resize(n);
  out.weights_resident = weights_resident(plan);
  out.compute_cycles = 0;
  out.dram_bytes = 0;
  double total_time = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& l = layers[i];
    LayerTiming& t = out.layers[i];
    fill_timing(i, plan, out.weights_resident, t);
    if (m_traffic.stored(i) && !plan.activations[i].quantized() && out.feasible) {
      out.feasible = false;
      out.reason = fmt::format(
          "tensor {} is stored off chip on hardware '{}' but the plan does not quantize it (bits: none); only a "
          "tensor inside a fused datapath can stay unquantized (datapath.fusion: {})",
          tensor_name(l, TensorKind::Activations), m_hw.name, kFusionNames.name(m_hw.fusion));
    }
    if (l.op == LayerOp::Input) continue;
    if (m_hw.decoder_lanes == 0 && out.feasible) {  // an entropy-coded tensor needs a decoder
      auto check = [&](const TensorCoding& c, const Layer& owner, TensorKind kind, bool read) {
        if (!read || !c.entropy_coded() || !out.feasible) return;
        out.feasible = false;
        out.reason =
            fmt::format("tensor {} is entropy-coded but the hardware '{}' has no entropy decoder (decoder.lanes: 0)",
                        tensor_name(owner, kind), m_hw.name);
      };
      check(plan.weights[i], l, TensorKind::Weights, l.weights > 0 && !out.weights_resident);
      for (int p : m_traffic.layer(i).dram_reads) {
        const auto pi = static_cast<std::size_t>(p);
        check(plan.activations[pi], layers[pi], TensorKind::Activations, offchip_output(pi, plan));
      }
    }
    out.compute_cycles += t.compute_cycles;
    out.dram_bytes += t.dram_bytes;
    total_time += t.time_s;
  }
  out.time_s = total_time + m_hw.dram_latency_s;
  out.time_per_image_s = out.time_s / m_batch;
  out.inference_rate_per_s = out.time_s > 0 ? m_batch / out.time_s : 0.0;
}

LayerReport AnalyticalModel::report(std::size_t i, const LayerTiming& t) const {
  const ArrayCost& cost = m_costs.at(i);
  LayerReport out;
  out.folds = cost.folds;
  if (t.compute_cycles > 0)
    out.utilization = static_cast<double>(m_net.layer(i).macs) * m_batch /
                      (static_cast<double>(t.compute_cycles) *
                       static_cast<double>(m_hw.array_rows * m_hw.array_cols * t.macs_per_pe_cycle));
  out.mapping_efficiency = cost.mapping_efficiency;
  out.sram_ifmap_reads = cost.sram_ifmap_reads;
  out.sram_filter_reads = cost.sram_filter_reads;
  out.sram_ofmap_writes = cost.sram_ofmap_writes;
  out.sram_psum_reads = cost.sram_psum_reads;
  return out;
}

BottleneckCounts count_bottlenecks(const SimResult& r) {
  BottleneckCounts c;
  for (const auto& l : r.layers) {
    c.compute += l.bottleneck == Bottleneck::Compute;
    c.dram += l.bottleneck == Bottleneck::Dram;
    c.decode += l.bottleneck == Bottleneck::Decode;
  }
  return c;
}

std::string unused_by_timing(const HardwareConfig& hw, std::string_view key) {
  const bool rs = hw.dataflow == Dataflow::RowStationary;
  const bool stream = hw.dram_policy == DramPolicy::Stream;
  if (key == "sram.weights" && stream)
    return "under dram.policy stream every layer fetches its weights from DRAM: the weight SRAM's size is not used";
  if (key == "sram.activations" && stream && hw.shortcut == ShortcutPolicy::Dram && !rs)
    return "under dram.policy stream with datapath.shortcut dram (dataflow not rs) no activation stays on chip: the "
           "activation SRAM's size is not used";
  if (key.starts_with("row_stationary.") && !rs)
    return fmt::format("array.dataflow is {}: the row_stationary keys apply to rs only", dataflow_name(hw.dataflow));
  if (key == "row_stationary.zero_fraction" && !hw.rs_rlc)
    return "row_stationary.rlc is false: the zero fraction applies to run-length coded feature maps only";
  if (key == "decoder.symbols_per_cycle" && hw.decoder_lanes == 0) return "decoder.lanes is 0: there is no decoder";
  if (prices_only(key)) return "it prices energy or area only";
  return {};
}

bool prices_only(std::string_view key) {
  return key == "decoder.table" || key.starts_with("energy.") || key.starts_with("area.");
}

}  // namespace bitsim::sim
