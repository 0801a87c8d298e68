// Commands on the bits side: curves, allocate, compare, list solvers.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "alloc/curves.h"
#include "alloc/curves_cache.h"
#include "alloc/dataset.h"
#include "alloc/inference.h"
#include "alloc/measured_curves.h"
#include "alloc/modelled_curves.h"
#include "alloc/quantized_model.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/allocate.h"
#include "alloc/study/allocation_report.h"
#include "alloc/study/compare.h"
#include "alloc/study/measure.h"
#include "alloc/study/table3.h"
#include "sim/base/units.h"
#include "sim/detailed_model.h"
#include "sim/energy.h"
#include "sim/workload.h"
#include "tools/cli/commands.h"
#include "tools/cli/html_report.h"
#include "tools/cli/svg.h"

namespace bitsim::tools {

using namespace bitsim::alloc;

namespace {

RateKind parse_rate(const std::string& text) {
  if (const auto kind = kRateKindNames.find(text)) return *kind;
  throw InputError({}, fmt::format("--rate: expected {}, got '{}'", kRateKindNames.alternatives(), text));
}

// The data of --data or --eval-data, in the model's input shape; how a file was read goes to `notes`.
Dataset load_data(const std::string& spec, const sim::Network& net, std::ostream& notes) {
  Dataset d = load_dataset(spec, net.layer(0).output);
  for (const std::string& note : d.notes) notes << "data: " << note << '\n';
  return d;
}

// The curves of a command: from --curves, measured with --model (on `calibration` when the caller
// has read --data already), else modelled from --workload.
RateDistortionCurves load_source(const CurveSource& s, const std::optional<sim::Network>& net,
                                 const Dataset* calibration = nullptr) {
  if (!s.curves_path.empty()) return load_curves(s.curves_path);
  if (!s.model_path.empty()) {
    const RateKind rate = parse_rate(s.rate);
    const std::string cache = default_cache_dir();
    const std::string key =
        curves_cache_key(s.model_path, workload_options(s.input_shape, s.logits), dataset_identity(s.data), rate);
    CachedCurves cached = load_cached_curves(cache, key);
    if (cached.curves) {
      std::cerr << fmt::format("measured curves: reusing {}\n", cached_curves_path(cache, key));
      cached.curves->source = fmt::format("measured on '{}' (cached)", net->name());
      return *cached.curves;
    }
    if (!cached.problem.empty())
      std::cerr << fmt::format("warning: {}: {}; measuring again\n", cached_curves_path(cache, key), cached.problem);
    const InferenceEngine engine(*net);
    std::optional<Dataset> own;
    if (!calibration) calibration = &own.emplace(load_data(s.data, *net, std::cerr));
    MeasureOptions options;
    options.rate = rate;
    int last = -1;
    options.progress = [&](std::size_t done, std::size_t total) {
      const int pct = static_cast<int>(100 * done / total);
      if (pct / 10 != last / 10 || done == total)
        std::cerr << fmt::format("measuring curves: {}/{} settings ({}%)\n", done, total, pct);
      last = pct;
    };
    RateDistortionCurves curves = measured_curves(engine, *calibration, options);
    if (const std::string problem = store_cached_curves(cache, key, curves); !problem.empty())
      std::cerr << fmt::format("warning: measured curves not cached: {}\n", problem);
    return curves;
  }
  if (!net) throw InputError({}, "give --curves FILE, --model FILE (measured) or --workload FILE (modelled)");
  ModelOptions options;
  options.rate = parse_rate(s.rate);
  options.error = *kErrorModelNames.find(s.error_model);  // checked by the option parser
  return modelled_curves(*net, options);
}

std::optional<sim::Network> load_network(const CurveSource& s) {
  if (!s.model_path.empty()) {
    if (!s.workload_path.empty())
      throw InputError({}, "give --model or --workload, not both (the model is the workload)");
    return sim::load_workload(s.model_path, "onnx", workload_options(s.input_shape, s.logits));
  }
  if (s.workload_path.empty()) return std::nullopt;
  return sim::load_workload(s.workload_path, s.workload_format, workload_options(s.input_shape));
}

double budget_from(const RateDistortionCurves& curves, double budget_bits, double avg_bits) {
  if ((budget_bits >= 0) == (avg_bits >= 0)) throw InputError({}, "give exactly one of --budget-bits and --avg-bits");
  if (budget_bits >= 0) return budget_bits;
  const std::int64_t values = curves.total_values();
  if (values <= 0)
    throw InputError({curves.source, 0, 0}, "--avg-bits needs the 'count' column in the curves (values per tensor)");
  return avg_bits * static_cast<double>(values);
}

std::string curves_line(const RateDistortionCurves& c) {
  return fmt::format("curves: {} [{}], rate: {}, {} tensors, {} values", c.source, c.provenance, rate_kind_name(c.rate),
                     c.tensors.size(), c.total_values());
}

}  // namespace

int run_curves(const CurvesArgs& a) {
  if (!a.out_path.empty()) check_new_file(a.out_path, a.force, "--out");  // before measuring
  const auto net = load_network(a.source);
  const RateDistortionCurves curves = load_source(a.source, net);
  std::ostringstream text;
  write_curves(text, curves);
  if (a.out_path.empty())
    std::cout << text.str();
  else
    write_new_file(a.out_path, text.str(), a.force, "--out");
  return 0;
}

namespace {

// The latency target of an `allocate` command line (--min-rate, --max-time, --max-error) and its engine.
study::AllocationGoal latency_goal(const AllocateArgs& a) {
  study::AllocationGoal goal;
  goal.engine = parse_engine(a.engine);
  if (a.max_error >= 0) {
    goal.max_error = a.max_error;
  } else if (!a.max_time.empty()) {
    const auto t = parse_quantity(a.max_time, Dimension::Seconds);
    if (!t || *t <= 0)
      throw InputError({}, fmt::format("--max-time: expected a positive time per image with a unit ({}), got '{}'",
                                       unit_examples(Dimension::Seconds), a.max_time));
    goal.max_time_per_image_s = *t;
  } else {
    goal.min_rate_per_s = a.min_rate;
  }
  return goal;
}

}  // namespace

namespace {

// allocate --report DIR: the plan, per-layer bits (weights and activations, like seed 004 Fig. 3)
// and per-layer time coloured by bottleneck, with index.html.
void write_allocate_report(const OutputDir& dir, const std::string& summary, const sim::AnalyticalModel& model,
                           const sim::BitPlan& plan, const sim::SimResult& sim, const Table& choices) {
  const sim::Network& net = model.network();
  std::ostringstream yaml;
  sim::write_bit_plan(yaml, net, plan);
  dir.write("plan.yaml", yaml.str());
  Bars bits, time;
  bits.series = {{"weights", {}, {}}, {"activations", {}, {}}};
  time.series = {{"time", {}, {}}};
  time.group_names = {"compute-bound", "DRAM-bound", "decode-bound"};
  Table layers({"layer", "weight_bits_per_value", "activation_bits_per_value", "time_s", "bottleneck", "energy_j"});
  auto per_value = [](const sim::TensorCoding& c, std::int64_t values) {
    if (!c.quantized()) return std::numeric_limits<double>::quiet_NaN();  // inside a fused datapath
    return c.entropy_coded() && values > 0 ? c.coded_bits / static_cast<double>(values) : static_cast<double>(c.bits);
  };
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const sim::Layer& l = net.layer(i);
    const double w = l.weights > 0 ? per_value(plan.weights[i], l.weights) : std::numeric_limits<double>::quiet_NaN();
    const double act = per_value(plan.activations[i], l.output.count());
    bits.categories.push_back(l.name);
    bits.series[0].y.push_back(w);
    bits.series[1].y.push_back(act);
    const sim::LayerTiming& t = sim.layers[i];
    if (l.op != sim::LayerOp::Input) {
      time.categories.push_back(l.name);
      time.series[0].y.push_back(t.time_s * 1e6);
      time.bar_group.push_back(t.bottleneck == sim::Bottleneck::Dram     ? 1
                               : t.bottleneck == sim::Bottleneck::Decode ? 2
                                                                         : 0);
    }
    layers.add_row({l.name, l.weights > 0 ? Cell(w) : missing(), std::isnan(act) ? missing() : Cell(act), t.time_s,
                    std::string(sim::bottleneck_name(t.bottleneck)), sim::layer_energy(model, i, plan, t).total_j()});
  }
  dir.write("bits.svg", bar_chart({"Bits per value by layer (coded size / values)", "layer", "bits per value"}, bits));
  dir.write("time.svg", bar_chart({"Layer time by bottleneck (analytical model)", "layer", "time (us)"}, time));
  std::ostringstream csv;
  layers.write_csv(csv);
  dir.write("layers.csv", csv.str());
  ReportSection s;
  s.heading = "Plan";
  s.paragraphs = {summary};
  s.images = {"bits.svg", "time.svg"};
  s.tables = {{"", &layers, 2000, "layers.csv"}, {"", &choices, 2000, ""}};
  s.links = {"plan.yaml", "layers.csv"};
  dir.write("index.html", html_report("bitsim allocate", {s}));
}

}  // namespace

