// The analytical model on a network small enough to check every figure by hand.
#include <gtest/gtest.h>

#include "sim/analytical_model.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

using testing::write_temp;

// input 2x4x4 (32 values) -> a: 1x1 conv to 4 channels (8 weights, 64 outputs) -> fc: 10 outputs
// (640 + 10 weights).
Network tiny_net() {
  return load_workload(write_temp("tiny.yaml", R"(name: tiny
input: {shape: [2, 4, 4]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 1}
  - {name: fc, op: fc, out_features: 10}
)"));
}

// 4x4 ws array at 1 GHz (1 cycle = 1 ns) and 1 GB/s (1 byte = 1 ns).
HardwareConfig tiny_hw(const std::string& extra = "") {
  return load_hardware_config(
      write_temp("tiny_hw.yaml", std::string(R"(name: tiny
array: {rows: 4, cols: 4, dataflow: ws}
clock: "1 GHz"
sram: {weights: "1 KiB", activations: "1 KiB"}
dram: {bandwidth: "1 GB/s", latency: "10 ns")") +
                                     (extra.find("policy") == std::string::npos ? "" : ", policy: resident") +
                                     (extra.find("overlap") == std::string::npos ? "" : ", overlap: weights") + R"(}
decoder: {lanes: 2}
datapath: {native_bits: 8)" + (extra.find("packed") == std::string::npos ? "" : ", precision_scaling: packed") +
                                     R"(}
)"));
}

constexpr std::size_t kA = 1, kFc = 2;

TEST(AnalyticalModel, StreamPolicyAtEightBits) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 8));
  ASSERT_TRUE(r.feasible);
  // a: weights 8 B + input 32 B + output 64 B = 104 B = 104 ns of DRAM; compute: ws, M=16, K=2,
  // N=4: 1 x 1 x (8 + 4 + 16 - 2) = 26 lines -> 25 cycles.
  EXPECT_DOUBLE_EQ(r.layers[kA].dram_bytes, 104);
  EXPECT_EQ(r.layers[kA].compute_cycles, 25);
  EXPECT_NEAR(r.layers[kA].time_s, 104e-9, 1e-18);
  EXPECT_EQ(r.layers[kA].bottleneck, Bottleneck::Dram);
  // fc: weights 650 B + input 64 B + output 10 B = 724 B; compute: M=1, K=64, N=10:
  // 16 x 3 x (8 + 4 + 1 - 2) = 528 lines -> 527 cycles.
  EXPECT_DOUBLE_EQ(r.layers[kFc].dram_bytes, 724);
  EXPECT_EQ(r.layers[kFc].compute_cycles, 527);
  EXPECT_EQ(r.layers[kFc].bottleneck, Bottleneck::Dram);
  // Total: 104 + 724 ns + 10 ns latency.
  EXPECT_NEAR(r.time_s, 838e-9, 1e-18);
  EXPECT_NEAR(r.inference_rate_per_s, 1.0 / 838e-9, 1e-3);
  EXPECT_EQ(r.compute_cycles, 552);
}

// A detector head's transpose (ONNX only: built from specs) moves its tensor, off the array: it reads
// the conv's 64 output bytes and writes 64, no compute cycles, no weights.
TEST(AnalyticalModel, TransposeMovesItsTensorOffTheArray) {
  LayerSpec in;
  in.name = "in";
  in.op = LayerOp::Input;
  in.input_shape = {2, 4, 4};
  LayerSpec a;
  a.name = "a";
  a.op = LayerOp::Conv;
  a.out_channels = 4;
  LayerSpec t;
  t.name = "t";
  t.op = LayerOp::Transpose;
  t.perm = {1, 2, 0};
  const Network net = Network::build("head", {in, a, t});
  const HardwareConfig hw = tiny_hw();
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 8));
  ASSERT_TRUE(r.feasible);
  EXPECT_EQ(net.layer(2).output, (Shape{4, 4, 4}));
  EXPECT_DOUBLE_EQ(r.layers[2].dram_bytes, 128);
  EXPECT_EQ(r.layers[2].compute_cycles, 0);
  EXPECT_NEAR(r.layers[2].time_s, 128e-9, 1e-18);
  EXPECT_EQ(r.layers[2].bottleneck, Bottleneck::Dram);
}

