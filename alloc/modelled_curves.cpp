// Modelled curves: one table of per-value figures per value distribution, scaled per tensor.
#include "alloc/modelled_curves.h"

#include <fmt/format.h>
#include <cmath>
#include <random>

#include "alloc/huffman.h"
#include "alloc/quantizer.h"

namespace bitsim::alloc {
namespace {

// Per-value figures of one option on a unit-variance sample.
struct UnitOption {
  std::string name;
  int bits;
  int levels;
  double beta;  // fraction of the step; -1 for the ReLU quantizer
  double mse;
  double entropy_per_value;
  double payload_per_value;
  double table_bits;
};

// Standard normal values from mt19937_64 by Box-Muller: portable, unlike std::normal_distribution.
std::vector<double> normal_sample(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(n));
  while (static_cast<int>(out.size()) < n) {
    const double r = std::sqrt(-2.0 * std::log(uniform())), phi = 2.0 * M_PI * uniform();
    out.push_back(r * std::cos(phi));
    if (static_cast<int>(out.size()) < n) out.push_back(r * std::sin(phi));
  }
  return out;
}

int bits_for(int levels) { return static_cast<int>(std::ceil(std::log2(static_cast<double>(levels)))); }

template <typename Q>
UnitOption measure(const Q& q, int levels, std::span<const double> sample, std::string name, double beta) {
  const std::vector<std::uint64_t> hist = symbol_histogram(q, levels, sample);
  const HuffmanCode code = HuffmanCode::build(hist);
  const double n = static_cast<double>(sample.size());
  return {std::move(name),
          bits_for(levels),
          levels,
          beta,
          quantization_mse(q, sample),
          entropy_bits(hist) / n,
          static_cast<double>(code.payload_bits(hist)) / n,
          static_cast<double>(code.table_bits())};
}

std::vector<UnitOption> signed_options(std::span<const double> sample, const SortedValues& sorted,
                                       const std::vector<double>& betas) {
  std::vector<UnitOption> out;
  for (int t : {3, 5, 7, 9, 15, 17, 31, 63, 127, 255})
    for (double beta : betas)
      out.push_back(
          measure(best_dead_zone_quantizer(sorted, t, beta), t, sample, fmt::format("t{}_beta{}", t, beta), beta));
  return out;
}

std::vector<UnitOption> relu_options(std::span<const double> sample) {
  const SortedValues sorted(sample, false);
  std::vector<UnitOption> out;
  for (int t : {2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256})
    out.push_back(measure(best_relu_quantizer(sorted, t), t, sample, fmt::format("t{}", t), -1));
  return out;
}

// Per layer, the gain of its output's noise (relative to its signal) to the network output's NSR.
std::vector<double> output_gains(const sim::Network& net) {
  const std::size_t n = net.layers().size();
  std::vector<double> gain(n, 0.0);
  for (std::size_t i = n; i-- > 0;) {
    const auto readers = net.consumers(i);
    if (readers.empty()) {
      gain[i] = 1.0;
      continue;
    }
    for (const int c : readers) {
      const sim::Layer& r = net.layer(static_cast<std::size_t>(c));
      double share = 1.0;
      if (r.op == sim::LayerOp::Add)
        share = 1.0 / static_cast<double>(r.inputs.size());
      else if (r.op == sim::LayerOp::Concat)
        share = static_cast<double>(net.layer(i).output.count()) / static_cast<double>(r.output.count());
      gain[i] += share * gain[static_cast<std::size_t>(c)];
    }
  }
  return gain;
}

}  // namespace

