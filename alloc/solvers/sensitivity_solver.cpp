// Seed 001 (QBitOpt) in post-training form. Each tensor's curve is summarized by a sensitivity s_i
// in the model D_i(b) = s_i * 2^(-2b) (the 6 dB-per-bit law), fitted in the log domain over the
// tensor's Pareto-front options with positive distortion. The convex relaxation
//     minimize sum s_i 2^(-2 b_i)  subject to  sum n_i b_i <= budget,  lo_i <= b_i <= hi_i
// is solved exactly: by the KKT conditions b_i = clamp(0.5 log2(2 ln2 s_i / (lambda n_i))), with
// lambda found by bisection. Rounding then goes to real options and is guaranteed to meet the
// budget: every b_i rounded down to an offered width, tensors moved down (least distortion added per
// bit saved first) while the plan is over budget, then greedy upgrades on the real curves while it fits.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {
namespace {

class SensitivitySolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    const std::size_t n = curves.tensors.size();
    std::vector<std::map<int, int>> widths(n);
    std::vector<double> s(n, 0.0), lo(n), hi(n), count(n);
    for (std::size_t i = 0; i < n; ++i) {
      const TensorCurve& t = curves.tensors[i];
      widths[i] = best_option_per_bits(t);
      lo[i] = widths[i].begin()->first;
      hi[i] = widths[i].rbegin()->first;
      count[i] = static_cast<double>(t.count);
      double sum = 0;
      int points = 0;
      for (int f : pareto_front(t)) {
        const CurveOption& o = t.options[static_cast<std::size_t>(f)];
        if (o.distortion <= 0) continue;
        sum += std::log(o.distortion) + 2.0 * o.bits * std::log(2.0);
        ++points;
      }
      s[i] = points > 0 ? std::exp(sum / points) : 0.0;
    }
    // The relaxation.
    auto relaxed = [&](double lambda, std::size_t i) {
      if (s[i] <= 0) return lo[i];
      const double b = 0.5 * std::log2(2.0 * std::log(2.0) * s[i] / (lambda * count[i]));
      return std::clamp(b, lo[i], hi[i]);
    };
    auto relaxed_rate = [&](double lambda) {
      double r = 0;
      for (std::size_t i = 0; i < n; ++i) r += count[i] * relaxed(lambda, i);
      return r;
    };
    double log_lo = -700, log_hi = 700;  // lambda = exp(.)
    for (int iter = 0; iter < 200; ++iter) {
      const double mid = 0.5 * (log_lo + log_hi);
      if (relaxed_rate(std::exp(mid)) > budget_bits)
        log_lo = mid;
      else
        log_hi = mid;
    }
    const double lambda = std::exp(log_hi);
    std::vector<double> b(n);
    double relaxed_distortion = 0;
    for (std::size_t i = 0; i < n; ++i) {
      b[i] = relaxed(lambda, i);
      relaxed_distortion += s[i] * std::exp2(-2.0 * b[i]);
    }

    // Round down to offered widths.
    std::vector<int> choice(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto it = widths[i].upper_bound(static_cast<int>(std::floor(b[i] + 1e-9)));
      choice[i] = (it == widths[i].begin() ? it : std::prev(it))->second;
    }
    double rate = total_rate(curves, choice);
    // Over budget (entropy-coded rates are not n_i * b_i): move down where it hurts least.
    const std::vector<int> cheapest = cheapest_choice(curves);
    while (rate > budget_bits) {
      double best_cost = INFINITY;
      std::size_t best_i = n;
      int best_option = -1;
      for (std::size_t i = 0; i < n; ++i) {
        const auto& opts = curves.tensors[i].options;
        const CurveOption& cur = opts[static_cast<std::size_t>(choice[i])];
        auto it = widths[i].find(cur.bits);
        int down = it != widths[i].end() && it != widths[i].begin() ? std::prev(it)->second : cheapest[i];
        if (opts[static_cast<std::size_t>(down)].rate_bits >= cur.rate_bits) down = cheapest[i];
        const CurveOption& d = opts[static_cast<std::size_t>(down)];
        const double saved = cur.rate_bits - d.rate_bits;
        if (saved <= 0) continue;
        const double cost = (d.distortion - cur.distortion) / saved;
        if (cost < best_cost) {
          best_cost = cost;
          best_i = i;
          best_option = down;
        }
      }
      BITSIM_CHECK(best_i < n);  // the cheapest plan fits, so a move down always exists
      rate -= curves.tensors[best_i].options[static_cast<std::size_t>(choice[best_i])].rate_bits -
              curves.tensors[best_i].options[static_cast<std::size_t>(best_option)].rate_bits;
      choice[best_i] = best_option;
    }
    greedy_upgrade(curves, choice, budget_bits);
    Allocation a = make_allocation(curves, std::move(choice));
    a.details.emplace_back("lambda", lambda);
    a.details.emplace_back("relaxed_model_distortion", relaxed_distortion);
    a.details.emplace_back("unused_bits", budget_bits - a.rate_bits);
    return a;
  }
};

}  // namespace

std::unique_ptr<Solver> make_sensitivity_solver() { return std::make_unique<SensitivitySolver>(); }

}  // namespace bitsim::alloc
