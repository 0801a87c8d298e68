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

// Storage format per tensor is the allocator's choice: every option of curves at rate entropy or
// coded becomes a fixed-length one (size bits x values, or its fixed_bits; nothing to decode) and,
// where `decoder` and the coded size is below the fixed one, an entropy-coded one (the curves'
// rate; decoded on chip). The fixed one comes first (ties go to it). Curves at rate fixed, and
// options whose fixed size is unknown, are left as they are.
RateDistortionCurves with_storage_formats(RateDistortionCurves curves, bool decoder);

// A tensor that is not a quantization point on the model's hardware (a fused layer's input,
// sim/activation_traffic.h) keeps one option, "on_chip": not quantized, size 0, error 0, and its
// count is 0, so that no budget counts it. The same tensors in the same order.
RateDistortionCurves pin_unquantized(RateDistortionCurves curves, const sim::AnalyticalModel& model);
// The curves as a hardware sees them: with_storage_formats (coded options only with a decoder),
// then pin_unquantized.
RateDistortionCurves curves_for_hardware(RateDistortionCurves curves, const sim::AnalyticalModel& model);
// How many tensors curves_for_hardware() kept inside the datapath.
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
