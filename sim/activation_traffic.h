// Which activation tensors exist off chip, and which layer moves each of them: the datapath model
// behind the analytical and SystemC models' DRAM traffic, and the set of quantization points (a
// tensor that never leaves the chip is kept at the datapath's precision and is not quantized).
// A function of the network, two hardware keys and the batch; it does not depend on the bit plan.
//
// datapath.fusion (what runs in a producer's output path, like the activation function does):
//   A layer F of a fusable op (elementwise: add, mul, scale, pad; elementwise_pool: also max and
//   average pooling) takes over its *main input* p: the first of its inputs, in the order written,
//   whose producer is not a network input and is read by F alone. p's output is then internal: it
//   goes through F in p's output path and never exists as a tensor (chains fuse too: conv -> add ->
//   pool writes only the pool's output). The first layer of such a chain (its anchor) runs the whole
//   chain: its timing writes the chain's last output; a fused layer's own timing keeps only the
//   reads of its other inputs (e.g. a residual add's shortcut) and of its own weights (a scale's),
//   so those reads do not overlap the anchor's compute. A fused layer never uses the array.
//   Source: seed 004 (each quantized activation is written once and read once; add, pooling and
//   ReLU do not appear as passes of their own), and how a TPU-like datapath works: the TPU v1's
//   activation unit applies the nonlinearity and pooling to the accumulators before the Unified
//   Buffer (Jouppi et al., ISCA 2017, sec. 2).
// datapath.shortcut (tensors read by more than one layer, and shortcut tensors):
//   dram: every reader fetches the tensor from DRAM (bitsim's rule before this model).
//   on_chip_if_fits: the first reader (in layer order) fetches it and later readers use an on-chip
//   copy; a tensor that only fused layers read as another input (a projection shortcut waiting for
//   its residual add) is never written at all (it is still quantized: held on chip at its planned
//   bits, it is a tensor of its own, unlike a fused layer's input). Each needs its whole tensor (native_bits per value,
//   x batch) held on chip from its producer to its last reader, within half of sram.activations
//   (the other half holds the running layer's own inputs and outputs, as dram.policy: resident
//   assumes); tensors are taken in layer order while the space held at every layer of their span
//   stays within that half.
// Network inputs are stored (read from DRAM, never written); a network output (no readers) is
// written. With datapath.fusion: none and datapath.shortcut: dram, every layer reads each input as
// often as it is listed and writes its own output: the `stream` rule as it was.
#pragma once

#include <cstddef>
#include <vector>

#include "sim/hw_config.h"
#include "sim/network.h"

namespace bitsim::sim {

struct LayerTraffic {
  std::vector<int> dram_reads;  // producers of the stored tensors this layer fetches from DRAM (as often as read)
  std::vector<int> chip_reads;  // producers of the stored tensors it reads from an on-chip copy
  int writes = -1;              // the layer whose output this layer's timing writes to DRAM (-1: none)
  int fused_into = -1;          // the anchor whose output path runs this layer (-1: not fused)
};

class ActivationTraffic {
 public:
  ActivationTraffic(const Network& net, const HardwareConfig& hw, int batch);

  // Is layer i's output a tensor that exists off chip (network input, written or read)?
  bool stored(std::size_t i) const { return m_stored[i]; }
  // Is it a quantization point: a tensor at all, not a value inside a fused datapath? The stored
  // tensors and those held on chip for fused readers (kept at their planned bits, no traffic).
  // Depends on datapath.fusion alone, not on sizes or the batch.
  bool quantized(std::size_t i) const { return m_quantized[i]; }
  const LayerTraffic& layer(std::size_t i) const { return m_layers[i]; }
  // How many layer outputs are stored (network inputs included); the values per image of the stored
  // layer outputs, network inputs excluded (as Network::total_activations counts them).
  std::size_t stored_count() const;
  std::int64_t stored_values(const Network& net) const;
  // True when every layer output is stored and every read fetched (fusion none, shortcut dram).
  bool plain() const { return m_plain; }

 private:
  std::vector<bool> m_stored, m_quantized;
  std::vector<LayerTraffic> m_layers;
  bool m_plain = true;
};

}  // namespace bitsim::sim
