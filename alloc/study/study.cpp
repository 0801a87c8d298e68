// Running a study: load, solve once per (workload, budget, solver), simulate every point.
#include "alloc/study/study.h"

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>

#include "alloc/modelled_curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/latency_solver.h"
#include "sim/base/parallel.h"
#include "sim/energy.h"
#include "sim/workload.h"

namespace bitsim::study {

using namespace bitsim::alloc;

double hardware_cost(const sim::HardwareConfig& hw, const study::CostWeights& w) {
  const double bandwidth = std::isinf(hw.dram_bytes_per_s) ? 0.0 : hw.dram_bytes_per_s;
  return w.pe * static_cast<double>(hw.array_rows * hw.array_cols) +
         w.sram_kib * (hw.sram_weight_bytes + hw.sram_activation_bytes) / 1024.0 + w.dram_gb_per_s * bandwidth / 1e9 +
         w.decoder_lane * static_cast<double>(hw.decoder_lanes);
}

const RateDistortionCurves& row_curves(const StudyResult& result, std::size_t row) {
  return result.datapath_curves.at(result.point_curves.at(result.rows.at(row).point));
}

Allocation row_allocation(const StudyResult& result, std::size_t row) {
  const std::size_t plan = result.row_plan.at(row);
  const StudyRow& r = result.rows[row];
  return plan == kNoPlan ? make_allocation(row_curves(result, row), r.choice) : result.plans[plan].allocation;
}

double objective_value(const StudyRow& row, Objective objective) {
  switch (objective) {
    case Objective::InferenceRate:
      return -row.inference_rate_per_s;
    case Objective::OutputError:
      return row.output_error;
    case Objective::Energy:
      return row.energy_per_image_j;
    case Objective::Area:
      return row.area_mm2;
    case Objective::HardwareCost:
      return row.cost;
  }
  return 0;
}

FrontGroup front_group(const StudyRow& row) { return {row.workload, row.batch}; }

std::string front_group_name(const StudyResult& result, const FrontGroup& group) {
  return fmt::format("{}, batch {}", result.networks.at(group.workload).name(), group.batch);
}

std::vector<bool> pareto_rows(const std::vector<StudyRow>& rows, const std::vector<Objective>& objectives) {
  // Each feasible row's objective values, row-major.
  const std::size_t k = objectives.size();
  std::vector<std::size_t> order;
  std::vector<double> values(rows.size() * k);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].feasible) continue;
    order.push_back(i);
    for (std::size_t o = 0; o < k; ++o) values[i * k + o] = objective_value(rows[i], objectives[o]);
  }
  // By front group, then lexicographically by the objectives, then by index: a row can only be
  // dominated by one before it in its group.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (front_group(rows[a]) != front_group(rows[b])) return front_group(rows[a]) < front_group(rows[b]);
    for (std::size_t o = 0; o < k; ++o)
      if (values[a * k + o] != values[b * k + o]) return values[a * k + o] < values[b * k + o];
    return a < b;
  });
  std::vector<bool> front(rows.size(), false);
  std::vector<std::size_t> kept;  // the front so far of the current group
  for (std::size_t n = 0; n < order.size(); ++n) {
    const std::size_t i = order[n];
    if (n > 0 && front_group(rows[order[n - 1]]) != front_group(rows[i])) kept.clear();
    const bool dominated = std::any_of(kept.begin(), kept.end(), [&](std::size_t q) {
      for (std::size_t o = 0; o < k; ++o)
        if (values[q * k + o] > values[i * k + o]) return false;
      return true;
    });
    if (dominated) continue;
    kept.push_back(i);
    front[i] = true;
  }
  return front;
}