namespace {

// The solver an `allocate` command line asks for, checked against its latency target (if any).
const SolverInfo& allocate_solver(const AllocateArgs& a, bool latency) {
  if (!latency && a.solver.empty())
    throw InputError({},
                     "give --solver (see `bitsim list solvers`), or a latency target: --min-rate, --max-time or "
                     "--max-error");
  const SolverInfo& solver = a.solver.empty() ? latency_solver() : find_solver(a.solver);
  if (latency && solver.kind != SolverKind::Latency)
    throw InputError({}, fmt::format("--solver {} minimizes error under a size budget: a latency target (--min-rate, "
                                     "--max-time, --max-error) is solved by the {} solver (omit --solver)",
                                     a.solver, latency_solver().name));
  if (!latency && solver.kind == SolverKind::Latency)
    throw InputError(
        {}, fmt::format("--solver {} needs a target: --min-rate R, --max-time T or --max-error E", solver.name));
  if (!latency && parse_engine(a.engine) != sim::Engine::Analytical)
    throw InputError({}, "--engine applies to latency targets (--min-rate, --max-time, --max-error)");
  return solver;
}

void print_allocation(const Record& record, const Table& choices, Format format) {
  switch (format) {
    case Format::Json: {
      JsonWriter j(std::cout);
      j.begin_object();
      j.fields_of(record);
      j.key("choices");
      j.rows_of(choices);
      j.end_object();
      return;
    }
    case Format::Csv:
      record.write_csv_comments(std::cout);
      choices.write_csv(std::cout);
      return;
    case Format::Text:
      record.write_text(std::cout);
      std::cout << '\n';
      choices.write_text(std::cout);
  }
}

}  // namespace

