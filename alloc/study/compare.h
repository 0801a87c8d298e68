// `bitsim compare`: equal allocation against each solver at each budget, on one or more (hardware,
// workload) pairs: a study with no varied parameter. Also seed 004's Table 3: its four platform and
// model pairs, next to the paper's figures (alloc/study/table3.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alloc/curves.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/study.h"
#include "alloc/study/study_spec.h"
#include "sim/base/table.h"

namespace bitsim::study {

// What compare, --table3 and studies put side by side (the solve order in alloc/study/study.cpp).
inline constexpr std::string_view kSizesCompared =
    "sizes compared: equal stores every tensor fixed-length at the widest width within avg_bits (the paper's "
    "equal); every other solver is budgeted at equal's size (rate_bits) and stores each tensor fixed-length or "
    "entropy-coded, coded only where smaller; the latency row is the most images/s at equal's predicted error "
    "within equal's size";

struct CompareSpec {
  std::vector<double> avg_bits = {2, 4};
  std::vector<const alloc::SolverInfo*> solvers;  // empty: every solver, the latency-aware one included
  int batch = 1;
};

struct Comparison {
  StudySpec spec;  // the study that ran (budgets, solvers, batch; no varied parameter)
  StudyResult result;
  bool equal_listed = true;  // equal's rows are shown (they are always computed: speedup_vs_equal's baseline)
  bool table3 = false;       // with the paper's columns
};

// One point per (hardware, network) of `inputs`.
Comparison run_compare(const CompareSpec& spec, StudyInputs inputs);

// Seed 004's pairs from `data_dir`/configs/<hardware>.yaml and `data_dir`/workloads/<workload>.yaml,
// with modelled curves at `rate`.
Comparison run_table3(const CompareSpec& spec, const std::string& data_dir, alloc::RateKind rate);

// The rows as `bitsim compare` prints them: per point and budget, equal first, then each solver in
// the order given, then the latency-aware plan. Table 3 adds hardware, workload and the paper's
// images/s (equal and lagrangian rows) and speedup (lagrangian rows).
Table comparison_table(const Comparison& c);

}  // namespace bitsim::study
