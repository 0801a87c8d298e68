// The CLI's commands: each takes its parsed arguments, prints its result and returns the exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alloc/curves.h"
#include "sim/engine.h"
#include "tools/cli/cli_common.h"

namespace bitsim::tools {

struct SimulateArgs {
  std::string hw_path, workload_path, workload_format = "auto", bits, plan_path;
  std::vector<std::string> hw_settings;  // --set key=value
  std::string input_shape;
  int batch = 1;
  std::string engine{sim::engine_name(sim::Engine::Analytical)};
  std::string trace_path;
  bool no_prefetch = false;
  bool unlimited_buffers = false;
  bool force = false;
  OutputFlags out;
};
int run_simulate(const SimulateArgs& a);

struct DemoArgs {
  std::string data_dir;
  OutputFlags out;
};
int run_demo(const DemoArgs& a);

struct InspectArgs {
  std::string workload_path, workload_format = "auto";
  std::string input_shape;
  OutputFlags out;
};
int run_inspect(const InspectArgs& a);

int run_explain_config();
int run_list_formats();
int run_list(const std::string& what);  // "formats" or "solvers"

// Where curves come from: a file, or modelled from the workload.
struct CurveSource {
  std::string curves_path;
  std::string workload_path, workload_format = "auto";
  std::string rate{alloc::rate_kind_name(alloc::RateKind::Coded)};  // for modelled and measured curves
  std::string error_model{"propagated"};                            // for modelled curves
  std::string model_path;                                           // measured curves: an ONNX model ...
  std::string data = "fashion-mnist-train:64";                      // ... and its calibration images
  std::string input_shape;                                          // for ONNX models with symbolic dimensions
  bool logits = false;  // with --model: a Softmax computing a graph output left out (sim/onnx.h)
};

struct CurvesArgs {
  CurveSource source;
  std::string out_path;
  bool force = false;
};
int run_curves(const CurvesArgs& a);

struct AllocateArgs {
  CurveSource source;
  std::string eval_data = "fashion-mnist:2000";  // with --model: where the plan's real error is measured
  double budget_bits = -1;
  double avg_bits = -1;
  std::string solver;
  std::string hw_path;
  std::vector<std::string> hw_settings;  // --set key=value
  int batch = 1;
  // Latency-aware allocation (alloc/solvers/latency_solver.h): one of these targets.
  double min_rate = -1;   // images/s: minimize error s.t. rate >= this
  std::string max_time;   // e.g. "2 ms" per image: minimize error s.t. time <= this
  double max_error = -1;  // predicted error: maximize images/s s.t. error <= this
  std::string engine{sim::engine_name(sim::Engine::Analytical)};  // or systemc (outer loop)
  std::string report_dir;                                         // plan, per-layer bits and time plots, index.html
  std::string out_path;
  bool force = false;
  OutputFlags out;
};
int run_allocate(const AllocateArgs& a);

struct CompareArgs {
  CurveSource source;
  std::string hw_path;
  std::vector<std::string> hw_settings;  // --set key=value
  std::string avg_bits = "2,4";
  std::string solvers;  // comma-separated; empty = all, and the latency-aware row
  int batch = 1;
  bool table3 = false;  // seed 004 Table 3's four platform/model pairs, with the paper's figures
  std::string data_dir;
  std::string report_dir;
  bool force = false;
  OutputFlags out;
};
int run_compare(const CompareArgs& a);

struct AdditivityArgs {
  CurveSource source;  // --model and --data required; --curves optional (else measured)
  int samples = 20;
  std::uint64_t seed = 1;
  OutputFlags out;
};
int run_additivity(const AdditivityArgs& a);

struct EvalArgs {
  std::string model_path;
  std::string input_shape;
  std::string data = "fashion-mnist";
  std::string plan_path;
  std::string bits;
  bool logits = false;  // a Softmax computing a graph output left out (sim/onnx.h)
  int calibration = 256;
  OutputFlags out;
};
int run_eval(const EvalArgs& a);

// sweep and codesign: a study file (alloc/study/study_spec.h).
struct StudyArgs {
  std::string spec_path;
  std::string out_dir;  // optional: CSV, SVG plots, index.html, inputs
  int threads = 2;
  bool force = false;
  OutputFlags out;
  // How the points run (tools/cli/study_run.h): continue an interrupted run in out_dir; only shard
  // "I/N"; or none, their rows read from these shard folders (`bitsim merge`).
  bool resume = false;
  std::string shard;
  std::vector<std::string> merge;
  std::size_t stop_after_points = 0;  // for tests: stop as Ctrl-C would once this many points are written
};
int run_sweep(const StudyArgs& a);
int run_codesign(const StudyArgs& a);
// `bitsim merge OUT SHARD_DIR...`: the command the shards ran, with their rows, written to OUT.
int run_merge(const StudyArgs& a);

}  // namespace bitsim::tools
