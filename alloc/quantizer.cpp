// Quantizer index mapping and the MSE-optimal step search.
#include "alloc/quantizer.h"

#include <algorithm>
#include <cmath>
#include <functional>

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

namespace {

// Minimizes f over log(step) in [lo, hi]: a 24-point scan, then golden-section search between the
// scan points around the best one.
double minimize_step(double lo, double hi, const std::function<double(double)>& mse) {
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

double max_abs(std::span<const double> values) {
  double m = 0;
  for (double x : values) m = std::max(m, std::fabs(x));
  return m > 0 ? m : 1.0;
}

}  // namespace

DeadZoneQuantizer best_dead_zone_quantizer(std::span<const double> values, int levels, double beta_fraction) {
  const double m = max_abs(values);
  const double step = minimize_step(m / (4.0 * levels), 2.0 * m, [&](double s) {
    return quantization_mse(DeadZoneQuantizer{levels, s, beta_fraction * s}, values);
  });
  return {levels, step, beta_fraction * step};
}

ReluQuantizer best_relu_quantizer(std::span<const double> values, int levels) {
  const double m = max_abs(values);
  const double step = minimize_step(m / (4.0 * levels), 2.0 * m, [&](double s) {
    return quantization_mse(ReluQuantizer{levels, s}, values);
  });
  return {levels, step};
}

}  // namespace bitsim::alloc
