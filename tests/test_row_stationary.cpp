// Row stationary (sim/row_stationary.h): cycles pinned on hand-worked layers, Eyeriss's AlexNet
// sets as the JSSC paper maps them, and over a seeded sweep of layer shapes and hardware the
// promises: utilization at most 1, traffic never below the compulsory (each value moved once), every
// mapping within the scratchpads, the array and the global buffer.
#include <gtest/gtest.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "sim/analytical_model.h"
#include "sim/row_stationary.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

const std::string kRoot = BITSIM_SOURCE_DIR;

// An rs array with Eyeriss's scratchpads (12 / 224 / 24 values), 64-bit buses at 16 bits (4 values
// per cycle) and a 108 KiB global buffer (55,296 values), unlimited DRAM: the mapping with the
// fewest cycles wins.
HardwareConfig rs_hw(std::int64_t rows = 12, std::int64_t cols = 14) {
  HardwareConfig hw;
  hw.name = "rs";
  hw.array_rows = rows;
  hw.array_cols = cols;
  hw.dataflow = Dataflow::RowStationary;
  hw.clock_hz = 1e9;
  hw.sram_weight_bytes = 73.5 * 1024;
  hw.sram_activation_bytes = 108 * 1024;
  hw.dram_bytes_per_s = std::numeric_limits<double>::infinity();
  hw.native_bits = 16;
  return hw;
}

// A conv of one group: C channels, M filters, an H x W ifmap padded by `pad`, R x R filter, stride U.
ConvShape conv(std::int64_t c, std::int64_t m, std::int64_t hw, std::int64_t r, std::int64_t u, std::int64_t pad) {
  ConvShape s;
  s.c = c;
  s.m = m;
  s.h = s.w = hw;
  s.pad_top = s.pad_left = pad;
  s.r = s.s = r;
  s.stride_h = s.stride_w = u;
  s.e = s.f = (hw + 2 * pad - r) / u + 1;
  return s;
}

