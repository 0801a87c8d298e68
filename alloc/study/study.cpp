// Running a study: load, solve once per (workload, budget, solver), simulate every point.
#include "alloc/study/study.h"

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "alloc/modelled_curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/latency_solver.h"
#include "sim/base/parallel.h"
#include "sim/workload.h"

namespace bitsim::study {

using namespace bitsim::alloc;

double hardware_cost(const sim::HardwareConfig& hw, const study::CostWeights& w) {
  const double bandwidth = std::isinf(hw.dram_bytes_per_s) ? 0.0 : hw.dram_bytes_per_s;
  return w.pe * static_cast<double>(hw.array_rows * hw.array_cols) +
         w.sram_kib * (hw.sram_weight_bytes + hw.sram_activation_bytes) / 1024.0 + w.dram_gb_per_s * bandwidth / 1e9 +
         w.decoder_lane * static_cast<double>(hw.decoder_lanes);
}

std::vector<bool> pareto_rows(const std::vector<StudyRow>& rows) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].feasible) order.push_back(i);
  // By cost, then error, then rate (descending): a row can only be dominated by one before it.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const StudyRow &x = rows[a], &y = rows[b];
    return std::tuple(x.cost, x.output_error, -x.inference_rate_per_s, a) <
           std::tuple(y.cost, y.output_error, -y.inference_rate_per_s, b);
  });
  std::vector<bool> front(rows.size(), false);
  std::vector<std::size_t> kept;
  for (std::size_t i : order) {
    const StudyRow& r = rows[i];
    const bool dominated = std::any_of(kept.begin(), kept.end(), [&](std::size_t k) {
      const StudyRow& q = rows[k];
      return q.cost <= r.cost && q.output_error <= r.output_error && q.inference_rate_per_s >= r.inference_rate_per_s;
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
  for (const std::string& path : spec.workloads) in.networks.push_back(sim::load_workload(path, "auto", {}));
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

StudyResult run_study(const StudySpec& spec, StudyInputs inputs, const StudyOptions& options) {
  BITSIM_CHECK(inputs.curves.size() == inputs.networks.size());
  StudyResult out;
  out.networks = std::move(inputs.networks);
  out.curves = std::move(inputs.curves);
  for (const RateDistortionCurves& c : out.curves)
    if (c.total_values() <= 0) throw InputError({c.source, 0, 0}, "avg_bits needs the 'count' column in the curves");

  // Solvers: equal first (the baseline), then the spec's size-budget ones. The latency-aware one,
  // if listed, comes last and is solved per point: most images/s at equal's predicted error.
  std::vector<const SolverInfo*> solvers = {&equal_solver()};
  bool latency = false;
  for (const SolverInfo* s : spec.solvers) {
    if (s->kind == SolverKind::Latency)
      latency = true;
    else if (s != &equal_solver())
      solvers.push_back(s);
  }
  const std::size_t solver_count = solvers.size() + (latency ? 1 : 0);

  // Hardware points: base config x varied parameters (last axis fastest), per workload.
  const std::vector<sim::HardwareConfig>& bases = inputs.hardware;
  struct Point {
    std::size_t hardware, workload;
    std::vector<std::size_t> axis_value;
  };
  std::vector<Point> points;
  for (std::size_t h = 0; h < bases.size(); ++h)
    for (std::size_t w = 0; w < out.networks.size(); ++w) {
      std::vector<std::size_t> idx(spec.vary.size(), 0);
      while (true) {
        sim::HardwareConfig hw = bases[h];
        for (std::size_t a = 0; a < spec.vary.size(); ++a)
          sim::set_hardware_parameter(hw, spec.vary[a].key, spec.vary[a].values[idx[a]], spec.vary[a].where);
        out.configs.push_back(std::move(hw));
        points.push_back({h, w, idx});
        std::size_t a = spec.vary.size();
        while (a > 0 && ++idx[a - 1] == spec.vary[a - 1].values.size()) idx[--a] = 0;
        if (a == 0) break;
      }
    }

  // Plans, once per (workload, budget, solver).
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, std::size_t> plan_of;
  for (std::size_t w = 0; w < out.networks.size(); ++w)
    for (std::size_t b = 0; b < spec.avg_bits.size(); ++b)
      for (std::size_t s = 0; s < solvers.size(); ++s) {
        StudyPlan p;
        p.workload = w;
        p.avg_bits = spec.avg_bits[b];
        p.solver = std::string(solvers[s]->name);
        try {
          p.allocation = allocate(out.curves[w], spec.avg_bits[b] * static_cast<double>(out.curves[w].total_values()),
                                  *solvers[s]);
        } catch (const InputError& e) {
          p.error = e.diagnostics().front().message;
        }
        plan_of[{w, b, s}] = out.plans.size();
        out.plans.push_back(std::move(p));
      }
  // Bit plans per (plan, native bits): tensors without a curve get the datapath's native bits.
  std::map<std::pair<std::size_t, std::int64_t>, sim::BitPlan> bit_plans;
  std::map<std::pair<std::size_t, std::int64_t>, sim::BitPlan> native_plans;
  std::set<std::pair<std::size_t, std::int64_t>> widths;  // (workload, native bits) in the study
  for (std::size_t i = 0; i < points.size(); ++i) widths.emplace(points[i].workload, out.configs[i].native_bits);
  for (const auto& [w, nb] : widths) {
    native_plans[{w, nb}] = sim::BitPlan::uniform(out.networks[w], static_cast<int>(nb), static_cast<int>(nb));
    for (std::size_t p = 0; p < out.plans.size(); ++p)
      if (out.plans[p].workload == w && out.plans[p].error.empty())
        bit_plans[{p, nb}] =
            to_bit_plan(out.networks[w], out.curves[w], out.plans[p].allocation, static_cast<int>(nb), "");
  }

  // Rows, preallocated in output order; each point is filled by one thread.
  const std::size_t per_point = spec.avg_bits.size() * solver_count;
  out.rows.resize(points.size() * per_point);
  out.row_plan.resize(out.rows.size());
  out.native_rate_per_s.resize(points.size());
  auto worker = [&] {
    auto results = std::make_shared<std::pair<sim::SimResult, sim::SimResult>>();  // reused across points
    return [&, results](std::size_t i) {
      sim::SimResult& r = results->first;
      sim::SimResult& native = results->second;
      const Point& pt = points[i];
      const sim::HardwareConfig& hw = out.configs[i];
      const sim::AnalyticalModel model(out.networks[pt.workload], hw, spec.batch);
      model.evaluate(native_plans.at({pt.workload, hw.native_bits}), native);
      out.native_rate_per_s[i] = native.inference_rate_per_s;
      const double cost = hardware_cost(hw, spec.cost);
      for (std::size_t b = 0; b < spec.avg_bits.size(); ++b) {
        double equal_rate = 0, equal_error = -1;
        for (std::size_t s = 0; s < solver_count; ++s) {
          const std::size_t at = i * per_point + b * solver_count + s;
          StudyRow& row = out.rows[at];
          row.point = i;
          row.hardware = pt.hardware;
          row.workload = pt.workload;
          row.axis_value = pt.axis_value;
          row.avg_bits = spec.avg_bits[b];
          row.cost = cost;
          if (s == solvers.size()) {  // latency-aware: most images/s at equal's predicted error
            row.solver = std::string(latency_solver().name);
            out.row_plan[at] = kNoPlan;
            const RateDistortionCurves& curves = out.curves[pt.workload];
            try {
              if (equal_error < 0) throw InputError({}, "equal allocation failed at this budget");
              LatencyGoal goal;
              goal.objective = LatencyObjective::MinTime;
              goal.max_error = equal_error;
              const LatencyAllocation la = allocate_for_latency(curves, model, static_cast<int>(hw.native_bits), goal);
              row.choice = la.allocation.choice;
              row.proven_optimal = la.allocation.proven_optimal;
              row.rate_bits = la.allocation.rate_bits;
              row.output_error = la.allocation.distortion;
              model.evaluate(to_bit_plan(model.network(), curves, la.allocation, static_cast<int>(hw.native_bits), ""),
                             r);
            } catch (const InputError& e) {
              row.feasible = false;
              row.status = e.diagnostics().front().message;
              continue;
            }
          } else {
            const std::size_t p = plan_of.at({pt.workload, b, s});
            out.row_plan[at] = p;
            row.solver = out.plans[p].solver;
            if (!out.plans[p].error.empty()) {
              row.feasible = false;
              row.status = out.plans[p].error;
              continue;
            }
            row.rate_bits = out.plans[p].allocation.rate_bits;
            row.proven_optimal = out.plans[p].allocation.proven_optimal;
            row.output_error = out.plans[p].allocation.distortion;
            if (s == 0) equal_error = row.output_error;
            model.evaluate(bit_plans.at({p, hw.native_bits}), r);
          }
          row.feasible = r.feasible;
          row.status = r.feasible ? "ok" : r.reason;
          if (!r.feasible) continue;
          row.inference_rate_per_s = r.inference_rate_per_s;
          if (s == 0) equal_rate = r.inference_rate_per_s;
          row.speedup_vs_equal = equal_rate > 0 ? r.inference_rate_per_s / equal_rate : 0;
          row.speedup_vs_native =
              native.inference_rate_per_s > 0 ? r.inference_rate_per_s / native.inference_rate_per_s : 0;
          for (const sim::LayerTiming& t : r.layers) {
            row.compute_bound += t.bottleneck == sim::Bottleneck::Compute;
            row.dram_bound += t.bottleneck == sim::Bottleneck::Dram;
            row.decode_bound += t.bottleneck == sim::Bottleneck::Decode;
          }
        }
      }
    };
  };
  // About 20 reports per study.
  const ProgressFn progress = [&](std::size_t done, std::size_t total) {
    if (options.progress && (done == total || done % std::max<std::size_t>(1, total / 20) == 0))
      options.progress(done, total);
  };
  parallel_for(points.size(), options.threads, worker, progress);
  return out;
}

}  // namespace bitsim::study