int run_allocate(const AllocateArgs& a) {
  // Every output path checked before measuring or solving.
  std::optional<OutputDir> report;
  if (!a.report_dir.empty()) {
    if (a.hw_path.empty()) throw InputError({}, "--report needs --hw (it plots the simulated layer times)");
    const std::vector<std::string> names = {"plan.yaml", "bits.svg", "time.svg", "layers.csv", "index.html"};
    for (const std::string& n : names)
      if (!a.out_path.empty() && same_path(a.out_path, (std::filesystem::path(a.report_dir) / n).string()))
        throw InputError(
            {a.out_path, 0, 0},
            fmt::format("--out: the --report folder {} writes {} itself: give --out another path", a.report_dir, n));
    report.emplace(a.report_dir, a.force);
    report->check(names);
  }
  if (!a.out_path.empty()) check_new_file(a.out_path, a.force, "--out");
  const bool latency = a.min_rate > 0 || !a.max_time.empty() || a.max_error >= 0;
  const SolverInfo& solver = allocate_solver(a, latency);
  const auto net = load_network(a.source);
  if (latency && (!net || a.hw_path.empty()))
    throw InputError({}, "a latency target needs --hw and the network (--workload or --model)");
  if (!a.hw_path.empty() && !net) throw InputError({}, "--hw needs --workload (the network to simulate)");
  if (!a.out_path.empty() && !net) throw InputError({}, "--out needs --workload (a plan names the workload's tensors)");
  std::optional<sim::HardwareConfig> hw;
  if (!a.hw_settings.empty() && a.hw_path.empty())
    throw InputError({}, "--set needs --hw (it overrides its parameters)");
  if (!a.hw_path.empty()) hw = load_hardware(a.hw_path, a.hw_settings);
  std::optional<sim::AnalyticalModel> model;
  if (hw) model.emplace(*net, *hw, a.batch);
  // With a real model, both data sets are read before the curves are measured: a wrong one fails now.
  std::optional<Dataset> calibration, eval;
  if (!a.source.model_path.empty()) {
    calibration = load_data(a.source.data, *net, std::cerr);
    eval = load_data(a.eval_data, *net, std::cerr);
  }
  // Storage format per tensor (fixed or entropy-coded, coded only with a decoder and where smaller);
  // on a datapath that fuses layers, their inputs are no tensors: not quantized, not budgeted.
  const RateDistortionCurves curves = study::curves_to_solve(
      load_source(a.source, net, calibration ? &*calibration : nullptr), model ? &*model : nullptr);
  study::AllocationGoal goal = latency ? latency_goal(a) : study::AllocationGoal{};
  if (!latency || a.budget_bits >= 0 || a.avg_bits >= 0)
    goal.budget_bits = budget_from(curves, a.budget_bits, a.avg_bits);
  goal.detailed = [&](const sim::BitPlan& p) { return sim::simulate_detailed(*net, *hw, p, a.batch, {}).result; };
  study::PlannedAllocation planned =
      study::allocate_plan(curves, solver, goal, net ? &*net : nullptr, model ? &*model : nullptr,
                           [](std::string_view note) { std::cerr << note << '\n'; });
  if (!planned.unmet.empty()) {  // printed, not thrown: nothing may throw after a SystemC run
    std::cerr << "error: " << planned.unmet << '\n';
    return 1;
  }
  study::AllocationOutcome& o = planned.outcome;
  const std::optional<sim::BitPlan>& plan = planned.plan;
  o.eval_data = a.eval_data;
  o.plan_path = a.out_path;
  // With a real model: the plan's measured output error and accuracy, next to the prediction.
  if (eval) {
    o.measured = study::measure_plan(*net, &*plan, *eval, calibration->images, calibration->count);
    o.eval_data = eval->name;
  }
  if (!a.out_path.empty()) {
    std::ostringstream text;
    text << fmt::format("# solver {}, {}, {}\n", o.solver->name, o.goal, curves_line(curves));
    sim::write_bit_plan(text, *net, *plan);
    write_new_file(a.out_path, text.str(), a.force, "--out");
  }
  const Record record = study::allocation_record(o);
  const Table choices = study::choices_table(curves, o.allocation);
  if (report) {
    std::ostringstream summary;
    record.write_text(summary);
    write_allocate_report(*report, summary.str(), *model, *plan, *o.score.simulated, choices);
    std::cerr << fmt::format("wrote {}/plan.yaml, bits.svg, time.svg, layers.csv, index.html\n", a.report_dir);
  }
  print_allocation(record, choices, a.out.format());
  return 0;
}

