// The exact optimum of the multiple-choice knapsack: minimize the summed distortion, one option per
// tensor, total rate within the budget (rates in whole bits, see allocate()).
//
// 1. Options off a tensor's Pareto front are never needed and are dropped.
// 2. Reduced-cost fixing: with the Lagrangian multiplier lambda of the best hull plan, every
//    feasible plan x has D(x) >= L(lambda) + sum_i rc_i(x_i), where L is the dual bound (the LP
//    bound) and rc_i(o) = d_o + lambda r_o - min_o' (d_o' + lambda r_o') >= 0. An option whose
//    reduced cost alone exceeds incumbent - L cannot be in a better plan and is dropped; usually
//    only a few options per tensor survive.
// 3. On the survivors, a DP over the remaining budget above each tensor's cheapest survivor, on a
//    grid of at most 2^15 cells with rates rounded DOWN to whole cells, gives for every suffix of
//    tensors and every remaining budget a lower bound on the distortion still to come (any plan
//    that fits the real budget fits the rounded one). When the rates and budget are integers on a
//    grid that fits, the cell is 1 bit (or a common divisor) and the bound is exact.
// 4. Depth-first branch and bound, best bound first, from the Lagrangian plan plus greedy upgrades
//    as the incumbent, prunes every branch whose bound (the larger of the DP bound and the
//    reduced-cost bound) cannot beat the incumbent. Tensors with identical surviving options (the
//    repeated blocks of a ResNet) are searched in one canonical order only: within such a group
//    the chosen option may not decrease, which every plan satisfies after a permutation inside the
//    group. Tensors with the widest rate spread come first. A node limit guards the worst case: if
//    it is reached, the best plan found is returned with its lower bound and is not called optimal.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {
namespace {

constexpr std::int64_t kMaxCells = 1 << 15;
constexpr std::int64_t kNodeLimit = 20'000'000;

struct Item {
  double rate;  // above the tensor's cheapest surviving option
  double distortion;
  double reduced_cost;
  std::int64_t cells;  // `rate` rounded down to grid cells
  int option;
};

class BranchAndBound {
 public:
  // `same_as_previous[i]`: tensor i's items equal tensor i-1's (symmetry breaking applies).
  BranchAndBound(std::vector<std::vector<Item>> items, std::vector<bool> same_as_previous, double capacity,
                 double cell_bits, std::int64_t cells, double dual_bound)
      : m_items(std::move(items)),
        m_same(std::move(same_as_previous)),
        m_capacity(capacity),
        m_cell(cell_bits),
        m_cells(cells),
        m_dual(dual_bound) {
    const std::size_t n = m_items.size();
    const auto width = static_cast<std::size_t>(cells + 1);
    m_bound.assign((n + 1) * width, 0.0);
    for (std::size_t i = n; i-- > 0;) {
      double* row = &m_bound[i * width];
      const double* next = &m_bound[(i + 1) * width];
      for (std::int64_t c = 0; c <= cells; ++c) {
        double best = INFINITY;
        for (const Item& it : m_items[i])
          if (it.cells <= c) best = std::min(best, it.distortion + next[c - it.cells]);
        row[c] = best;
      }
    }
    m_choice.assign(n, 0);
    m_position.assign(n, 0);
  }

  double root_bound() const { return std::max(bound(0, m_capacity), m_dual); }

  // Looks for a plan better than `best_distortion`; false if the node limit stopped the search.
  bool search(std::vector<int>& best_choice, double& best_distortion) {
    m_best = &best_choice;
    m_best_distortion = best_distortion;
    m_nodes = 0;
    dive(0, m_capacity, 0.0, 0.0);
    best_distortion = m_best_distortion;
    return m_nodes < kNodeLimit;
  }

  std::int64_t nodes() const { return m_nodes; }

 private:
  double bound(std::size_t i, double remaining) const {
    // (+1e-9 cell: rounding noise in `remaining` may only loosen the bound, never tighten it)
    const auto c =
        std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(remaining / m_cell + 1e-9)), 0, m_cells);
    return m_bound[i * static_cast<std::size_t>(m_cells + 1) + static_cast<std::size_t>(c)];
  }

  void dive(std::size_t i, double remaining, double distortion, double reduced) {
    if (++m_nodes >= kNodeLimit) return;
    if (i == m_items.size()) {
      if (distortion < m_best_distortion) {
        m_best_distortion = distortion;
        *m_best = m_choice;
      }
      return;
    }
    std::vector<std::pair<double, std::size_t>> order;
    const std::size_t first = i > 0 && m_same[i] ? m_position[i - 1] : 0;
    for (std::size_t k = first; k < m_items[i].size(); ++k) {
      const Item& it = m_items[i][k];
      if (it.rate > remaining) continue;
      const double by_dp = distortion + it.distortion + bound(i + 1, remaining - it.rate);
      const double by_dual = m_dual + reduced + it.reduced_cost;
      order.emplace_back(std::max(by_dp, by_dual), k);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [b, k] : order) {
      // A relative margin keeps summation noise from pruning an equal-or-better plan.
      if (b >= m_best_distortion - 1e-12 * std::fabs(m_best_distortion)) return;
      const Item& it = m_items[i][k];
      m_choice[i] = it.option;
      m_position[i] = k;
      dive(i + 1, remaining - it.rate, distortion + it.distortion, reduced + it.reduced_cost);
      if (m_nodes >= kNodeLimit) return;
    }
  }

  std::vector<std::vector<Item>> m_items;
  std::vector<bool> m_same;
  double m_capacity;
  double m_cell;
  std::int64_t m_cells;
  double m_dual;
  std::vector<double> m_bound;  // (n + 1) x (cells + 1)
  std::vector<int> m_choice;
  std::vector<std::size_t> m_position;  // index into m_items[i] of the current choice
  std::vector<int>* m_best = nullptr;
  double m_best_distortion = INFINITY;
  std::int64_t m_nodes = 0;
};