TEST(AnalyticalModel, WeightsOnlyOverlapAddsActivationTransfersToCompute) {
  // dram.overlap: weights (the Eyeriss chip): a layer's input reads and output writes wait for its
  // compute; only weight fetches overlap it. a: 25 ns of compute + (32 + 64) B = 96 ns of activation
  // transfer = 121 ns, longer than its 104 ns of DRAM in all: DRAM-bound (96 > 25). fc: 527 + (64 +
  // 10) = 601 ns, shorter than its 724 ns of DRAM: as before. Total 121 + 724 + 10 ns latency.
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw("overlap");
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 8));
  ASSERT_TRUE(r.feasible);
  EXPECT_NEAR(r.layers[kA].time_s, 121e-9, 1e-18);
  EXPECT_EQ(r.layers[kA].bottleneck, Bottleneck::Dram);
  EXPECT_DOUBLE_EQ(r.layers[kA].dram_bytes, 104);  // the bytes and their time are unchanged
  EXPECT_NEAR(r.layers[kA].dram_time_s, 104e-9, 1e-18);
  EXPECT_NEAR(r.layers[kFc].time_s, 724e-9, 1e-18);
  EXPECT_NEAR(r.time_s, 855e-9, 1e-18);
}

TEST(AnalyticalModel, FewerBitsMoveFewerBytes) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 2, 4));
  // a: 8 x 2 + 32 x 4 + 64 x 4 = 400 bits = 50 B; fc: 650 x 2 + 64 x 4 + 10 x 4 = 1596 bits = 199.5 B.
  EXPECT_DOUBLE_EQ(r.layers[kA].dram_bytes, 50);
  EXPECT_DOUBLE_EQ(r.layers[kFc].dram_bytes, 199.5);
  // Compute does not scale below the native width by default: fc is now compute bound.
  EXPECT_EQ(r.layers[kFc].compute_cycles, 527);
  EXPECT_EQ(r.layers[kFc].bottleneck, Bottleneck::Compute);
}

TEST(AnalyticalModel, ResidentPolicyKeepsWhatFits) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw("policy");
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 8));
  // All weights (658 B) fit in 1 KiB: resident. a's output (64 B) fits in half of 1 KiB: stays.
  EXPECT_TRUE(r.weights_resident);
  EXPECT_DOUBLE_EQ(r.layers[kA].dram_bytes, 32);   // the network input is always read
  EXPECT_DOUBLE_EQ(r.layers[kFc].dram_bytes, 10);  // the network output is always written
}

TEST(AnalyticalModel, BatchSharesWeightFetches) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const SimResult r = AnalyticalModel(net, hw, 2).evaluate(BitPlan::uniform(net, 8, 8));
  // a: 8 B of weights once, 2 x (32 + 64) B of activations; M doubles: 1 x 1 x (8 + 4 + 32 - 2) - 1.
  EXPECT_DOUBLE_EQ(r.layers[kA].dram_bytes, 200);
  EXPECT_EQ(r.layers[kA].compute_cycles, 41);
  EXPECT_NEAR(r.time_per_image_s, r.time_s / 2, 1e-18);
}

TEST(AnalyticalModel, EntropyCodedTensorsChargeCodedBitsAndDecodeTime) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[kFc] = TensorCoding{4, 1000, 650};
  const SimResult r = AnalyticalModel(net, hw).evaluate(plan);
  // fc: 1000 bits of coded weights + 512 + 80 bits = 199 B; decode 650 symbols at 2 per ns = 325 ns.
  EXPECT_DOUBLE_EQ(r.layers[kFc].dram_bytes, 199);
  EXPECT_EQ(r.layers[kFc].decode_symbols, 650);
  EXPECT_NEAR(r.layers[kFc].decode_time_s, 325e-9, 1e-18);
  EXPECT_EQ(r.layers[kFc].bottleneck, Bottleneck::Compute);  // 527 ns
}

TEST(AnalyticalModel, DecodeCanBeTheBottleneck) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[kFc] = TensorCoding{4, 1000, 2000};
  const SimResult r = AnalyticalModel(net, hw).evaluate(plan);
  EXPECT_NEAR(r.layers[kFc].decode_time_s, 1000e-9, 1e-18);
  EXPECT_EQ(r.layers[kFc].bottleneck, Bottleneck::Decode);
}