namespace {

// The report of `compare --report`: the table, images/s per solver as bars on a linear axis, one
// panel per hardware config (their rates differ by orders of magnitude), with seed 004's Table 3
// figures as outlined bars beside bitsim's equal and lagrangian, and index.html.
void write_compare_report(const OutputDir& dir, const std::string& header, const study::Comparison& c, const Table& t) {
  std::ostringstream csv;
  t.write_csv(csv);
  dir.write("compare.csv", csv.str());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::string> solvers;  // in row order: one style per solver
  for (const study::StudyRow& row : c.result.rows)
    if (std::find(solvers.begin(), solvers.end(), row.solver) == solvers.end()) solvers.push_back(row.solver);
  std::vector<Bars> panels;
  std::map<std::size_t, std::size_t> panel_of;  // hardware index -> panel
  for (const study::StudyRow& row : c.result.rows) {
    if (!c.equal_listed && row.solver == equal_solver().name) continue;
    auto [pit, fresh_panel] = panel_of.try_emplace(row.hardware, panels.size());
    if (fresh_panel) {
      panels.emplace_back();
      panels.back().title = c.result.hardware[row.hardware].name;
    }
    Bars& bars = panels[pit->second];
    const std::string& workload = c.result.networks[row.workload].name();
    const std::string label =
        c.table3 ? fmt::format("{}, {} bits", workload, row.avg_bits) : fmt::format("{} bits", row.avg_bits);
    if (bars.categories.empty() || bars.categories.back() != label) bars.categories.push_back(label);
    const auto style = static_cast<int>(std::find(solvers.begin(), solvers.end(), row.solver) - solvers.begin());
    const study::Table3Cell* paper =
        c.table3 ? study::find_table3_cell(c.result.hardware[row.hardware].name, workload, row.avg_bits) : nullptr;
    const bool equal = row.solver == equal_solver().name, ours = row.solver == lagrangian_solver().name;
    auto put = [&](const std::string& name, bool hollow, double v) {
      auto it = std::find_if(bars.series.begin(), bars.series.end(), [&](const Series& s) { return s.name == name; });
      if (it == bars.series.end()) it = bars.series.insert(bars.series.end(), {name, {}, {}, style, hollow});
      it->y.resize(bars.categories.size(), nan);
      it->y.back() = v;
    };
    put(row.solver, false, row.feasible ? row.inference_rate_per_s : nan);
    if (paper && (equal || ours))
      put(equal ? "equal, seed 004" : "ours (lagrangian), seed 004", true,
          equal ? paper->equal_rate_per_s : paper->ours_rate_per_s);
  }
  dir.write("rates.svg",
            bar_panels({c.table3 ? "Simulated images/s per solver, seed 004's Table 3 outlined beside bitsim's"
                                 : "Simulated images/s per solver",
                        "", "images/s", false, false},
                       panels));
  ReportSection s;
  s.heading = c.table3 ? "Seed 004 Table 3 and bitsim" : "Equal vs optimized allocation";
  s.paragraphs = {header};
  if (c.table3)
    for (const std::string& n : study::table3_note_lines()) s.paragraphs.emplace_back(n);
  s.images = {"rates.svg"};
  s.tables = {{"", &t, 2000, "compare.csv"}};
  s.links = {"compare.csv"};
  dir.write("index.html", html_report("bitsim compare", {s}));
}

}  // namespace

