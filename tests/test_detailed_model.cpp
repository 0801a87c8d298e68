// The SystemC model against the analytical model and against hand-built cases whose answer is
// known. Each test runs in its own process (CTest), but the model also supports several runs per
// process, which one test checks.
#include <gtest/gtest.h>
#include <cmath>
#include <sstream>

#include "sim/detailed_model.h"
#include "sim/workload.h"
#include "tests/test_util.h"

// libsystemc's main() references sc_main; the tests use GoogleTest's main.
extern "C" int sc_main(int, char**) { return 0; }

namespace bitsim::sim {
namespace {

const std::string kRoot = BITSIM_SOURCE_DIR;

struct Case {
  const char* hw;
  const char* workload;
  int bits;
};

// Upper bound on what pipelining a layer through its tiles adds to the slowest stage: each of
// the other stages' share of one tile, twice (fill and drain), plus the DRAM latency of a read
// and a write.
double fill_bound(const LayerTiming& t, int tiles, const HardwareConfig& hw) {
  return 2.0 * (t.dram_time_s + t.decode_time_s + t.compute_time_s) / tiles + 2 * hw.dram_latency_s + 1e-12;
}

class Agreement : public ::testing::TestWithParam<Case> {};

TEST_P(Agreement, WithoutPrefetchAndWithUnlimitedBuffersEachLayerMatchesTheAnalyticalModel) {
  const Case& c = GetParam();
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + c.hw + ".yaml");
  const Network net = load_workload(kRoot + "/workloads/" + c.workload + ".yaml");
  const BitPlan plan = BitPlan::uniform(net, c.bits, c.bits);
  const SimResult analytical = AnalyticalModel(net, hw).evaluate(plan);
  DetailedOptions options;
  options.prefetch = false;
  options.unlimited_buffers = true;
  const DetailedResult detailed = simulate_detailed(net, hw, plan, 1, options);
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    if (net.layer(i).op == LayerOp::Input) continue;
    const LayerTiming& a = analytical.layers[i];
    const double t = detailed.result.layers[i].time_s;
    // Never faster than the slowest stage (1 ps per tile of SystemC time rounding allowed) ...
    EXPECT_GE(t, a.time_s - 1e-12 * detailed.layers[i].tiles) << net.layer(i).name;
    // ... and slower only by the pipeline's fill and drain.
    EXPECT_LE(t, a.time_s + fill_bound(a, detailed.layers[i].tiles, hw)) << net.layer(i).name;
    // Same traffic, symbols and cycles as the analytical model.
    EXPECT_EQ(detailed.result.layers[i].dram_bytes, a.dram_bytes);
    EXPECT_EQ(detailed.result.layers[i].compute_cycles, a.compute_cycles);
  }
}

