// Float32 inference over a Network imported with its trained values (ONNX), with hooks that
// quantize weights and layer outputs: the engine that measures output error (seed 004 eq. 3).
// Eigen stays inside inference.cpp.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "alloc/engine_kernels.h"
#include "sim/network.h"

namespace bitsim::alloc {

// One layer's output for a batch: [n][channels][height][width], contiguous.
using Activations = std::vector<float>;

// Changes to the forward pass: replacement weights per layer (e.g. quantized), and an in-place
// transform of a layer's output after its activation function (e.g. an activation quantizer).
struct ForwardHooks {
  std::vector<const std::vector<float>*> weights;              // per layer; null: the layer's own
  std::vector<std::function<void(std::span<float>)>> outputs;  // per layer; empty: none
};

// The most a forward pass may plan to hold for its layer outputs (refused up front beyond).
inline constexpr std::size_t kMaxInferenceBytes = std::size_t{8} << 30;

struct LayerScratch;

class InferenceEngine {
 public:
  // Throws InputError when the network has no trained values (a YAML or SCALE-Sim workload), or
  // when this processor cannot run `isa`'s kernels. Every instruction set gives the same values
  // (engine_kernels.h); the default is the fastest this processor runs.
  // Keeps a reference: `net` must outlive the engine (a temporary is refused at compile time).
  explicit InferenceEngine(const sim::Network& net, int threads = 2, kernels::Isa isa = kernels::best_isa());
  explicit InferenceEngine(sim::Network&&, int = 2, kernels::Isa = kernels::best_isa()) = delete;

  // Every layer's output for n inputs laid out like the network input ([n][C][H][W]).
  std::vector<Activations> forward_all(std::span<const float> input, int n, const ForwardHooks* hooks = nullptr) const;
  // Recomputes layers from index `from` on, reusing outs[0 .. from-1] (prefix reuse).
  void forward_from(std::vector<Activations>& outs, std::size_t from, int n, const ForwardHooks* hooks = nullptr) const;
  // The network's outputs for n inputs: per image, every output layer's values in the network's
  // order ([n][sum of the outputs' sizes]).
  Activations forward(std::span<const float> input, int n, const ForwardHooks* hooks = nullptr) const;
  // The same gathered from forward_all()'s per-layer outputs of n images.
  Activations outputs_of(const std::vector<Activations>& outs, int n) const;
  // Mean squared difference per output value between two forward_all() results (every output).
  double output_mse(const std::vector<Activations>& a, const std::vector<Activations>& b) const;
  // Values per image over all outputs.
  std::size_t output_size() const;
  const sim::Network& network() const { return m_net; }
  int threads() const { return m_threads; }
  kernels::Isa isa() const { return m_isa; }

 private:
  // Throws InputError when the layer outputs of `images` images from layer `from` on would need
  // more than kMaxInferenceBytes.
  void check_memory(std::size_t from, int images) const;
  // Layer i on image b.
  void run_layer(std::size_t i, std::vector<Activations>& outs, int b, const ForwardHooks* hooks,
                 LayerScratch& scratch) const;

  const sim::Network& m_net;
  int m_threads;
  kernels::Isa m_isa;
};

// Mean squared difference per value (seed 004 eq. 3 divided by the output size, over images).
double mean_squared_error(std::span<const float> a, std::span<const float> b);
// Fraction of rows of `logits` ([n][classes]) whose largest entry is at `labels[row]`.
double top1_accuracy(std::span<const float> logits, std::span<const int> labels);
// Fraction of the `rows` rows of `a` and `b` (same size) whose largest entry is at the same place:
// for data without labels, how often a quantized network answers like the float one.
double top1_agreement(std::span<const float> a, std::span<const float> b, int rows);
// Signal-to-quantization-noise ratio in dB: 10 log10(sum reference^2 / sum (reference - other)^2),
// over all values; +inf when they are equal.
double sqnr_db(std::span<const float> reference, std::span<const float> other);

}  // namespace bitsim::alloc
