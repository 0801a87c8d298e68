// Canonical, length-limited Huffman codes: construction, encoder and decoder.
#include "alloc/huffman.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <tuple>

namespace bitsim::alloc {

HuffmanCode HuffmanCode::build(std::span<const std::uint64_t> freq, int max_length) {
  HuffmanCode code;
  code.m_max_length = max_length;
  const std::size_t n = freq.size();
  code.m_lengths.assign(n, 0);
  std::vector<std::size_t> used;
  for (std::size_t s = 0; s < n; ++s)
    if (freq[s] > 0) used.push_back(s);
  if (used.size() == 1) code.m_lengths[used[0]] = 1;
  if (used.size() >= 2) {
    // Nodes: leaves 0..n-1, internal nodes after. Heap on (weight, smallest symbol below, id).
    std::vector<std::size_t> parent(n + used.size(), SIZE_MAX);
    using Entry = std::tuple<std::uint64_t, std::size_t, std::size_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    for (std::size_t s : used) heap.emplace(freq[s], s, s);
    std::size_t next = n;
    while (heap.size() > 1) {
      const auto [wa, ma, a] = heap.top();
      heap.pop();
      const auto [wb, mb, b] = heap.top();
      heap.pop();
      parent[a] = parent[b] = next;
      heap.emplace(wa + wb, std::min(ma, mb), next++);
    }
    for (std::size_t s : used) {
      int depth = 0;
      for (std::size_t v = s; parent[v] != SIZE_MAX; v = parent[v]) ++depth;
      code.m_lengths[s] = static_cast<std::uint8_t>(std::min(depth, 255));
    }
    // Length limit: clamp, then restore Kraft's inequality sum 2^-l <= 1.
    const auto limit = static_cast<std::uint8_t>(max_length);
    std::uint64_t kraft = 0;  // in units of 2^-max_length
    for (std::size_t s : used) {
      code.m_lengths[s] = std::min(code.m_lengths[s], limit);
      kraft += std::uint64_t{1} << (limit - code.m_lengths[s]);
    }
    while (kraft > (std::uint64_t{1} << limit)) {
      std::size_t pick = SIZE_MAX;
      for (std::size_t s : used) {
        if (code.m_lengths[s] >= limit) continue;
        if (pick == SIZE_MAX || code.m_lengths[s] > code.m_lengths[pick] ||
            (code.m_lengths[s] == code.m_lengths[pick] && freq[s] < freq[pick]))
          pick = s;
      }
      kraft -= std::uint64_t{1} << (limit - code.m_lengths[pick] - 1);
      ++code.m_lengths[pick];
    }
  }
  // Canonical codes in (length, symbol) order.
  for (std::size_t s : used) code.m_by_order.push_back(static_cast<std::uint32_t>(s));
  std::stable_sort(code.m_by_order.begin(), code.m_by_order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return code.m_lengths[a] < code.m_lengths[b]; });
  code.m_codes.assign(n, 0);
  std::uint32_t c = 0;
  int len = code.m_by_order.empty() ? 0 : code.m_lengths[code.m_by_order.front()];
  for (std::size_t k = 0; k < code.m_by_order.size(); ++k) {
    const std::uint32_t s = code.m_by_order[k];
    c <<= (code.m_lengths[s] - len);
    len = code.m_lengths[s];
    code.m_codes[s] = c++;
  }
  return code;
}

std::uint64_t HuffmanCode::payload_bits(std::span<const std::uint64_t> freq) const {
  std::uint64_t bits = 0;
  for (std::size_t s = 0; s < freq.size() && s < m_lengths.size(); ++s) bits += freq[s] * m_lengths[s];
  return bits;
}

std::uint64_t HuffmanCode::table_bits() const {
  const std::uint64_t symbol_bits = m_lengths.size() <= 256 ? 8 : 16;
  return static_cast<std::uint64_t>(m_max_length) * 9 + m_by_order.size() * symbol_bits;
}

std::vector<std::uint8_t> HuffmanCode::encode(std::span<const std::uint32_t> symbols, std::uint64_t& bit_count) const {
  std::vector<std::uint8_t> out;
  bit_count = 0;
  for (std::uint32_t s : symbols) {
    if (s >= m_lengths.size() || m_lengths[s] == 0) throw std::invalid_argument("symbol has no code");
    for (int b = m_lengths[s] - 1; b >= 0; --b) {
      if (bit_count % 8 == 0) out.push_back(0);
      if ((m_codes[s] >> b) & 1u) out.back() |= static_cast<std::uint8_t>(0x80u >> (bit_count % 8));
      ++bit_count;
    }
  }
  return out;
}

std::vector<std::uint32_t> HuffmanCode::decode(std::span<const std::uint8_t> bytes, std::uint64_t bit_count,
                                               std::size_t count) const {
  // Canonical decoding: per length, the first code and where its symbols start in m_by_order.
  std::vector<std::uint32_t> first(static_cast<std::size_t>(m_max_length) + 2, 0), number(first.size(), 0),
      offset(first.size(), 0);
  for (std::uint32_t s : m_by_order) ++number[m_lengths[s]];
  std::uint32_t c = 0, at = 0;
  for (std::size_t len = 1; len < first.size(); ++len) {
    c = (c + (len > 1 ? number[len - 1] : 0)) << (len > 1 ? 1 : 0);
    first[len] = c;
    offset[len] = at;
    at += number[len];
  }
  std::vector<std::uint32_t> out;
  out.reserve(count);
  std::uint64_t pos = 0;
  while (out.size() < count) {
    std::uint32_t code = 0;
    std::size_t len = 0;
    while (true) {
      if (pos >= bit_count || len >= static_cast<std::size_t>(m_max_length))
        throw std::runtime_error("Huffman stream is truncated or not a valid code");
      code = (code << 1) | (static_cast<std::uint32_t>(bytes[pos / 8] >> (7 - pos % 8)) & 1u);
      ++pos;
      ++len;
      if (code - first[len] < number[len]) break;
    }
    out.push_back(m_by_order[offset[len] + (code - first[len])]);
  }
  return out;
}

double entropy_bits(std::span<const std::uint64_t> freq) {
  const double total = static_cast<double>(std::accumulate(freq.begin(), freq.end(), std::uint64_t{0}));
  double h = 0;
  for (std::uint64_t f : freq)
    if (f > 0) h -= static_cast<double>(f) * std::log2(static_cast<double>(f) / total);
  return h;
}

}  // namespace bitsim::alloc