int run_compare(const CompareArgs& a) {
  study::CompareSpec spec;
  spec.avg_bits = parse_number_list(a.avg_bits, "--avg-bits");
  spec.batch = a.batch;
  if (!a.solvers.empty()) {
    std::stringstream list(a.solvers);
    for (std::string name; std::getline(list, name, ',');) spec.solvers.push_back(&find_solver(name));
  }
  std::optional<OutputDir> report;
  if (!a.report_dir.empty()) {
    report.emplace(a.report_dir, a.force);
    report->check({"compare.csv", "rates.svg", "index.html"});
  }
  study::Comparison c;
  std::string header;
  if (a.table3) {
    if (!a.source.workload_path.empty() || !a.hw_path.empty() || !a.hw_settings.empty() ||
        !a.source.curves_path.empty() || !a.source.model_path.empty())
      throw InputError({},
                       "--table3 runs seed 004's four platform/model pairs: give no --hw, --set, --workload, --curves "
                       "or --model");
    c = study::run_table3(spec, a.data_dir, parse_rate(a.source.rate));
    header = fmt::format("seed 004 Table 3 next to bitsim (analytical model, modelled curves, batch 1)\n{}\n",
                         study::kSizesCompared);
  } else {
    auto net = load_network(a.source);
    if (!net) throw InputError({}, "compare needs --workload (or --model), or --table3");
    if (a.hw_path.empty()) throw InputError({}, "compare needs --hw (or --table3)");
    study::StudyInputs inputs;
    inputs.hardware.push_back(load_hardware(a.hw_path, a.hw_settings));
    inputs.curves.push_back(load_source(a.source, net));
    inputs.networks.push_back(std::move(*net));
    c = study::run_compare(spec, std::move(inputs));
    const sim::HardwareConfig& hw = c.result.configs.front();
    const RateDistortionCurves& curves = c.result.curves.front();
    header = fmt::format("{} on {} ({}), batch {}\n{}\nnative precision ({} bits, fixed length): {:.4g} images/s\n{}\n",
                         c.result.networks.front().name(), hw.name, hw.source, a.batch, curves_line(curves),
                         hw.native_bits, c.result.native_rate_per_s.front(), study::kSizesCompared);
  }
  const Table t = study::comparison_table(c);
  if (report) {
    write_compare_report(*report, header, c, t);
    std::cerr << fmt::format("wrote {}/compare.csv, rates.svg, index.html\n", a.report_dir);
  }
  switch (a.out.format()) {
    case Format::Json:
      if (a.table3) {
        print_rows(t, Format::Json);
      } else {
        const RateDistortionCurves& curves = c.result.curves.front();
        JsonWriter j(std::cout);
        j.begin_object();
        j.field("workload", Cell(c.result.networks.front().name()));
        json_config(j, c.result.configs.front());
        j.field("curves", Cell(curves.source));
        j.field("provenance", Cell(curves.provenance));
        j.field("rate_kind", Cell(std::string(rate_kind_name(curves.rate))));
        j.field("native_inference_rate_per_s", Cell(c.result.native_rate_per_s.front()));
        j.field("sizes_compared", Cell(std::string(study::kSizesCompared)));
        j.key("rows");
        j.rows_of(t);
        j.end_object();
      }
      break;
    case Format::Csv:
      print_rows(t, Format::Csv);
      break;
    case Format::Text:
      std::cout << header << '\n';
      print_rows(t, Format::Text);
      if (a.table3) {
        std::cout << "\nWhere bitsim differs from the paper, and why:\n";
        for (const std::string& n : study::table3_note_lines()) std::cout << "- " << n << '\n';
      }
  }
  return 0;
}

