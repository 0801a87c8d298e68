// Eyeriss's row-stationary dataflow (array.dataflow: rs) as an analytical mapping: logical PE sets,
// their folding and replication onto the physical array, processing passes bounded by the PE
// scratchpads and the global buffer, and from these the cycles, utilization and traffic per operand.
//
// Sources: Chen, Emer, Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for
// Convolutional Neural Networks", ISCA 2016 (the dataflow, its mapping parameters n, p, q, r, t, e);
// Chen, Krishna, Emer, Sze, "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep
// Convolutional Neural Networks", JSSC 2017 (the chip: 12 x 14 PEs, 108 KB global buffer in
// 64-bit-wide banks, 12 / 224 / 24-entry ifmap / filter / psum scratchpads, 16-bit values, RLC).
// Per group of a conv layer (N images, M filters, C channels, R x S filter, E x F ofmap, stride U,
// dilation D; the papers' names):
//
// - Logical PE set (ISCA'16 V-A): R x E PEs; PE (i, j) runs the 1-D convolution of filter row i with
//   ifmap row j U + i D, producing psum row j; filter rows are reused across a PE row, ifmap rows
//   along diagonals, psums accumulate up each column. A PE interleaves p filters and q channels
//   (ISCA'16 V-B): q S <= row_stationary.ifmap_spad, p q S <= filter_spad, p <= psum_spad.
// - Filters larger than the hardware (our choice; the papers' layers never need it): R > rows is
//   cut into ceil(R / rows) row parts, S > min(ifmap_spad, filter_spad) into column parts; the
//   parts accumulate like extra channels (C' = C x parts).
// - Strip-mining and folding (JSSC IV-A): a pass covers e <= E ofmap rows (a strip; ceil(E / e)
//   strips run in turn, as CONV1's 11 x 55 set is strip-mined); a strip wider than the array is
//   cut into ceil(e / cols) segments stacked vertically (CONV2's 5 x 27 set as 5 x 14 over 5 x 13
//   in 10 rows), so R ceil(e / cols) <= rows.
// - Replication (ISCA'16 V-B, JSSC IV-A): r x t copies of the placed set, r on different channels
//   and t on different filters, where floor(rows / (R seg)) x floor(cols / min(e, cols)) fit (four
//   copies of CONV3's 3 x 13 set: 156 active PEs).
// - Processing pass: n images, p t filters, q r channels, one strip. Loop order (ours; the papers
//   leave it to their optimizer): group, image block, strip, block of m filters, channel block,
//   filter block. The global buffer (sram.activations, in native_bits values) holds the psums of m
//   filters for the strip (n m e F) until every channel is accumulated, and the strip's ifmap rows
//   for all C channels (then read from DRAM once per strip) or, if they do not fit, for the current
//   q r channels (then read again for each block of m filters, m as large as fits). A mapping that
//   does not fit is not used; rows too long for any mapping are cut into column tiles of f < F
//   ofmap columns (ours). Nothing spills: psums never go to DRAM.
// - Cycles of a pass (1 MAC per PE per cycle): p q S F n MACs per PE, or longer when a
//   global-buffer bus cannot deliver: the psum-in and psum-out buses each move
//   row_stationary.bus_bits / native_bits values per cycle (JSSC V-B: 64-bit psum GIN and GON, 4
//   values), the ifmap bus row_stationary.ifmap_bus_bits / native_bits (the chip's ifmap GIN is
//   16 bits wide: 1 value), ifmap rows multicast once to all PEs that use them. Before each pass
//   (the papers' "ramp-up"), the filter scratchpads are refilled over the filter bus (bus_bits;
//   p q S values per PE, multicast along PE rows: p t q r R S distinct values) and psums drain up
//   the set's R - 1 PEs; a scratchpad that holds every filter of the group (one filter and one
//   channel block) is filled once.
// - The mapping: the fastest over e, n, p, q, r, t at native precision (ours; the papers optimize
//   energy): the least max(cycles, DRAM values x native_bits / dram.bandwidth), as layer times
//   overlap compute and DRAM (with dram.overlap: weights, the ifmap and ofmap transfers add to the
//   cycles instead); ties to less DRAM traffic, then fewer cycles. The search tries the
//   block sizes of each dimension (every p and q up to 32), prunes by a lower bound on cycles, and
//   stops after 2^20 mappings per layer with the best so far (Eyeriss's layers need far fewer).
// - Traffic (values, per group): global-buffer reads of ifmap rows delivered, filters loaded, psums
//   read back and written; DRAM reads of the ifmap rows each strip needs (padding is made on chip),
//   filters once per image block and strip (once in all when the scratchpads hold them), ofmap
//   values written once.
// An FC layer is a 1 x 1 convolution over a 1 x 1 map whose C channels are its flattened inputs; a
// transposed convolution runs as its GEMM (network.h) does: a 1 x 1 convolution over its input map
// with C_out x kernel filters, the overlapping products summed off the array.
// Grouped convolutions run one group after another, each mapped as above.
#pragma once

