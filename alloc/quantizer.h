// The quantizers of seed 004: weights with a dead zone (eq. 1), activations after ReLU (eq. 2).
// A quantizer maps values to integer indices (what is entropy-coded) and back to levels.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace bitsim::alloc {

// Seed 004 eq. 1: t = 2k + 1 levels, step `step`, dead zone of width step + beta around zero.
// |x| < (step + beta) / 2 -> index 0; else index sign(x) * clamp(round((|x| - beta/2) / step), 1, k),
// reconstructed as sign(i) * (beta / 2 + |i| * step).
struct DeadZoneQuantizer {
  int levels = 3;  // t, odd
  double step = 1;
  double beta = 0;

  int k() const { return (levels - 1) / 2; }
  int index(double x) const;
  double reconstruct(int index) const;
  int symbol(int index) const { return index + k(); }  // 0 .. t-1, for the entropy coder
};

// Seed 004 eq. 2: t levels i * step, 0 <= i <= t - 1 (inputs are non-negative, after ReLU).
struct ReluQuantizer {
  int levels = 2;
  double step = 1;

  int index(double x) const;
  double reconstruct(int index) const { return index * step; }
  int symbol(int index) const { return index; }
};

// Mean squared error of quantizing `values`.
template <typename Q>
double quantization_mse(const Q& q, std::span<const double> values) {
  double sum = 0;
  for (double x : values) {
    const double e = x - q.reconstruct(q.index(x));
    sum += e * e;
  }
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

// Values sorted once, with prefix sums of x and x^2, so that a quantizer's MSE costs two binary
// searches per level instead of a pass over every value (the step search below evaluates ~40
// steps). `magnitudes`: |x| is kept (the dead-zone quantizer's error depends on |x| only).
class SortedValues {
 public:
  SortedValues(std::span<const double> values, bool magnitudes);
  bool magnitudes() const { return m_magnitudes; }
  std::size_t size() const { return m_x.size(); }
  double max_abs() const;
  // Sum of (x - r)^2 over the values in [lo, hi).
  double squared_error(double lo, double hi, double r) const;
  // The same MSE as quantization_mse() (up to rounding), in O(levels log n).
  double mse(const DeadZoneQuantizer& q) const;
  double mse(const ReluQuantizer& q) const;

 private:
  template <typename Q, typename Edge>
  double binned_mse(const Q& q, int last, const Edge& edge) const;

  bool m_magnitudes;
  std::vector<double> m_x;         // sorted
  std::vector<double> m_s1, m_s2;  // prefix sums of x and x^2 (size n + 1)
};

// The step that minimizes the MSE for fixed levels (and beta = beta_fraction * step for the dead
// zone): a log-spaced scan from max|x|/(4t) to 2 max|x|, then golden-section refinement around the
// best point of the scan. Deterministic. The span forms sort the values first; callers fitting
// many quantizers to one sample pass a SortedValues (magnitudes for the dead zone, raw for ReLU).
DeadZoneQuantizer best_dead_zone_quantizer(const SortedValues& values, int levels, double beta_fraction);
ReluQuantizer best_relu_quantizer(const SortedValues& values, int levels);
DeadZoneQuantizer best_dead_zone_quantizer(std::span<const double> values, int levels, double beta_fraction);
ReluQuantizer best_relu_quantizer(std::span<const double> values, int levels);

// Symbol histogram (size t) of quantizing `values`.
template <typename Q>
std::vector<std::uint64_t> symbol_histogram(const Q& q, int levels, std::span<const double> values) {
  std::vector<std::uint64_t> hist(static_cast<std::size_t>(levels), 0);
  for (double x : values) ++hist[static_cast<std::size_t>(q.symbol(q.index(x)))];
  return hist;
}

}  // namespace bitsim::alloc
