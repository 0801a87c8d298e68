// Applies a bit plan's quantizers inside the forward pass, so that its real output error and
// accuracy can be measured:
// - weights: seed 004 eq. 1 with the plan's levels and beta where it gives them (plans written by
//   `allocate`), else t = 2^bits - 1 levels (at least 3) and beta = 0; the step MSE-optimal for the
//   layer's own weights;
// - activations (layer outputs, the network input included): eq. 2 when the calibration values are
//   all >= 0 (after ReLU), with the plan's levels or t = 2^bits; else eq. 1 with the plan's levels
//   or t = 2^bits - 1 and beta = 0; the step MSE-optimal on the calibration values (at most 65,536
//   of them, evenly spaced).
#pragma once

#include <cstdint>
#include <vector>

#include "alloc/inference.h"
#include "sim/bit_plan.h"

namespace bitsim::alloc {

class QuantizedModel {
 public:
  // `calibration`: every layer's float output on calibration images (InferenceEngine::forward_all).
  QuantizedModel(const sim::Network& net, const sim::BitPlan& plan, const std::vector<Activations>& calibration);
  const ForwardHooks& hooks() const { return m_hooks; }

 private:
  std::vector<std::vector<float>> m_weights;
  ForwardHooks m_hooks;
};

// The values a calibration step is fitted on: at most 65,536, evenly spaced.
std::vector<double> calibration_sample(const std::vector<float>& values);

// Quantizes `values` in place with eq. 1's MSE-optimal quantizer of `levels` levels and dead zone
// beta_fraction x step; returns the symbols (index + k) of every value.
std::vector<std::uint32_t> quantize_weights(std::vector<float>& values, int levels, double beta_fraction);

}  // namespace bitsim::alloc