int run_additivity(const AdditivityArgs& a) {
  if (a.source.model_path.empty()) throw InputError({}, "additivity needs --model (an ONNX model) and --data");
  const auto net = load_network(a.source);
  const RateDistortionCurves curves = load_source(a.source, net);
  const InferenceEngine engine(*net);
  const Dataset calibration = load_data(a.source.data, *net, std::cerr);
  const auto points = measure_additivity(engine, calibration, curves, a.samples, a.seed);
  Table t({"sample", "tensors", "predicted_distortion", "measured_output_mse", "ratio"});
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, ratio = 0;
  for (std::size_t k = 0; k < points.size(); ++k) {
    const auto& p = points[k];
    t.add_row({static_cast<std::int64_t>(k), static_cast<std::int64_t>(p.tensors), p.predicted, p.measured,
               p.predicted > 0 ? p.measured / p.predicted : 0.0});
    sx += p.predicted;
    sy += p.measured;
    sxx += p.predicted * p.predicted;
    syy += p.measured * p.measured;
    sxy += p.predicted * p.measured;
    ratio += p.predicted > 0 ? p.measured / p.predicted : 0.0;
  }
  const double m = static_cast<double>(points.size());
  const double corr = (m * sxy - sx * sy) / std::sqrt((m * sxx - sx * sx) * (m * syy - sy * sy));
  switch (a.out.format()) {
    case Format::Csv:
      t.write_csv(std::cout);
      break;
    case Format::Json: {
      JsonWriter j(std::cout);
      j.begin_object();
      j.field("model", Cell(a.source.model_path));
      j.field("data", Cell(calibration.name));
      j.field("mean_ratio", Cell(ratio / m));
      j.field("correlation", Cell(corr));
      j.key("samples");
      j.rows_of(t);
      j.end_object();
      break;
    }
    case Format::Text:
      std::cout << fmt::format(
          "{}\nadditivity on {} ({} random subsets, seed {}): measured / predicted = {:.3f} on "
          "average, correlation {:.4f}\n\n",
          curves_line(curves), calibration.name, points.size(), a.seed, ratio / m, corr);
      t.write_text(std::cout);
  }
  return 0;
}

