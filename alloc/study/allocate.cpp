// One allocation, as `bitsim allocate` makes it (allocate.h).
#include "alloc/study/allocate.h"

#include <fmt/format.h>
#include <cmath>

#include "alloc/plan_score.h"
#include "alloc/solvers/latency_solver.h"
#include "sim/base/diagnostics.h"
#include "sim/base/units.h"
#include "sim/energy.h"

namespace bitsim::study {

alloc::RateDistortionCurves curves_to_solve(alloc::RateDistortionCurves curves, const sim::AnalyticalModel* model) {
  return model ? alloc::curves_for_hardware(std::move(curves), *model)
               : alloc::with_storage_formats(std::move(curves), true);
}

PlannedAllocation allocate_plan(const alloc::RateDistortionCurves& curves, const alloc::SolverInfo& solver,
                                const AllocationGoal& goal, const sim::Network* net, const sim::AnalyticalModel* model,
                                const std::function<void(std::string_view)>& note) {
  PlannedAllocation out;
  AllocationOutcome& o = out.outcome;
  if (model) net = &model->network();
  o.solver = &solver;
  o.curves = &curves;
  o.budget = goal.budget_bits;
  o.hw = model ? &model->hardware() : nullptr;
  o.batch = model ? model->batch() : 1;
  const int default_bits = model ? static_cast<int>(model->hardware().native_bits) : 8;
  const bool systemc = goal.latency() && goal.engine == sim::Engine::SystemC;
  if (goal.latency()) {
    if (!model) throw InputError({}, "a latency target needs the hardware and the network");
    BITSIM_CHECK(!systemc || goal.detailed);
    alloc::LatencyGoal target;
    target.budget_bits = goal.budget_bits;
    const double batch = model->batch();
    if (goal.max_error) {
      target.objective = alloc::LatencyObjective::MinTime;
      target.max_error = *goal.max_error;
      o.goal = fmt::format("most images/s at predicted error <= {:.6g}", *goal.max_error);
    } else if (goal.max_time_per_image_s) {
      target.objective = alloc::LatencyObjective::MinError;
      target.max_time_s = *goal.max_time_per_image_s * batch;
      o.goal = fmt::format("least predicted error at <= {} per image",
                           format_quantity(*goal.max_time_per_image_s, Dimension::Seconds));
    } else {
      target.objective = alloc::LatencyObjective::MinError;
      target.max_time_s = batch / *goal.min_rate_per_s;
      o.goal = fmt::format("least predicted error at >= {:.6g} images/s", *goal.min_rate_per_s);
    }
    if (std::isfinite(goal.budget_bits)) o.goal += fmt::format(", size <= {} bits", goal.budget_bits);
    if (!systemc) {
      o.allocation = alloc::allocate_for_latency(curves, *model, default_bits, target).allocation;
    } else {
      o.goal += ", timed by the SystemC engine";
      const alloc::RefinedAllocation r =
          alloc::refine_for_latency(curves, *model, default_bits, target, [&](const sim::BitPlan& plan) {
            if (note) note("latency: timing a plan with the SystemC engine");
            return goal.detailed(plan).time_s;
          });
      if (!r.met) {
        out.unmet = fmt::format(
            "no plan met the target under the SystemC engine after {} rounds (the fastest tried takes {:.6g} s "
            "per batch, {:.6g} images/s)",
            r.rounds, r.timed_s, batch / r.timed_s);
        return out;
      }
      o.allocation = r.result.allocation;
    }
  } else {
    o.allocation = alloc::allocate(curves, goal.budget_bits, solver);
    o.goal = fmt::format("budget {} bits", goal.budget_bits);
  }
  if (net)
    out.plan = alloc::to_bit_plan(*net, curves, o.allocation, default_bits, fmt::format("{}: {}", solver.name, o.goal));
  o.score = alloc::score_plan(curves, o.allocation, model, out.plan ? &*out.plan : nullptr);
  if (systemc) {  // the rate the plan was timed at
    o.score.simulated = goal.detailed(*out.plan);
    o.engine = std::string(sim::kEngineNames.name(sim::Engine::SystemC));
  }
  if (!systemc && o.score.simulated && !o.score.simulated->feasible)
    throw InputError({}, "the plan is infeasible on this hardware: " + o.score.simulated->reason);
  if (o.score.simulated && o.score.simulated->feasible && model && out.plan) {
    o.energy = sim::inference_energy(*model, *out.plan, *o.score.simulated);
    o.area = sim::chip_area(model->hardware());
  }
  return out;
}

}  // namespace bitsim::study
