// The exact optimum of the multiple-choice knapsack: minimize the summed distortion, one option per
// tensor, total rate within the budget.
//
// 1. Options off a tensor's Pareto front are never needed and are dropped.
// 2. A DP over a budget grid of G cells (u = budget / G bits per cell) with every rate rounded DOWN
//    to whole cells gives, for each suffix of tensors and each remaining budget, a lower bound on
//    the distortion still to come: any plan that fits the real budget also fits the rounded one.
//    When all rates and the budget are integers with a common divisor fine enough, u is that
//    divisor and the bound is exact.
// 3. Depth-first branch and bound over the tensors, best bound first, from the Lagrangian plan plus
//    greedy upgrades as the incumbent, prunes every branch whose bound cannot beat the incumbent.
//    With a node limit that is never reached on the tests here; if it is, the best plan found is
//    returned with the bound, not called optimal.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "alloc/solver_util.h"
#include "alloc/solvers.h"

namespace bitsim::alloc {
namespace {

constexpr std::int64_t kMaxCells = 1 << 15;
constexpr std::int64_t kNodeLimit = 50'000'000;

struct Item {
  double rate;
  double distortion;
  std::int64_t cells;  // rate rounded down to grid cells
  int option;
};

class BranchAndBound {
 public:
  BranchAndBound(std::vector<std::vector<Item>> items, double budget, double cell_bits, std::int64_t cells)
      : m_items(std::move(items)), m_budget(budget), m_cell(cell_bits), m_cells(cells) {
    const std::size_t n = m_items.size();
    m_bound.assign((n + 1) * static_cast<std::size_t>(cells + 1), 0.0);
    for (std::size_t i = n; i-- > 0;) {
      double* row = &m_bound[i * static_cast<std::size_t>(cells + 1)];
      const double* next = &m_bound[(i + 1) * static_cast<std::size_t>(cells + 1)];
      for (std::int64_t c = 0; c <= cells; ++c) {
        double best = INFINITY;
        for (const Item& it : m_items[i])
          if (it.cells <= c) best = std::min(best, it.distortion + next[c - it.cells]);
        row[c] = best;
      }
    }
    m_choice.assign(n, 0);
  }

  double root_bound() const { return bound(0, m_budget); }

  // Searches for a plan better than `incumbent` (option per tensor, distortion); returns whether the
  // search finished (true) or hit the node limit.
  bool search(std::vector<int>& best_choice, double& best_distortion) {
    m_best = &best_choice;
    m_best_distortion = best_distortion;
    m_nodes = 0;
    dive(0, m_budget, 0.0);
    best_distortion = m_best_distortion;
    return m_nodes < kNodeLimit;
  }

  std::int64_t nodes() const { return m_nodes; }

 private:
  double bound(std::size_t i, double remaining) const {
    const auto c = std::min<std::int64_t>(m_cells, static_cast<std::int64_t>(std::floor(remaining / m_cell + 1e-9)));
    // (+1e-9 cell: rounding noise in `remaining` may only loosen the bound, never tighten it)
    return m_bound[i * static_cast<std::size_t>(m_cells + 1) + static_cast<std::size_t>(std::max<std::int64_t>(c, 0))];
  }

  void dive(std::size_t i, double remaining, double distortion) {
    if (++m_nodes >= kNodeLimit) return;
    if (i == m_items.size()) {
      if (distortion < m_best_distortion) {
        m_best_distortion = distortion;
        *m_best = m_choice;
      }
      return;
    }
    // Children in order of their bound; prune against the incumbent (a relative margin keeps
    // rounding noise in the sums from pruning an equal-or-better plan).
    std::vector<std::pair<double, std::size_t>> order;
    for (std::size_t k = 0; k < m_items[i].size(); ++k) {
      const Item& it = m_items[i][k];
      if (it.rate > remaining) continue;
      order.emplace_back(distortion + it.distortion + bound(i + 1, remaining - it.rate), k);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [b, k] : order) {
      if (b >= m_best_distortion * (1 - 1e-12) - 1e-300) return;
      const Item& it = m_items[i][k];
      m_choice[i] = it.option;
      dive(i + 1, remaining - it.rate, distortion + it.distortion);
      if (m_nodes >= kNodeLimit) return;
    }
  }

  std::vector<std::vector<Item>> m_items;
  double m_budget;
  double m_cell;
  std::int64_t m_cells;
  std::vector<double> m_bound;  // (n + 1) x (cells + 1)
  std::vector<int> m_choice;
  std::vector<int>* m_best = nullptr;
  double m_best_distortion = INFINITY;
  std::int64_t m_nodes = 0;
};

// A common divisor of all rates and the budget when they are integers, else 0.
std::int64_t integer_unit(const RateDistortionCurves& curves, double budget) {
  auto as_int = [](double v) -> std::int64_t {
    return v == std::floor(v) && v < 9e15 ? static_cast<std::int64_t>(v) : -1;
  };
  std::int64_t g = as_int(std::floor(budget));
  for (const auto& t : curves.tensors)
    for (const auto& o : t.options) {
      const std::int64_t r = as_int(o.rate_bits);
      if (r < 0) return 0;
      g = std::gcd(g, r);
    }
  return g;
}

class ExactSolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    // Incumbent: the Lagrangian plan, improved greedily.
    Allocation start = find_solver("lagrangian").make()->solve(curves, budget_bits);
    std::vector<int> best = start.choice;
    greedy_upgrade(curves, best, budget_bits);
    double best_distortion = make_allocation(curves, best).distortion;

    const std::int64_t unit = integer_unit(curves, budget_bits);
    const bool exact_grid = unit > 0 && std::floor(budget_bits) / static_cast<double>(unit) <= kMaxCells;
    const std::int64_t cells = exact_grid ? static_cast<std::int64_t>(std::floor(budget_bits)) / unit : kMaxCells;
    const double cell_bits = exact_grid ? static_cast<double>(unit) : std::max(budget_bits, 1.0) / kMaxCells;

    std::vector<std::vector<Item>> items;
    for (const auto& t : curves.tensors) {
      auto& list = items.emplace_back();
      for (int f : pareto_front(t)) {
        const CurveOption& o = t.options[static_cast<std::size_t>(f)];
        list.push_back({o.rate_bits, o.distortion, static_cast<std::int64_t>(std::floor(o.rate_bits / cell_bits)), f});
      }
    }
    BranchAndBound bb(std::move(items), budget_bits, cell_bits, cells);
    const double lower_bound = bb.root_bound();
    const bool finished = bb.search(best, best_distortion);

    Allocation a = make_allocation(curves, best);
    a.proven_optimal = finished;
    a.details.emplace_back("lower_bound", fmt::format("{}", lower_bound));
    a.details.emplace_back(
        "grid", exact_grid ? fmt::format("exact, {} bits per cell", unit)
                           : fmt::format("{} cells of {} bits (rates rounded down for bounds)", cells, cell_bits));
    a.details.emplace_back("nodes", fmt::format("{}", bb.nodes()));
    a.details.emplace_back("unused_bits", fmt::format("{}", budget_bits - a.rate_bits));
    if (!finished) a.details.emplace_back("status", "node limit reached: best plan found, not proven optimal");
    return a;
  }
};

}  // namespace

std::unique_ptr<Solver> make_exact_solver() { return std::make_unique<ExactSolver>(); }

}  // namespace bitsim::alloc
