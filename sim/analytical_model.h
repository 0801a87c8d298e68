// The analytical performance model: per layer, DRAM traffic, entropy-decode time and systolic-array
// compute time, combined with prefetch overlap. A pure function of (Network, HardwareConfig, batch,
// BitPlan); evaluate() does no I/O and, given a reused SimResult, no allocation.
//
// Compute (SCALE-Sim v2's folding, shared/notes/scalesim-model.md §2). A layer on the array is a
// GEMM with M output pixels (x batch), K window values and N filters, per group:
//   os: lines = ceil(M/R) * ceil(N/C) * (K + R + C - 2)
//   ws: lines = ceil(K/R) * ceil(N/C) * (2R + C + M - 2)
//   is: lines = ceil(K/R) * ceil(M/C) * (2R + C + N - 2)
//   compute_cycles = groups * (lines - 1)
// "lines - 1" is what SCALE-Sim reports as Total Cycles in CALC mode; the full R and C are charged
// for partial folds. Groups (grouped and depthwise convs) run one after another, each as its own
// GEMM: the same as SCALE-Sim's per-channel split of "DP" layers. An FC layer is a GEMM with M = batch.
// For bitsim's own workloads, padding is part of the input (M counts the padded output pixels),
// where a SCALE-Sim topology must list the padded IFMAP size itself.
// array.grouped_mapping: diagonal_tiles runs the block-diagonal GEMM (K' = G K, N' = G N) fold by
// fold like SCALE-Sim, but only the folds that hold part of some group's block, each streaming only
// what those groups need (a compiler knows where the zeros are):
//   ws: lines = (folds of R rows x C columns that hold a block) x (2R + C + M - 2)
//   os: lines = ceil(M/R) x sum over column folds j of (k_j + R + C - 2), k_j = K x groups in fold j
//   is: lines = ceil(M/C) x sum over row folds i of (2R + C + n_i - 2), n_i = N x groups in fold i
// and compute_cycles = lines - 1. With one group these are the formulas above.
// Pooling, add and concat do not use the array (0 compute cycles) but move their tensors.
// With precision_scaling: packed, compute_cycles = ceil(cycles / floor(native / max(w_bits, a_bits))).
// Dataflow rs (Eyeriss's row stationary) maps each layer as a 2-D convolution instead: cycles, passes
// and traffic from sim/row_stationary.h.
//
// Report columns like SCALE-Sim's (per layer, at native precision): utilization = MACs / (cycles x
// R x C [x MACs per PE per cycle when packed]) (its "Overall Util"), mapping_efficiency = the mean
// over folds of PEs used / R C (its "Mapping Efficiency"; rs: over processing passes), and on-chip
// buffer traffic in values, with SCALE-Sim v2's counts (shared/notes/scalesim-model.md §2.6):
//   os: ifmap reads = fc M K, filter reads = fr K N, ofmap writes = M N + folds (R + C)
//   ws: ifmap reads = fc M K, filter reads = K N,    ofmap writes = fr M N
//   is: ifmap reads = K M,    filter reads = fc K N, ofmap writes = fr M N
// per group (fr, fc: row and column folds; os's "+ folds (R + C)" is SCALE-Sim's own count), psum
// reads 0 (SCALE-Sim does not count reading partial sums back); diagonal_tiles counts what its
// folds stream (a row of a group once per column fold that holds the group's columns); rs: the
// global buffer's ifmap, filter and psum reads and psum writes.
//
// DRAM (bytes per batch). A tensor's off-chip size is coded_bits when the plan entropy-codes it, else
// bits x values (rs with row_stationary.rlc: run-length coded, rlc_bits() in row_stationary.h, for
// activation tensors stored fixed length other than network inputs); activations count once per
// image of the batch, weights once per batch, times the refetches row stationary's mapping needs
// (its DRAM ifmap and filter reads over the values stored: 1 for os/ws/is, seed 004's model). Which
// activation tensors exist off chip, which reads fetch them and which layer writes them is the
// datapath model of sim/activation_traffic.h (datapath.fusion, datapath.shortcut); with its
// defaults (none, dram):
//   stream:   each layer reads its weights and every input tensor, and writes its output tensor
//             (network inputs are not written; they are read by their consumers).
//   resident: weights are read once and stay if all weights, decoded, fit in sram.weights (then 0
//             per batch, steady state); an activation tensor stays on chip (neither written nor read)
//             if, decoded, it fits in half of sram.activations for the whole batch (the other half
//             holds the tensor being consumed); network inputs are always read and network outputs
//             (no consumers) always written. On-chip copies are kept decoded.
// Decode: symbols of every entropy-coded tensor a layer reads from DRAM, at
//   decoder_lanes x decoder_symbols_per_cycle symbols per cycle. Encoding outputs is assumed free.
// Layer time (prefetch overlap: the next layer's fetch and decode run while this one computes):
//   time = max(dram_time, decode_time, compute_time), dram_time = dram_bytes / dram.bandwidth.
// With dram.overlap: weights (the Eyeriss chip, JSSC 2017 VI-A: it does not process while loading
// ifmaps from DRAM or writing ofmaps back; V-A: filters for the next pass are preloaded meanwhile)
//   time = max(compute_time + activation bytes / dram.bandwidth, dram_time, decode_time),
// the bottleneck compute when compute_time is the larger part of the first term, else DRAM.
// Batch time = sum of layer times + dram.latency (the pipeline fills once per batch);
// inference rate = batch / batch time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/activation_traffic.h"
#include "sim/bit_plan.h"
#include "sim/hw_config.h"
#include "sim/network.h"

