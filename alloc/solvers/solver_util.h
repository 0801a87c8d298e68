// Helpers shared by the solvers (internal to alloc/).
#pragma once

#include <map>
#include <string_view>
#include <vector>

#include "alloc/curves.h"

namespace bitsim::alloc {

// Throws InputError unless every option has `bits` (and every tensor a `count`, if asked).
void require_columns(const RateDistortionCurves& curves, std::string_view solver, bool need_count);

// For each fixed-length bit width a tensor offers, its lowest-distortion option (ties: lower rate,
// then lower index); with `fixed_length_only`, among the options not stored entropy-coded
// (StorageFormat::Coded) only.
std::map<int, int> best_option_per_bits(const TensorCurve& curve, bool fixed_length_only = false);

// Each tensor's cheapest option (ties: lower distortion, then lower index).
std::vector<int> cheapest_choice(const RateDistortionCurves& curves);

// Fox's greedy marginal analysis from `choice`: repeatedly moves one tensor to the next option of
// its Pareto front with the largest distortion decrease per added bit, while the total rate stays
// within the budget. Deterministic: ties go to the lower tensor index.
void greedy_upgrade(const RateDistortionCurves& curves, std::vector<int>& choice, double budget_bits);

double total_rate(const RateDistortionCurves& curves, const std::vector<int>& choice);

}  // namespace bitsim::alloc
