// Plan quantizers for the forward pass.
#include "alloc/quantized_model.h"

#include <fmt/format.h>
#include <algorithm>
#include <memory>
#include <string>

#include "alloc/quantizer.h"
#include "sim/base/diagnostics.h"

namespace bitsim::alloc {
namespace {

constexpr std::size_t kMaxSample = 1 << 16;

}  // namespace

std::vector<double> calibration_sample(const std::vector<float>& values) {
  const std::size_t step = std::max<std::size_t>(1, values.size() / kMaxSample);
  std::vector<double> out;
  for (std::size_t i = 0; i < values.size(); i += step) out.push_back(values[i]);
  return out;
}

namespace {

// Levels of a seed 004 eq. 1 quantizer (weights, and signed activations): t = 2k + 1, at least 3,
// which takes 2 bits. At 1 bit there is none: refused rather than measured at 3 levels (2 bits'
// worth) while the plan is charged 1 bit.
int signed_levels(const sim::TensorCoding& c, const std::string& tensor) {
  if (c.levels > 0) return c.levels;
  if (c.bits < 2)
    throw InputError({}, fmt::format("{}: 1 bit holds no dead-zone quantizer (seed 004 eq. 1 has an odd number of "
                                     "levels, at least 3, which takes 2 bits); give this tensor 2 bits or more",
                                     tensor));
  return (1 << std::min(c.bits, 24)) - 1;
}

}  // namespace

std::vector<std::uint32_t> quantize_weights(std::vector<float>& values, int levels, double beta_fraction) {
  const DeadZoneQuantizer q = best_dead_zone_quantizer(calibration_sample(values), levels, beta_fraction);
  std::vector<std::uint32_t> symbols;
  symbols.reserve(values.size());
  for (float& v : values) {
    const int i = q.index(v);
    symbols.push_back(static_cast<std::uint32_t>(q.symbol(i)));
    v = static_cast<float>(q.reconstruct(i));
  }
  return symbols;
}

QuantizedModel::QuantizedModel(const sim::Network& net, const sim::BitPlan& plan,
                               const std::vector<Activations>& calibration) {
  const std::size_t n = net.layers().size();
  m_weights.resize(n);
  m_hooks.weights.assign(n, nullptr);
  m_hooks.outputs.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const sim::Layer& l = net.layer(i);
    if (l.weights > 0 && l.values) {
      const sim::TensorCoding& c = plan.weights.at(i);
      m_weights[i] = l.values->weights;
      quantize_weights(m_weights[i], signed_levels(c, sim::tensor_name(l, sim::TensorKind::Weights)),
                       std::max(0.0, c.beta));
      m_hooks.weights[i] = &m_weights[i];
    }
    const sim::TensorCoding& c = plan.activations.at(i);
    if (!c.quantized()) continue;  // inside a fused datapath: kept at full precision
    const std::vector<double> cal = calibration_sample(calibration.at(i));
    const bool nonnegative = std::all_of(cal.begin(), cal.end(), [](double v) { return v >= 0; });
    if (nonnegative) {
      const ReluQuantizer q = best_relu_quantizer(cal, c.levels > 0 ? c.levels : 1 << std::min(c.bits, 24));
      m_hooks.outputs[i] = [q](std::span<float> v) {
        for (float& x : v) x = static_cast<float>(q.reconstruct(q.index(x)));
      };
    } else {
      const DeadZoneQuantizer q = best_dead_zone_quantizer(
          cal, signed_levels(c, sim::tensor_name(l, sim::TensorKind::Activations) + " (signed values)"),
          std::max(0.0, c.beta));
      m_hooks.outputs[i] = [q](std::span<float> v) {
        for (float& x : v) x = static_cast<float>(q.reconstruct(q.index(x)));
      };
    }
  }
}

}  // namespace bitsim::alloc
