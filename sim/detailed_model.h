// The detailed model: a SystemC discrete-event simulation of DRAM fetch -> entropy decode ->
// systolic-array compute -> write-back, at tile granularity, with on-chip buffer capacities,
// cross-layer prefetch and stalls coming out of the simulation. This header includes nothing
// from SystemC; the modules live in detailed_model.cpp (library target bitsim::systemc).
//
// Inputs are the analytical model's (Network, HardwareConfig, BitPlan, batch); the per-layer
// traffic, symbols and compute cycles are the analytical model's, so that the two differ only
// in how the stages overlap. The modules and their assumptions:
// - Controller: cuts every layer into tiles (its folds, or its processing passes under row
//   stationary, grouped into at most max_tiles_per_layer
//   equal tiles; one tile for layers off the array) and issues them in topological order. Weight
//   fetches run ahead as far as the weight buffer allows (prefetch); a layer's input fetches wait
//   until every producer layer is done (its output written back, or computed if it stays on chip).
//   Without prefetch, nothing of a layer starts before the previous layer is done.
// - DRAM channel: one channel at dram.bandwidth with three request queues (weight reads,
//   activation reads, writes). The request of the oldest tile goes first, so prefetching only uses
//   bandwidth the current work leaves idle; requests of the same tile alternate round-robin. A
//   request occupies the channel for bytes / bandwidth (not preempted) and completes dram.latency
//   later (latency is pipelined, not occupancy).
// - Decoder: decoder.lanes x decoder.symbols_per_cycle symbols per cycle; decodes a tile's
//   symbols once both of its fetches are done, tiles in order.
// - Buffers: sram.weights holds fetched tile weights, sram.activations holds fetched tile inputs
//   and tile outputs awaiting write-back, all at their decoded size; a tile's share is reserved
//   before its fetch (or, for outputs, before its compute) and freed after its compute (or
//   write-back). A tile larger than a whole buffer reserves the whole buffer (it streams through).
// - Array: computes tiles in order once decoded, each for its share of the layer's compute cycles,
//   then hands the output to the DRAM write queue.
// Stall attribution: the array's idle time before each tile is charged to the decoder for the
// part after the tile's fetch ended, then to buffer space for the part the tile's reservations
// waited, and the rest to DRAM.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/analytical_model.h"

namespace bitsim::sim {

struct DetailedOptions {
  bool prefetch = true;
  bool unlimited_buffers = false;  // ignore sram sizes (agreement tests)
  int max_tiles_per_layer = 64;
  bool record_trace = false;
};

struct LayerDetail {
  int tiles = 0;
  double start_s = 0;  // first activity of the layer (a fetch, or its first compute)
  double end_s = 0;    // layer done: last tile written back (or computed, if its output stays on chip)
  double stall_dram_s = 0;
  double stall_decode_s = 0;
  double stall_buffer_s = 0;
};

struct TraceSpan {
  enum class Track { Layers, Dram, Decoder, Array };
  Track track;
  std::string name;
  double start_s;
  double end_s;
};

struct DetailedResult {
  // The analytical model's fields per layer (same traffic, symbols, cycles, stage times and
  // bottleneck), except time_s, which is the layer's share of the simulated total:
  // end_s of this layer minus end_s of the layer before it (so the times add up to the total).
  SimResult result;
  std::vector<LayerDetail> layers;  // aligned with Network::layers()
  double peak_weight_buffer_bytes = 0;
  double peak_activation_buffer_bytes = 0;
  double achieved_dram_bytes_per_s = 0;
  double dram_busy_s = 0;
  double decoder_busy_s = 0;
  double array_busy_s = 0;
  std::vector<TraceSpan> trace;  // with record_trace
};

// Runs one simulation. May be called many times in one process (the SystemC modules are
// elaborated once and reused). Throws InputError for an infeasible plan, always before the
// simulation starts.
//
// The rule for callers: NOTHING MAY THROW AFTER A SYSTEMC RUN in the same process, not even an
// exception that is caught. Debian's libsystemc 2.3.4 runs SC_THREADs on QuickThreads coroutine
// stacks that AddressSanitizer is not told about; after the first run, a throw makes ASan's
// __asan_handle_no_return see a stack that spans the coroutine stacks ("False positive error
// reports may follow", google/sanitizers#189; accellera-official/systemc#17 and #27) and the
// sanitizer CI job fails. So this function checks everything before starting, and code that
// runs after it reports problems as values: refine_for_latency (alloc/solvers/latency_solver.h)
// returns `met = false` instead of throwing once it has timed a plan, and `bitsim allocate
// --engine systemc` prints that message and exits 1 without an exception. Tests that simulate
// run one per process (gtest_discover_tests) and put any throwing call before the first run.
DetailedResult simulate_detailed(const Network& net, const HardwareConfig& hw, const BitPlan& plan, int batch,
                                 const DetailedOptions& options);

// Chrome trace-event JSON (Perfetto, chrome://tracing): one track each for layers, DRAM, decoder, array.
void write_chrome_trace(std::ostream& out, const DetailedResult& result);

}  // namespace bitsim::sim