StudyInputs load_study_inputs(const StudySpec& spec) {
  StudyInputs in;
  for (const std::string& path : spec.hardware) in.hardware.push_back(sim::load_hardware_config(path));
  for (const std::string& path : spec.workloads)
    in.networks.push_back(sim::load_workload(path, "auto", sim::WorkloadOptions{spec.input_shape}));
  for (const sim::Network& net : in.networks) {
    if (spec.curves_path.empty()) {
      ModelOptions m;
      m.rate = spec.rate;
      in.curves.push_back(modelled_curves(net, m));
    } else {
      in.curves.push_back(load_curves(spec.curves_path));
    }
  }
  return in;
}

StudyResult run_study(const StudySpec& spec, const StudyOptions& options) {
  return run_study(spec, load_study_inputs(spec), options);
}

namespace {

// A study's latency rows give up the exact search beyond this many labels (then the best Lagrangian
// plan, marked not proven optimal): with a size budget, compute-bound points can need millions.
constexpr std::size_t kStudyMaxLabels = 100'000;

// The solvers of a study's rows: equal first (the baseline), then the spec's size-budget ones; the
// latency-aware one, if listed, comes last and is solved per point (most images/s at equal's
// predicted error).
struct RowSolvers {
  std::vector<const SolverInfo*> size_budget;
  bool latency = false;
  std::size_t count() const { return size_budget.size() + (latency ? 1 : 0); }
};

RowSolvers row_solvers(const StudySpec& spec) {
  RowSolvers r;
  r.size_budget = {&equal_solver()};
  for (const SolverInfo* s : spec.solvers) {
    if (s->kind == SolverKind::Latency)
      r.latency = true;
    else if (s != &equal_solver())
      r.size_budget.push_back(s);
  }
  return r;
}

struct Point {
  std::size_t hardware, workload;
  int batch;
  std::vector<std::size_t> axis_value;
};

// Points: base config x workload x batch x varied parameters (last axis fastest); their resolved
// configs are appended to `configs`.
std::vector<Point> expand_points(const StudySpec& spec, const std::vector<sim::HardwareConfig>& bases,
                                 std::size_t workloads, std::vector<sim::HardwareConfig>& configs) {
  std::vector<Point> points;
  for (std::size_t h = 0; h < bases.size(); ++h)
    for (std::size_t w = 0; w < workloads; ++w)
      for (const int batch : spec.batches) {
        std::vector<std::size_t> idx(spec.vary.size(), 0);
        while (true) {
          sim::HardwareConfig hw = bases[h];
          std::vector<sim::HardwareSetting> settings;
          settings.reserve(spec.vary.size());
          for (std::size_t a = 0; a < spec.vary.size(); ++a)
            settings.push_back({spec.vary[a].key, spec.vary[a].values[idx[a]], spec.vary[a].where});
          sim::set_hardware_parameters(hw, settings);
          configs.push_back(std::move(hw));
          points.push_back({h, w, batch, idx});
          std::size_t a = spec.vary.size();
          while (a > 0 && ++idx[a - 1] == spec.vary[a - 1].values.size()) idx[--a] = 0;
          if (a == 0) break;
        }
      }
  return points;
}

// Everything a point's rows need that does not depend on the point: the solved plans, and their
// bit plans per native width (tensors without a curve get the datapath's native bits).
class PointEvaluator {
 public:
  PointEvaluator(const StudySpec& spec, const RowSolvers& solvers, const std::vector<Point>& points, StudyResult& out)
      : m_spec(spec), m_solvers(solvers), m_points(points), m_out(out) {
    datapath_curves();
    solve_plans();
    make_bit_plans();
    m_per_point = spec.avg_bits.size() * solvers.count();
    out.rows.resize(points.size() * m_per_point);
    out.row_plan.resize(out.rows.size());
    out.native_rate_per_s.resize(points.size());
  }