namespace bitsim::sim {

enum class Bottleneck { None, Compute, Dram, Decode };
inline constexpr NameTable kBottleneckNames{
    std::array{NamedValue<Bottleneck>{Bottleneck::None, "none"}, NamedValue<Bottleneck>{Bottleneck::Compute, "compute"},
               NamedValue<Bottleneck>{Bottleneck::Dram, "dram"}, NamedValue<Bottleneck>{Bottleneck::Decode, "decode"}}};
static_assert(kBottleneckNames.complete());
constexpr std::string_view bottleneck_name(Bottleneck b) { return kBottleneckNames.name(b); }

struct LayerTiming {
  std::int64_t compute_cycles = 0;
  std::int64_t macs_per_pe_cycle = 1;  // > 1 only with precision_scaling: packed
  double dram_bytes = 0;               // = weight_read_bytes + input_read_bytes + output_write_bytes
  double weight_read_bytes = 0;
  double input_read_bytes = 0;
  double output_write_bytes = 0;
  std::int64_t decode_symbols = 0;  // weights' and inputs' symbols
  std::int64_t weight_symbols = 0;
  double dram_time_s = 0;
  double decode_time_s = 0;
  double compute_time_s = 0;
  double time_s = 0;
  Bottleneck bottleneck = Bottleneck::None;
};

struct SimResult {
  bool feasible = true;
  std::string reason;  // why not, when infeasible
  int batch = 1;
  std::vector<LayerTiming> layers;  // aligned with Network::layers(); network inputs stay zero
  bool weights_resident = false;
  std::int64_t compute_cycles = 0;  // per batch
  double dram_bytes = 0;            // per batch
  double time_s = 0;                // per batch
  double time_per_image_s = 0;
  double inference_rate_per_s = 0;  // images per second
};

// Layers whose bottleneck is each of compute, dram, decode.
struct BottleneckCounts {
  std::int64_t compute = 0, dram = 0, decode = 0;
};
BottleneckCounts count_bottlenecks(const SimResult& r);

// What a layer costs on the array at native precision, whatever the plan: SCALE-Sim's quantities
// for os/ws/is, row_stationary.h's for rs. Zero for layers off the array.
struct ArrayCost {
  std::int64_t compute_cycles = 0;
  std::int64_t folds = 0;  // os/ws/is: folds (all groups); rs: processing passes
  double mapping_efficiency = 0;
  double sram_ifmap_reads = 0, sram_filter_reads = 0, sram_ofmap_writes = 0, sram_psum_reads = 0;
  // DRAM reads per value stored, per batch: the input tensor's and the weights' (rs refetches).
  double ifmap_dram_factor = 1, filter_dram_factor = 1;
  std::string infeasible;  // rs: why no mapping fits (then the other fields are zero)
  std::string mapping;     // rs: the mapping parameters chosen, e.g. "e=13;n=4;p=16;q=4;r=2;t=2;m=32;ifmap=resident"
};
ArrayCost layer_array_cost(const HardwareConfig& hw, const Network& net, std::size_t index, int batch);

// SCALE-Sim's report columns of a layer (see above): fractions, and on-chip buffer traffic in values.
struct LayerReport {
  std::int64_t folds = 0;  // os/ws/is: SCALE-Sim folds (all groups); rs: processing passes
  double utilization = 0;
  double mapping_efficiency = 0;
  double sram_ifmap_reads = 0, sram_filter_reads = 0, sram_ofmap_writes = 0, sram_psum_reads = 0;
};

// SCALE-Sim demand lines of one GEMM (before the report's "- 1"). os, ws and is only: the
// functions below take a GEMM, which row stationary cannot map (layer_array_cost() does).
std::int64_t fold_lines(Dataflow dataflow, std::int64_t rows, std::int64_t cols, std::int64_t m, std::int64_t k,
                        std::int64_t n);
// The GEMM a layer runs as under `mapping`: unchanged for Split (and for a single group); for
// BlockDiagonal (and DiagonalTiles) one GEMM of M x (groups K) x (groups N).
Gemm mapped_gemm(const Gemm& gemm, GroupedMapping mapping);
// A layer's folds and compute cycles on the array under the config's dataflow and grouped mapping
// (the SCALE-Sim formulas above for split and block_diagonal; diagonal_tiles below).
std::int64_t layer_fold_count(const HardwareConfig& hw, const Gemm& gemm, int batch);
std::int64_t layer_compute_cycles(const HardwareConfig& hw, const Gemm& gemm, int batch);
// Folds of a layer's GEMM: groups * (row folds) * (column folds); 0 for an empty GEMM.
std::int64_t fold_count(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch);
// Compute cycles of a layer's GEMM at native precision: groups * (lines - 1); 0 for an empty GEMM.
std::int64_t gemm_compute_cycles(Dataflow dataflow, std::int64_t rows, std::int64_t cols, const Gemm& gemm, int batch);

class AnalyticalModel {
 public:
  // Keeps references: `net` and `hw` must outlive the model. Precomputes native compute cycles.
  AnalyticalModel(const Network& net, const HardwareConfig& hw, int batch = 1);
  // A temporary would dangle: refused at compile time.
  AnalyticalModel(Network&&, const HardwareConfig&, int = 1) = delete;
  AnalyticalModel(const Network&, HardwareConfig&&, int = 1) = delete;
  AnalyticalModel(Network&&, HardwareConfig&&, int = 1) = delete;

