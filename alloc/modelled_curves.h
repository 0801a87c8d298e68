// Modelled rate–distortion curves, for when no curves were measured on a real network: every
// tensor of a workload is given the options of seed 004's quantizers, with rates and distortions
// computed on synthetic values, not on trained weights. Labelled "modelled" wherever they appear.
//
// The model:
// - Weights of a layer with fan-in K (kernel volume per group, or FC inputs): N(0, 2/K), He
//   initialization's variance. Options: dead-zone quantizer (eq. 1) with t in {3, 5, 7, 9, 15, 17,
//   31, 63, 127, 255} levels and beta in {0, 0.5, 1} x step, step MSE-optimal for each.
// - Activations after ReLU (a layer with relu: true, or a pooling / concat of such): ReLU(N(0, 1)),
//   BatchNorm-normalized pre-activations; ReLU quantizer (eq. 2) with t in {2, 3, 4, 6, 8, 12, 16,
//   32, 64, 128, 256}. Other activations (no ReLU: residual branches, logits): N(0, 1) with the
//   symmetric quantizer at beta = 0. The network input is left to the plan's default.
// - A standard-normal (or ReLU'd) sample of `sample` values from a seeded generator is quantized
//   once per option; a tensor of variance s^2 scales its MSE by s^2 (the optimal step scales with s).
// - Rates: fixed = bits x count; entropy = the sample's index entropy per value x count; coded = the
//   canonical Huffman payload of the sample per value x count + the code table.
// - Distortion (error_model: propagated, the default): seed 004's first-order linearization
//   (supplement, eq. 3-5): D = sum_i |dF/dX_i|^2 MSE_i, the gains modelled for a network whose
//   layers keep signal power (He-initialized weights, BatchNorm: unit pre-activations, ReLU
//   outputs of second moment 1/2). Through such a layer a noise's power relative to the signal
//   (NSR) is kept: K inputs each with noise v reach a pre-activation as K x (2/K) x v = v / (1/2).
//   So quantizing tensor i adds to the output an NSR of
//     weights:      u_w (the quantizer's MSE on N(0, 1): fan_in x MSE x 1/2 = u_w, weights N(0, 2/fan_in))
//     activations:  u_a / s (MSE on the modelled distribution over its second moment s: 1/2 for
//                   ReLU(N(0, 1)), 1 for N(0, 1))
//   times the tensor's gain g_i to the output: 1 at the network's output; a tensor read by several
//   layers sums its readers' gains; a residual add passes 1/(its inputs) of each input's noise (inputs
//   of equal power); a concat passes each input's share of its values; every other layer 1. The
//   output's own power is taken as 1, so D is the output's NSR: each tensor counts by its own
//   quantizer, not by its size (seed 004 Fig. 3: big layers get fewer bits).
//   error_model: value_share (bitsim's earlier model): n_i x MSE_i / N, N all values modelled; every
//   value's error reaches the output with the same gain, so weights (variance 2/fan_in) look free.
//   Either is a model of output error, not a measurement.
#pragma once

#include <cstdint>

#include "alloc/curves.h"
#include "sim/network.h"

namespace bitsim::alloc {

// How a modelled tensor's quantization error reaches the output (see above).
enum class ErrorModel { Propagated, ValueShare };
inline constexpr NameTable kErrorModelNames{std::array{NamedValue<ErrorModel>{ErrorModel::Propagated, "propagated"},
                                                       NamedValue<ErrorModel>{ErrorModel::ValueShare, "value_share"}}};
static_assert(kErrorModelNames.complete());

struct ModelOptions {
  RateKind rate = RateKind::Coded;
  ErrorModel error = ErrorModel::Propagated;
  std::uint64_t seed = 2026;
  int sample = 1 << 15;
};

RateDistortionCurves modelled_curves(const sim::Network& net, const ModelOptions& options = {});

}  // namespace bitsim::alloc