  // Fills point i's rows; `r` and `native` are the calling thread's scratch results.
  void evaluate(std::size_t i, sim::SimResult& r, sim::SimResult& native) const {
    const Point& pt = m_points[i];
    const sim::HardwareConfig& hw = m_out.configs[i];
    const sim::AnalyticalModel model(m_out.networks[pt.workload], hw, pt.batch);
    model.evaluate(m_native_plans.at({pt.workload, hw.native_bits}), native);
    m_out.native_rate_per_s[i] = native.inference_rate_per_s;
    const double cost = hardware_cost(hw, m_spec.cost);
    const double area_mm2 = sim::chip_area(hw).total_m2() * 1e6;
    for (std::size_t b = 0; b < m_spec.avg_bits.size(); ++b) {
      double equal_rate = 0, equal_error = -1, equal_size = -1;
      for (std::size_t s = 0; s < m_solvers.count(); ++s) {
        const std::size_t at = i * m_per_point + b * m_solvers.count() + s;
        StudyRow& row = m_out.rows[at];
        row.point = i;
        row.hardware = pt.hardware;
        row.workload = pt.workload;
        row.batch = pt.batch;
        row.axis_value = pt.axis_value;
        row.avg_bits = m_spec.avg_bits[b];
        row.cost = cost;
        row.area_mm2 = area_mm2;
        const bool simulated = s == m_solvers.size_budget.size()
                                   ? latency_row(row, at, model, equal_error, equal_size, r)
                                   : plan_row(row, at, m_out.point_curves[i], b, s, model, r);
        if (s == 0 && row.feasible) {
          equal_error = row.output_error;
          equal_size = row.rate_bits;
        }
        if (!simulated) continue;
        row.feasible = r.feasible;
        row.status = r.feasible ? "ok" : r.reason;
        if (!r.feasible) continue;
        if (s == 0) equal_rate = r.inference_rate_per_s;
        fill_rates(row, r, equal_rate, native.inference_rate_per_s);
      }
    }
  }

 private:
  // One set of curves per (workload, datapath.fusion, decoder or not) among the points: quantization
  // points depend on the fusion alone (sim/activation_traffic.h), storage formats on the decoder.
  void datapath_curves() {
    std::map<std::tuple<std::size_t, sim::Fusion, bool>, std::size_t> index;
    m_out.point_curves.resize(m_points.size());
    for (std::size_t i = 0; i < m_points.size(); ++i) {
      const std::size_t w = m_points[i].workload;
      const sim::HardwareConfig& hw = m_out.configs[i];
      const auto [it, added] =
          index.emplace(std::tuple{w, hw.fusion, hw.decoder_lanes != 0}, m_out.datapath_curves.size());
      if (added) {
        const sim::AnalyticalModel model(m_out.networks[w], hw, m_points[i].batch);
        m_out.datapath_curves.push_back(alloc::curves_for_hardware(m_out.curves[w], model));
        m_curves_workload.push_back(w);
      }
      m_out.point_curves[i] = it->second;
    }
  }

  // Like for like: equal (fixed length, the widest width within avg_bits x values) is solved first,
  // and every other solver gets equal's real size as its budget (avg_bits x values if equal fails).
  void solve_plans() {
    for (std::size_t c = 0; c < m_out.datapath_curves.size(); ++c)
      for (const double avg_bits : m_spec.avg_bits) {
        const RateDistortionCurves& curves = m_out.datapath_curves[c];
        double budget = avg_bits * static_cast<double>(curves.total_values());
        for (const SolverInfo* solver : m_solvers.size_budget) {
          StudyPlan p;
          p.workload = m_curves_workload[c];
          p.curves = c;
          p.avg_bits = avg_bits;
          p.solver = std::string(solver->name);
          try {
            p.allocation = allocate(curves, budget, *solver);
            if (solver == &equal_solver()) budget = p.allocation.rate_bits;
          } catch (const InputError& e) {
            p.error = e.diagnostics().front().message;
          }
          m_out.plans.push_back(std::move(p));
        }
      }
  }

  std::size_t plan_index(std::size_t curves, std::size_t budget, std::size_t solver) const {
    return (curves * m_spec.avg_bits.size() + budget) * m_solvers.size_budget.size() + solver;
  }