#include <cstdint>
#include <string>

#include "sim/hw_config.h"
#include "sim/network.h"

namespace bitsim::sim {

// A layer on the array as a 2-D convolution, per group.
struct ConvShape {
  std::int64_t groups = 1;
  std::int64_t m = 0, c = 0;                // filters and channels per group
  std::int64_t h = 0, w = 0;                // ifmap height and width as stored (without padding)
  std::int64_t pad_top = 0, pad_left = 0;   // zeros in front of the ifmap
  std::int64_t r = 1, s = 1;                // filter height and width
  std::int64_t stride_h = 1, stride_w = 1;  // U
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t e = 0, f = 0;  // ofmap height and width
  bool operator==(const ConvShape&) const = default;
};

// Layer `index` (conv or fc) of `net` as a ConvShape (see above for FC layers).
ConvShape conv_shape(const Network& net, std::size_t index);

// The chosen mapping (the papers' mapping parameters, with ours for filter parts and column tiles).
struct RsMapping {
  std::int64_t r_part = 1, s_part = 1;  // filter rows and columns of one part
  std::int64_t parts = 1;               // filter parts (1 unless the filter is too large)
  std::int64_t e = 1;                   // ofmap rows per strip
  std::int64_t f = 1;                   // ofmap columns per tile (F unless a row does not fit)
  std::int64_t segments = 1;            // vertical segments of one set: ceil(e / cols)
  std::int64_t p = 1, q = 1;            // filters and channels per PE
  std::int64_t r = 1, t = 1;            // set copies on different channels / filters
  std::int64_t n = 1;                   // images per pass
  std::int64_t m = 1;                   // filters whose psums the global buffer holds
  bool ifmap_resident = true;           // all channels of a strip in the global buffer
};

// A layer's cost on the array under row stationary (all groups, the whole batch).
struct RsCost {
  bool feasible = true;
  std::string reason;  // why no mapping fits, when infeasible
  RsMapping mapping;
  std::int64_t passes = 0;
  std::int64_t cycles = 0;        // ramp included
  std::int64_t ramp_cycles = 0;   // filter refills and psum drains before passes
  double mapping_efficiency = 0;  // mean over passes of active PEs / all PEs
  // Values moved (at native_bits).
  double glb_ifmap_reads = 0, glb_filter_reads = 0, glb_psum_reads = 0, glb_psum_writes = 0;
  double dram_ifmap_reads = 0, dram_filter_reads = 0, dram_ofmap_writes = 0;
};

RsCost row_stationary_cost(const HardwareConfig& hw, const ConvShape& shape, int batch);

// Bits of a feature map of `values` values stored run-length coded (JSSC 2017: a 5-bit run of
// zeros and a `bits`-bit level per pair, as many pairs as fit in a 64-bit word with its one
// termination bit: 3 at 16 bits), when `zero_fraction` z of its values are zero, independently:
// a pair codes a run of zeros and the next value, at most 31 + 1 values, so there are
// (1 - z) / (1 - z^32) pairs per value.
double rlc_bits(double values, int bits, double zero_fraction);

}  // namespace bitsim::sim
