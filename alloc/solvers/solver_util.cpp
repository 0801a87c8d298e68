// Shared solver helpers.
#include "alloc/solvers/solver_util.h"

#include <fmt/format.h>

#include "sim/base/diagnostics.h"

namespace bitsim::alloc {

void require_columns(const RateDistortionCurves& curves, std::string_view solver, bool need_count) {
  for (const auto& t : curves.tensors) {
    if (need_count && t.count <= 0)
      throw InputError(
          t.options.front().where,
          fmt::format("solver {} needs the 'count' column (values per tensor); tensor {} has none", solver, t.tensor));
    for (const auto& o : t.options)
      if (o.bits <= 0)
        throw InputError(o.where, fmt::format("solver {} needs the 'bits' column (bits per value); option '{}' of "
                                              "tensor {} has none",
                                              solver, o.name, t.tensor));
  }
}

std::map<int, int> best_option_per_bits(const TensorCurve& curve, bool fixed_length_only) {
  std::map<int, int> best;
  for (std::size_t i = 0; i < curve.options.size(); ++i) {
    const CurveOption& o = curve.options[i];
    if (fixed_length_only && o.format == StorageFormat::Coded) continue;
    const auto it = best.find(o.bits);
    if (it == best.end()) {
      best.emplace(o.bits, static_cast<int>(i));
      continue;
    }
    const CurveOption& b = curve.options[static_cast<std::size_t>(it->second)];
    if (o.distortion < b.distortion || (o.distortion == b.distortion && o.rate_bits < b.rate_bits))
      it->second = static_cast<int>(i);
  }
  return best;
}

std::vector<int> cheapest_choice(const RateDistortionCurves& curves) {
  std::vector<int> choice;
  for (const auto& t : curves.tensors) choice.push_back(pareto_front(t).front());
  return choice;
}

double total_rate(const RateDistortionCurves& curves, const std::vector<int>& choice) {
  double sum = 0;
  for (std::size_t i = 0; i < choice.size(); ++i)
    sum += curves.tensors[i].options[static_cast<std::size_t>(choice[i])].rate_bits;
  return sum;
}

void greedy_upgrade(const RateDistortionCurves& curves, std::vector<int>& choice, double budget_bits) {
  const std::size_t n = curves.tensors.size();
  std::vector<std::vector<int>> fronts(n);
  for (std::size_t i = 0; i < n; ++i) fronts[i] = pareto_front(curves.tensors[i]);
  double rate = total_rate(curves, choice);
  while (true) {
    double best_ratio = 0;
    std::size_t best_tensor = n;
    int best_option = -1;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& opts = curves.tensors[i].options;
      const CurveOption& cur = opts[static_cast<std::size_t>(choice[i])];
      for (int f : fronts[i]) {  // the first front option better than the current one
        const CurveOption& o = opts[static_cast<std::size_t>(f)];
        if (o.distortion >= cur.distortion) continue;
        const double added = o.rate_bits - cur.rate_bits;
        if (rate + added > budget_bits) break;
        const double ratio = added > 0 ? (cur.distortion - o.distortion) / added : INFINITY;
        if (ratio > best_ratio) {
          best_ratio = ratio;
          best_tensor = i;
          best_option = f;
        }
        break;
      }
    }
    if (best_tensor == n) return;
    const auto& opts = curves.tensors[best_tensor].options;
    rate += opts[static_cast<std::size_t>(best_option)].rate_bits -
            opts[static_cast<std::size_t>(choice[best_tensor])].rate_bits;
    choice[best_tensor] = best_option;
  }
}

}  // namespace bitsim::alloc
