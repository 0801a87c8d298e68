// Canonical Huffman coding of quantization indices, with a code-length limit.
//
// Why Huffman (not rANS): the on-chip decoder then is a table lookup of the next `max_length` bits
// that yields one symbol and its length per cycle, so a decoder lane's throughput is exactly one
// symbol per cycle whatever the code: the analytical model's `decoder.symbols_per_cycle` is 1 per
// lane for this coder. The limit (16 bits by default, as in JPEG) bounds that table to 2^16 entries.
// rANS would compress closer to the entropy but decodes with a multiply per symbol and state.
//
// Coded size = payload bits + the table a decoder needs: for each length 1..max_length the number
// of codes (9 bits each, up to 256 codes) and the used symbols in canonical order (8 bits each, for
// alphabets of up to 256 symbols; 16 bits beyond).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bitsim::alloc {

class HuffmanCode {
 public:
  // Code lengths from symbol frequencies (zero-frequency symbols get no code). Deterministic:
  // ties in the Huffman merge go to the lower symbol. Lengths over `max_length` are limited by
  // lengthening the least frequent of the codes shorter than the limit until Kraft's inequality holds.
  static HuffmanCode build(std::span<const std::uint64_t> frequencies, int max_length = 16);

  std::span<const std::uint8_t> lengths() const { return m_lengths; }  // 0: unused symbol
  int max_length() const { return m_max_length; }
  std::uint64_t payload_bits(std::span<const std::uint64_t> frequencies) const;
  std::uint64_t table_bits() const;

  // MSB-first bit stream of the symbols; every symbol must have a code.
  std::vector<std::uint8_t> encode(std::span<const std::uint32_t> symbols, std::uint64_t& bit_count) const;
  // Decodes `count` symbols; throws std::runtime_error on a stream that is not a valid code.
  std::vector<std::uint32_t> decode(std::span<const std::uint8_t> bytes, std::uint64_t bit_count,
                                    std::size_t count) const;

 private:
  std::vector<std::uint8_t> m_lengths;
  std::vector<std::uint32_t> m_codes;     // canonical code of each symbol
  std::vector<std::uint32_t> m_by_order;  // symbols sorted by (length, symbol)
  int m_max_length = 16;
};

// Empirical entropy of the frequencies times their total: seed 004's size estimate, in bits.
double entropy_bits(std::span<const std::uint64_t> frequencies);

}  // namespace bitsim::alloc