  void make_bit_plans() {
    std::set<std::pair<std::size_t, std::int64_t>> widths;  // (workload, native bits) in the study
    for (std::size_t i = 0; i < m_points.size(); ++i)
      widths.emplace(m_points[i].workload, m_out.configs[i].native_bits);
    for (const auto& [w, nb] : widths) {
      const int bits = static_cast<int>(nb);
      m_native_plans[{w, nb}] = sim::BitPlan::uniform(m_out.networks[w], bits, bits);
      for (std::size_t p = 0; p < m_out.plans.size(); ++p)
        if (m_out.plans[p].workload == w && m_out.plans[p].error.empty())
          m_bit_plans[{p, nb}] = to_bit_plan(m_out.networks[w], m_out.datapath_curves[m_out.plans[p].curves],
                                             m_out.plans[p].allocation, bits, "");
    }
  }

  // A size-budget solver's row: its plan, simulated into `r`. False if the solver failed.
  bool plan_row(StudyRow& row, std::size_t at, std::size_t curves, std::size_t budget, std::size_t solver,
                const sim::AnalyticalModel& model, sim::SimResult& r) const {
    const std::size_t p = plan_index(curves, budget, solver);
    const StudyPlan& plan = m_out.plans[p];
    m_out.row_plan[at] = p;
    row.solver = plan.solver;
    if (!plan.error.empty()) {
      row.feasible = false;
      row.status = plan.error;
      return false;
    }
    row.rate_bits = plan.allocation.rate_bits;
    row.proven_optimal = plan.allocation.proven_optimal;
    row.output_error = plan.allocation.distortion;
    const sim::BitPlan& bits = m_bit_plans.at({p, model.hardware().native_bits});
    model.evaluate(bits, r);
    row.energy_per_image_j = sim::inference_energy(model, bits, r).total_j() / r.batch;
    return true;
  }

  // The latency-aware row: most images/s at equal's predicted error within equal's size, solved for
  // this point (the size budget is tried last: see solve() in latency_solver.cpp; the label cap
  // bounds the compute-bound points, where the budgeted search can need millions of labels).
  bool latency_row(StudyRow& row, std::size_t at, const sim::AnalyticalModel& model, double equal_error,
                   double equal_size, sim::SimResult& r) const {
    row.solver = std::string(latency_solver().name);
    m_out.row_plan[at] = kNoPlan;
    const RateDistortionCurves& curves = m_out.datapath_curves[m_out.point_curves[row.point]];
    const int bits = static_cast<int>(model.hardware().native_bits);
    try {
      if (equal_error < 0) throw InputError({}, "equal allocation failed at this budget");
      LatencyGoal goal;
      goal.objective = LatencyObjective::MinTime;
      goal.max_error = equal_error;
      goal.budget_bits = equal_size;
      goal.max_labels = kStudyMaxLabels;
      const LatencyAllocation la = allocate_for_latency(curves, model, bits, goal);
      row.choice = la.allocation.choice;
      row.proven_optimal = la.allocation.proven_optimal;
      row.rate_bits = la.allocation.rate_bits;
      row.output_error = la.allocation.distortion;
      const sim::BitPlan plan = to_bit_plan(model.network(), curves, la.allocation, bits, "");
      model.evaluate(plan, r);
      row.energy_per_image_j = sim::inference_energy(model, plan, r).total_j() / r.batch;
      return true;
    } catch (const InputError& e) {
      row.feasible = false;
      row.status = e.diagnostics().front().message;
      return false;
    }
  }

  static void fill_rates(StudyRow& row, const sim::SimResult& r, double equal_rate, double native_rate) {
    row.inference_rate_per_s = r.inference_rate_per_s;
    row.speedup_vs_equal = equal_rate > 0 ? r.inference_rate_per_s / equal_rate : 0;
    row.speedup_vs_native = native_rate > 0 ? r.inference_rate_per_s / native_rate : 0;
    const sim::BottleneckCounts b = sim::count_bottlenecks(r);
    row.compute_bound = b.compute;
    row.dram_bound = b.dram;
    row.decode_bound = b.decode;
  }