int run_eval(const EvalArgs& a) {
  const sim::Network net = sim::load_workload(a.model_path, "onnx", workload_options(a.input_shape, a.logits));
  std::ostringstream data_notes;
  const Dataset data = load_data(a.data, net, data_notes);
  std::optional<sim::BitPlan> plan;
  if (!a.plan_path.empty()) plan = sim::load_bit_plan(a.plan_path, net);
  if (!a.bits.empty()) {
    sim::HardwareConfig float32;  // without hardware, --bits native means the model's own 32 bits
    float32.native_bits = 32;
    plan = parse_bits(a.bits, net, float32);
  }
  // Steps are calibrated on the first --calibration images of the same data.
  const int calib = std::min(a.calibration, data.count);
  const std::span<const float> calibration(
      data.images.data(), static_cast<std::size_t>(calib) * static_cast<std::size_t>(data.shape.count()));
  const study::PlanMeasurement m = study::measure_plan(net, plan ? &*plan : nullptr, data, calibration, calib);
  const std::string plan_name = plan ? plan->label : std::string("float32");
  // Without labels there is no accuracy: top-1 agreement with the float model, and the output SQNR.
  Table t = m.labelled ? Table({"model", "data", "images", "plan", "accuracy", "float_accuracy", "measured_output_mse"})
                       : Table({"model", "data", "images", "plan", "top1_agreement", "measured_output_mse",
                                "measured_output_sqnr_db"});
  if (m.labelled)
    t.add_row({a.model_path, m.data, static_cast<std::int64_t>(m.images), plan_name, m.accuracy, m.float_accuracy,
               m.output_mse});
  else
    t.add_row({a.model_path, m.data, static_cast<std::int64_t>(m.images), plan_name, m.agreement, m.output_mse,
               m.output_sqnr_db});
  if (a.out.format() == Format::Json) {
    JsonWriter j(std::cout);
    j.begin_object();
    for (std::size_t c = 0; c < t.columns().size(); ++c) j.field(t.columns()[c], t.rows()[0][c]);
    j.end_object();
    return 0;
  }
  for (const auto& note : net.notes()) std::cout << "import: " << note << '\n';
  std::cout << data_notes.str();
  t.write_text(std::cout);
  return 0;
}

int run_list(const std::string& what) {
  if (what == "formats") return run_list_formats();
  Table t({"solver", "needs", "description"});
  for (const auto& s : solvers())
    t.add_row({std::string(s.name), std::string(kSolverNeedsNames.name(s.needs)), std::string(s.description)});
  t.write_text(std::cout);
  return 0;
}

}  // namespace bitsim::tools
