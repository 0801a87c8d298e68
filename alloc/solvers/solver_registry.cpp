// The solver table, and the checks every allocation goes through.
#include <fmt/format.h>
#include <array>
#include <cmath>

#include "alloc/solvers/solver.h"
#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {

namespace {
constexpr std::array kSolvers = {
    SolverInfo{"equal", "the same bit width for every tensor: the widest that fits (the baseline)", SolverNeeds::Bits,
               SolverKind::SizeBudget, make_equal_solver},
    SolverInfo{"lagrangian",
               "seed 004: equal slopes on the lower convex hulls; best hull plan within budget, with the LP bound",
               SolverNeeds::Nothing, SolverKind::SizeBudget, make_lagrangian_solver},
    SolverInfo{"exact", "provable optimum of the discrete problem: DP lower bounds + branch and bound",
               SolverNeeds::Nothing, SolverKind::SizeBudget, make_exact_solver},
    SolverInfo{"sqnr", "seed 003: closed-form SQNR allocation (about 6 dB per bit, more bits for smaller tensors)",
               SolverNeeds::BitsAndCount, SolverKind::SizeBudget, make_sqnr_solver},
    SolverInfo{"sensitivity",
               "seed 001 post-training: fitted sensitivities, exact convex relaxation, budget-safe rounding",
               SolverNeeds::BitsAndCount, SolverKind::SizeBudget, make_sensitivity_solver},
    SolverInfo{"latency",
               "latency-aware, exact DP over the layer graph: allocate --min-rate R | --max-time T | --max-error E; in "
               "compare and study files: most images/s at equal's predicted error",
               SolverNeeds::Hardware, SolverKind::Latency, nullptr},
};
// The entries the accessors below name by position.
static_assert(kSolvers.front().make == make_equal_solver);
static_assert(kSolvers[1].make == make_lagrangian_solver);
static_assert(kSolvers.back().kind == SolverKind::Latency);
}  // namespace

std::span<const SolverInfo> solvers() { return kSolvers; }
const SolverInfo& equal_solver() { return kSolvers.front(); }
const SolverInfo& lagrangian_solver() { return kSolvers[1]; }
const SolverInfo& latency_solver() { return kSolvers.back(); }

const SolverInfo* solver_named(std::string_view name) {
  for (const auto& s : kSolvers)
    if (s.name == name) return &s;
  return nullptr;
}

std::string unknown_solver_message(std::string_view name) {
  std::vector<std::string> names;
  names.reserve(kSolvers.size());
  for (const auto& s : kSolvers) names.emplace_back(s.name);
  std::string msg = fmt::format("unknown solver '{}'", name);
  const std::string guess = did_you_mean(name, names);
  if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
  return msg + fmt::format("; expected one of: {}", fmt::join(names, ", "));
}

const SolverInfo& find_solver(std::string_view name) {
  if (const SolverInfo* s = solver_named(name)) return *s;
  throw InputError({}, "--solver: " + unknown_solver_message(name));
}

Allocation make_allocation(const RateDistortionCurves& curves, std::vector<int> choice) {
  Allocation a;
  a.choice = std::move(choice);
  for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
    const CurveOption& o = curves.tensors[i].options[static_cast<std::size_t>(a.choice[i])];
    a.rate_bits += o.rate_bits;
    a.distortion += o.distortion;
  }
  return a;
}

RateDistortionCurves whole_bits(const RateDistortionCurves& curves) {
  RateDistortionCurves out = curves;
  for (auto& t : out.tensors)
    for (auto& o : t.options) o.rate_bits = std::ceil(o.rate_bits);
  return out;
}

Allocation allocate(const RateDistortionCurves& curves, double budget_bits, const SolverInfo& solver) {
  if (curves.tensors.empty()) throw InputError({curves.source, 0, 0}, "no tensors in the curves");
  if (!std::isfinite(budget_bits) || budget_bits < 0)
    throw InputError({}, fmt::format("budget: expected a number of bits >= 0, got {}", budget_bits));
  // Whole bits: sums of rates are then exact in floating point, and "within budget" means it.
  RateDistortionCurves whole = whole_bits(curves);
  const double budget = std::floor(budget_bits);
  const double cheapest = whole.min_rate_bits();
  if (budget < cheapest) {
    const std::int64_t values = whole.total_values();
    throw InputError(
        {}, fmt::format("budget of {} bits is infeasible: the cheapest plan needs {} bits{}", budget, cheapest,
                        values > 0 ? fmt::format(" ({:.4g} bits per value)", cheapest / static_cast<double>(values))
                                   : std::string()));
  }
  BITSIM_CHECK(solver.kind == SolverKind::SizeBudget);
  // Tensors a fused datapath keeps on chip (curves_for_hardware) have nothing to choose: they are
  // taken out of (the rounded copy) `whole`, the solver sees the others, and the on-chip ones take
  // their one option (size 0, error 0: rate and distortion are the solver's).
  const std::size_t tensors = whole.tensors.size();
  std::vector<bool> on_chip(tensors);
  std::size_t kept = 0;
  for (std::size_t t = 0; t < tensors; ++t) {
    on_chip[t] = whole.tensors[t].on_chip();
    if (!on_chip[t] && kept++ != t) whole.tensors[kept - 1] = std::move(whole.tensors[t]);
  }
  whole.tensors.resize(kept);
  if (kept == 0) throw InputError({curves.source, 0, 0}, "no tensor in the curves is quantized");
  if (solver.needs == SolverNeeds::Bits || solver.needs == SolverNeeds::BitsAndCount)
    require_columns(whole, solver.name, solver.needs == SolverNeeds::BitsAndCount);
  Allocation a = solver.make()->solve(whole, budget);
  BITSIM_CHECK(a.choice.size() == kept);
  BITSIM_CHECK(a.rate_bits <= budget);
  if (kept == tensors) return a;
  std::vector<int> choice;
  choice.reserve(tensors);
  for (std::size_t t = 0, k = 0; t < tensors; ++t) choice.push_back(on_chip[t] ? 0 : a.choice[k++]);
  a.choice = std::move(choice);
  return a;
}

}  // namespace bitsim::alloc