RateDistortionCurves modelled_curves(const sim::Network& net, const ModelOptions& options) {
  const std::vector<double> normal = normal_sample(options.seed, options.sample);
  std::vector<double> relu(normal);
  for (double& x : relu) x = std::max(0.0, x);
  const SortedValues normal_magnitudes(normal, true);
  const std::vector<UnitOption> weight_opts = signed_options(normal, normal_magnitudes, {0.0, 0.5, 1.0});
  const std::vector<UnitOption> signed_act_opts = signed_options(normal, normal_magnitudes, {0.0});
  const std::vector<UnitOption> relu_opts = relu_options(relu);

  // Which layer outputs are non-negative.
  std::vector<bool> nonnegative(net.layers().size(), false);
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const sim::Layer& l = net.layer(i);
    bool inputs_nonneg = !l.inputs.empty();
    for (int p : l.inputs) inputs_nonneg = inputs_nonneg && nonnegative[static_cast<std::size_t>(p)];
    switch (l.op) {
      case sim::LayerOp::MaxPool:
      case sim::LayerOp::AvgPool:
      case sim::LayerOp::Concat:
      case sim::LayerOp::Resize:  // nearest copies, linear takes convex combinations
      case sim::LayerOp::Slice:
      case sim::LayerOp::Reshape:
      case sim::LayerOp::Shuffle:
      case sim::LayerOp::Transpose:
        nonnegative[i] = sim::nonnegative(l.activation) || inputs_nonneg;
        break;
      case sim::LayerOp::Pad:  // the fill is a copy of the input, or the constant
        nonnegative[i] = sim::nonnegative(l.activation) ||
                         (inputs_nonneg && (l.window.pad_mode != sim::PadMode::Constant || l.window.pad_value >= 0));
        break;
      case sim::LayerOp::Input:
        nonnegative[i] = false;
        break;
      default:
        nonnegative[i] = sim::nonnegative(l.activation);
    }
  }

  RateDistortionCurves curves;
  curves.rate = options.rate;
  curves.source = fmt::format("modelled from workload '{}'", net.name());
  const bool propagated = options.error == ErrorModel::Propagated;
  curves.provenance = fmt::format(
      "modelled (synthetic values, not measured): weights N(0, 2/fan_in), activations ReLU(N(0,1)) or N(0,1); "
      "distortion = {}; seed {}, {} samples",
      propagated ? "output NSR, first-order propagation (gain_i * MSE_i / power_i)" : "n_i * MSE_i / N", options.seed,
      options.sample);
  const std::vector<double> gain = output_gains(net);
  std::int64_t total = 0;
  for (const sim::Layer& l : net.layers()) {
    if (l.weights > 0) total += l.weights;
    if (l.op != sim::LayerOp::Input) total += l.output.count();
  }
  // `variance`: the tensor's scale (the unit options' MSE scales with it); `nsr_per_mse`: under
  // propagation, the gain to the output over the tensor's power.
  auto add = [&](const sim::Layer& l, CurveTensorKind kind, std::int64_t count, double variance, double nsr_per_mse,
                 const std::vector<UnitOption>& unit) {
    TensorCurve t;
    t.tensor = l.name + (kind == CurveTensorKind::Weight ? ":w" : ":a");
    t.layer = l.name;
    t.kind = kind;
    t.count = count;
    const double n = static_cast<double>(count);
    for (const UnitOption& u : unit) {
      CurveOption o;
      o.name = u.name;
      o.bits = u.bits;
      o.levels = u.levels;
      o.beta = u.beta;
      o.fixed_bits = u.bits * n;
      o.entropy_bits = std::ceil(u.entropy_per_value * n);
      o.coded_bits = std::ceil(u.payload_per_value * n) + u.table_bits;
      o.rate_bits = options.rate == RateKind::Fixed     ? o.fixed_bits
                    : options.rate == RateKind::Entropy ? o.entropy_bits
                                                        : o.coded_bits;
      o.distortion = propagated ? nsr_per_mse * u.mse : n * variance * u.mse / static_cast<double>(total);
      t.options.push_back(o);
    }
    curves.tensors.push_back(std::move(t));
  };
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const sim::Layer& l = net.layer(i);
    if (l.op == sim::LayerOp::Input) continue;
    // A layer's weight noise reaches its own output's NSR as u_w (see the header), then that output's gain.
    if (l.weights > 0)
      add(l, CurveTensorKind::Weight, l.weights, 2.0 / static_cast<double>(l.gemm.k), gain[i], weight_opts);
    // ReLU(N(0,1)) has second moment 1/2, N(0,1) 1.
    add(l, CurveTensorKind::Activation, l.output.count(), 1.0, gain[i] / (nonnegative[i] ? 0.5 : 1.0),
        nonnegative[i] ? relu_opts : signed_act_opts);
  }
  return curves;
}

}  // namespace bitsim::alloc