TEST_P(Agreement, WithPrefetchTheTotalStaysBetweenTheResourceBoundsAndTheLayerSum) {
  const Case& c = GetParam();
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + c.hw + ".yaml");
  const Network net = load_workload(kRoot + "/workloads/" + c.workload + ".yaml");
  const BitPlan plan = BitPlan::uniform(net, c.bits, c.bits);
  const SimResult analytical = AnalyticalModel(net, hw).evaluate(plan);
  for (bool unlimited : {true, false}) {
    DetailedOptions options;
    options.unlimited_buffers = unlimited;
    const DetailedResult d = simulate_detailed(net, hw, plan, 1, options);
    double dram = 0, decode = 0, compute = 0, layer_sum = 0, fill = 0;
    for (std::size_t i = 0; i < net.layers().size(); ++i) {
      const LayerTiming& a = analytical.layers[i];
      dram += a.dram_time_s;
      decode += a.decode_time_s;
      compute += a.compute_time_s;
      layer_sum += a.time_s;
      if (net.layer(i).op != LayerOp::Input) fill += fill_bound(a, d.layers[i].tiles, hw);
    }
    const double slack = 1e-12 * static_cast<double>(net.layers().size()) * 64;
    EXPECT_GE(d.result.time_s, std::max({dram, decode, compute}) - slack) << unlimited;
    EXPECT_NEAR(d.dram_busy_s, dram, slack);
    EXPECT_NEAR(d.array_busy_s, compute, slack);
    if (unlimited) {
      EXPECT_LE(d.result.time_s, layer_sum + fill);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedModels, Agreement,
                         ::testing::Values(Case{"tpu", "resnet50", 2}, Case{"tpu", "resnet50", 8},
                                           Case{"tpu", "mobilenet_v1", 4}, Case{"eyeriss", "resnet50", 4},
                                           Case{"eyeriss", "mobilenet_v1", 16}),
                         [](const auto& info) {
                           return std::string(info.param.hw) + "_" + info.param.workload + "_" +
                                  std::to_string(info.param.bits);
                         });

// One FC layer (1024 -> 1024 weights, 1M values) on a 16x16 array at 1 GHz.
Network fc_net(const std::string& name) {
  return load_workload(testing::write_temp(name + ".yaml", R"(name: one_fc
input: {shape: [1024, 1, 1]}
layers:
  - {name: fc, op: fc, out_features: 1024, bias: false}
)"));
}

HardwareConfig small_hw(const std::string& name, const std::string& bandwidth, int lanes, const std::string& sram) {
  return load_hardware_config(testing::write_temp(name + "_hw.yaml",
                                                  "name: small\n"
                                                  "array: {rows: 16, cols: 16, dataflow: ws}\n"
                                                  "clock: \"1 GHz\"\n"
                                                  "sram: {weights: \"" +
                                                      sram + "\", activations: \"" + sram +
                                                      "\"}\n"
                                                      "dram: {bandwidth: \"" +
                                                      bandwidth +
                                                      "\"}\n"
                                                      "decoder: {lanes: " +
                                                      std::to_string(lanes) +
                                                      "}\n"
                                                      "datapath: {native_bits: 8}\n"));
}

TEST(HandBuilt, DramBoundLayer) {
  // 1 MiB of 8-bit weights at 1 GB/s: 1.05 ms of DRAM; compute: 64 folds x (32+16+1-2) - 1 = 3007 cycles.
  const Network net = fc_net("dram");
  const HardwareConfig hw = small_hw("dram", "1 GB/s", 0, "1 MiB");
  const DetailedResult d = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 1, {});
  const double dram = (1024.0 * 1024 + 1024 + 1024) / 1e9;
  EXPECT_NEAR(d.result.time_s, dram, dram / 64 + 4e-6);
  EXPECT_GE(d.result.time_s, dram);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Dram);
  EXPECT_GT(d.layers[1].stall_dram_s, 0.9 * (d.result.time_s - d.array_busy_s));
}

TEST(HandBuilt, DecoderBoundLayer) {
  // Entropy-coded weights: 1M symbols on 1 lane at 1 GHz = 1.05 ms; DRAM (100 GB/s) and compute are short.
  const Network net = fc_net("decode");
  const HardwareConfig hw = small_hw("decode", "100 GB/s", 1, "1 MiB");
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[1] = TensorCoding{4, 2.0 * 1024 * 1024, 1024 * 1024};
  const DetailedResult d = simulate_detailed(net, hw, plan, 1, {});
  const double decode = 1024.0 * 1024 / 1e9;
  EXPECT_GE(d.result.time_s, decode);
  EXPECT_LE(d.result.time_s, decode * (1 + 2.0 / 64) + 1e-6);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Decode);
  EXPECT_NEAR(d.decoder_busy_s, decode, 1e-9);
  EXPECT_GT(d.layers[1].stall_decode_s, 0.5 * decode);
}

TEST(HandBuilt, ComputeBoundLayer) {
  // A 3x3 conv with 256 -> 256 channels on 56x56: K = 2304, N = 256 on 16x16 (ws):
  // 144 x 16 folds x (32 + 16 + 3136 - 2) = 7,331,328 lines -> 7,331,327 cycles; little data at 1 TB/s.
  const Network net = load_workload(testing::write_temp("conv.yaml", R"(name: conv
input: {shape: [256, 56, 56]}
layers:
  - {name: c, op: conv, out_channels: 256, kernel: 3, padding: 1}
)"));
  const HardwareConfig hw = small_hw("compute", "1 TB/s", 0, "8 MiB");
  const DetailedResult d = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 1, {});
  EXPECT_EQ(d.result.layers[1].compute_cycles, 7331327);
  const double compute = 7331327 / 1e9;
  EXPECT_GE(d.result.time_s, compute);
  EXPECT_LE(d.result.time_s, compute + 2 * d.result.layers[1].dram_time_s + 1e-9);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Compute);
}

