// The bitsim command-line program: parses arguments and dispatches to tools/cli/*_commands.cpp.
// The only place that catches exceptions and chooses exit codes:
//   0 success, 1 bad input (files, values, infeasible plan), 2 bad command line, 3 internal error;
//   130 a study stopped by Ctrl-C or SIGTERM (its partial result written: tools/cli/study_run.h).
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "alloc/curves.h"
#include "alloc/modelled_curves.h"
#include "sim/base/diagnostics.h"
#include "tools/cli/commands.h"

namespace {

using namespace bitsim::tools;

constexpr const char* kLogitsHelp =
    "with an ONNX model: leave out a Softmax that computes a graph output, so that output error is measured "
    "on the logits (top-1 is the same)";

void add_curve_source(CLI::App* cmd, CurveSource& s, bool workload_required) {
  cmd->add_option("--curves", s.curves_path, "rate-distortion curves CSV (default: modelled from --workload)");
  auto* w = cmd->add_option("--workload", s.workload_path, "network (.yaml, or SCALE-Sim topology .csv)");
  if (workload_required) w->required();
  cmd->add_option("--workload-format", s.workload_format, "auto, yaml, scalesim, scalesim-gemm or onnx");
  cmd->add_option(
         "--rate", s.rate,
         "for modelled and measured curves: what the budget counts: " + bitsim::alloc::kRateKindNames.alternatives())
      ->check(CLI::IsMember(bitsim::alloc::kRateKindNames.names()));
  cmd->add_option("--error-model", s.error_model,
                  "for modelled curves: how a tensor's error reaches the output: " +
                      bitsim::alloc::kErrorModelNames.alternatives() +
                      " (propagated: seed 004's first-order linearization; value_share: n_i x MSE_i / N)")
      ->check(CLI::IsMember(bitsim::alloc::kErrorModelNames.names()));
  cmd->add_option("--model", s.model_path, "ONNX model: measure the curves on real images (it is also the workload)");
  cmd->add_option("--data", s.data,
                  "with --model: calibration images: fashion-mnist[-train][:N], PATH.npy or PATH.npz[:N][:nchw|:nhwc], "
                  "a folder of PNG/JPEG images DIR[:N][:SPEC.yaml], random:N[:SEED] (default fashion-mnist-train:64)");
  cmd->add_option("--input-shape", s.input_shape, "C,H,W of an ONNX model whose input has symbolic dimensions");
  cmd->add_flag("--logits", s.logits, kLogitsHelp);
}

// Each command: its options bound to an argument struct, and the function that runs it.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command simulate_command(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  SimulateArgs& sim_args = *a;
  auto* simulate = app.add_subcommand("simulate", "per-layer time, traffic and bottleneck of one bit plan");
  simulate->add_option("--hw", sim_args.hw_path, "hardware config (.yaml, or SCALE-Sim .cfg)")->required();
  add_set_option(simulate, sim_args.hw_settings);
  simulate->add_option("--workload", sim_args.workload_path, "network (.yaml, or SCALE-Sim topology .csv)")->required();
  simulate->add_option("--workload-format", sim_args.workload_format, "auto, yaml, scalesim, scalesim-gemm or onnx");
  simulate->add_option("--input-shape", sim_args.input_shape, "C,H,W of an ONNX model with symbolic dimensions");
  auto* bits = simulate->add_option("--bits", sim_args.bits, "B, W/A or native (default: native)");
  simulate->add_option("--plan", sim_args.plan_path, "plan YAML")->excludes(bits);
  simulate->add_option("--batch", sim_args.batch, "images per batch")->check(CLI::Range(1, 1000000));
  simulate->add_option("--engine", sim_args.engine, "analytical (default) or systemc");
  simulate->add_option("--trace", sim_args.trace_path, "systemc: write a Chrome trace-event timeline (JSON)");
  simulate->add_flag("--no-prefetch", sim_args.no_prefetch, "systemc: no layer starts before the previous is done");
  simulate->add_flag("--unlimited-buffers", sim_args.unlimited_buffers, "systemc: ignore the SRAM sizes");
  simulate->add_flag("--force", sim_args.force, "replace --trace if it exists");
  add_output_flags(simulate, sim_args.out);

  return {simulate, [a] { return run_simulate(*a); }};
}

Command demo_command(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  DemoArgs& demo_args = *a;
  demo_args.data_dir = BITSIM_SOURCE_DIR;
  auto* demo = app.add_subcommand("demo", "the headline table: ResNet-50 and MobileNet-v1 on TPU and Eyeriss");
  demo->add_option("--data-dir", demo_args.data_dir, "folder holding configs/ and workloads/");
  add_output_flags(demo, demo_args.out);

  return {demo, [a] { return run_demo(*a); }};
}

