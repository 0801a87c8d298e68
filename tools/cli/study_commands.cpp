// `bitsim sweep` and `bitsim codesign`: study files run through alloc/study/study.h, written as tables,
// CSV, SVG plots and an index.html, with the inputs copied next to them so that the folder
// reproduces itself (`bitsim sweep DIR/study.yaml`).
#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "alloc/plan_score.h"
#include "alloc/study/study.h"
#include "sim/bit_plan.h"
#include "sim/hw_config.h"
#include "tools/cli/commands.h"
#include "tools/cli/html_report.h"
#include "tools/cli/study_report.h"
#include "tools/cli/study_run.h"

namespace bitsim::tools {

using namespace bitsim::alloc;
using namespace bitsim::study;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct StudyRun {
  study::StudySpec spec;
  StudyResult result;
};

// The no-op axes, for the report.
std::vector<std::string> warning_paragraphs(const StudyRun& r) {
  std::vector<std::string> out;
  out.reserve(r.result.no_op_axes.size());
  for (const NoOpAxis& w : r.result.no_op_axes) out.push_back("Warning: " + w.text + ".");
  return out;
}

// The files of the K-th front point, relative to the output folder.
std::string front_plan_file(std::size_t k) { return fmt::format("plans/pareto-{}.yaml", k); }
std::string front_hw_file(std::size_t k) { return fmt::format("plans/pareto-{}.hw.yaml", k); }

// A varied parameter as a column: a hardware parameter by its data column (a number in base units,
// sim::parameter_column), read back from the point's resolved config.
bool is_hardware_key(const std::string& key) {
  const auto params = sim::hardware_parameters();
  return std::any_of(params.begin(), params.end(), [&](const sim::ParamInfo& p) { return p.key == key; });
}

// One column of sweep.csv / codesign.csv / pareto.csv: its name and how a row fills it. The list in
// row_columns() is the one definition of those files' columns (README "CSV files" documents each,
// and tests/csv_schema.cpp checks the two agree): add a column there, with its line in the README.
struct RowColumn {
  std::string name;
  std::function<Cell(const StudyRow&)> value;
};

std::vector<RowColumn> row_columns(const StudyRun& r, const std::vector<bool>* front) {
  const StudyResult& res = r.result;
  // Figures of a plan that could not be solved or run do not exist: empty in CSV.
  auto feasible = [](auto get) {
    return [get](const StudyRow& row) { return row.feasible ? Cell(get(row)) : missing(); };
  };
  std::vector<RowColumn> cols = {
      {"hardware", [&res](const StudyRow& row) { return Cell(res.configs[row.point].name); }},
      {"workload", [&res](const StudyRow& row) { return Cell(res.networks[row.workload].name()); }},
      {"batch", [](const StudyRow& row) { return Cell(static_cast<std::int64_t>(row.batch)); }}};
  for (std::size_t a = 0; a < r.spec.vary.size(); ++a) {
    const study::StudyAxis& axis = r.spec.vary[a];
    if (is_hardware_key(axis.key))
      cols.push_back({sim::parameter_column(axis.key), [&res, key = axis.key](const StudyRow& row) {
                        return sim::parameter_value(res.configs[row.point], key);
                      }});
    else
      cols.push_back({axis.key, [&axis, a](const StudyRow& row) { return Cell(axis.values[row.axis_value[a]]); }});
  }
  const std::vector<RowColumn> figures = {
      {"avg_bits", [](const StudyRow& row) { return Cell(row.avg_bits); }},
      {"solver", [](const StudyRow& row) { return Cell(row.solver); }},
      {"rate_bits", feasible([](const StudyRow& row) { return row.rate_bits; })},
      {"predicted_distortion", feasible([](const StudyRow& row) { return row.output_error; })},
      {"inference_rate_per_s", feasible([](const StudyRow& row) { return row.inference_rate_per_s; })},
      {"speedup_vs_equal",
       [](const StudyRow& row) {
         return row.feasible && row.speedup_vs_equal > 0 ? Cell(row.speedup_vs_equal) : missing();
       }},
      {"speedup_vs_native", feasible([](const StudyRow& row) { return row.speedup_vs_native; })},
      {"compute_bound_layers", feasible([](const StudyRow& row) { return row.compute_bound; })},
      {"dram_bound_layers", feasible([](const StudyRow& row) { return row.dram_bound; })},
      {"decode_bound_layers", feasible([](const StudyRow& row) { return row.decode_bound; })},
      {"energy_per_image_j", feasible([](const StudyRow& row) { return row.energy_per_image_j; })},
      {"area_mm2", [](const StudyRow& row) { return Cell(row.area_mm2); }}};
  cols.insert(cols.end(), figures.begin(), figures.end());
  if (front) {
    cols.push_back({"hardware_cost", [](const StudyRow& row) { return Cell(row.cost); }});
    cols.push_back({"pareto", [&res, front](const StudyRow& row) {
                      return Cell(
                          std::string((*front)[static_cast<std::size_t>(&row - res.rows.data())] ? "yes" : "no"));
                    }});
    cols.push_back(
        {"pareto_group", [&res](const StudyRow& row) { return Cell(front_group_name(res, front_group(row))); }});
    // The front rows' files: K of plans/pareto-K.* numbers the front rows in row order.
    auto k_of = std::make_shared<std::vector<std::size_t>>(res.rows.size(), 0);
    for (std::size_t i = 0, k = 0; i < res.rows.size(); ++i)
      if ((*front)[i]) (*k_of)[i] = k++;
    using FileName = std::string (*)(std::size_t);
    for (const std::pair<const char*, FileName>& column :
         {std::pair<const char*, FileName>{"plan_file", &front_plan_file}, {"hw_file", &front_hw_file}}) {
      const FileName file = column.second;
      cols.push_back({column.first, [&res, front, k_of, file](const StudyRow& row) {
                        const auto i = static_cast<std::size_t>(&row - res.rows.data());
                        return (*front)[i] ? Cell(file((*k_of)[i])) : missing();
                      }});
    }
  }
  cols.push_back({"status", [](const StudyRow& row) { return Cell(row.feasible ? std::string("ok") : row.status); }});
  return cols;
}

Table rows_table(const StudyRun& r, const std::vector<bool>* front, bool front_only) {
  const std::vector<RowColumn> cols = row_columns(r, front);
  std::vector<std::string> names;
  names.reserve(cols.size());
  for (const RowColumn& c : cols) names.push_back(c.name);
  Table t(names);
  for (std::size_t i = 0; i < r.result.rows.size(); ++i) {
    if (front_only && !(*front)[i]) continue;
    std::vector<Cell> cells;
    cells.reserve(cols.size());  // one allocation of the final size
    for (const RowColumn& c : cols) cells.push_back(c.value(r.result.rows[i]));
    t.add_row(std::move(cells));
  }
  return t;
}

// The inputs next to the outputs, and a study.yaml that names them: the folder reruns itself.
// Where workload w is copied in the output folder.
std::string workload_copy(const study::StudySpec& spec, std::size_t w) {
  return fmt::format("inputs/workload-{}{}", w, std::filesystem::path(spec.workloads.at(w)).extension().string());
}

std::vector<StudyInputFile> input_files(const StudyRun& r) {
  std::vector<StudyInputFile> files;
  study::StudySpec copy = r.spec;  // the same study, naming the copies
  auto add = [&](std::string& path, const std::string& name) {
    files.push_back({name, path, read_text(path)});
    path = name;
  };
  for (std::size_t h = 0; h < copy.hardware.size(); ++h)
    add(copy.hardware[h],
        fmt::format("inputs/hardware-{}{}", h, std::filesystem::path(copy.hardware[h]).extension().string()));
  for (std::size_t w = 0; w < copy.workloads.size(); ++w) add(copy.workloads[w], workload_copy(r.spec, w));
  if (!copy.curves_path.empty()) add(copy.curves_path, "inputs/curves.csv");
  files.insert(
      files.begin(),
      {"study.yaml", r.spec.path,
       study_spec_yaml(copy, fmt::format("written by bitsim from {}; inputs copied into inputs/", r.spec.path))});
  return files;
}

std::vector<std::string> input_names(const StudyRun& r) {
  std::vector<std::string> names;
  for (const StudyInputFile& f : input_files(r)) names.push_back(f.name);
  return names;
}

std::string csv_text(const Table& t) {
  std::ostringstream s;
  t.write_csv(s);
  return s.str();
}

// How the runner (tools/cli/study_run.h) writes this command's folder.
StudyCommand study_command(const StudyRun& r, const std::string& name, std::vector<std::string> outputs) {
  StudyCommand c;
  c.name = name;
  c.points = r.spec.points();
  c.outputs = std::move(outputs);
  c.inputs = input_files(r);
  c.partial_csv = [&r](const StudyResult& result) {
    StudyRun finished{r.spec, result};
    finished.result.rows.clear();
    const std::size_t per_point = result.rows_per_point();
    for (std::size_t i = 0; i < result.rows.size(); ++i)
      if (result.point_done[i / per_point]) finished.result.rows.push_back(result.rows[i]);
    return csv_text(rows_table(finished, nullptr, false));
  };
  return c;
}

}  // namespace

