// The datapath's activation traffic; see the header for the rules and their sources.
#include "sim/activation_traffic.h"

#include <algorithm>

namespace bitsim::sim {

namespace {

bool fusable(LayerOp op, Fusion fusion) {
  switch (op) {
    case LayerOp::Add:
    case LayerOp::Mul:
    case LayerOp::Scale:
    case LayerOp::Pad:
      return fusion != Fusion::None;
    case LayerOp::MaxPool:
    case LayerOp::AvgPool:
      return fusion == Fusion::ElementwisePool;
    default:
      return false;
  }
}

// Is every reader of p's output the layer f (p may be listed more than once)?
bool read_by_alone(const Network& net, std::size_t p, int f) {
  const auto readers = net.consumers(p);
  return !readers.empty() && std::all_of(readers.begin(), readers.end(), [&](int c) { return c == f; });
}

// The on-chip space a kept tensor holds at each layer of its span, taken in layer order while
// every layer of the span stays within `capacity`.
class OnChipSpace {
 public:
  OnChipSpace(std::size_t layers, double capacity) : m_held(layers, 0.0), m_capacity(capacity) {}
  bool take(std::size_t first, std::size_t last, double bytes) {
    for (std::size_t k = first; k <= last; ++k)
      if (m_held[k] + bytes > m_capacity) return false;
    for (std::size_t k = first; k <= last; ++k) m_held[k] += bytes;
    return true;
  }

 private:
  std::vector<double> m_held;
  double m_capacity;
};

}  // namespace

ActivationTraffic::ActivationTraffic(const Network& net, const HardwareConfig& hw, int batch)
    : m_stored(net.layers().size(), true),
      m_quantized(net.layers().size(), true),
      m_layers(net.layers().size()),
      m_plain(hw.fusion == Fusion::None && hw.shortcut == ShortcutPolicy::Dram) {
  const auto layers = net.layers();
  const std::size_t n = layers.size();
  std::vector<bool> internal(n, false);  // flows into the layer that fuses it; never a tensor
  for (std::size_t i = 0; i < n; ++i) {
    LayerTraffic& t = m_layers[i];
    if (layers[i].op != LayerOp::Input) t.writes = static_cast<int>(i);
    if (!fusable(layers[i].op, hw.fusion)) continue;
    for (const int p : layers[i].inputs) {
      const auto pi = static_cast<std::size_t>(p);
      if (layers[pi].op == LayerOp::Input || !read_by_alone(net, pi, static_cast<int>(i))) continue;
      internal[pi] = true;
      const int anchor = m_layers[pi].fused_into >= 0 ? m_layers[pi].fused_into : p;
      t.fused_into = anchor;
      t.writes = -1;
      m_layers[static_cast<std::size_t>(anchor)].writes = static_cast<int>(i);
      break;
    }
  }

  // Tensors kept on chip: those only fused layers read (never written), and the later reads of
  // tensors read more than once.
  std::vector<bool> kept_only(n, false), kept_for_rereads(n, false);
  if (hw.shortcut == ShortcutPolicy::OnChipIfFits) {
    OnChipSpace space(n, hw.sram_activation_bytes / 2.0);
    for (std::size_t p = 0; p < n; ++p) {
      const auto readers = net.consumers(p);
      if (internal[p] || readers.empty()) continue;
      const double bytes = static_cast<double>(layers[p].output.count()) * static_cast<double>(hw.native_bits) / 8.0 *
                           static_cast<double>(batch);
      const auto first = static_cast<std::size_t>(*std::min_element(readers.begin(), readers.end()));
      const auto last = static_cast<std::size_t>(*std::max_element(readers.begin(), readers.end()));
      const bool only_fused = layers[p].op != LayerOp::Input && std::all_of(readers.begin(), readers.end(), [&](int c) {
                                return m_layers[static_cast<std::size_t>(c)].fused_into >= 0;
                              });
      if (only_fused)
        kept_only[p] = space.take(p, last, bytes);
      else if (readers.size() > 1)
        kept_for_rereads[p] = space.take(first, last, bytes);
    }
  }

  for (std::size_t p = 0; p < n; ++p) {
    m_quantized[p] = !internal[p];
    m_stored[p] = !internal[p] && !kept_only[p];
  }
  for (LayerTraffic& t : m_layers)
    if (t.writes >= 0 && !m_stored[static_cast<std::size_t>(t.writes)]) t.writes = -1;

  std::vector<bool> fetched(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    LayerTraffic& t = m_layers[i];
    for (const int p : layers[i].inputs) {
      const auto pi = static_cast<std::size_t>(p);
      if (!m_stored[pi]) continue;  // runs through this layer's datapath, or waits on chip for it
      if (fetched[pi] && kept_for_rereads[pi])
        t.chip_reads.push_back(p);
      else
        t.dram_reads.push_back(p);
      fetched[pi] = true;
    }
  }
}

std::size_t ActivationTraffic::stored_count() const {
  return static_cast<std::size_t>(std::count(m_stored.begin(), m_stored.end(), true));
}

std::int64_t ActivationTraffic::stored_values(const Network& net) const {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < m_stored.size(); ++i)
    if (m_stored[i] && net.layer(i).op != LayerOp::Input) total += net.layer(i).output.count();
  return total;
}

}  // namespace bitsim::sim
