// Seed 003 (Lin, Talathi & Annapureddy): closed-form bit widths from an SQNR model. Each bit adds
// kappa = 6.02 dB of SQNR; with equal weight on every tensor's quantization noise, minimizing the
// total size for a given output SQNR gives
//     b_i - b_j = (10 log10 2 / kappa) * log2(n_j / n_i)  ~=  0.5 * log2(n_j / n_i),
// i.e. b_i = c - 0.5 * log2(n_i): more bits for tensors with fewer values. It uses no distortion
// data, only the value counts. The offset c is the largest for which the plan, with every b_i
// rounded down to a width the tensor offers, fits the budget (the rounded rate grows with c, so a
// bisection finds it); the leftover budget then raises, one width at a time, the tensors with the
// largest fractional parts, as long as the budget holds.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {
namespace {

constexpr double kKappaDb = 6.02;
const double kBitsPerLog2Size = 10.0 * std::log10(2.0) / kKappaDb;

class SqnrSolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    const std::size_t n = curves.tensors.size();
    std::vector<std::map<int, int>> widths(n);
    for (std::size_t i = 0; i < n; ++i) widths[i] = best_option_per_bits(curves.tensors[i]);
    auto ideal = [&](std::size_t i, double c) {
      return c - kBitsPerLog2Size * std::log2(static_cast<double>(curves.tensors[i].count));
    };
    // The widest offered width <= b (the narrowest when none is).
    auto round_down = [&](std::size_t i, double b) {
      auto it = widths[i].upper_bound(static_cast<int>(std::floor(b)));
      return it == widths[i].begin() ? widths[i].begin() : std::prev(it);
    };
    auto plan = [&](double c) {
      std::vector<int> choice;
      for (std::size_t i = 0; i < n; ++i) choice.push_back(round_down(i, ideal(i, c))->second);
      return choice;
    };
    double lo = -64, hi = 128;  // c such that every tensor is at its narrowest / widest width
    for (std::size_t i = 0; i < n; ++i)
      hi = std::max(hi, 64 + kBitsPerLog2Size * std::log2(double(curves.tensors[i].count)));
    std::vector<int> choice = plan(lo);
    if (total_rate(curves, choice) > budget_bits) {
      // Even the narrowest widths do not fit (possible with entropy-coded rates): start from the
      // cheapest options instead.
      choice = cheapest_choice(curves);
    } else {
      for (int iter = 0; iter < 200 && hi - lo > 1e-9; ++iter) {
        const double mid = 0.5 * (lo + hi);
        if (total_rate(curves, plan(mid)) <= budget_bits)
          lo = mid;
        else
          hi = mid;
      }
      choice = plan(lo);
      // Leftover budget: one more width for the largest fractional parts first.
      std::vector<std::pair<double, std::size_t>> order;
      for (std::size_t i = 0; i < n; ++i) {
        const double b = ideal(i, lo);
        order.emplace_back(-(b - std::floor(b)), i);
      }
      std::sort(order.begin(), order.end());
      double rate = total_rate(curves, choice);
      for (const auto& [frac, i] : order) {
        const auto cur = round_down(i, ideal(i, lo));
        const auto up = std::next(cur);
        if (up == widths[i].end()) continue;
        const auto& opts = curves.tensors[i].options;
        const double added = opts[static_cast<std::size_t>(up->second)].rate_bits -
                             opts[static_cast<std::size_t>(cur->second)].rate_bits;
        if (rate + added <= budget_bits) {
          rate += added;
          choice[i] = up->second;
        }
      }
    }
    Allocation a = make_allocation(curves, std::move(choice));
    a.details.emplace_back("offset_c", lo);
    a.details.emplace_back("kappa_db_per_bit", kKappaDb);
    a.details.emplace_back("unused_bits", budget_bits - a.rate_bits);
    return a;
  }
};

}  // namespace

std::unique_ptr<Solver> make_sqnr_solver() { return std::make_unique<SqnrSolver>(); }

}  // namespace bitsim::alloc