int run_sweep(const StudyArgs& a) {
  StudyRun r;
  r.spec = study::load_study_spec(a.spec_path);
  // Before the work: nothing the user wrote is replaced without --force.
  std::vector<std::string> outputs = study_report_files(r.spec, StudyKind::Sweep);
  outputs.emplace_back("sweep.csv");
  StudyRunner runner(a, study_command(r, "sweep", std::move(outputs)));
  if (const auto code = runner.run(r.spec, r.result)) return *code;
  const Table t = rows_table(r, nullptr, false);
  if (OutputDir* out = runner.out()) {
    out->write("sweep.csv", csv_text(t));
    StudyReportInfo info;
    info.spec_path = a.spec_path;
    info.out_dir = a.out_dir;
    info.rows_csv = "sweep.csv";
    info.paragraphs = warning_paragraphs(r);
    info.links = input_names(r);
    write_study_report(*out, r.spec, r.result, nullptr, info);
    runner.finish();
    std::cerr << fmt::format("wrote {}/sweep.csv, the summaries and plots, index.html and the inputs\n", a.out_dir);
  }
  print_rows(t, a.out.format());
  return 0;
}

namespace {

// The front groups and their sizes, for the report.
std::string front_groups_text(const StudyRun& r, const std::vector<bool>& front) {
  std::map<FrontGroup, std::pair<std::size_t, std::size_t>> count;  // (front rows, rows)
  for (std::size_t i = 0; i < r.result.rows.size(); ++i) {
    auto& [on, all] = count[front_group(r.result.rows[i])];
    on += front[i] ? 1U : 0U;
    ++all;
  }
  std::vector<std::string> parts;
  parts.reserve(count.size());
  for (const auto& [g, n] : count)
    parts.push_back(fmt::format("{}: {} of {} rows", front_group_name(r.result, g), n.first, n.second));
  return fmt::format(
      "Fronts are computed per group of comparable rows, the same workload at the same batch (column "
      "pareto_group): images/s and error of different networks measure different things, and images/s "
      "at a larger batch buys throughput with latency. On the front: {}.",
      fmt::join(parts, "; "));
}

// The spec's objectives, e.g. "inference_rate, output_error, energy, area".
std::string objectives_text(const study::StudySpec& spec) {
  std::vector<std::string> names;
  names.reserve(spec.objectives.size());
  for (const study::Objective o : spec.objectives) names.emplace_back(study::kObjectiveNames.name(o));
  return fmt::format("{}", fmt::join(names, ", "));
}

// Where the K-th front row stands: "equal at 4 bits/value on tpu, resnet50 at batch 1: dram.bandwidth=8 GB/s".
std::string front_point_line(const StudyRun& r, std::size_t row_index, std::size_t k) {
  const StudyRow& row = r.result.rows[row_index];
  std::string text =
      fmt::format("Pareto point {} of {}: {} at {} bits/value on {}", k, front_group_name(r.result, front_group(row)),
                  row.solver, row.avg_bits, r.result.configs[row.point].name);
  for (std::size_t ax = 0; ax < r.spec.vary.size(); ++ax)
    text += fmt::format(" {}={}", r.spec.vary[ax].key, r.spec.vary[ax].values[row.axis_value[ax]]);
  return text;
}

// plans/pareto-K.yaml: the K-th front row's plan, headed by where it stands and how to rerun it.
std::string front_plan_text(const StudyRun& r, std::size_t row_index, std::size_t k) {
  const StudyRow& row = r.result.rows[row_index];
  const sim::HardwareConfig& hw = r.result.configs[row.point];
  const sim::Network& net = r.result.networks[row.workload];
  const RateDistortionCurves& curves = row_curves(r.result, row_index);
  std::ostringstream text;
  text << "# " << front_point_line(r, row_index, k) << '\n';
  text << fmt::format(
      "# {:.6g} images/s, predicted error {:.6g}, {:.6g} J per image, {:.6g} mm2, hardware cost {:.6g}\n",
      row.inference_rate_per_s, row.output_error, row.energy_per_image_j, row.area_mm2, row.cost);
  const std::string workload_file = workload_copy(r.spec, row.workload);
  text << fmt::format("# rerun in the output folder: bitsim simulate --hw {} --plan {} --workload {} --batch {}{}\n",
                      front_hw_file(k), front_plan_file(k), workload_file, row.batch,
                      r.spec.input_shape ? fmt::format(" --input-shape {},{},{}", r.spec.input_shape->channels,
                                                       r.spec.input_shape->height, r.spec.input_shape->width)
                                         : "");
  sim::write_bit_plan(text, net,
                      to_bit_plan(net, curves, row_allocation(r.result, row_index), static_cast<int>(hw.native_bits),
                                  fmt::format("{} at {} bits", row.solver, row.avg_bits)));
  return text.str();
}

void write_codesign_report(const OutputDir& out, const StudyRun& r, const StudyArgs& a, const Table& all,
                           const Table& best, const std::vector<bool>& front) {
  std::vector<std::size_t> front_rows;
  for (std::size_t i = 0; i < front.size(); ++i)
    if (front[i]) front_rows.push_back(i);
  std::vector<std::string> plan_files;
  for (std::size_t k = 0; k < front_rows.size(); ++k) {
    plan_files.push_back(front_plan_file(k));
    plan_files.push_back(front_hw_file(k));
  }
  out.check(plan_files);
  out.write("codesign.csv", csv_text(all));
  out.write("pareto.csv", csv_text(best));
  for (std::size_t k = 0; k < front_rows.size(); ++k) {
    out.write(front_plan_file(k), front_plan_text(r, front_rows[k], k));
    const sim::HardwareConfig& hw = r.result.configs[r.result.rows[front_rows[k]].point];
    out.write(front_hw_file(k), sim::hardware_yaml(hw, front_point_line(r, front_rows[k], k) +
                                                           "; its hardware, every parameter resolved"));
  }
  const study::CostWeights& c = r.spec.cost;
  StudyReportInfo info;
  info.kind = StudyKind::Codesign;
  info.spec_path = a.spec_path;
  info.out_dir = a.out_dir;
  info.rows_csv = "codesign.csv";
  info.front = &best;
  info.paragraphs = {
      fmt::format("Hardware cost proxy = {} x PEs + {} x KiB of SRAM + {} x GB/s of DRAM bandwidth + {} x decoder "
                  "lanes (weights from the study file).",
                  c.pe, c.sram_kib, c.dram_gb_per_s, c.decoder_lane),
      fmt::format("A row is on the front when no other row of its front group is at least as good in every "
                  "objective ({}: images/s higher, the others lower). Energy per image and area: sim/energy.h, with "
                  "the configs' energy and area keys. Each front row's plan is plans/pareto-K.yaml and its hardware, "
                  "every parameter resolved, plans/pareto-K.hw.yaml (columns plan_file and hw_file).",
                  objectives_text(r.spec)),
      front_groups_text(r, front)};
  for (std::string& w : warning_paragraphs(r)) info.paragraphs.push_back(std::move(w));
  info.links = {"pareto.csv"};
  for (const std::string& n : input_names(r)) info.links.push_back(n);
  write_study_report(out, r.spec, r.result, &front, info);
}

}  // namespace

