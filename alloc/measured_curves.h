// Measured rate–distortion curves (seed 004's procedure): for every weight tensor and every
// activation tensor of a model with trained values, and every quantizer setting, quantize that
// tensor alone and measure the mean squared output error against the float model on calibration
// images (eq. 3, per output value). Rates come from the real indices: their entropy and the exact
// size of bitsim's Huffman coder. The float activations up to the quantized tensor are reused.
//
// Settings run in parallel (one worker per engine thread), each quantized alone.
//
// Settings: weights, eq. 1 with t in {3, 5, 7, 9, 15, 17, 31, 63, 127, 255} and beta in
// {0, 0.5, 1} x step; activations that are >= 0 on the calibration images, eq. 2 with t in {2, 3,
// 4, 6, 8, 12, 16, 32, 64, 128, 256}; other activations, eq. 1 with the same odd t and beta = 0.
// Steps are MSE-optimal for the tensor (activations: on the calibration values). Activation rates
// are per image: the calibration images' payload divided by their number, plus the code table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "alloc/curves.h"
#include "alloc/dataset.h"
#include "alloc/inference.h"

namespace bitsim::alloc {

struct MeasureOptions {
  RateKind rate = RateKind::Coded;
  std::function<void(std::size_t done, std::size_t total)> progress;  // optional
};

RateDistortionCurves measured_curves(const InferenceEngine& engine, const Dataset& calibration,
                                     const MeasureOptions& options = {});

// Seed 004's additivity check (its Figure 2): random subsets of tensors, each quantized with a
// random option of its curve, all at once; the measured output error against the sum of the
// options' single-tensor errors (the prediction the solvers rely on, eq. 4).
struct AdditivityPoint {
  int tensors = 0;
  double predicted = 0;  // sum of the chosen options' distortions
  double measured = 0;   // output MSE with all of them quantized together
};

std::vector<AdditivityPoint> measure_additivity(const InferenceEngine& engine, const Dataset& calibration,
                                                const RateDistortionCurves& curves, int samples, std::uint64_t seed);

}  // namespace bitsim::alloc