double detail(const Allocation& a, const std::string& key, double fallback) {
  for (const auto& [k, v] : a.details)
    if (k == key) return std::holds_alternative<double>(v) ? std::get<double>(v) : fallback;
  return fallback;
}

class ExactSolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    const Allocation hull = lagrangian_solver().make()->solve(curves, budget_bits);
    std::vector<int> best = hull.choice;
    greedy_upgrade(curves, best, budget_bits);
    double best_distortion = make_allocation(curves, best).distortion;
    const double lambda = detail(hull, "lambda", 0.0);
    const double dual = detail(hull, "lp_bound", hull.distortion);

    // Reduced-cost fixing on the Pareto fronts.
    std::vector<std::vector<Item>> items;
    double capacity = budget_bits;
    std::size_t kept = 0, total = 0;
    bool integer_rates = true;
    for (const auto& t : curves.tensors) {
      const std::vector<int> front = pareto_front(t);
      double min_value = INFINITY;
      for (int f : front) {
        const CurveOption& o = t.options[static_cast<std::size_t>(f)];
        min_value = std::min(min_value, o.distortion + lambda * o.rate_bits);
      }
      auto& list = items.emplace_back();
      for (int f : front) {
        const CurveOption& o = t.options[static_cast<std::size_t>(f)];
        const double rc = o.distortion + lambda * o.rate_bits - min_value;
        ++total;
        if (dual + rc > best_distortion * (1 + 1e-12) + 1e-300) continue;
        list.push_back({o.rate_bits, o.distortion, rc, 0, f});
        integer_rates = integer_rates && o.rate_bits == std::floor(o.rate_bits);
      }
      // The incumbent's own option always survives (its reduced costs sum to at most the gap).
      double base = INFINITY;
      for (const Item& it : list) base = std::min(base, it.rate);
      for (Item& it : list) it.rate -= base;
      capacity -= base;
      kept += list.size();
    }
    const bool unit_grid = integer_rates && capacity <= kMaxCells;
    const std::int64_t cells = unit_grid ? static_cast<std::int64_t>(std::floor(capacity)) : kMaxCells;
    const double cell_bits = unit_grid ? 1.0 : std::max(capacity, 1.0) / kMaxCells;
    for (auto& list : items)
      for (Item& it : list) it.cells = static_cast<std::int64_t>(std::floor(it.rate / cell_bits));

    // Search order: widest rate spread first; identical option lists next to each other.
    auto key = [&](std::size_t i) {
      std::vector<std::pair<double, double>> k;
      for (const Item& it : items[i]) k.emplace_back(it.rate, it.distortion);
      return k;
    };
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::vector<std::vector<std::pair<double, double>>> keys;
    for (std::size_t i = 0; i < items.size(); ++i) keys.push_back(key(i));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      const double sx = items[x].empty() ? 0 : items[x].back().rate, sy = items[y].empty() ? 0 : items[y].back().rate;
      if (sx != sy) return sx > sy;
      return keys[x] < keys[y];
    });
    std::vector<std::vector<Item>> ordered;
    std::vector<bool> same;
    for (std::size_t k = 0; k < order.size(); ++k) {
      same.push_back(k > 0 && keys[order[k]] == keys[order[k - 1]]);
      ordered.push_back(std::move(items[order[k]]));
    }
    // The incumbent in search order, so that the search can report improvements in it.
    std::vector<int> best_ordered;
    best_ordered.reserve(order.size());
    for (const std::size_t i : order) best_ordered.push_back(best[i]);

    BranchAndBound bb(std::move(ordered), std::move(same), capacity, cell_bits, cells, dual);
    const double lower_bound = bb.root_bound();
    const bool finished = bb.search(best_ordered, best_distortion);
    for (std::size_t k = 0; k < order.size(); ++k) best[order[k]] = best_ordered[k];

    Allocation a = make_allocation(curves, best);
    a.proven_optimal = finished;
    a.details.emplace_back("lower_bound", finished ? a.distortion : lower_bound);
    a.details.emplace_back("options_after_reduced_cost_fixing", fmt::format("{} of {}", kept, total));
    a.details.emplace_back(
        "grid", unit_grid ? std::string("exact (1 bit per cell)")
                          : fmt::format("{} cells of {:.6g} bits (rates rounded down for bounds)", cells, cell_bits));
    a.details.emplace_back("nodes", static_cast<std::int64_t>(bb.nodes()));
    a.details.emplace_back("unused_bits", budget_bits - a.rate_bits);
    if (!finished) a.details.emplace_back("status", "node limit reached: best plan found, not proven optimal");
    return a;
  }
};

}  // namespace

std::unique_ptr<Solver> make_exact_solver() { return std::make_unique<ExactSolver>(); }

}  // namespace bitsim::alloc
