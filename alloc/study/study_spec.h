// Study files for `bitsim sweep` and `bitsim codesign` (README "Sweep and co-design files"): which
// hardware configs and workloads, which bit budgets and solvers, and which hardware parameters to
// vary (by their config keys, as lists or ranges). Paths are relative to the study file.
//
//   hardware: ../tpu.yaml            # one path or a list
//   workload: ../../workloads/resnet50.yaml
//   curves: modelled                 # or a curves CSV (the format `bitsim curves` writes)
//   rate: coded                      # fixed | entropy | coded (modelled curves)
//   avg_bits: [2, 4]
//   solvers: [lagrangian]            # `equal` is always run: it is the baseline of speedup_vs_equal
//   batch: 1                         # or a list: every point at each batch
//   vary:                            # the cross product of every axis
//     dram.bandwidth: ["1 GB/s", "2 GB/s", "4 GB/s"]
//     array.rows: {from: 64, to: 256, step: 64}
//     sram.weights: {from: 1, to: 16, factor: 2, unit: MiB}
//   cost: {pe: 1, sram_kib: 1, dram_gb_per_s: 100, decoder_lane: 10}   # codesign's proxy
//   objectives: [inference_rate, output_error, energy, area]           # codesign's Pareto front
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alloc/curves.h"
#include "alloc/solvers/solver.h"
#include "sim/base/diagnostics.h"
#include "sim/base/names.h"
#include "sim/network.h"

namespace bitsim::study {

struct StudyAxis {
  std::string key;                  // a hardware parameter key, e.g. "dram.bandwidth"
  std::vector<std::string> values;  // as written in YAML, e.g. "4 GB/s"
  SourceLocation where;
};

// Weights of the hardware cost proxy (codesign): cost = pe x PEs + sram_kib x KiB of SRAM
// + dram_gb_per_s x GB/s of DRAM bandwidth + decoder_lane x decoder lanes.
struct CostWeights {
  double pe = 1;
  double sram_kib = 1;
  double dram_gb_per_s = 100;
  double decoder_lane = 10;
};

// What codesign's Pareto front trades off: images/s (higher is better), predicted output error,
// energy per image and chip area (sim/energy.h), and the cost proxy above (lower is better).
enum class Objective { InferenceRate, OutputError, Energy, Area, HardwareCost };
inline constexpr NameTable kObjectiveNames{std::array{
    NamedValue<Objective>{Objective::InferenceRate, "inference_rate"},
    NamedValue<Objective>{Objective::OutputError, "output_error"}, NamedValue<Objective>{Objective::Energy, "energy"},
    NamedValue<Objective>{Objective::Area, "area"}, NamedValue<Objective>{Objective::HardwareCost, "hardware_cost"}}};
static_assert(kObjectiveNames.complete());

struct StudySpec {
  std::string path;
  std::vector<std::string> hardware;  // resolved paths
  std::vector<std::string> workloads;
  std::optional<sim::Shape> input_shape;          // C, H, W of ONNX workloads with symbolic input dimensions
  std::string curves_path;                        // a resolved curves CSV; empty: modelled curves
  alloc::RateKind rate = alloc::RateKind::Coded;  // of modelled curves
  std::vector<double> avg_bits;
  std::vector<const alloc::SolverInfo*> solvers;  // as listed, without repeats (equal is always run too)
  std::vector<int> batches = {1};                 // images per batch; each point is run at each (key `batch`)
  std::vector<StudyAxis> vary;
  CostWeights cost;
  // Energy and area per image replace the cost proxy by default; `[inference_rate, output_error,
  // hardware_cost]` is the front before energy and area.
  std::vector<Objective> objectives = {Objective::InferenceRate, Objective::OutputError, Objective::Energy,
                                       Objective::Area};
  // hardware x workloads x batches x product of axis sizes; load_study_spec guarantees it fits (a spec built
  // otherwise whose count overflows is a broken invariant).
  std::size_t points() const;
};

// Throws InputError naming file:line:col for every problem found, and for a study too large to run:
// more than 10 million points x budgets, or more than 4 GiB of rows at about 1 KiB per row.
StudySpec load_study_spec(const std::string& path);

// The spec as a study file (written with YAML::Emitter) that load_study_spec reads back to the same
// spec; `comment` (one line) heads it. Paths are written as they are in the spec.
std::string study_spec_yaml(const StudySpec& spec, const std::string& comment);

}  // namespace bitsim::study