int run_codesign(const StudyArgs& a) {
  StudyRun r;
  r.spec = study::load_study_spec(a.spec_path);
  std::vector<std::string> outputs = study_report_files(r.spec, StudyKind::Codesign);
  outputs.emplace_back("codesign.csv");
  outputs.emplace_back("pareto.csv");
  StudyRunner runner(a, study_command(r, "codesign", std::move(outputs)));
  if (const auto code = runner.run(r.spec, r.result)) return *code;
  const std::vector<bool> front = pareto_rows(r.result.rows, r.spec.objectives);
  const Table all = rows_table(r, &front, false);
  const Table best = rows_table(r, &front, true);
  if (OutputDir* out = runner.out()) {
    write_codesign_report(*out, r, a, all, best, front);
    runner.finish();
    std::cerr << fmt::format(
        "wrote {}/codesign.csv, pareto.csv, the summaries and plots, plans/, index.html and the inputs\n", a.out_dir);
  }
  print_rows(a.out.format() == Format::Text ? best : all, a.out.format());
  return 0;
}

int run_merge(const StudyArgs& a) {
  // The command and study of the first shard; StudyRunner checks that every shard agrees.
  if (a.merge.empty()) throw InputError({}, "merge: expected OUT and at least one shard folder");
  const std::string state = (std::filesystem::path(a.merge.front()) / "bitsim-run.yaml").string();
  if (!std::filesystem::exists(state))
    throw InputError({}, fmt::format("{}: not a shard folder (bitsim-run.yaml is missing)", a.merge.front()));
  const auto [command, spec] = study_run_command(state);
  StudyArgs b = a;
  b.spec_path = spec;
  return command == "codesign" ? run_codesign(b) : run_sweep(b);
}

}  // namespace bitsim::tools
