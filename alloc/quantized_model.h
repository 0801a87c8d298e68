// Applies a bit plan's quantizers inside the forward pass, so that its real output error and
// accuracy can be measured:
// - weights: seed 004 eq. 1 with t = 2^bits - 1 levels (at least 3) and beta = 0, the step
//   MSE-optimal for the layer's own weights;
// - activations (layer outputs, the network input included): eq. 2 with t = 2^bits levels when the
//   calibration values are all >= 0 (after ReLU), else eq. 1 with t = 2^bits - 1 levels, the step
//   MSE-optimal on the calibration values (at most 65,536 of them, evenly spaced).
#pragma once

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

// Quantizes `values` in place with the MSE-optimal quantizer of the given shape (see above).
// Returns the quantizer's step.
double quantize_weights(std::vector<float>& values, int bits);

}  // namespace bitsim::alloc