TEST(HandBuilt, BufferTooSmallForDoubleBufferingSerializesFetchAndCompute) {
  // The FC layer in 64 tiles of 16 KiB of weights each; with a 24 KiB weight buffer only one tile
  // fits, so a tile's fetch cannot overlap the previous tile's compute. Bandwidth and compute are
  // balanced (about 16 us each per tile), so the time roughly doubles against a roomy buffer.
  const Network net = fc_net("buffer");
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  const HardwareConfig roomy = small_hw("roomy", "1 GB/s", 0, "1 MiB");
  HardwareConfig tight = roomy;
  tight.sram_weight_bytes = 24 * 1024;
  tight.clock_hz = 3007.0 / 64 / 16.4e-6 * 64;  // compute per tile ~ DRAM per tile
  HardwareConfig balanced = roomy;
  balanced.clock_hz = tight.clock_hz;
  const DetailedResult fast = simulate_detailed(net, balanced, plan, 1, {});
  const DetailedResult slow = simulate_detailed(net, tight, plan, 1, {});
  EXPECT_GT(slow.result.time_s, 1.5 * fast.result.time_s);
  EXPECT_GT(slow.layers[1].stall_buffer_s, 0.3 * slow.result.time_s);
  EXPECT_LE(slow.peak_weight_buffer_bytes, 24 * 1024);
  EXPECT_GT(fast.peak_weight_buffer_bytes, 24 * 1024);
}

TEST(DetailedModel, RepeatedRunsInOneProcessAgree) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  const Network net = load_workload(kRoot + "/workloads/mobilenet_v1.yaml");
  const BitPlan plan = BitPlan::uniform(net, 4, 4);
  const DetailedResult a = simulate_detailed(net, hw, plan, 1, {});
  const DetailedResult other = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 2, {});
  const DetailedResult b = simulate_detailed(net, hw, plan, 1, {});
  EXPECT_EQ(a.result.time_s, b.result.time_s);
  EXPECT_NE(a.result.time_s, other.result.time_s);
  for (std::size_t i = 0; i < a.layers.size(); ++i) EXPECT_EQ(a.layers[i].end_s, b.layers[i].end_s);
}

TEST(DetailedModel, InfeasiblePlanIsAnInputError) {
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  hw.decoder_lanes = 0;
  const Network net = fc_net("infeasible");
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[1] = TensorCoding{4, 1000, 1000};
  EXPECT_THROW(simulate_detailed(net, hw, plan, 1, {}), InputError);
}

// SystemC time ends at 2^64 ps (~1.8e7 s): a run that could pass it is refused up front (this
// test's first and only SystemC call, as nothing may throw after a run) instead of reporting a
// wrapped-around time; the analytical model has no such limit.
TEST(DetailedModel, RunPastSystemcTimeIsAnInputError) {
  const Network net = fc_net("slow");
  const HardwareConfig hw = small_hw("slow", "0.1 B/s", 0, "1 MiB");
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  // 1 MiB of weights and 2 KiB of activations per image at 0.1 B/s: 1.1e7 s for a batch of 32.
  EXPECT_NEAR(AnalyticalModel(net, hw, 32).evaluate(plan).time_s, (1024.0 * 1024 + 32 * 2048) / 0.1, 1.0);
  try {
    simulate_detailed(net, hw, plan, 32, {});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the SystemC model counts time in 1 ps steps"), std::string::npos) << e.what();
  }
}

// An SRAM of more than 2^62 bytes is a buffer that never fills (it used to overflow int64).
TEST(DetailedModel, HugeBuffersActAsUnlimited) {
  const Network net = fc_net("huge");
  HardwareConfig hw = small_hw("huge", "1 GB/s", 0, "1 MiB");
  hw.sram_weight_bytes = hw.sram_activation_bytes = 1e303;
  DetailedOptions unlimited;
  unlimited.unlimited_buffers = true;
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  const DetailedResult a = simulate_detailed(net, hw, plan, 1, {});
  const DetailedResult b = simulate_detailed(net, hw, plan, 1, unlimited);
  EXPECT_EQ(a.result.time_s, b.result.time_s);
  EXPECT_GT(a.peak_weight_buffer_bytes, 0);
}

TEST(DetailedModel, ChromeTraceHasATrackPerResource) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  const Network net = load_workload(kRoot + "/workloads/alexnet.yaml");
  DetailedOptions options;
  options.record_trace = true;
  const DetailedResult d = simulate_detailed(net, hw, BitPlan::uniform(net, 4, 4), 1, options);
  std::ostringstream out;
  write_chrome_trace(out, d);
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [", 0), 0u);
  for (const char* track : {"\"name\": \"layers\"", "\"name\": \"dram\"", "\"name\": \"array\""})
    EXPECT_NE(text.find(track), std::string::npos) << track;
  EXPECT_NE(text.find("\"name\": \"conv1 tile 0\""), std::string::npos);
  EXPECT_NE(text.find("\"name\": \"fc8\""), std::string::npos);  // a layer span
  EXPECT_EQ(text.substr(text.size() - 3), "]}\n");
}

}  // namespace
}  // namespace bitsim::sim
