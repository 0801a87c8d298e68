// Bit allocation solvers: choose one option per tensor so that the total rate stays within a budget
// and the summed distortion (additive, seed 004 eq. 4) is as small as the method can make it.
// Solvers are an open set: one interface, one registry table (`bitsim list solvers`).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alloc/curves.h"
#include "sim/base/table.h"

namespace bitsim::alloc {

struct Allocation {
  std::vector<int> choice;  // option index per tensor, in curves order
  double rate_bits = 0;     // sum of the chosen options' rate_bits; never above the budget
  double distortion = 0;    // sum of the chosen options' distortion (the additive prediction)
  bool proven_optimal = false;
  // Solver-specific figures for the report, e.g. {"lambda", 0.0012}, {"lp_bound", ...}: numbers stay
  // numbers (JSON, CSV) and print to 4 significant digits in text.
  std::vector<std::pair<std::string, Cell>> details;
};

class Solver {
 public:
  virtual ~Solver() = default;
  // `budget_bits` is at least curves.min_rate_bits() (checked by allocate()).
  virtual Allocation solve(const RateDistortionCurves& curves, double budget_bits) const = 0;
};

// What a solver optimizes. SizeBudget solvers implement Solver (least error within a size budget);
// the Latency one is alloc/solvers/latency_solver.h, which also needs the hardware and the network.
enum class SolverKind { SizeBudget, Latency };

// What a solver needs beyond the required curve columns; allocate() checks the columns.
enum class SolverNeeds { Nothing, Bits, BitsAndCount, Hardware };
inline constexpr NameTable kSolverNeedsNames{
    std::array{NamedValue<SolverNeeds>{SolverNeeds::Nothing, "-"}, NamedValue<SolverNeeds>{SolverNeeds::Bits, "bits"},
               NamedValue<SolverNeeds>{SolverNeeds::BitsAndCount, "bits, count"},
               NamedValue<SolverNeeds>{SolverNeeds::Hardware, "--hw"}}};
static_assert(kSolverNeedsNames.complete());

struct SolverInfo {
  std::string_view name;
  std::string_view description;
  SolverNeeds needs = SolverNeeds::Nothing;
  SolverKind kind = SolverKind::SizeBudget;
  std::unique_ptr<Solver> (*make)() = nullptr;  // SizeBudget solvers only
};

// Every solver, the latency-aware one last: `bitsim list solvers` prints this table.
std::span<const SolverInfo> solvers();
// The solver called `name`, or nullptr.
const SolverInfo* solver_named(std::string_view name);
// "unknown solver 'x' (did you mean 'y'?); expected one of: ...", for a name solver_named() refused.
std::string unknown_solver_message(std::string_view name);
// solver_named(), or an InputError "--solver: " + unknown_solver_message(name).
const SolverInfo& find_solver(std::string_view name);
// The baseline every comparison is made against (equal bits per tensor), seed 004's own method
// (the default of study files), and the latency-aware one.
const SolverInfo& equal_solver();
const SolverInfo& lagrangian_solver();
const SolverInfo& latency_solver();

// Rounds every rate up and the budget down to whole bits (so that sums are exact and a plan within
// budget is within it without rounding), checks the budget (an InputError names the cheapest plan
// when it is infeasible), runs the solver, and checks that the result respects the budget.
// `solver` is a SizeBudget one.
Allocation allocate(const RateDistortionCurves& curves, double budget_bits, const SolverInfo& solver);

// Sums rate and distortion of `choice` into a complete Allocation.
Allocation make_allocation(const RateDistortionCurves& curves, std::vector<int> choice);

}  // namespace bitsim::alloc
