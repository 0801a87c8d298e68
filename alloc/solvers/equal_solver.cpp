// Equal allocation (the baseline of seed 004's Table 3): every tensor at the same fixed-length bit
// width, the widest one that fits the budget. Per tensor, the option with that width and the lowest
// distortion is taken (with modelled curves: the MSE-optimal step and dead zone at that width).
// Where the curves offer storage formats (with_storage_formats), equal stores fixed length, as the
// paper's equal does ("a fixed number of bits", Table 3).
#include <fmt/format.h>
#include <set>

#include "alloc/solvers/solver_util.h"
#include "alloc/solvers/solvers.h"

namespace bitsim::alloc {
namespace {

class EqualSolver final : public Solver {
 public:
  Allocation solve(const RateDistortionCurves& curves, double budget_bits) const override {
    std::vector<std::map<int, int>> per_bits;
    std::set<int> common;
    for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
      per_bits.push_back(best_option_per_bits(curves.tensors[i], true));
      std::set<int> mine;
      for (const auto& [b, o] : per_bits.back()) mine.insert(b);
      if (i == 0) common = mine;
      std::set<int> both;
      for (int b : common)
        if (mine.contains(b)) both.insert(b);
      common = both;
    }
    if (common.empty())
      throw InputError({curves.source, 0, 0}, "solver equal: the tensors share no bit width in the 'bits' column");
    double narrowest_rate = 0;
    for (auto it = common.rbegin(); it != common.rend(); ++it) {
      std::vector<int> choice;
      choice.reserve(per_bits.size());
      for (const auto& m : per_bits) choice.push_back(m.at(*it));
      Allocation a = make_allocation(curves, std::move(choice));
      narrowest_rate = a.rate_bits;
      if (a.rate_bits <= budget_bits) {
        a.details.emplace_back("bits", static_cast<std::int64_t>(*it));
        return a;
      }
    }
    throw InputError({}, fmt::format("solver equal: no common bit width fits the budget of {} bits (the narrowest, {} "
                                     "bits, needs {} bits)",
                                     budget_bits, *common.begin(), narrowest_rate));
  }
};

}  // namespace

std::unique_ptr<Solver> make_equal_solver() { return std::make_unique<EqualSolver>(); }

}  // namespace bitsim::alloc