TEST(AnalyticalModel, EntropyCodingWithoutADecoderIsInfeasible) {
  const Network net = tiny_net();
  HardwareConfig hw = tiny_hw();
  hw.decoder_lanes = 0;
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.activations[kA] = TensorCoding{4, 100, 64};
  const SimResult r = AnalyticalModel(net, hw).evaluate(plan);
  EXPECT_FALSE(r.feasible);
  EXPECT_EQ(r.reason, "tensor a:a is entropy-coded but the hardware 'tiny' has no entropy decoder (decoder.lanes: 0)");
}

TEST(AnalyticalModel, PackedPrecisionScalingDividesComputeCycles) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw("packed");
  const SimResult r = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 2, 2));
  EXPECT_EQ(r.layers[kA].compute_cycles, 7);     // ceil(25 / 4)
  EXPECT_EQ(r.layers[kFc].compute_cycles, 132);  // ceil(527 / 4)
  const SimResult r8 = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 3));
  EXPECT_EQ(r8.layers[kFc].compute_cycles, 527);  // 8-bit weights: no packing
}

TEST(AnalyticalModel, GroupedMappingIsAConfigChoice) {
  // A depthwise 3x3 conv over 4 channels of a 4x4 map (padding 1): M = 16 output pixels, per group
  // K = 9 and N = 1, 4 groups, on the 4x4 ws array.
  const Network net = load_workload(write_temp("dw.yaml", R"(name: dw
input: {shape: [4, 4, 4]}
layers:
  - {name: dw, op: conv, out_channels: 4, kernel: 3, padding: 1, groups: 4}
)"));
  HardwareConfig hw = tiny_hw();
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  // split (the default, SCALE-Sim's DP rows): per group ceil(9/4) = 3 folds x (2R + C + M - 2 = 26)
  // lines = 78, minus 1 = 77 cycles; 4 groups one after another: 308.
  EXPECT_EQ(hw.grouped_mapping, GroupedMapping::Split);
  EXPECT_EQ(AnalyticalModel(net, hw).evaluate(plan).layers[1].compute_cycles, 308);
  // block_diagonal: one GEMM of K = 36, N = 4: ceil(36/4) = 9 folds x 26 lines = 234, minus 1.
  hw.grouped_mapping = GroupedMapping::BlockDiagonal;
  const SimResult block = AnalyticalModel(net, hw).evaluate(plan);
  EXPECT_EQ(block.layers[1].compute_cycles, 233);
  // Only the nonzero weights are fetched either way: 36 weights at 8 bits (no bias).
  EXPECT_EQ(block.layers[1].weight_read_bytes, 36);
  EXPECT_EQ(mapped_gemm(Gemm{16, 9, 1, 4}, GroupedMapping::BlockDiagonal), (Gemm{16, 36, 4, 1}));
  EXPECT_EQ(mapped_gemm(Gemm{16, 9, 1, 4}, GroupedMapping::Split), (Gemm{16, 9, 1, 4}));
  EXPECT_EQ(mapped_gemm(Gemm{16, 9, 8, 1}, GroupedMapping::BlockDiagonal), (Gemm{16, 9, 8, 1}));
}

// input 2x4x4 -> a (1x1 conv, 4 x 4x4 = 64 values) -> pool (2x2 max, 16 values) -> b -> c (1x1
// convs, 16 values each) -> sum = pool + c -> fc (10 outputs). Weights: a 8, b 16, c 16, fc 170.
Network residual_pool_net() {
  return load_workload(write_temp("respool.yaml", R"(name: respool
input: {shape: [2, 4, 4]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 1, relu: true}
  - {name: pool, op: maxpool, kernel: 2, stride: 2}
  - {name: b, op: conv, out_channels: 4, kernel: 1}
  - {name: c, op: conv, out_channels: 4, kernel: 1}
  - {name: sum, op: add, inputs: [pool, c]}
  - {name: fc, op: fc, out_features: 10}
)"));
}

HardwareConfig with_datapath(HardwareConfig hw, Fusion fusion, ShortcutPolicy shortcut) {
  hw.fusion = fusion;
  hw.shortcut = shortcut;
  return hw;
}

TEST(ActivationTraffic, FusedAddAndPoolAreNoTensorsOfTheirOwn) {
  const Network net = residual_pool_net();
  const HardwareConfig hw = with_datapath(tiny_hw(), Fusion::ElementwisePool, ShortcutPolicy::OnChipIfFits);
  const AnalyticalModel model(net, hw);
  const ActivationTraffic& t = model.traffic();
  constexpr std::size_t in = 0, a = 1, pool = 2, b = 3, c = 4, sum = 5, fc = 6;
  // a runs the pool in its output path; c runs the add (pool is read twice, so it cannot be the
  // add's main input).
  EXPECT_FALSE(t.stored(a));
  EXPECT_FALSE(t.quantized(a));
  EXPECT_FALSE(t.stored(c));
  for (std::size_t i : {in, pool, b, sum, fc}) EXPECT_TRUE(t.stored(i)) << i;
  EXPECT_EQ(t.layer(a).writes, static_cast<int>(pool));
  EXPECT_EQ(t.layer(pool).fused_into, static_cast<int>(a));
  EXPECT_EQ(t.layer(pool).writes, -1);
  EXPECT_EQ(t.layer(c).writes, static_cast<int>(sum));
  EXPECT_EQ(t.layer(sum).fused_into, static_cast<int>(c));
  // pool: fetched by b, then read on chip by the add (16 B fits in half of 1 KiB).
  EXPECT_EQ(t.layer(b).dram_reads, std::vector<int>{static_cast<int>(pool)});
  EXPECT_TRUE(t.layer(sum).dram_reads.empty());
  EXPECT_EQ(t.layer(sum).chip_reads, std::vector<int>{static_cast<int>(pool)});
  EXPECT_EQ(t.stored_count(), 5u);
  EXPECT_EQ(t.stored_values(net), 16 + 16 + 16 + 10);  // pool, b, sum, fc (the input not counted)
  // At 8 bits: a 8 + 32 + 16 (pool) = 56; b 16 + 16 + 16 = 48; c 16 + 16 + 16 (sum) = 48;
  // fc 170 + 16 + 10 = 196; pool and sum move nothing.
  const SimResult r = model.evaluate(BitPlan::uniform(net, 8, 8));
  EXPECT_DOUBLE_EQ(r.layers[a].dram_bytes, 56);
  EXPECT_DOUBLE_EQ(r.layers[pool].dram_bytes, 0);
  EXPECT_DOUBLE_EQ(r.layers[b].dram_bytes, 48);
  EXPECT_DOUBLE_EQ(r.layers[c].dram_bytes, 48);
  EXPECT_DOUBLE_EQ(r.layers[sum].dram_bytes, 0);
  EXPECT_DOUBLE_EQ(r.dram_bytes, 348);
  // The fused layers' own figures do not matter to the plan: bits none is accepted for them.
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.activations[a].bits = plan.activations[c].bits = 0;
  EXPECT_TRUE(model.evaluate(plan).feasible);
  EXPECT_DOUBLE_EQ(model.evaluate(plan).dram_bytes, 348);
  // ...but a stored tensor must be quantized.
  plan.activations[b].bits = 0;
  const SimResult bad = model.evaluate(plan);
  EXPECT_FALSE(bad.feasible);
  EXPECT_NE(bad.reason.find("tensor b:a is stored off chip"), std::string::npos) << bad.reason;
}

TEST(ActivationTraffic, ShortcutAndFusionKeysEachChangeTheirPart) {
  const Network net = residual_pool_net();
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  auto bytes = [&](Fusion f, ShortcutPolicy s) {
    const HardwareConfig hw = with_datapath(tiny_hw(), f, s);
    return AnalyticalModel(net, hw).evaluate(plan).dram_bytes;
  };
  // The add fetches its shortcut again: + 16 B.
  EXPECT_DOUBLE_EQ(bytes(Fusion::ElementwisePool, ShortcutPolicy::Dram), 364);
  // Today's rule: a writes 64 B, pool reads them and writes 16, sum reads 32 and writes 16:
  // 104 + 80 + 48 + 48 + 48 + 196.
  EXPECT_DOUBLE_EQ(bytes(Fusion::None, ShortcutPolicy::Dram), 524);
  // Fusing only elementwise layers leaves the pool a pass of its own: 104 + 80 + 48 + 48 + 16 + 196.
  EXPECT_DOUBLE_EQ(bytes(Fusion::Elementwise, ShortcutPolicy::Dram), 492);
  const HardwareConfig plain = tiny_hw();
  EXPECT_TRUE(AnalyticalModel(net, plain).traffic().plain());
}

// input -> a -> b -> sum = b + p, p = projection of a -> fc: p waits on chip for the add when it
// fits (quantized, never written), and is written and fetched again when it does not.
TEST(ActivationTraffic, ProjectionShortcutStaysOnChipWhenItFits) {
  const Network net = load_workload(write_temp("proj.yaml", R"(name: proj
input: {shape: [2, 4, 4]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 1}
  - {name: b, op: conv, out_channels: 4, kernel: 1}
  - {name: p, op: conv, out_channels: 4, kernel: 1, inputs: [a]}
  - {name: sum, op: add, inputs: [b, p]}
  - {name: fc, op: fc, out_features: 10}
)"));
  constexpr std::size_t a = 1, b = 2, p = 3, sum = 4;
  HardwareConfig hw = with_datapath(tiny_hw(), Fusion::Elementwise, ShortcutPolicy::OnChipIfFits);
  {
    const AnalyticalModel model(net, hw);
    const ActivationTraffic& t = model.traffic();
    EXPECT_FALSE(t.stored(b));  // the add runs in b's output path
    EXPECT_EQ(t.layer(b).writes, static_cast<int>(sum));
    EXPECT_FALSE(t.stored(p));
    EXPECT_TRUE(t.quantized(p));
    EXPECT_EQ(t.layer(p).writes, -1);
    EXPECT_TRUE(t.layer(sum).dram_reads.empty());
    EXPECT_EQ(t.layer(p).chip_reads, std::vector<int>{static_cast<int>(a)});  // a: fetched by b, kept
  }
  hw.sram_activation_bytes = 64;  // half of it (32 B) holds neither a nor p (64 B each)
  const AnalyticalModel model(net, hw);
  const ActivationTraffic& t = model.traffic();
  EXPECT_TRUE(t.stored(p));
  EXPECT_EQ(t.layer(p).writes, static_cast<int>(p));
  EXPECT_EQ(t.layer(sum).dram_reads, std::vector<int>{static_cast<int>(p)});
  EXPECT_EQ(t.layer(p).dram_reads, std::vector<int>{static_cast<int>(a)});
}

// 8 depthwise channels (K = 9, N = 1 each, M = 16) on the 4x4 array: the block-diagonal GEMM is
// K' = 72 by N' = 8; diagonal_tiles runs only the folds that hold a block.
TEST(AnalyticalModel, DiagonalTilesSkipTheAllZeroFolds) {
  const Gemm dw{16, 9, 1, 8};
  HardwareConfig hw = tiny_hw();
  auto cycles = [&](Dataflow d, GroupedMapping g) {
    hw.dataflow = d;
    hw.grouped_mapping = g;
    return layer_compute_cycles(hw, dw, 1);
  };
  // ws: dense 18 x 2 = 36 folds of 2R + C + M - 2 = 26 lines; channels 0-3 sit in column fold 0
  // and row folds 0-8, channels 4-7 in column fold 1 and row folds 9-17: 18 folds.
  EXPECT_EQ(cycles(Dataflow::WeightStationary, GroupedMapping::BlockDiagonal), 36 * 26 - 1);
  EXPECT_EQ(cycles(Dataflow::WeightStationary, GroupedMapping::DiagonalTiles), 18 * 26 - 1);
  hw.grouped_mapping = GroupedMapping::DiagonalTiles;
  EXPECT_EQ(layer_fold_count(hw, dw, 1), 18);
  // os: 4 row folds of M; each of the 2 column folds reduces over its 4 channels' 36 values,
  // not all 72: 4 x 2 x (72 + 6) dense, 4 x 2 x (36 + 6) diagonal.
  EXPECT_EQ(cycles(Dataflow::OutputStationary, GroupedMapping::BlockDiagonal), 4 * 2 * 78 - 1);
  EXPECT_EQ(cycles(Dataflow::OutputStationary, GroupedMapping::DiagonalTiles), 4 * 2 * 42 - 1);
  // is: 18 row folds of 4 window values x 4 column folds of M; a row fold streams the filters of
  // the 1 or 2 channels it holds (24 in all over the 18 folds) instead of all 8.
  EXPECT_EQ(cycles(Dataflow::InputStationary, GroupedMapping::BlockDiagonal), 18 * 4 * 18 - 1);
  EXPECT_EQ(cycles(Dataflow::InputStationary, GroupedMapping::DiagonalTiles), 4 * (18 * 10 + 24) - 1);
  // One group: every mapping is SCALE-Sim's dense GEMM.
  for (Dataflow d : {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary})
    for (GroupedMapping g : {GroupedMapping::Split, GroupedMapping::BlockDiagonal, GroupedMapping::DiagonalTiles}) {
      hw.dataflow = d;
      hw.grouped_mapping = g;
      EXPECT_EQ(layer_compute_cycles(hw, Gemm{10, 6, 5, 1}, 2), gemm_compute_cycles(d, 4, 4, Gemm{10, 6, 5, 1}, 2));
    }
}

// SCALE-Sim's report columns (analytical_model.h, shared/notes/scalesim-model.md §2.5-2.6) on the
// 4x4 array: a 1x1 conv of 6 channels over 2x5 pixels to 5 filters is the GEMM M = 10, K = 6, N = 5.
TEST(AnalyticalModel, ScaleSimReportColumns) {
  const Network net = load_workload(write_temp("gemm.yaml", R"(name: gemm
input: {shape: [6, 2, 5]}
layers:
  - {name: a, op: conv, out_channels: 5, kernel: 1}
  - {name: g, inputs: input, op: conv, out_channels: 6, kernel: 1, groups: 2}
)"));
  HardwareConfig hw = tiny_hw();
  auto cost = [&](Dataflow d, std::size_t layer) {
    hw.dataflow = d;
    return layer_array_cost(hw, net, layer, 1);
  };
  // ws: fr = ceil(6/4) = 2, fc = ceil(5/4) = 2: ifmap fc M K = 120, filter K N = 30, ofmap fr M N =
  // 100, mapping efficiency K N / (fr fc R C) = 30 / 64.
  ArrayCost c = cost(Dataflow::WeightStationary, kA);
  EXPECT_EQ(c.folds, 4);
  EXPECT_DOUBLE_EQ(c.sram_ifmap_reads, 120);
  EXPECT_DOUBLE_EQ(c.sram_filter_reads, 30);
  EXPECT_DOUBLE_EQ(c.sram_ofmap_writes, 100);
  EXPECT_DOUBLE_EQ(c.mapping_efficiency, 30.0 / 64);
  EXPECT_DOUBLE_EQ(c.sram_psum_reads, 0);
  // os: fr = ceil(10/4) = 3, fc = 2: ifmap 2 x 60, filter 3 x 30, ofmap M N + 6 folds x (R + C) =
  // 50 + 48, efficiency M N / (6 x 16) = 50 / 96.
  c = cost(Dataflow::OutputStationary, kA);
  EXPECT_DOUBLE_EQ(c.sram_ifmap_reads, 120);
  EXPECT_DOUBLE_EQ(c.sram_filter_reads, 90);
  EXPECT_DOUBLE_EQ(c.sram_ofmap_writes, 98);
  EXPECT_DOUBLE_EQ(c.mapping_efficiency, 50.0 / 96);
  // is: fr = 2, fc = ceil(10/4) = 3: ifmap K M = 60, filter 3 x 30, ofmap 2 x 50, K M / 96.
  c = cost(Dataflow::InputStationary, kA);
  EXPECT_DOUBLE_EQ(c.sram_ifmap_reads, 60);
  EXPECT_DOUBLE_EQ(c.sram_filter_reads, 90);
  EXPECT_DOUBLE_EQ(c.sram_ofmap_writes, 100);
  EXPECT_DOUBLE_EQ(c.mapping_efficiency, 60.0 / 96);
  // Utilization is MACs over cycles x PEs: ws runs 2 x 2 x (8 + 4 + 10 - 2) - 1 = 79 cycles.
  hw.dataflow = Dataflow::WeightStationary;
  const AnalyticalModel model(net, hw);
  const SimResult r = model.evaluate(BitPlan::uniform(net, 8, 8));
  EXPECT_EQ(r.layers[kA].compute_cycles, 79);
  EXPECT_DOUBLE_EQ(model.report(kA, r.layers[kA]).utilization, 300.0 / (79 * 16));
  EXPECT_EQ(model.report(kA, r.layers[kA]).folds, 4);
  // Two groups of K = 3, N = 3 (M = 10) under diagonal_tiles, ws: group 0 sits in row and column
  // fold 0, group 1 (rows and columns 3-5) in folds 0 and 1 of each, so 4 folds hold a block. A
  // group's rows stream once per column fold its columns meet (3 x 1 + 3 x 2 = 9, times M = 10),
  // its psums leave once per row fold (the same 9 x 10); the 18 weights load once.
  hw.grouped_mapping = GroupedMapping::DiagonalTiles;
  const std::size_t kG = 2;
  c = cost(Dataflow::WeightStationary, kG);
  EXPECT_EQ(c.folds, 4);
  EXPECT_DOUBLE_EQ(c.sram_ifmap_reads, 90);
  EXPECT_DOUBLE_EQ(c.sram_ofmap_writes, 90);
  EXPECT_DOUBLE_EQ(c.sram_filter_reads, 18);
  EXPECT_DOUBLE_EQ(c.mapping_efficiency, 18.0 / 64);
}

TEST(AnalyticalModel, ReusedResultGivesTheSameAnswer) {
  const Network net = tiny_net();
  const HardwareConfig hw = tiny_hw();
  const AnalyticalModel model(net, hw);
  SimResult reused;
  model.evaluate(BitPlan::uniform(net, 2, 2), reused);
  model.evaluate(BitPlan::uniform(net, 8, 8), reused);
  const SimResult fresh = model.evaluate(BitPlan::uniform(net, 8, 8));
  EXPECT_EQ(reused.time_s, fresh.time_s);
  EXPECT_EQ(reused.dram_bytes, fresh.dram_bytes);
}

// unused_by_timing's claims hold in the model: where it names a reason, two values of the key give
// the same time for every layer, on ResNet-50 and MobileNet-v1 at 2 and 8 bits, batch 2.
TEST(AnalyticalModel, ParametersSaidUnusedChangeNoTime) {
  const std::string root = BITSIM_SOURCE_DIR;
  struct Case {
    const char* config;
    std::vector<HardwareSetting> base;  // applied first
    const char* key;
    const char* a;
    const char* b;
  };
  const std::vector<Case> cases = {
      {"tpu", {}, "sram.weights", "64 KiB", "64 MiB"},
      {"tpu", {{"datapath.shortcut", "dram", {}}}, "sram.activations", "64 KiB", "64 MiB"},
      {"tpu", {}, "row_stationary.filter_spad", "4", "400"},
      {"tpu", {}, "row_stationary.rlc", "false", "true"},
      {"eyeriss", {}, "row_stationary.zero_fraction", "0", "0.9"},
      {"tpu", {{"decoder.lanes", "0", {}}}, "decoder.symbols_per_cycle", "1", "16"},
      {"tpu", {}, "decoder.table", "1 KiB", "1 MiB"},
      {"tpu", {}, "energy.dram_per_bit", "1 pJ", "100 pJ"},
  };
  for (const char* workload : {"resnet50", "mobilenet_v1"}) {
    const Network net = load_workload(root + "/workloads/" + workload + ".yaml");
    for (const Case& c : cases) {
      HardwareConfig hw = load_hardware_config(root + "/configs/" + c.config + ".yaml");
      set_hardware_parameters(hw, c.base);
      EXPECT_NE(unused_by_timing(hw, c.key), "") << c.key;
      HardwareConfig other = hw;
      set_hardware_parameter(hw, c.key, c.a, {});
      set_hardware_parameter(other, c.key, c.b, {});
      ASSERT_NE(hw, other);
      for (int bits : {2, 8}) {
        BitPlan plan = BitPlan::uniform(net, bits, bits);
        const SimResult x = AnalyticalModel(net, hw, 2).evaluate(plan);
        const SimResult y = AnalyticalModel(net, other, 2).evaluate(plan);
        ASSERT_EQ(x.layers.size(), y.layers.size());
        EXPECT_EQ(x.time_s, y.time_s) << workload << " " << c.key;
        for (std::size_t l = 0; l < x.layers.size(); ++l) EXPECT_EQ(x.layers[l].time_s, y.layers[l].time_s);
      }
    }
  }
  // And where a key is used, no reason.
  const HardwareConfig tpu = load_hardware_config(root + "/configs/tpu.yaml");
  for (const char* key : {"sram.activations", "dram.bandwidth", "array.rows", "decoder.symbols_per_cycle"})
    EXPECT_EQ(unused_by_timing(tpu, key), "") << key;
  const HardwareConfig eyeriss = load_hardware_config(root + "/configs/eyeriss.yaml");
  EXPECT_EQ(unused_by_timing(eyeriss, "row_stationary.filter_spad"), "");
  EXPECT_EQ(unused_by_timing(eyeriss, "sram.activations"), "");  // the global buffer
}

}  // namespace
}  // namespace bitsim::sim
