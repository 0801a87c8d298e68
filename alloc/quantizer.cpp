// Quantizer index mapping and the MSE-optimal step search.
#include "alloc/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/base/diagnostics.h"

namespace bitsim::alloc {

int DeadZoneQuantizer::index(double x) const {
  const double a = std::fabs(x);
  if (a < (step + beta) / 2 || k() == 0) return 0;
  const int i = std::clamp(static_cast<int>(std::lround((a - beta / 2) / step)), 1, k());
  return x < 0 ? -i : i;
}

double DeadZoneQuantizer::reconstruct(int index) const {
  if (index == 0) return 0;
  const double level = beta / 2 + std::abs(index) * step;
  return index < 0 ? -level : level;
}

int ReluQuantizer::index(double x) const {
  if (x <= 0) return 0;
  return std::clamp(static_cast<int>(std::lround(x / step)), 0, levels - 1);
}

SortedValues::SortedValues(std::span<const double> values, bool magnitudes)
    : m_magnitudes(magnitudes), m_x(values.begin(), values.end()) {
  if (magnitudes)
    for (double& x : m_x) x = std::fabs(x);
  std::sort(m_x.begin(), m_x.end());
  m_s1.resize(m_x.size() + 1, 0.0);
  m_s2.resize(m_x.size() + 1, 0.0);
  for (std::size_t i = 0; i < m_x.size(); ++i) {
    m_s1[i + 1] = m_s1[i] + m_x[i];
    m_s2[i + 1] = m_s2[i] + m_x[i] * m_x[i];
  }
}

double SortedValues::max_abs() const {
  const double m = m_x.empty() ? 0.0 : std::max(std::fabs(m_x.front()), std::fabs(m_x.back()));
  return m > 0 ? m : 1.0;
}

double SortedValues::squared_error(double lo, double hi, double r) const {
  const auto i = static_cast<std::size_t>(std::lower_bound(m_x.begin(), m_x.end(), lo) - m_x.begin());
  const auto j = static_cast<std::size_t>(
      std::lower_bound(m_x.begin() + static_cast<std::ptrdiff_t>(i), m_x.end(), hi) - m_x.begin());
  if (j <= i) return 0.0;
  const double n = static_cast<double>(j - i), s1 = m_s1[j] - m_s1[i], s2 = m_s2[j] - m_s2[i];
  return std::max(0.0, s2 - 2.0 * r * s1 + r * r * n);  // >= 0 up to rounding
}

namespace {

// With many levels for few values, a pass over the values is cheaper than two searches per level.
bool direct_is_cheaper(std::size_t levels, const SortedValues& v) { return levels > v.size() / 16; }

}  // namespace

// Both quantizers send values below edge(1) to index 0 (level 0), values in [edge(i), edge(i + 1))
// to index i, and everything from edge(last) up to index `last`.
template <typename Q, typename Edge>
double SortedValues::binned_mse(const Q& q, int last, const Edge& edge) const {
  if (m_x.empty()) return 0.0;
  if (direct_is_cheaper(static_cast<std::size_t>(last) + 1, *this)) return quantization_mse(q, m_x);
  const double inf = std::numeric_limits<double>::infinity();
  double sum = squared_error(-inf, last == 0 ? inf : edge(1), 0.0);
  for (int i = 1; i <= last; ++i) sum += squared_error(edge(i), i == last ? inf : edge(i + 1), q.reconstruct(i));
  return sum / static_cast<double>(m_x.size());
}

double SortedValues::mse(const DeadZoneQuantizer& q) const {
  BITSIM_CHECK(m_magnitudes);
  // |x| in [(i - 1/2) step + beta/2, (i + 1/2) step + beta/2) -> level beta/2 + i step, up to k.
  return binned_mse(q, q.k(), [&](int i) { return (i - 0.5) * q.step + q.beta / 2; });
}

double SortedValues::mse(const ReluQuantizer& q) const {
  BITSIM_CHECK(!m_magnitudes);
  // x in [(i - 1/2) step, (i + 1/2) step) -> i step, up to levels - 1; negatives -> 0.
  return binned_mse(q, q.levels - 1, [&](int i) { return (i - 0.5) * q.step; });
}

namespace {

// Minimizes f over log(step) in [lo, hi]: a 24-point scan, then golden-section search between the
// scan points around the best one.
template <typename F>
double minimize_step(double lo, double hi, const F& mse) {
  constexpr int kScan = 24;
  const double a = std::log(lo), b = std::log(hi);
  int best = 0;
  double best_value = INFINITY;
  for (int i = 0; i <= kScan; ++i) {
    const double v = mse(std::exp(a + (b - a) * i / kScan));
    if (v < best_value) {
      best_value = v;
      best = i;
    }
  }
  double left = a + (b - a) * std::max(0, best - 1) / kScan;
  double right = a + (b - a) * std::min(kScan, best + 1) / kScan;
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double x1 = right - ratio * (right - left), x2 = left + ratio * (right - left);
  double f1 = mse(std::exp(x1)), f2 = mse(std::exp(x2));
  for (int iter = 0; iter < 16; ++iter) {
    if (f1 < f2) {
      right = x2;
      x2 = x1;
      f2 = f1;
      x1 = right - ratio * (right - left);
      f1 = mse(std::exp(x1));
    } else {
      left = x1;
      x1 = x2;
      f1 = f2;
      x2 = left + ratio * (right - left);
      f2 = mse(std::exp(x2));
    }
  }
  const double refined = f1 < f2 ? x1 : x2;
  return std::min(f1, f2) < best_value ? std::exp(refined) : std::exp(a + (b - a) * best / kScan);
}

}  // namespace

DeadZoneQuantizer best_dead_zone_quantizer(const SortedValues& values, int levels, double beta_fraction) {
  const double m = values.max_abs();
  const double step = minimize_step(m / (4.0 * levels), 2.0 * m, [&](double s) {
    return values.mse(DeadZoneQuantizer{levels, s, beta_fraction * s});
  });
  return {levels, step, beta_fraction * step};
}

ReluQuantizer best_relu_quantizer(const SortedValues& values, int levels) {
  const double m = values.max_abs();
  const double step = minimize_step(m / (4.0 * levels), 2.0 * m, [&](double s) {
    return values.mse(ReluQuantizer{levels, s});
  });
  return {levels, step};
}

DeadZoneQuantizer best_dead_zone_quantizer(std::span<const double> values, int levels, double beta_fraction) {
  return best_dead_zone_quantizer(SortedValues(values, true), levels, beta_fraction);
}

ReluQuantizer best_relu_quantizer(std::span<const double> values, int levels) {
  return best_relu_quantizer(SortedValues(values, false), levels);
}

}  // namespace bitsim::alloc
