// Quantizers (seed 004 eqs. 1 and 2) on hand-checked values, the MSE-optimal step, and the Huffman
// coder: known code lengths, the length limit, and encode/decode round trips.
#include <gtest/gtest.h>
#include <cmath>
#include <numeric>
#include <random>

#include "alloc/huffman.h"
#include "alloc/quantizer.h"

namespace bitsim::alloc {
namespace {

TEST(DeadZoneQuantizer, Equation1OnHandCheckedValues) {
  const DeadZoneQuantizer q{5, 1.0, 0.5};  // k = 2; dead zone |x| < 0.75
  EXPECT_EQ(q.index(0.7), 0);
  EXPECT_EQ(q.index(-0.74), 0);
  EXPECT_EQ(q.index(0.8), 1);   // round((0.8 - 0.25) / 1) = 1
  EXPECT_EQ(q.index(2.0), 2);   // round(1.75) = 2
  EXPECT_EQ(q.index(10.0), 2);  // clamped to k
  EXPECT_EQ(q.index(-1.3), -1);
  EXPECT_DOUBLE_EQ(q.reconstruct(1), 1.25);  // beta/2 + |i| step
  EXPECT_DOUBLE_EQ(q.reconstruct(-2), -2.25);
  EXPECT_DOUBLE_EQ(q.reconstruct(0), 0);
  EXPECT_EQ(q.symbol(-2), 0);
  EXPECT_EQ(q.symbol(2), 4);
}

TEST(ReluQuantizer, Equation2OnHandCheckedValues) {
  const ReluQuantizer q{4, 0.5};
  EXPECT_EQ(q.index(-1), 0);
  EXPECT_EQ(q.index(0.7), 1);
  EXPECT_EQ(q.index(5), 3);
  EXPECT_DOUBLE_EQ(q.reconstruct(3), 1.5);
}

std::vector<double> gaussian(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = dist(rng);
  return v;
}

TEST(QuantizerStep, SearchFindsALocalMinimumAndMoreLevelsHelp) {
  const std::vector<double> v = gaussian(20000, 1);
  double previous = INFINITY;
  for (int t : {3, 7, 15, 31}) {
    const DeadZoneQuantizer q = best_dead_zone_quantizer(v, t, 0.5);
    const double mse = quantization_mse(q, v);
    for (double f : {0.9, 1.1})
      EXPECT_LE(mse, quantization_mse(DeadZoneQuantizer{t, q.step * f, 0.5 * q.step * f}, v)) << t;
    EXPECT_LT(mse, previous);
    previous = mse;
  }
  // The 3-level quantizer of a unit Gaussian: the classic optimum has thresholds near +-0.61 and
  // levels near +-1.22 (Max 1960); with beta = 0 the step is the level.
  const DeadZoneQuantizer q3 = best_dead_zone_quantizer(v, 3, 0.0);
  EXPECT_NEAR(q3.step, 1.22, 0.05);
}

// The sorted, prefix-summed MSE (what the step search evaluates) equals a pass over the values, for
// both quantizers, coarse and fine, with and without a dead zone, and on values straddling zero.
TEST(QuantizerStep, SortedMseEqualsTheDirectOne) {
  std::vector<double> v = gaussian(4000, 2);
  v.push_back(0.0);
  const SortedValues magnitudes(v, true), raw(v, false);
  for (int t : {3, 5, 15, 63, 255, 1023})
    for (double step : {0.01, 0.2, 1.3})
      for (double beta : {0.0, 0.5}) {
        const DeadZoneQuantizer q{t, step, beta * step};
        const double direct = quantization_mse(q, v);
        EXPECT_NEAR(magnitudes.mse(q), direct, 1e-9 * direct + 1e-15) << t << " " << step << " " << beta;
      }
  for (int t : {2, 4, 16, 256, 4096})
    for (double step : {0.01, 0.2, 1.3}) {
      const ReluQuantizer q{t, step};
      const double direct = quantization_mse(q, v);
      EXPECT_NEAR(raw.mse(q), direct, 1e-9 * direct + 1e-15) << t << " " << step;
    }
}

TEST(Huffman, DyadicFrequenciesGiveTheTextbookLengths) {
  const std::vector<std::uint64_t> freq = {8, 4, 2, 1, 1};
  const HuffmanCode code = HuffmanCode::build(freq);
  EXPECT_EQ(std::vector<std::uint8_t>(code.lengths().begin(), code.lengths().end()),
            (std::vector<std::uint8_t>{1, 2, 3, 4, 4}));
  EXPECT_EQ(code.payload_bits(freq), 8u + 8 + 6 + 4 + 4);
  EXPECT_DOUBLE_EQ(entropy_bits(freq), 30.0);  // dyadic: Huffman meets the entropy
  EXPECT_EQ(code.table_bits(), 16u * 9 + 5 * 8);
}

TEST(Huffman, LengthLimitHoldsAndKraftIsRespected) {
  // Fibonacci frequencies make a Huffman tree as deep as the alphabet.
  std::vector<std::uint64_t> freq = {1, 1};
  while (freq.size() < 30) freq.push_back(freq[freq.size() - 1] + freq[freq.size() - 2]);
  const HuffmanCode unlimited = HuffmanCode::build(freq, 32);
  EXPECT_GT(*std::max_element(unlimited.lengths().begin(), unlimited.lengths().end()), 16);
  const HuffmanCode code = HuffmanCode::build(freq, 16);
  double kraft = 0;
  for (auto l : code.lengths()) {
    EXPECT_LE(l, 16);
    kraft += std::ldexp(1.0, -l);
  }
  EXPECT_LE(kraft, 1.0);
  EXPECT_GE(code.payload_bits(freq), unlimited.payload_bits(freq));
  // Every symbol decodes back.
  std::vector<std::uint32_t> symbols(freq.size());
  std::iota(symbols.begin(), symbols.end(), 0u);
  std::uint64_t bits = 0;
  const auto bytes = code.encode(symbols, bits);
  EXPECT_EQ(code.decode(bytes, bits, symbols.size()), symbols);
}

TEST(Huffman, RoundTripOfQuantizedGaussianIndices) {
  const std::vector<double> v = gaussian(50000, 3);
  for (int t : {3, 15, 255}) {
    const DeadZoneQuantizer q = best_dead_zone_quantizer(v, t, 0.5);
    std::vector<std::uint32_t> symbols;
    symbols.reserve(v.size());
    for (double x : v) symbols.push_back(static_cast<std::uint32_t>(q.symbol(q.index(x))));
    const auto hist = symbol_histogram(q, t, v);
    const HuffmanCode code = HuffmanCode::build(hist);
    std::uint64_t bits = 0;
    const auto bytes = code.encode(symbols, bits);
    EXPECT_EQ(bits, code.payload_bits(hist));
    EXPECT_EQ(code.decode(bytes, bits, symbols.size()), symbols) << t;
    // Within one bit per symbol of the entropy (a prefix code's guarantee).
    EXPECT_GE(static_cast<double>(bits), entropy_bits(hist) - 1e-6);
    EXPECT_LE(static_cast<double>(bits), entropy_bits(hist) + static_cast<double>(v.size()));
  }
}

TEST(Huffman, SingleSymbolAndCorruptStreams) {
  const std::vector<std::uint64_t> freq = {0, 7, 0};
  const HuffmanCode code = HuffmanCode::build(freq);
  EXPECT_EQ(code.lengths()[1], 1);
  const std::vector<std::uint32_t> symbols(7, 1);
  std::uint64_t bits = 0;
  const auto bytes = code.encode(symbols, bits);
  EXPECT_EQ(bits, 7u);
  EXPECT_EQ(code.decode(bytes, bits, 7), symbols);
  EXPECT_THROW(code.decode(bytes, bits, 8), std::runtime_error);  // more symbols than the stream holds
  const std::vector<std::uint32_t> bad = {2};
  EXPECT_THROW(code.encode(bad, bits), std::invalid_argument);
}

}  // namespace
}  // namespace bitsim::alloc
