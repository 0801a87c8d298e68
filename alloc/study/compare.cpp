// compare: a study without varied parameters, rendered as the compare table.
#include "alloc/study/compare.h"

#include <fmt/format.h>
#include <algorithm>

#include "alloc/modelled_curves.h"
#include "alloc/study/table3.h"
#include "sim/workload.h"

namespace bitsim::study {

Comparison run_compare(const CompareSpec& spec, StudyInputs inputs) {
  Comparison c;
  c.spec.avg_bits = spec.avg_bits;
  c.spec.batches = {spec.batch};
  if (spec.solvers.empty()) {
    for (const alloc::SolverInfo& s : alloc::solvers()) c.spec.solvers.push_back(&s);
  } else {
    c.spec.solvers = spec.solvers;
    c.equal_listed = std::find(spec.solvers.begin(), spec.solvers.end(), &alloc::equal_solver()) != spec.solvers.end();
  }
  c.result = run_study(c.spec, std::move(inputs));
  return c;
}

Comparison run_table3(const CompareSpec& spec, const std::string& data_dir, alloc::RateKind rate) {
  StudyInputs inputs;
  alloc::ModelOptions model;
  model.rate = rate;
  for (const Table3Cell& cell : seed004_table3()) {
    const std::string hw = fmt::format("{}/configs/{}.yaml", data_dir, cell.hardware);
    const std::string wl = fmt::format("{}/workloads/{}.yaml", data_dir, cell.workload);
    if (std::none_of(inputs.hardware.begin(), inputs.hardware.end(),
                     [&](const sim::HardwareConfig& h) { return h.source == hw; }))
      inputs.hardware.push_back(sim::load_hardware_config(hw));
    if (std::none_of(inputs.networks.begin(), inputs.networks.end(),
                     [&](const sim::Network& n) { return n.name() == cell.workload; })) {
      inputs.networks.push_back(sim::load_workload(wl));
      inputs.curves.push_back(alloc::modelled_curves(inputs.networks.back(), model));
    }
  }
  Comparison c = run_compare(spec, std::move(inputs));
  c.table3 = true;
  return c;
}

namespace {

std::vector<std::string> columns(bool paper) {
  std::vector<std::string> c;
  if (paper) c = {"hardware", "workload"};
  for (const char* k : {"avg_bits", "solver", "rate_bits", "size_bytes", "predicted_distortion", "inference_rate_per_s",
                        "speedup_vs_equal", "speedup_vs_native", "dram_bound_layers", "energy_per_image_j", "area_mm2"})
    c.emplace_back(k);
  if (paper) {
    c.emplace_back("paper_inference_rate_per_s");
    c.emplace_back("bitsim_over_paper");
    c.emplace_back("paper_speedup_vs_equal");
  } else {
    c.emplace_back("proven_optimal");
    c.emplace_back("status");
  }
  return c;
}

}  // namespace

Table comparison_table(const Comparison& c) {
  const bool paper = c.table3;
  Table t(columns(paper));
  const Cell none = missing();  // a figure that does not exist: empty in CSV
  for (const StudyRow& row : c.result.rows) {
    if (!c.equal_listed && row.solver == alloc::equal_solver().name) continue;
    const sim::HardwareConfig& hw = c.result.configs[row.point];
    const std::string& workload = c.result.networks[row.workload].name();
    std::vector<Cell> cells;
    if (paper) cells = {hw.name, workload};
    cells.emplace_back(row.avg_bits);
    cells.emplace_back(row.solver);
    if (!row.feasible) {
      while (cells.size() + 2 < t.columns().size()) cells.push_back(none);
      cells.push_back(none);
      cells.push_back(paper ? none : Cell(row.status));  // paper rows have no status column
      t.add_row(std::move(cells));
      continue;
    }
    for (const Cell& v :
         {Cell(row.rate_bits), Cell(row.rate_bits / 8), Cell(row.output_error), Cell(row.inference_rate_per_s),
          row.speedup_vs_equal > 0 ? Cell(row.speedup_vs_equal) : none, Cell(row.speedup_vs_native),
          Cell(row.dram_bound), Cell(row.energy_per_image_j), Cell(row.area_mm2)})
      cells.push_back(v);
    if (paper) {
      const Table3Cell* ref = find_table3_cell(hw.name, workload, row.avg_bits);
      const bool equal = row.solver == alloc::equal_solver().name, ours = row.solver == alloc::lagrangian_solver().name;
      const double paper_rate = ref && (equal || ours) ? (equal ? ref->equal_rate_per_s : ref->ours_rate_per_s) : 0;
      cells.push_back(paper_rate > 0 ? Cell(paper_rate) : none);
      cells.push_back(paper_rate > 0 ? Cell(row.inference_rate_per_s / paper_rate) : none);
      cells.push_back(ref && ours ? Cell(ref->ours_rate_per_s / ref->equal_rate_per_s) : none);
    } else {
      cells.emplace_back(std::string(row.proven_optimal ? "yes" : "no"));
      cells.emplace_back(std::string("ok"));
    }
    t.add_row(std::move(cells));
  }
  return t;
}

}  // namespace bitsim::study