  const StudySpec& m_spec;
  const RowSolvers& m_solvers;
  const std::vector<Point>& m_points;
  StudyResult& m_out;  // rows of different points are written by different threads
  std::size_t m_per_point = 0;
  std::vector<std::size_t> m_curves_workload;                                   // per datapath_curves entry
  std::map<std::pair<std::size_t, std::int64_t>, sim::BitPlan> m_bit_plans;     // (plan, native bits)
  std::map<std::pair<std::size_t, std::int64_t>, sim::BitPlan> m_native_plans;  // (workload, native bits)
};

// Why the model reads hardware parameter `key` at none of the points' configs; empty if it reads it
// at one.
std::string unused_at_every_point(const std::vector<sim::HardwareConfig>& configs, const std::string& key) {
  std::string why = configs.empty() ? "" : sim::unused_by_timing(configs.front(), key);
  for (std::size_t p = 1; p < configs.size() && !why.empty(); ++p)
    if (sim::unused_by_timing(configs[p], key).empty()) why.clear();
  return why;
}

// Whether two rows of the same plan slot differ in what the hardware buys (images/s, error, size,
// bottlenecks, feasibility) or only in what it costs (energy, area, the cost proxy).
bool performance_differs(const StudyRow& a, const StudyRow& b) {
  return a.feasible != b.feasible || a.status != b.status || a.inference_rate_per_s != b.inference_rate_per_s ||
         a.output_error != b.output_error || a.rate_bits != b.rate_bits || a.speedup_vs_equal != b.speedup_vs_equal ||
         a.speedup_vs_native != b.speedup_vs_native || a.compute_bound != b.compute_bound ||
         a.dram_bound != b.dram_bound || a.decode_bound != b.decode_bound;
}
bool cost_differs(const StudyRow& a, const StudyRow& b) {
  return a.energy_per_image_j != b.energy_per_image_j || a.area_mm2 != b.area_mm2 || a.cost != b.cost;
}

// The dimensions of the points with more than one value (the batch, then each vary axis) whose
// values change no row: each point's rows against those of the first point that differs from it
// only in that dimension. A parameter that only prices the design is reported only if it
// changed nothing at all.
std::vector<NoOpAxis> no_op_axes_of(const StudySpec& spec, const StudyResult& out) {
  std::vector<NoOpAxis> found;
  const std::size_t n = out.configs.size();  // one per point
  if (n == 0) return found;
  BITSIM_CHECK(out.rows.size() % n == 0);
  const std::size_t per_point = out.rows.size() / n;
  // A point's coordinates, from its first row.
  const auto at = [&](std::size_t p) -> const StudyRow& { return out.rows[p * per_point]; };
  // Dimension 0 is the batch, 1 + a the vary axis a.
  for (std::size_t d = 0; d <= spec.vary.size(); ++d) {
    const std::size_t values = d == 0 ? spec.batches.size() : spec.vary[d - 1].values.size();
    if (values < 2) continue;
    const std::string key = d == 0 ? "batch" : spec.vary[d - 1].key;
    std::map<std::vector<std::size_t>, std::size_t> first;  // the point's other coordinates -> first such point
    bool performance = false, cost = false;
    for (std::size_t p = 0; p < n && !performance; ++p) {
      std::vector<std::size_t> others = {at(p).hardware, at(p).workload};
      others.push_back(d == 0 ? 0 : static_cast<std::size_t>(at(p).batch));
      for (std::size_t a = 0; a < spec.vary.size(); ++a) others.push_back(a + 1 == d ? 0 : at(p).axis_value[a]);
      const std::size_t q = first.try_emplace(std::move(others), p).first->second;
      for (std::size_t o = 0; o < per_point && q != p; ++o) {
        const StudyRow& a = out.rows[p * per_point + o];
        const StudyRow& b = out.rows[q * per_point + o];
        performance = performance || performance_differs(a, b);
        cost = cost || cost_differs(a, b);
      }
    }
    if (performance || (cost && sim::prices_only(key))) continue;
    const std::string why = d == 0 ? "" : unused_at_every_point(out.configs, key);
    const std::string what = cost ? fmt::format(
                                        "{} changed no row's images/s, error or bottlenecks, only its energy, "
                                        "area and hardware cost",
                                        key)
                                  : fmt::format("{} changed no row: its {} values give the same rows", key, values);
    found.push_back({key, why.empty() ? what : fmt::format("{} ({})", what, why)});
  }
  return found;
}

}  // namespace

