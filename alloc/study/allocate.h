// One allocation as `bitsim allocate` makes it, for every front end (the CLI, the Python module):
// a size-budget solver, or the latency-aware one with a target, then the plan and its score.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "alloc/curves.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/allocation_report.h"
#include "sim/analytical_model.h"
#include "sim/bit_plan.h"
#include "sim/engine.h"
#include "sim/network.h"

namespace bitsim::study {

// What to allocate for. No latency target: least predicted error within budget_bits (a size-budget
// solver). At most one target (the latency solver, which needs the model): least error at
// >= min_rate_per_s images/s or <= max_time_per_image_s, or most images/s at <= max_error; a finite
// budget_bits bounds the size too.
struct AllocationGoal {
  double budget_bits = std::numeric_limits<double>::infinity();
  std::optional<double> min_rate_per_s;
  std::optional<double> max_time_per_image_s;
  std::optional<double> max_error;
  sim::Engine engine = sim::Engine::Analytical;  // what times the latency solver's plans
  // With the SystemC engine: a plan's result under it (sim::simulate_detailed(...).result). Given by
  // the front end, which links bitsim::systemc; the study layer does not.
  std::function<sim::SimResult(const sim::BitPlan&)> detailed;
  bool latency() const { return min_rate_per_s || max_time_per_image_s || max_error; }
};

// The curves a solver sees: on `model`'s hardware (storage formats, fused tensors pinned on chip,
// alloc::curves_for_hardware), else every storage format with a decoder assumed.
alloc::RateDistortionCurves curves_to_solve(alloc::RateDistortionCurves curves, const sim::AnalyticalModel* model);

struct PlannedAllocation {
  AllocationOutcome outcome;         // solver, goal, budget, curves, allocation, score (simulated with a model)
  std::optional<sim::BitPlan> plan;  // with a network
  // SystemC engine only: no round met the target. Reported as a value, since nothing may throw after
  // a SystemC run (sim/detailed_model.h); `outcome` then holds no allocation.
  std::string unmet;
};

// Solves, builds the plan (tensors without a curve at the hardware's native bits, else 8) and scores
// it. `curves` (from curves_to_solve) must outlive the result (outcome.curves points at them); the
// network (`net`, or the model's) is needed for a plan, `model` for a latency target and a simulated score. `note`
// hears what is being done (the SystemC engine's rounds). Throws InputError before any SystemC run: for a budget or
// target no plan meets, a latency target without a model, a plan infeasible on the hardware.
PlannedAllocation allocate_plan(const alloc::RateDistortionCurves& curves, const alloc::SolverInfo& solver,
                                const AllocationGoal& goal, const sim::Network* net, const sim::AnalyticalModel* model,
                                const std::function<void(std::string_view)>& note = {});

}  // namespace bitsim::study