Command inspect_command(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  InspectArgs& inspect_args = *a;
  auto* inspect = app.add_subcommand("inspect", "layers, shapes, parameters and MACs of a workload");
  inspect->add_option("--workload", inspect_args.workload_path, "network file")->required();
  inspect->add_option("--workload-format", inspect_args.workload_format, "auto, yaml, scalesim, scalesim-gemm or onnx");
  inspect->add_option("--input-shape", inspect_args.input_shape, "C,H,W of an ONNX model with symbolic dimensions");
  add_output_flags(inspect, inspect_args.out);

  return {inspect, [a] { return run_inspect(*a); }};
}

Command curves_command(CLI::App& app) {
  auto a = std::make_shared<CurvesArgs>();
  CurvesArgs& curves_args = *a;
  auto* curves = app.add_subcommand("curves", "write rate-distortion curves (modelled from a workload) as CSV");
  add_curve_source(curves, curves_args.source, false);
  curves->add_option("--out", curves_args.out_path, "write to this file instead of standard output");
  curves->add_flag("--force", curves_args.force, "replace --out if it exists");

  return {curves, [a] { return run_curves(*a); }};
}

Command allocate_command(CLI::App& app) {
  auto a = std::make_shared<AllocateArgs>();
  AllocateArgs& alloc_args = *a;
  auto* allocate = app.add_subcommand("allocate", "choose a quantizer per tensor within a bit budget");
  add_curve_source(allocate, alloc_args.source, false);
  auto* budget =
      allocate->add_option("--budget-bits", alloc_args.budget_bits, "total bits")->check(CLI::NonNegativeNumber);
  allocate->add_option("--avg-bits", alloc_args.avg_bits, "bits per value on average (x all values in the curves)")
      ->check(CLI::PositiveNumber)
      ->excludes(budget);
  allocate->add_option("--solver", alloc_args.solver, "see `bitsim list solvers` (latency targets: 'latency')");
  allocate->add_option("--hw", alloc_args.hw_path, "hardware config: simulate the plan");
  add_set_option(allocate, alloc_args.hw_settings);
  allocate->add_option("--batch", alloc_args.batch, "images per batch")->check(CLI::Range(1, 1000000));
  auto* min_rate =
      allocate->add_option("--min-rate", alloc_args.min_rate, "latency-aware: least error at >= R images/s")
          ->check(CLI::PositiveNumber);
  auto* max_time = allocate->add_option("--max-time", alloc_args.max_time,
                                        "latency-aware: least error at <= this time per image, e.g. '2 ms'");
  auto* max_error =
      allocate->add_option("--max-error", alloc_args.max_error, "latency-aware: most images/s at predicted error <= E")
          ->check(CLI::NonNegativeNumber);
  min_rate->excludes(max_time)->excludes(max_error);
  max_time->excludes(max_error);
  allocate
      ->add_option("--engine", alloc_args.engine,
                   "latency-aware: time plans with analytical (exact DP) or systemc (DP, then tighten until met)")
      ->check(CLI::IsMember(bitsim::sim::kEngineNames.names()));
  allocate->add_option("--out", alloc_args.out_path, "write the plan YAML (for simulate --plan)");
  allocate->add_option("--eval-data", alloc_args.eval_data,
                       "with --model: images on which the plan's real error is measured, in --data's forms (default "
                       "fashion-mnist:2000)");
  allocate->add_option("--report", alloc_args.report_dir,
                       "write plan.yaml, per-layer bits and time plots (SVG), layers.csv and index.html here");
  allocate->add_flag("--force", alloc_args.force, "replace --out (and files in --report) if they exist");
  add_output_flags(allocate, alloc_args.out);

  return {allocate, [a] { return run_allocate(*a); }};
}

Command compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CompareArgs& compare_args = *a;
  auto* compare = app.add_subcommand("compare", "equal vs each solver at each budget: size, error, images/s");
  add_curve_source(compare, compare_args.source, false);
  compare->add_option("--hw", compare_args.hw_path, "hardware config");
  add_set_option(compare, compare_args.hw_settings);
  compare->add_flag("--table3", compare_args.table3,
                    "seed 004 Table 3: TPU/Eyeriss x ResNet-50/MobileNet-v1 next to the paper's figures");
  compare_args.data_dir = BITSIM_SOURCE_DIR;
  compare->add_option("--data-dir", compare_args.data_dir, "with --table3: folder holding configs/ and workloads/");
  compare->add_option("--report", compare_args.report_dir, "write compare.csv, rates.svg and index.html here");
  compare->add_flag("--force", compare_args.force, "replace files in --report");
  compare->add_option("--avg-bits", compare_args.avg_bits, "budgets in bits per value, comma-separated (default 2,4)");
  compare->add_option("--solvers", compare_args.solvers,
                      "comma-separated, 'latency' included (default: all, and latency)");
  compare->add_option("--batch", compare_args.batch, "images per batch")->check(CLI::Range(1, 1000000));
  add_output_flags(compare, compare_args.out);

  return {compare, [a] { return run_compare(*a); }};
}

