// Sweeps and co-design studies: every point of a study file (hardware config x workload x varied
// hardware parameters) evaluated for every bit budget and solver with the analytical model.
// The solver name "latency" is the latency-aware one (alloc/solvers/latency_solver.h), solved per point:
// the most images/s whose predicted error is at most equal allocation's at the same budget.
//
// Plans do not depend on the hardware (the size-budget solvers see only the curves), so each
// (workload, budget, solver) is solved once and its plan is simulated at every point; the points
// are split across threads, and the rows come out in the same order whatever the thread count.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "alloc/curves.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/study_spec.h"
#include "sim/analytical_model.h"

namespace bitsim::study {

struct StudyRow {
  std::size_t point = 0;  // index of the hardware point (hardware x workload x axis values)
  std::size_t hardware = 0, workload = 0;
  int batch = 1;                        // images per batch (one of the spec's batches)
  std::vector<std::size_t> axis_value;  // per axis of the spec, the value's index
  double avg_bits = 0;
  std::string solver;
  double rate_bits = 0;
  double output_error = 0;  // predicted (additive) from the curves
  double inference_rate_per_s = 0;
  double speedup_vs_equal = 0;
  double speedup_vs_native = 0;
  double cost = 0;                // the spec's hardware cost proxy
  double energy_per_image_j = 0;  // sim/energy.h, of the row's plan at its point
  double area_mm2 = 0;            // of the point's chip (sim/energy.h)
  std::int64_t compute_bound = 0, dram_bound = 0, decode_bound = 0;
  std::vector<int> choice;      // the plan of a "latency" row (solved for this point); others: see plans
  bool proven_optimal = false;  // the solver proved its plan optimal
  bool feasible = true;
  std::string status;  // "ok", or why not
};
// Every field of StudyRow is written and read back by alloc/study/study_records.cpp (resume, shards,
// MPI): a new field must be added there too, or a resumed study would lose it.
static_assert(sizeof(StudyRow) == 248, "a new StudyRow field: add it to study_records.cpp, then here");

struct StudyPlan {  // one solved plan, shared by all points with its (curves, budget, solver)
  std::size_t workload = 0;
  std::size_t curves = 0;  // index in StudyResult::datapath_curves
  double avg_bits = 0;
  std::string solver;
  alloc::Allocation allocation;
  std::string error;  // solver failed (e.g. infeasible budget)
};

inline constexpr std::size_t kNoPlan = static_cast<std::size_t>(-1);

// What a study runs on, loaded: the base hardware configs, the networks and their curves.
struct StudyInputs {
  std::vector<sim::HardwareConfig> hardware;
  std::vector<sim::Network> networks;
  std::vector<alloc::RateDistortionCurves> curves;  // per network
};

// A dimension of a study's points (a varied parameter, or the batch) whose values changed no row's
// images/s, error, size, bottlenecks or feasibility; `text` says so, what did change and why.
struct NoOpAxis {
  std::string key;  // "batch" or a hardware parameter key
  std::string text;
};

struct StudyResult {
  std::vector<sim::HardwareConfig> hardware;        // the base configs, as loaded
  std::vector<sim::HardwareConfig> configs;         // per point, resolved
  std::vector<double> native_rate_per_s;            // per point: images/s at the datapath's native bits
  std::vector<sim::Network> networks;               // per workload
  std::vector<alloc::RateDistortionCurves> curves;  // per workload, as loaded
  // What the solvers saw: per workload and datapath.fusion in the study, the curves without the
  // tensors that fusion keeps inside the datapath (alloc::curves_for_hardware); per point, its set.
  std::vector<alloc::RateDistortionCurves> datapath_curves;
  std::vector<std::size_t> point_curves;
  std::vector<StudyPlan> plans;
  std::vector<std::size_t> row_plan;  // per row, its plan index (kNoPlan: a "latency" row, see choice)
  std::vector<StudyRow> rows;         // point-major, then budget, then solver (equal first)
  // Per point: its rows are complete (evaluated, or restored by the caller: study_records.h). After
  // a stopped run, the evaluated points form a prefix of the selected ones in point order.
  std::vector<char> point_done;
  std::size_t rows_per_point() const { return configs.empty() ? 0 : rows.size() / configs.size(); }
  std::vector<NoOpAxis> no_op_axes;  // in the spec's order: batch, then the vary axes
};

struct StudyOptions {
  int threads = 2;
  // After each point that completes the in-order prefix: done = 1, 2, ..., total, the selected points.
  std::function<void(std::size_t done, std::size_t total)> progress;
  // One flag per point (expand order: hardware, workload, axes, last axis fastest): evaluate only
  // these; empty: all. The others' rows are left default for the caller to restore.
  std::vector<char> selected;
  // Once *stop is true no point starts and none is added to the finished prefix; run_study returns
  // when the points in flight end (their rows are dropped: point_done stays false).
  const std::atomic<bool>* stop = nullptr;
  // Called for each selected point in increasing point order, one call at a time, when its rows and
  // those of every earlier selected point are complete: rows can be written as they come, in an
  // order that does not depend on the threads.
  std::function<void(const StudyResult& result, std::size_t point)> point_finished;
  // Called once the study is set up (rows sized, plans solved), before any point runs: may fill
  // points' rows from elsewhere (study_records.h) and mark them in point_done; those do not run.
  std::function<void(StudyResult& result)> restore;
  // Before the run, per varied parameter the model reads at no point (sim::unused_by_timing): it can
  // change no row's images/s, only multiply the run time. After the run, StudyResult::no_op_axes.
  std::function<void(const std::string& text)> warning;
};

// Loads everything the spec names (InputError on any problem): configs, workloads, curves (the
// spec's file, or modelled at the spec's rate).
StudyInputs load_study_inputs(const StudySpec& spec);

// Solves and simulates every point of `inputs` (whose hardware and networks stand for the spec's
// files) with the spec's budgets, solvers, batch and varied parameters.
StudyResult run_study(const StudySpec& spec, StudyInputs inputs, const StudyOptions& options = {});
// load_study_inputs, then run_study.
StudyResult run_study(const StudySpec& spec, const StudyOptions& options = {});

// The plan of row `row`: its solved plan, or a latency row's own choice.
alloc::Allocation row_allocation(const StudyResult& result, std::size_t row);
// The curves the row's plan was solved on (its point's datapath_curves).
const alloc::RateDistortionCurves& row_curves(const StudyResult& result, std::size_t row);

// The spec's cost proxy for a hardware config.
double hardware_cost(const sim::HardwareConfig& hw, const study::CostWeights& w);

// A row's value of an objective, as a quantity to minimize (images/s negated).
double objective_value(const StudyRow& row, Objective objective);

// Rows are compared only within their front group: the same workload (images/s and error of
// different networks measure different things) at the same batch (images/s at batch 8 buys
// throughput with latency; at batch 1 it is the latency). Curves and rate are one per study, so they
// split nothing; hardware, budget and solver are what a front trades off.
struct FrontGroup {
  std::size_t workload = 0;
  int batch = 1;
  bool operator==(const FrontGroup&) const = default;
  bool operator<(const FrontGroup& o) const { return std::tie(workload, batch) < std::tie(o.workload, o.batch); }
};
FrontGroup front_group(const StudyRow& row);
// "resnet50, batch 1": the group as the outputs name it.
std::string front_group_name(const StudyResult& result, const FrontGroup& group);

// Rows not dominated in `objectives` by a row of their front group (images/s higher, the others
// lower; a row equal in all to an earlier one is dominated); feasible rows only.
std::vector<bool> pareto_rows(const std::vector<StudyRow>& rows, const std::vector<Objective>& objectives);

// The batch and vary axes with more than one value whose values changed no row (each point's rows
// against those of a point differing only there), given every point's rows; run_study sets
// StudyResult::no_op_axes with it when it has them all.
std::vector<NoOpAxis> find_no_op_axes(const StudySpec& spec, const StudyResult& result);

}  // namespace bitsim::study
