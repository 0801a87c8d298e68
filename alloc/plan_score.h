// Every plan is scored twice: by its size and predicted output error (from the curves), and by its
// simulated inference rate (from the analytical model). This is the hand-off
// RateDistortionCurves -> Allocation -> BitPlan -> PlanScore.
#pragma once

#include <optional>
#include <string>

#include "alloc/curves.h"
#include "alloc/solvers/solver.h"
#include "sim/analytical_model.h"
#include "sim/bit_plan.h"
#include "sim/network.h"

namespace bitsim::alloc {

// The simulator's view of an allocation: per tensor the chosen option's bits and, for entropy or
// coded rates, its rate as coded bits with one symbol per value. Tensors without a curve (e.g. the
// network input) get `default_bits`, fixed length. Throws InputError when a curve names a tensor
// the workload does not have, or gives it another value count.
// The coding one option gives a tensor of `values` values: its bits (from the rate when the option
// has none) and, for entropy or coded rates, coded_bits = rate with one symbol per value.
sim::TensorCoding tensor_coding(RateKind rate, const CurveOption& option, std::int64_t values);

sim::BitPlan to_bit_plan(const sim::Network& net, const RateDistortionCurves& curves, const Allocation& allocation,
                         int default_bits, std::string label);

// The curves as a datapath sees them: a tensor that is not a quantization point there (a fused
// layer's input, sim/activation_traffic.h) keeps one option, "on_chip": not quantized, size 0,
// error 0, and its count is 0, so that no budget counts it. The same tensors in the same order:
// an allocation of the result indexes like one of `curves`.
RateDistortionCurves curves_for_datapath(const RateDistortionCurves& curves, const sim::Network& net,
                                         const sim::ActivationTraffic& traffic);
// How many tensors curves_for_datapath() took out.
std::size_t on_chip_tensors(const RateDistortionCurves& curves);

struct PlanScore {
  double rate_bits = 0;    // what the budget counted
  double fixed_bits = -1;  // the three sizes; -1 where the curves do not give them
  double entropy_bits = -1;
  double coded_bits = -1;
  double predicted_distortion = 0;  // sum of the chosen distortions (seed 004 eq. 4, additive)
  std::optional<sim::SimResult> simulated;
};

PlanScore score_plan(const RateDistortionCurves& curves, const Allocation& allocation,
                     const sim::AnalyticalModel* model = nullptr, const sim::BitPlan* plan = nullptr);

}  // namespace bitsim::alloc