Command additivity_command(CLI::App& app) {
  auto a = std::make_shared<AdditivityArgs>();
  AdditivityArgs& add_args = *a;
  auto* additivity = app.add_subcommand("additivity", "measured joint error vs the sum of single-tensor errors");
  add_curve_source(additivity, add_args.source, false);
  additivity->add_option("--samples", add_args.samples, "random subsets (default 20)")->check(CLI::Range(2, 100000));
  additivity->add_option("--seed", add_args.seed, "random seed (default 1)");
  add_output_flags(additivity, add_args.out);

  return {additivity, [a] { return run_additivity(*a); }};
}

Command eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  EvalArgs& eval_args = *a;
  auto* eval = app.add_subcommand("eval", "top-1 accuracy and output error of an ONNX model, float or quantized");
  eval->add_option("--model", eval_args.model_path, "ONNX model")->required();
  eval->add_option("--input-shape", eval_args.input_shape, "C,H,W of a model with symbolic dimensions");
  eval->add_flag("--logits", eval_args.logits, kLogitsHelp);
  eval->add_option("--data", eval_args.data,
                   "fashion-mnist[-train][:N], PATH.npy or PATH.npz[:N][:nchw|:nhwc], a folder of PNG/JPEG images "
                   "DIR[:N][:SPEC.yaml], or random:N[:SEED] (default: fashion-mnist)");
  auto* eval_plan = eval->add_option("--plan", eval_args.plan_path, "quantize as this plan says");
  eval->add_option("--bits", eval_args.bits, "quantize every tensor: B or W/A")->excludes(eval_plan);
  eval->add_option("--calibration", eval_args.calibration, "images that calibrate activation steps (default 256)")
      ->check(CLI::Range(1, 1000000));
  add_output_flags(eval, eval_args.out, false);

  return {eval, [a] { return run_eval(*a); }};
}

// sweep and codesign read the same study files.
Command study_command(CLI::App& app, const std::string& name, const std::string& description,
                      int (*run)(const StudyArgs&)) {
  auto a = std::make_shared<StudyArgs>();
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("spec", a->spec_path, "study file (YAML; README 'Sweep and co-design files')")->required();
  cmd->add_option("--out", a->out_dir, "write CSV, SVG plots, index.html and the inputs into this folder");
  cmd->add_option("--threads", a->threads, "worker threads (default 2)")->check(CLI::Range(1, 256));
  auto* force = cmd->add_flag("--force", a->force, "replace files in --out, and remove what bitsim wrote there before");
  cmd->add_flag("--resume", a->resume, "continue the interrupted run in --out (the same study)")->excludes(force);
  cmd->add_option("--shard", a->shard, "run only shard I of N (I/N) into --out; combine them with bitsim merge");
  cmd->add_option("--stop-after-points", a->stop_after_points, "for tests: stop as Ctrl-C does after K points")
      ->group("");  // hidden
  add_output_flags(cmd, a->out);
  return {cmd, [a, run] { return run(*a); }};
}

Command merge_command(CLI::App& app) {
  auto a = std::make_shared<StudyArgs>();
  CLI::App* cmd = app.add_subcommand("merge", "combine the folders of `sweep/codesign --shard I/N` into one result");
  cmd->add_option("out", a->out_dir, "output folder: the outputs of the whole study")->required();
  cmd->add_option("shards", a->merge, "the shard folders, every I of N once")->required();
  cmd->add_option("--threads", a->threads, "worker threads (default 2)")->check(CLI::Range(1, 256));
  cmd->add_flag("--force", a->force, "replace files in OUT, and remove what bitsim wrote there before");
  add_output_flags(cmd, a->out);
  return {cmd, [a] { return run_merge(*a); }};
}

Command list_command(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  CLI::App* list = app.add_subcommand("list", "list registered implementations");
  list->add_option("what", *what, "formats or solvers")->required()->check(CLI::IsMember({"formats", "solvers"}));
  return {list, [what] { return run_list(*what); }};
}

}  // namespace

// libsystemc's own main() references sc_main; bitsim drives SystemC from library calls instead.
extern "C" int sc_main(int, char**) { return 0; }

namespace {

// Parses and runs one command; exit codes as in the file comment. Exceptions other than a command
// line error propagate to main().
int run_command_line(int argc, char** argv) {
  CLI::App app{"bitsim: bit allocation and systolic-array performance for quantized CNNs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bitsim 0.1.0");
  const std::vector<Command> commands = {
      simulate_command(app),
      demo_command(app),
      inspect_command(app),
      curves_command(app),
      allocate_command(app),
      compare_command(app),
      additivity_command(app),
      eval_command(app),
      study_command(app, "sweep", "vary hardware parameters from a study file: images/s and speedup", run_sweep),
      study_command(app, "codesign", "hardware x bit budgets from a study file: the Pareto front of rate, error, cost",
                    run_codesign),
      merge_command(app),
      {app.add_subcommand("explain-config", "every hardware YAML parameter with its unit and default"),
       run_explain_config},
      list_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (const Command& c : commands)
    if (*c.app) return c.run();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_command_line(argc, argv);
  } catch (const bitsim::InputError& e) {
    std::cerr << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bitsim: " << e.what() << '\n';
    return 3;
  } catch (...) {
    std::cerr << "bitsim: unknown internal error\n";
    return 3;
  }
}