  SimResult evaluate(const BitPlan& plan) const;
  // Same, reusing `out`'s storage.
  void evaluate(const BitPlan& plan, SimResult& out) const;

  // The pieces evaluate() adds up, for solvers that cost one layer at a time (alloc/solvers/latency_solver.h).
  // A layer's timing reads only plan.weights[i], plan.activations of its inputs and its own output.
  LayerTiming layer_timing(std::size_t i, const BitPlan& plan, bool weights_resident) const;
  // Layer i's time_s for each coding of its weights (weights not resident), the rest of `plan` as it
  // is: the same numbers layer_timing() gives, the activation part computed once.
  void layer_times(std::size_t i, const BitPlan& plan, std::span<const TensorCoding> weight_options,
                   std::vector<double>& times) const;
  // Resident policy: do all weights, decoded, fit in sram.weights? (false for stream)
  bool weights_resident(const BitPlan& plan) const;
  // Does layer i's output cross the chip boundary (stored, and under resident policy too large to stay)?
  bool offchip_output(std::size_t i, const BitPlan& plan) const;
  // Which tensors are stored and which layer moves each (datapath.fusion, datapath.shortcut).
  const ActivationTraffic& traffic() const { return m_traffic; }
  // Layer i's cost on the array at native precision (its folds or passes, traffic factors).
  const ArrayCost& array_cost(std::size_t i) const { return m_costs.at(i); }
  // The report columns of layer i, given the timing evaluate() (or the SystemC engine) gave it;
  // kept off evaluate()'s hot path.
  LayerReport report(std::size_t i, const LayerTiming& t) const;

  const Network& network() const { return m_net; }
  const HardwareConfig& hardware() const { return m_hw; }
  int batch() const { return m_batch; }

 private:
  const Network& m_net;
  const HardwareConfig& m_hw;
  int m_batch;
  double m_decode_rate;  // symbols per second
  // Copies of the config's fields the hot path reads (kept in registers across the layer loop).
  bool m_resident, m_packed, m_unlimited_dram, m_rlc;
  bool m_serial_activations;  // dram.overlap: weights
  double m_zero_fraction;
  double m_dram_bytes_per_s, m_clock_hz;
  std::int64_t m_native_bits;
  ActivationTraffic m_traffic;
  struct ActivationPart;
  ActivationPart activation_part(std::size_t i, const BitPlan& plan) const;
  void finish_timing(std::size_t i, const TensorCoding& w, bool weights_resident, const ActivationPart& a,
                     LayerTiming& out) const;
  void fill_timing(std::size_t i, const BitPlan& plan, bool weights_resident, LayerTiming& t) const;
  double offchip_activation_bits(std::size_t tensor, const TensorCoding& c) const;
  std::vector<ArrayCost> m_costs;
  // What the hot path reads of m_costs, packed: native cycles and the DRAM refetch factors.
  struct HotCost {
    std::int64_t cycles = 0;
    double ifmap_factor = 1, filter_factor = 1;
  };
  std::vector<HotCost> m_hot;
  std::string m_infeasible;  // the first layer no mapping fits, and why
};

// Why this model's times (and so images/s, bottlenecks and feasibility) cannot depend on the
// hardware parameter `key` at `hw`, e.g. "under dram.policy stream no weight stays on chip"; empty
// when they may. Conservative: only what the model's code guarantees (tests/test_model.cpp checks
// each case). Energy and area may still depend on it (sim/energy.h).
std::string unused_by_timing(const HardwareConfig& hw, std::string_view key);
// The parameters that only price a design (energy.*, area.*, decoder.table): no model time reads them.
bool prices_only(std::string_view key);

}  // namespace bitsim::sim
