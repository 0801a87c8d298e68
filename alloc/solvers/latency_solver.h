// Latency-aware allocation: the problems a co-designer asks, with the simulator's time as a cost.
//
//   min-error:  minimize predicted output error  s.t. time per batch <= T  [and size <= B]
//   min-time:   minimize time per batch          s.t. predicted error <= E  [and size <= B]
//
// Cost model. The analytical model's batch time is a sum of layer times plus dram.latency, and a
// layer's time (sim::AnalyticalModel::layer_timing) depends only on the options of its own weights,
// of the activation tensors it reads and of the one it writes. An activation tensor is shared: its
// producer writes it and every consumer reads it, so choices are coupled along the layer graph.
// Error and size are the curves' additive sums (seed 004 eq. 4), as for the other solvers.
//
// Method (exact). Dynamic programming over the layers in topological order. The state after a
// layer is the option of every activation tensor already chosen and still to be read by a later
// layer (the "frontier": one tensor in a chain, two across a residual block); weights are chosen
// inside their layer. Each state keeps every label (time, error, size) not dominated by another
// label of the same state, so nothing that could be part of an optimal plan is thrown away; labels
// that cannot meet the constraint even with the fastest (or most accurate) rest of the network, or
// cannot beat the best plan found so far, are dropped. The incumbent comes first from a Lagrangian
// pass (the same DP, keeping per state only the minimum of objective + lambda x constraint, lambda
// by bisection), which also gives a lower bound. Options that another option of the same tensor
// beats on size, error and bits at once are never considered (time cannot increase by switching).
// When the labels outgrow `max_labels`, the best plan of the Lagrangian pass is returned and the
// result says it is not proven optimal, with the bound.
//
// Resident weights (dram.policy: resident) couple all layers through the total weight size; the
// DP then charges every layer's weight fetch (an upper bound on the time), and the result is
// re-timed with the full model. Prefetch overlap in SystemC is not additive either: see
// refine_for_latency() below.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string>

#include "alloc/solvers/solver.h"
#include "sim/analytical_model.h"
#include "sim/bit_plan.h"

namespace bitsim::alloc {

enum class LatencyObjective { MinError, MinTime };

struct LatencyGoal {
  LatencyObjective objective = LatencyObjective::MinError;
  double max_time_s = std::numeric_limits<double>::infinity();   // per batch, dram.latency included
  double max_error = std::numeric_limits<double>::infinity();    // predicted distortion (sum)
  double budget_bits = std::numeric_limits<double>::infinity();  // size, as the curves count it
  std::size_t max_labels = 1'000'000;                            // exact search gives up beyond this
  // Beyond these, the options of the tensors concerned are thinned (the plan is then not proven optimal):
  std::size_t max_states = 1'000'000;  // frontier assignments (DP states) per stage
  std::size_t max_combos = 4'000'000;  // option combinations of the tensors one layer reads and writes
};

struct LatencyAllocation {
  Allocation allocation;  // choice, rate, distortion, proven_optimal, details
  double time_s = 0;      // per batch: the DP's additive time (layer times + dram.latency)
};

// Throws InputError when no plan meets the goal, naming the best that can be achieved.
// `default_bits` codes tensors that have no curve (as to_bit_plan does).
LatencyAllocation allocate_for_latency(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                       int default_bits, const LatencyGoal& goal);

// The outer loop for a time that the additive model only approximates (resident weights, the
// SystemC engine): solve, time the plan with `timer` (batch seconds), and while it misses the
// target tighten the DP's target by the ratio missed, never below the fastest plan's additive time
// (the edge: that plan is tried before giving up); once a target's plan meets the goal, bisect
// between it and the tightest target that missed, towards less error. Keeps the best plan that
// really meets the goal. Only the min-error objective has a time target to tighten; min-time
// plans are re-timed.
// Throws (InputError) only before the first call of `timer`, since a SystemC timer forbids any
// throw after it (the rule is stated at simulate_detailed, sim/detailed_model.h): when no round
// meets the target, the result is the fastest plan tried, with met = false.
using PlanTimer = std::function<double(const sim::BitPlan&)>;
struct RefinedAllocation {
  LatencyAllocation result;
  double timed_s = 0;  // what `timer` says of result's plan
  int rounds = 0;
  bool met = false;
};
RefinedAllocation refine_for_latency(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                     int default_bits, const LatencyGoal& goal, const PlanTimer& timer,
                                     int max_rounds = 8);

}  // namespace bitsim::alloc
