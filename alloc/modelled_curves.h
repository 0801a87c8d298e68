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
// - Distortion of tensor i: n_i x MSE_i / N, N all values modelled: each value's quantization
//   error contributes to the output MSE with the same gain (seed 004 eq. 4's additivity with equal
//   sensitivities). This is a model of output error, not a measurement.
#pragma once

#include <cstdint>

#include "alloc/curves.h"
#include "sim/network.h"

namespace bitsim::alloc {

struct ModelOptions {
  RateKind rate = RateKind::Coded;
  std::uint64_t seed = 2026;
  int sample = 1 << 15;
};

RateDistortionCurves modelled_curves(const sim::Network& net, const ModelOptions& options = {});

}  // namespace bitsim::alloc
