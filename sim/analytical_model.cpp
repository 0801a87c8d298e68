// The analytical model's formulas; see the header for the model and its assumptions.
#include "sim/analytical_model.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

namespace bitsim::sim {

std::string_view bottleneck_name(Bottleneck b) {
  switch (b) {
    case Bottleneck::None:
      return "none";
    case Bottleneck::Compute:
      return "compute";
    case Bottleneck::Dram:
      return "dram";
    case Bottleneck::Decode:
      return "decode";
  }
  return "?";
}

namespace {
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
}  // namespace

std::int64_t fold_lines(Dataflow dataflow, std::int64_t rows, std::int64_t cols, std::int64_t m, std::int64_t k,
                        std::int64_t n) {
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return ceil_div(m, rows) * ceil_div(n, cols) * (k + rows + cols - 2);  // SCALE-Sim os
    case Dataflow::WeightStationary:
      return ceil_div(k, rows) * ceil_div(n, cols) * (2 * rows + cols + m - 2);  // ws
    case Dataflow::InputStationary:
      return ceil_div(k, rows) * ceil_div(m, cols) * (2 * rows + cols + n - 2);  // is
  }
  return 0;
}

std::int64_t fold_count(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch) {
  if (gemm.groups == 0 || gemm.m == 0 || gemm.k == 0 || gemm.n == 0) return 0;
  const std::int64_t m = gemm.m * batch;
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return gemm.groups * ceil_div(m, rows) * ceil_div(gemm.n, cols);
    case Dataflow::WeightStationary:
      return gemm.groups * ceil_div(gemm.k, rows) * ceil_div(gemm.n, cols);
    case Dataflow::InputStationary:
      return gemm.groups * ceil_div(gemm.k, rows) * ceil_div(m, cols);
  }
  return 0;
}

std::int64_t gemm_compute_cycles(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch) {
  if (gemm.groups == 0 || gemm.m == 0 || gemm.k == 0 || gemm.n == 0) return 0;
  return gemm.groups * (fold_lines(dataflow, rows, cols, gemm.m * batch, gemm.k, gemm.n) - 1);
}

AnalyticalModel::AnalyticalModel(const Network& net, const HardwareConfig& hw, int batch)
    : m_net(net), m_hw(hw), m_batch(batch) {
  BITSIM_CHECK(batch >= 1);
  m_native_cycles.reserve(net.layers().size());
  for (const Layer& l : net.layers())
    m_native_cycles.push_back(gemm_compute_cycles(hw.dataflow, hw.array_rows, hw.array_cols, l.gemm, batch));
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

void AnalyticalModel::evaluate(const BitPlan& plan, SimResult& out) const {
  const auto layers = m_net.layers();
  const std::size_t n = layers.size();
  BITSIM_CHECK(plan.weights.size() == n && plan.activations.size() == n);
  const double batch = m_batch;
  out.feasible = true;
  out.reason.clear();
  out.batch = m_batch;
  out.layers.assign(n, LayerTiming{});

  const bool resident = m_hw.dram_policy == DramPolicy::Resident;
  double weight_bits_decoded = 0;
  for (std::size_t i = 0; i < n; ++i) weight_bits_decoded += fixed_bits(plan.weights[i], layers[i].weights);
  out.weights_resident = resident && weight_bits_decoded / 8.0 <= m_hw.sram_weight_bytes;
  const double activation_half_bytes = m_hw.sram_activation_bytes / 2.0;
  // Does layer i's output cross the chip boundary?
  auto offchip_output = [&](std::size_t i) {
    if (!resident || layers[i].op == LayerOp::Input || m_net.consumers(i).empty()) return true;
    return fixed_bits(plan.activations[i], layers[i].output.count()) / 8.0 * batch > activation_half_bytes;
  };

  const double decode_rate = static_cast<double>(m_hw.decoder_lanes) * m_hw.decoder_symbols_per_cycle * m_hw.clock_hz;
  auto needs_decoder = [&](const TensorCoding& c, const Layer& l, TensorKind kind) {
    if (c.entropy_coded() && m_hw.decoder_lanes == 0 && out.feasible) {
      out.feasible = false;
      out.reason =
          fmt::format("tensor {} is entropy-coded but the hardware '{}' has no entropy decoder (decoder.lanes: 0)",
                      tensor_name(l, kind), m_hw.name);
    }
  };

  out.compute_cycles = 0;
  out.dram_bytes = 0;
  double total_time = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& l = layers[i];
    if (l.op == LayerOp::Input) continue;
    LayerTiming& t = out.layers[i];
    double weight_bits = 0, input_bits = 0, output_bits = 0;
    double weight_symbols = 0, input_symbols = 0;
    if (l.weights > 0 && !out.weights_resident) {
      const TensorCoding& w = plan.weights[i];
      weight_bits = offchip_bits(w, l.weights);
      if (w.entropy_coded()) weight_symbols = static_cast<double>(w.symbols);
      needs_decoder(w, l, TensorKind::Weights);
    }
    int max_input_bits = 0;
    for (int p : l.inputs) {
      const auto pi = static_cast<std::size_t>(p);
      const TensorCoding& a = plan.activations[pi];
      max_input_bits = std::max(max_input_bits, a.bits);
      if (!offchip_output(pi)) continue;
      input_bits += offchip_bits(a, layers[pi].output.count()) * batch;
      if (a.entropy_coded()) input_symbols += static_cast<double>(a.symbols) * batch;
      needs_decoder(a, layers[pi], TensorKind::Activations);
    }
    if (offchip_output(i)) output_bits = offchip_bits(plan.activations[i], l.output.count()) * batch;
    const double bits = weight_bits + input_bits + output_bits;
    const double symbols = weight_symbols + input_symbols;
    t.weight_read_bytes = weight_bits / 8.0;
    t.input_read_bytes = input_bits / 8.0;
    t.output_write_bytes = output_bits / 8.0;
    t.weight_symbols = static_cast<std::int64_t>(weight_symbols);

    std::int64_t cycles = m_native_cycles[i];
    if (m_hw.precision_scaling == PrecisionScaling::Packed && cycles > 0) {
      const int widest = std::max(l.weights > 0 ? plan.weights[i].bits : 0, max_input_bits);
      const std::int64_t per_pe = std::max<std::int64_t>(1, m_hw.native_bits / std::max(1, widest));
      cycles = (cycles + per_pe - 1) / per_pe;
    }
    t.compute_cycles = cycles;
    t.dram_bytes = bits / 8.0;
    t.decode_symbols = static_cast<std::int64_t>(symbols);
    t.dram_time_s = std::isinf(m_hw.dram_bytes_per_s) ? 0.0 : t.dram_bytes / m_hw.dram_bytes_per_s;
    t.decode_time_s = symbols > 0 && decode_rate > 0 ? symbols / decode_rate : 0.0;
    t.compute_time_s = static_cast<double>(cycles) / m_hw.clock_hz;
    t.time_s = std::max({t.compute_time_s, t.dram_time_s, t.decode_time_s});
    if (t.time_s > 0)  // ties go to compute, then DRAM
      t.bottleneck = t.time_s == t.compute_time_s ? Bottleneck::Compute
                     : t.time_s == t.dram_time_s  ? Bottleneck::Dram
                                                  : Bottleneck::Decode;
    out.compute_cycles += cycles;
    out.dram_bytes += t.dram_bytes;
    total_time += t.time_s;
  }
  out.time_s = total_time + m_hw.dram_latency_s;
  out.time_per_image_s = out.time_s / batch;
  out.inference_rate_per_s = out.time_s > 0 ? batch / out.time_s : 0.0;
}

}  // namespace bitsim::sim
