// A bit plan: how every weight and activation tensor of a network is stored off chip.
// Tensor names tie plans, curves and reports to layers: "<layer>:w" is a layer's weight tensor
// (kernel and bias), "<layer>:a" is a layer's output activations (network inputs included).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/network.h"

namespace bitsim::sim {

struct TensorCoding {
  int bits = 8;              // bits per value of the quantization index (fixed-length size = bits x values);
                             // 0: not quantized (a value inside a fused datapath, never stored; `bits: none`)
  double coded_bits = -1;    // total size after entropy coding (per image for activations); < 0: fixed length
  std::int64_t symbols = 0;  // symbols the on-chip decoder processes (per image for activations)
  int levels = 0;            // the quantizer's levels t, when the plan fixes it (0: derived from bits)
  double beta = -1;          // its dead-zone parameter as a fraction of the step (< 0: 0)
  bool entropy_coded() const { return coded_bits >= 0; }
  bool quantized() const { return bits > 0; }
};

enum class TensorKind { Weights, Activations };

struct BitPlan {
  std::string label;                      // for reports, e.g. "8/8 bits" or the plan file name
  std::vector<TensorCoding> weights;      // indexed like Network::layers(); ignored where a layer has none
  std::vector<TensorCoding> activations;  // the output of each layer

  // Fixed-length plan: the same bits for every weight tensor and every activation tensor.
  static BitPlan uniform(const Network& net, int weight_bits, int activation_bits);
};

std::string tensor_name(const Layer& layer, TensorKind kind);

// The bits that t quantizer levels need: symbols 0 .. t-1 take ceil(log2 t) bits.
int bits_for_levels(std::int64_t levels);
// Levels against the quantizers that use them (alloc/quantizer.h): weights use seed 004 eq. 1,
// t = 2k + 1 levels (odd, at least 3); activations eq. 2, at least 2; and they must fit in `bits`
// (when given). The same rule for plan files and curves files.
enum class LevelsProblem { None, WeightLevels, ActivationLevels, TooFewBits };
LevelsProblem levels_problem(std::int64_t levels, std::optional<int> bits, bool activation);

// Reads a plan YAML (README "Plan format") for `net`. Throws InputError naming file and line.
BitPlan load_bit_plan(const std::string& path, const Network& net);
// Writes the plan in the format load_bit_plan reads; every tensor is listed.
void write_bit_plan(std::ostream& out, const Network& net, const BitPlan& plan);

}  // namespace bitsim::sim
