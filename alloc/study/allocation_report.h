// What `bitsim allocate` reports about one allocation, as one Record (base/table.h) and one table of
// choices, so that every front end (the CLI's text, CSV and JSON; later the Python module) shows the
// same fields.
#pragma once

#include <optional>
#include <string>

#include "alloc/curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/measure.h"
#include "sim/base/table.h"
#include "sim/energy.h"
#include "sim/hw_config.h"

namespace bitsim::study {

struct AllocationOutcome {
  const alloc::SolverInfo* solver = nullptr;
  std::string goal;   // the latency target, or "budget N bits"
  double budget = 0;  // bits; infinite when a latency target has no size budget
  const alloc::RateDistortionCurves* curves = nullptr;
  alloc::Allocation allocation;
  alloc::PlanScore score;             // simulated when hw is set
  std::string engine = "analytical";  // which model `score.simulated` comes from
  const sim::HardwareConfig* hw = nullptr;
  int batch = 1;
  sim::EnergyBreakdown energy;              // per batch, of the simulated plan (sim/energy.h)
  sim::AreaBreakdown area;                  // of hw
  std::optional<PlanMeasurement> measured;  // with a trained model
  std::string eval_data;                    // where it was measured
  std::string plan_path;                    // where the plan was written, if it was
};

// solver, goal, budget, curves and their provenance, rate, error, sizes, the solver's details, the
// hardware (every parameter), simulated rate, bottlenecks, energy per image and area, measured error, the plan file.
Record allocation_record(const AllocationOutcome& o);

// Per tensor: the chosen option, its bits, rate and distortion.
Table choices_table(const alloc::RateDistortionCurves& curves, const alloc::Allocation& allocation);

}  // namespace bitsim::study