TEST(RowStationary, ThreeByThreeConvInOnePass) {
  // 16 channels, 16 filters, 14x14 padded by 1 -> E = F = 14. The set is 3 x 14 (R x E): four fit
  // in 12 x 14. Each PE holds q = 4 channels (q S = 12 = the ifmap scratchpad) and p = 16 filters
  // (p q S = 192 <= 224, 16 psums <= 24); the four sets take 4 channels each (r = 4, t = 1), so one
  // pass covers every filter and channel. A PE computes p q S F = 16 x 4 x 3 x 14 = 2688 MACs, one
  // per cycle; before it, the filter scratchpads are filled with the 16 x 16 x 9 = 2304 distinct
  // weights over a 4-value bus (576 cycles) and psums drain up R - 1 = 2 PEs: 2688 + 578 = 3266.
  // The buses keep up: ifmap 16 channels x 16 x 16 padded values / 4 = 1024 cycles, psum writes
  // 16 x 14 x 14 / 4 = 784. No mapping does better: the 168 PEs hold at most 4 sets, whose share of
  // the 16 x 16 x 3 x 14 x 14 MACs per row PE is 2688 cycles, and every weight is loaded once.
  const RsCost c = row_stationary_cost(rs_hw(), conv(16, 16, 14, 3, 1, 1), 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_EQ(c.cycles, 3266);
  EXPECT_EQ(c.ramp_cycles, 578);
  EXPECT_EQ(c.passes, 1);
  const RsMapping& m = c.mapping;
  EXPECT_EQ(m.e, 14);
  EXPECT_EQ(m.p, 16);
  EXPECT_EQ(m.q, 4);
  EXPECT_EQ(m.r, 4);
  EXPECT_EQ(m.t, 1);
  EXPECT_TRUE(m.ifmap_resident);
  EXPECT_DOUBLE_EQ(c.mapping_efficiency, 1.0);  // 4 sets x 3 x 14 = 168 PEs
  // Traffic: DRAM reads every stored ifmap value and weight once and writes the ofmap once; the
  // global buffer delivers the padded 16 x 16 rows of every channel, the weights once and the psums.
  EXPECT_DOUBLE_EQ(c.dram_ifmap_reads, 16 * 14 * 14);
  EXPECT_DOUBLE_EQ(c.dram_filter_reads, 16 * 16 * 9);
  EXPECT_DOUBLE_EQ(c.dram_ofmap_writes, 16 * 14 * 14);
  EXPECT_DOUBLE_EQ(c.glb_ifmap_reads, 16 * 16 * 16);
  EXPECT_DOUBLE_EQ(c.glb_filter_reads, 2304);
  EXPECT_DOUBLE_EQ(c.glb_psum_writes, 16 * 14 * 14);
  EXPECT_DOUBLE_EQ(c.glb_psum_reads, 0);
}

TEST(RowStationary, NarrowIfmapBusBindsTheThreeByThreeConv) {
  // The layer above with the chip's 16-bit ifmap bus (JSSC 2017 V-B; row_stationary.ifmap_bus_bits):
  // one ifmap value per cycle. Every channel's 16 x 16 padded rows reach the array at least once:
  // 16 x 256 = 4096 cycles, more than the 2688 of MACs per PE, so the one-pass mapping waits on the
  // bus: 4096 + the same 578 of ramp-up = 4674. Nothing does better: the ifmap delivery is at least
  // those 4096 cycles, the 2304 weights at least 576 over the filter bus and each pass drains psums
  // for 2 (four sets on different filters, t = 4, sharing each ifmap value: four channel passes of
  // max(672 MACs, 1024 ifmap values) + 144 refill + 2 drain = 4680). Filter and psum buses stay 64 bits.
  HardwareConfig hw = rs_hw();
  hw.rs_ifmap_bus_bits = 16;
  const RsCost c = row_stationary_cost(hw, conv(16, 16, 14, 3, 1, 1), 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_EQ(c.cycles, 4674);
  EXPECT_EQ(c.ramp_cycles, 578);
  EXPECT_EQ(c.passes, 1);
  EXPECT_EQ(c.mapping.p, 16);
  EXPECT_EQ(c.mapping.r, 4);
  // As wide as the others (the model before the key): the 3266 above.
  hw.rs_ifmap_bus_bits = 64;
  EXPECT_EQ(row_stationary_cost(hw, conv(16, 16, 14, 3, 1, 1), 1).cycles, 3266);
}

TEST(RowStationary, ElevenByElevenStrideFour) {
  // AlexNet CONV1's filter on a 35x35 ifmap: 3 channels, 16 filters, 11x11, stride 4 ->
  // E = F = (35 - 11) / 4 + 1 = 7. The set is 11 x 7; one set per 11 rows, two side by side in 14
  // columns. S = 11 leaves room for q = 1 channel in the 12-value ifmap scratchpad, so the three
  // channels take three passes (a set per channel would need more rows). Best: the two sets on
  // different filters (t = 2, p = 8 each): a pass is p q S F = 8 x 1 x 11 x 7 = 616 cycles, after
  // a refill of 16 x 1 x 11 x 11 = 1936 weights (484 cycles) and a 10-cycle psum drain:
  // 3 x (616 + 494) = 3330. (Both sets on the 16 filters in turn: 3 x (1232 + 494) = 5178; two
  // sets on two channels: 2 x 1232 + 968 + 484 + 20 = 3936; narrower strips that fit three sets
  // so that one pass holds every weight: 2 x 1232 + 1452 + 20 = 3936.)
  const RsCost c = row_stationary_cost(rs_hw(), conv(3, 16, 35, 11, 4, 0), 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_EQ(c.cycles, 3330);
  EXPECT_EQ(c.passes, 3);
  EXPECT_EQ(c.ramp_cycles, 3 * 494);
  const RsMapping& m = c.mapping;
  EXPECT_EQ(m.e, 7);
  EXPECT_EQ(m.q, 1);
  EXPECT_EQ(m.p, 8);
  EXPECT_EQ(m.r, 1);
  EXPECT_EQ(m.t, 2);
  EXPECT_NEAR(c.mapping_efficiency, 2.0 * 11 * 7 / 168, 1e-12);
  // Psums go back to the buffer after each of the first two passes and are read by the next.
  EXPECT_DOUBLE_EQ(c.glb_psum_writes, 3 * 16 * 49);
  EXPECT_DOUBLE_EQ(c.glb_psum_reads, 2 * 16 * 49);
  EXPECT_DOUBLE_EQ(c.dram_ifmap_reads, 3 * 35 * 35);  // the windows cover the whole ifmap, read once
}

TEST(RowStationary, StripMinedLayerNeedsSeveralPasses) {
  // A 3 x 4 array with scratchpads of 3 ifmap, 6 filter and 2 psum values: q = 1 channel, p <= 2
  // filters per PE. 2 channels, 4 filters, 3x3, 6x6 padded by 1 -> E = F = 6. A 3 x E set is at
  // most 3 x 4, so E is strip-mined. Strips of one row leave room for four sets (r = 2 channels x
  // t = 2 filter pairs) that hold every weight at once: the 4 x 2 x 9 = 72 weights load once (18
  // cycles) and six passes of p q S F = 2 x 1 x 3 x 6 = 36 cycles each follow, each with a 2-cycle
  // psum drain: 6 x 38 + 18 = 246. Wider strips fit one set (e = 3 or 4) or two (e = 2): the
  // weights no longer fit in the scratchpads at once and are refilled before every pass (e = 2:
  // 6 passes of 36 + 9 + 2 = 282).
  HardwareConfig hw = rs_hw(3, 4);
  hw.rs_ifmap_spad = 3;
  hw.rs_filter_spad = 6;
  hw.rs_psum_spad = 2;
  const RsCost c = row_stationary_cost(hw, conv(2, 4, 6, 3, 1, 1), 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_EQ(c.cycles, 246);
  EXPECT_EQ(c.passes, 6);
  const RsMapping& m = c.mapping;
  EXPECT_EQ(m.e, 1);
  EXPECT_EQ(m.p, 2);
  EXPECT_EQ(m.q, 1);
  EXPECT_EQ(m.r, 2);
  EXPECT_EQ(m.t, 2);
  // Strips overlap: each reads the stored rows its windows touch (2 + 3 + 3 + 3 + 3 + 2 = 16 of 6
  // columns, 2 channels), weights once (the scratchpads keep them), the ofmap once.
  EXPECT_DOUBLE_EQ(c.dram_ifmap_reads, 16 * 6 * 2);
  EXPECT_DOUBLE_EQ(c.dram_filter_reads, 72);
  EXPECT_DOUBLE_EQ(c.dram_ofmap_writes, 4 * 36);
}

TEST(RowStationary, GlobalBufferBoundsThePass) {
  // The 3x3 layer above with a global buffer of 1 KiB (512 values): the 16 channels' padded rows
  // no longer fit even for a one-row strip (16 x 3 x 16 = 768 values), so the ifmap streams a
  // channel block at a time and is read again for every block of filters whose psums fit beside it.
  HardwareConfig hw = rs_hw();
  hw.sram_activation_bytes = 1024;
  const RsCost c = row_stationary_cost(hw, conv(16, 16, 14, 3, 1, 1), 1);
  ASSERT_TRUE(c.feasible);
  const RsMapping& m = c.mapping;
  EXPECT_FALSE(m.ifmap_resident);
  const std::int64_t rows = m.e + 2, cols = 16;
  EXPECT_LE(m.n * m.m * m.e * 14 + m.n * std::min<std::int64_t>(m.q * m.r, 16) * rows * cols, 512);
  EXPECT_GT(c.passes, 1);
  EXPECT_GT(c.dram_ifmap_reads, 16 * 14 * 14);  // refetched
  EXPECT_GT(c.cycles, 3266);
  // A buffer too small for one psum and one window is no mapping at all, and says so.
  hw.sram_activation_bytes = 8;
  const RsCost none = row_stationary_cost(hw, conv(16, 16, 14, 3, 1, 1), 1);
  EXPECT_FALSE(none.feasible);
  EXPECT_NE(none.reason.find("global buffer"), std::string::npos);
}

TEST(RowStationary, AlexNetSetsFoldAndReplicateAsJssc2017) {
  // JSSC 2017, Table V: 154, 135, 156, 156, 156 active PEs. CONV1's 11 x 55 set is strip-mined to
  // 11 x 14 (154 PEs; the last strip of 55 = 3 x 14 + 13 uses 143), CONV2's 5 x 27 set folds into
  // 10 rows (5 x 14 over 5 x 13: 135), CONV3-5's 3 x 13 sets are replicated four times (156).
  const Network net = load_workload(kRoot + "/workloads/alexnet_eyeriss.yaml");
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  ASSERT_EQ(hw.dataflow, Dataflow::RowStationary);
  const AnalyticalModel model(net, hw, 4);
  const double pes = 168;
  EXPECT_NEAR(model.array_cost(*net.find("conv1")).mapping_efficiency * pes, (3 * 154 + 143) / 4.0, 1e-9);
  EXPECT_NEAR(model.array_cost(*net.find("conv2")).mapping_efficiency * pes, 135, 1e-9);
  for (const char* l : {"conv3", "conv4", "conv5"})
    EXPECT_NEAR(model.array_cost(*net.find(l)).mapping_efficiency * pes, 156, 1e-9) << l;
  // The papers' MAC count: 2663 MOPs at batch 4.
  EXPECT_EQ(net.total_macs() * 4, 2663139456);
}

// Input elements some window reads: rows and columns touched, by brute force.
std::int64_t used_inputs(std::int64_t size, std::int64_t pad, std::int64_t k, std::int64_t u, std::int64_t d,
                         std::int64_t out) {
  std::set<std::int64_t> used;
  for (std::int64_t y = 0; y < out; ++y)
    for (std::int64_t i = 0; i < k; ++i) {
      const std::int64_t x = y * u - pad + i * d;
      if (x >= 0 && x < size) used.insert(x);
    }
  return static_cast<std::int64_t>(used.size());
}

TEST(RowStationary, SweepNeverAboveOneNeverBelowCompulsory) {
  std::mt19937 rng(15);  // seeded: the same shapes every run
  const auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  int feasible = 0;
  for (int trial = 0; trial < 400; ++trial) {
    HardwareConfig hw = rs_hw(pick(1, 16), pick(1, 16));
    hw.rs_ifmap_spad = pick(1, 16);
    hw.rs_filter_spad = pick(1, 256);
    hw.rs_psum_spad = pick(1, 32);
    hw.rs_bus_bits = 16 * pick(1, 8);
    hw.rs_ifmap_bus_bits = 16 * pick(1, 8);
    hw.sram_activation_bytes = static_cast<double>(pick(64, 200000));
    ConvShape s;
    s.groups = pick(1, 3);
    s.c = pick(1, 40);
    s.m = pick(1, 40);
    s.r = pick(1, 14);
    s.s = pick(1, 14);
    s.stride_h = pick(1, 4);
    s.stride_w = pick(1, 4);
    s.dilation_h = pick(1, 2);
    s.dilation_w = pick(1, 2);
    s.pad_top = pick(0, 2);
    s.pad_left = pick(0, 2);
    const std::int64_t span_h = (s.r - 1) * s.dilation_h + 1, span_w = (s.s - 1) * s.dilation_w + 1;
    s.h = std::max<std::int64_t>(1, span_h - 2 * s.pad_top) + pick(0, 40);
    s.w = std::max<std::int64_t>(1, span_w - 2 * s.pad_left) + pick(0, 40);
    s.e = (s.h + 2 * s.pad_top - span_h) / s.stride_h + 1;
    s.f = (s.w + 2 * s.pad_left - span_w) / s.stride_w + 1;
    const int batch = static_cast<int>(pick(1, 4));
    SCOPED_TRACE(::testing::Message() << "trial " << trial);
    const RsCost c = row_stationary_cost(hw, s, batch);
    if (!c.feasible) continue;
    ++feasible;
    const double n = batch, g = static_cast<double>(s.groups), m = static_cast<double>(s.m),
                 ch = static_cast<double>(s.c);
    const double macs = n * g * m * ch * static_cast<double>(s.r * s.s * s.e * s.f);
    const double pes = static_cast<double>(hw.array_rows * hw.array_cols);
    EXPECT_LE(macs / (static_cast<double>(c.cycles) * pes), 1.0 + 1e-12);
    EXPECT_GT(c.mapping_efficiency, 0.0);
    EXPECT_LE(c.mapping_efficiency, 1.0 + 1e-12);
    // Compulsory traffic: every input a window uses, every weight, every output, once.
    const double used = n * g * ch *
                        static_cast<double>(used_inputs(s.h, s.pad_top, s.r, s.stride_h, s.dilation_h, s.e) *
                                            used_inputs(s.w, s.pad_left, s.s, s.stride_w, s.dilation_w, s.f));
    const double weights = g * m * ch * static_cast<double>(s.r * s.s);
    const double outputs = n * g * m * static_cast<double>(s.e * s.f);
    EXPECT_GE(c.dram_ifmap_reads, used);
    EXPECT_GE(c.dram_filter_reads, weights);
    EXPECT_DOUBLE_EQ(c.dram_ofmap_writes, outputs);
    EXPECT_GE(c.glb_ifmap_reads, used);
    EXPECT_GE(c.glb_filter_reads, weights);
    EXPECT_GE(c.glb_psum_writes, outputs);
    // The mapping stays within the hardware.
    const RsMapping& mp = c.mapping;
    EXPECT_LE(mp.q * mp.s_part, hw.rs_ifmap_spad);
    EXPECT_LE(mp.p * mp.q * mp.s_part, hw.rs_filter_spad);
    EXPECT_LE(mp.p, hw.rs_psum_spad);
    EXPECT_LE(mp.r_part * mp.segments, hw.array_rows);
    EXPECT_LE(mp.r * mp.t * mp.r_part * mp.segments * std::min(mp.e, hw.array_cols), hw.array_rows * hw.array_cols);
    const double glb = std::floor(hw.sram_activation_bytes * 8 / 16);
    const double rows = static_cast<double>((mp.e - 1) * std::min(s.stride_h, span_h) + span_h);
    const double cols = static_cast<double>((mp.f - 1) * std::min(s.stride_w, span_w) + span_w);
    const double ifmap_channels = mp.ifmap_resident ? ch : std::min<double>(static_cast<double>(mp.q * mp.r), ch);
    EXPECT_LE(static_cast<double>(mp.n * mp.m * mp.e * mp.f) + static_cast<double>(mp.n) * ifmap_channels * rows * cols,
              glb);
  }
  EXPECT_GT(feasible, 300);  // the sweep exercises mappings, not only refusals
}

TEST(RowStationary, RunLengthCodingAsJssc2017) {
  // 16-bit levels: 3 run-level pairs (21 bits) per 64-bit word. With half the values zero, each
  // value costs half a pair: 64 / 3 / 2 = 10.67 bits; without zeros RLC costs 4/3 of 16 bits.
  EXPECT_NEAR(rlc_bits(3, 16, 0.5), 32.0, 1e-6);
  EXPECT_DOUBLE_EQ(rlc_bits(3, 16, 0), 64.0);
  // 8-bit levels: 13-bit pairs, 4 to a word.
  EXPECT_NEAR(rlc_bits(4, 8, 0.0), 64.0, 1e-12);
  // All zeros: a pair (a run of 31 and a zero level) per 32 values.
  EXPECT_NEAR(rlc_bits(32 * 3, 16, 1.0), 64.0, 1e-9);
  EXPECT_NEAR(rlc_bits(32 * 3, 16, 1.0 - 1e-12), 64.0, 1e-6);
}

TEST(RowStationary, RlcAndRefetchReachTheModelsDramBytes) {
  const Network net = load_workload(kRoot + "/workloads/alexnet_eyeriss.yaml");
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  const std::size_t conv1 = *net.find("conv1"), conv2 = *net.find("conv2");
  const BitPlan plan = BitPlan::uniform(net, 16, 16);
  const SimResult plain = AnalyticalModel(net, hw, 4).evaluate(plan);
  const AnalyticalModel model(net, hw, 4);
  // conv2 reads pool1's 96 x 27 x 27 output (conv1 writes it: pooling is fused) for 4 images, as
  // often as its mapping needs.
  const double pool1 = 96.0 * 27 * 27 * 4 * 2;  // bytes at 16 bits
  EXPECT_NEAR(plain.layers[conv2].input_read_bytes, pool1 * model.array_cost(conv2).ifmap_dram_factor, 1e-6);
  EXPECT_NEAR(plain.layers[conv1].output_write_bytes, pool1, 1e-6);
  hw.rs_rlc = true;
  hw.rs_zero_fraction = 0.5;
  const SimResult coded = AnalyticalModel(net, hw, 4).evaluate(plan);
  // Half zeros: 10.67 instead of 16 bits per value, for feature maps; the network input stays raw.
  EXPECT_NEAR(coded.layers[conv1].output_write_bytes, pool1 * (64.0 / 3 / 2) / 16, 1e-3);
  EXPECT_NEAR(coded.layers[conv2].input_read_bytes, plain.layers[conv2].input_read_bytes * (64.0 / 3 / 2) / 16, 1e-3);
  EXPECT_DOUBLE_EQ(coded.layers[conv1].input_read_bytes, plain.layers[conv1].input_read_bytes);
}

TEST(RowStationary, FullyConnectedIsOneByOneOverOneByOne) {
  // An FC layer of 100 inputs and 10 outputs: C = 100, M = 10, R = S = E = F = 1. Sets are single
  // PEs: 168 places. The whole layer fits the scratchpads at once (e.g. p = 10 filters x q = 1
  // channel on 100 PEs), so the 1000 weights load once (250 cycles on the 4-value filter bus) and
  // one pass follows, as long as the 100 inputs take on the 4-value ifmap bus (25 cycles; at most
  // 10 MACs per PE keep up): 275 cycles at batch 1.
  const Network net = load_workload(testing::write_temp("fc.yaml", R"(name: fc
input: {shape: [100, 1, 1]}
layers:
  - {name: fc, op: fc, out_features: 10, bias: false}
)"));
  const ConvShape s = conv_shape(net, 1);
  EXPECT_EQ(s.c, 100);
  EXPECT_EQ(s.m, 10);
  EXPECT_EQ(s.e * s.f * s.r * s.s, 1);
  const RsCost c = row_stationary_cost(rs_hw(), s, 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_EQ(c.cycles, 275);
  EXPECT_EQ(c.passes, 1);
}

TEST(RowStationary, TransposedConvRunsAsItsGemm) {
  // A transposed 3x3 conv, stride 2, 8 -> 4 channels in 2 groups, on a 5x5 input: the array runs its
  // GEMM (M = 25 input pixels, K = 4 channels per group, N = 2 x 9 per group), which row stationary
  // maps as a 1 x 1 convolution over the 5x5 input with 18 filters of 4 channels per group.
  LayerSpec input;
  input.name = "input";
  input.op = LayerOp::Input;
  input.input_shape = {8, 5, 5};
  LayerSpec t;
  t.name = "t";
  t.op = LayerOp::ConvTranspose;
  t.inputs = {"input"};
  t.out_channels = 4;
  t.groups = 2;
  t.window.kernel_h = t.window.kernel_w = 3;
  t.window.stride_h = t.window.stride_w = 2;
  const Network net = Network::build("t", {input, t});
  const Layer& l = net.layer(1);
  EXPECT_EQ(l.gemm, (Gemm{25, 4, 18, 2}));
  const ConvShape s = conv_shape(net, 1);
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.c, 4);
  EXPECT_EQ(s.m, 18);
  EXPECT_EQ(s.r * s.s, 1);
  EXPECT_EQ(s.e, 5);
  EXPECT_EQ(s.f, 5);
  const RsCost c = row_stationary_cost(rs_hw(), s, 1);
  ASSERT_TRUE(c.feasible);
  EXPECT_DOUBLE_EQ(c.dram_filter_reads, 8 * 2 * 9);  // every weight, once
  EXPECT_DOUBLE_EQ(c.dram_ifmap_reads, 8 * 25);      // the input, once
  EXPECT_LE(static_cast<double>(l.macs) / (static_cast<double>(c.cycles) * 168), 1.0);
}

}  // namespace
}  // namespace bitsim::sim
