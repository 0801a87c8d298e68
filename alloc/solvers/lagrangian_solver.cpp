// Seed 004's Pareto-optimal allocation: at the optimum of the Lagrangian D + lambda R every tensor
// sits where its curve's slope equals -lambda (eq. 7), which is only possible on the lower convex
// hulls. Instead of enumerating lambda, the hull segments of all tensors are merged by decreasing
// slope and taken while they fit (the hull-merge form of the same search: every prefix is the
// Lagrangian solution for some lambda). The result is the best hull plan within the budget; the
// next segment, taken fractionally, gives the LP lower bound, so the duality gap is reported.
#include <fmt/format.h>
#include <algorithm>

#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {
namespace {

struct Segment {
  double slope;  // distortion saved per added bit
  double added_rate;
  double saved_distortion;
  std::size_t tensor;
  int to;  // option index at the segment's end
  int step;
};

// Lower convex hull of a Pareto front (indices by increasing rate).
std::vector<int> lower_hull(const TensorCurve& t, const std::vector<int>& front) {
  std::vector<int> hull;
  auto r = [&](int i) { return t.options[static_cast<std::size_t>(i)].rate_bits; };
  auto d = [&](int i) { return t.options[static_cast<std::size_t>(i)].distortion; };
  for (int p : front) {
    while (hull.size() >= 2) {
      const int a = hull[hull.size() - 2], b = hull.back();
      // b lies on or above the chord a-p: drop it.
      if ((d(b) - d(a)) * (r(p) - r(a)) >= (d(p) - d(a)) * (r(b) - r(a)))
        hull.pop_back();
      else
        break;
    }
    hull.push_back(p);
  }
  return hull;
}

class LagrangianSolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    std::vector<int> choice;
    std::vector<Segment> segments;
    for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
      const TensorCurve& t = curves.tensors[i];
      const std::vector<int> hull = lower_hull(t, pareto_front(t));
      choice.push_back(hull.front());
      for (std::size_t k = 1; k < hull.size(); ++k) {
        const CurveOption& a = t.options[static_cast<std::size_t>(hull[k - 1])];
        const CurveOption& b = t.options[static_cast<std::size_t>(hull[k])];
        const double dr = b.rate_bits - a.rate_bits, dd = a.distortion - b.distortion;
        segments.push_back({dd / dr, dr, dd, i, hull[k], static_cast<int>(k)});
      }
    }
    std::sort(segments.begin(), segments.end(), [](const Segment& x, const Segment& y) {
      if (x.slope != y.slope) return x.slope > y.slope;
      if (x.tensor != y.tensor) return x.tensor < y.tensor;
      return x.step < y.step;
    });
    double rate = total_rate(curves, choice);
    const Segment* next = nullptr;
    for (const Segment& s : segments) {
      if (rate + s.added_rate > budget_bits) {
        next = &s;
        break;
      }
      rate += s.added_rate;
      choice[s.tensor] = s.to;
    }
    Allocation a = make_allocation(curves, std::move(choice));
    const double unused = budget_bits - a.rate_bits;
    if (next == nullptr) {
      a.proven_optimal = true;  // every tensor at its best option
      a.details.emplace_back("lambda", 0.0);
      a.details.emplace_back("lp_bound", a.distortion);
    } else {
      const double lp_bound = a.distortion - next->saved_distortion * (unused / next->added_rate);
      a.details.emplace_back("lambda", next->slope);
      a.details.emplace_back("lp_bound", lp_bound);
      a.details.emplace_back("duality_gap", a.distortion - lp_bound);
      a.details.emplace_back(
          "next_hull_vertex",
          fmt::format("{} option '{}' (+{} bits)", curves.tensors[next->tensor].tensor,
                      curves.tensors[next->tensor].options[static_cast<std::size_t>(next->to)].name, next->added_rate));
      a.proven_optimal = unused == 0;
    }
    a.details.emplace_back("unused_bits", unused);
    return a;
  }
};

}  // namespace

std::unique_ptr<Solver> make_lagrangian_solver() { return std::make_unique<LagrangianSolver>(); }

}  // namespace bitsim::alloc