std::vector<NoOpAxis> find_no_op_axes(const StudySpec& spec, const StudyResult& result) {
  return no_op_axes_of(spec, result);
}

StudyResult run_study(const StudySpec& spec, StudyInputs inputs, const StudyOptions& options) {
  BITSIM_CHECK(inputs.curves.size() == inputs.networks.size());
  StudyResult out;
  out.networks = std::move(inputs.networks);
  out.curves = std::move(inputs.curves);
  for (const RateDistortionCurves& c : out.curves)
    if (c.total_values() <= 0) throw InputError({c.source, 0, 0}, "avg_bits needs the 'count' column in the curves");
  const RowSolvers solvers = row_solvers(spec);
  out.hardware = std::move(inputs.hardware);
  const std::vector<Point> points = expand_points(spec, out.hardware, out.networks.size(), out.configs);
  for (const StudyAxis& a : spec.vary) {
    if (!options.warning || a.values.size() < 2 || sim::prices_only(a.key)) continue;
    const std::string why = unused_at_every_point(out.configs, a.key);
    if (!why.empty())
      options.warning(
          fmt::format("{} can change no row's images/s, error or bottlenecks ({}): its {} values multiply "
                      "the run time",
                      a.key, why, a.values.size()));
  }
  const PointEvaluator evaluator(spec, solvers, points, out);
  out.point_done.assign(points.size(), 0);
  if (options.restore) options.restore(out);
  // The selected points in order; a point joins the finished prefix (point_done, point_finished,
  // progress) once it and every earlier one are evaluated, whichever thread ends first.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < points.size(); ++i)
    if ((options.selected.empty() || options.selected.at(i)) && !out.point_done[i]) order.push_back(i);
  std::vector<char> evaluated(order.size(), 0);
  std::size_t prefix = 0;
  std::mutex mutex;  // guards evaluated, prefix and the calls below
  auto stopped = [&] { return options.stop && options.stop->load(); };
  auto worker = [&] {
    auto scratch = std::make_shared<std::pair<sim::SimResult, sim::SimResult>>();  // reused across points
    return [&, scratch](std::size_t k) {
      if (stopped()) return;
      evaluator.evaluate(order[k], scratch->first, scratch->second);
      const std::lock_guard lock(mutex);
      evaluated[k] = 1;
      for (; prefix < order.size() && evaluated[prefix] && !stopped(); ++prefix) {
        out.point_done[order[prefix]] = 1;
        if (options.point_finished) options.point_finished(out, order[prefix]);
        if (options.progress) options.progress(prefix + 1, order.size());
      }
    };
  };
  parallel_for(order.size(), options.threads, worker);
  // With every point's rows (run, or restored): the axes that changed none. A caller that gathers
  // rows from elsewhere afterwards (MPI) calls find_no_op_axes itself.
  if (std::count(out.point_done.begin(), out.point_done.end(), 1) == static_cast<std::ptrdiff_t>(points.size()))
    out.no_op_axes = find_no_op_axes(spec, out);
  return out;
}

}  // namespace bitsim::study
