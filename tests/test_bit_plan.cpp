// Plan files: reading, every mistake with its location, and the write -> read round trip.
#include <gtest/gtest.h>
#include <sstream>

#include "sim/bit_plan.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

using testing::write_temp;

Network tiny_net() {
  return load_workload(write_temp("plan_net.yaml", R"(name: tiny
input: {shape: [2, 4, 4]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 1}
  - {name: fc, op: fc, out_features: 10}
)"));
}

std::string plan_error(const std::string& text, const Network& net) {
  return testing::error_of("bad_plan.yaml", text, [&](const std::string& path) { load_bit_plan(path, net); });
}

TEST(BitPlanFile, DefaultsAndPerTensorSettings) {
  const Network net = tiny_net();
  const BitPlan plan = load_bit_plan(write_temp("p.yaml", R"(workload: tiny
default: {weight_bits: 4, activation_bits: 6}
tensors:
  a:w: {bits: 2}
  fc:w: {bits: 3, coded_bits: 1500.5}
  a:a: {bits: 5, coded_bits: 200, symbols: 60}
)"),
                                     net);
  EXPECT_EQ(plan.weights[1].bits, 2);
  EXPECT_FALSE(plan.weights[1].entropy_coded());
  EXPECT_EQ(plan.weights[2].bits, 3);
  EXPECT_DOUBLE_EQ(plan.weights[2].coded_bits, 1500.5);
  EXPECT_EQ(plan.weights[2].symbols, 650);  // one symbol per value unless stated
  EXPECT_EQ(plan.activations[1].symbols, 60);
  EXPECT_EQ(plan.activations[0].bits, 6);  // input:a from the default
  EXPECT_EQ(plan.activations[2].bits, 6);
}

TEST(BitPlanFile, RoundTrip) {
  const Network net = tiny_net();
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[2] = TensorCoding{3, 1234.25, 650};
  plan.activations[1] = TensorCoding{2, 77, 64};
  plan.activations[0] = TensorCoding{0};  // not quantized (`bits: none`)
  std::ostringstream out;
  write_bit_plan(out, net, plan);
  EXPECT_NE(out.str().find("input:a: {bits: none}"), std::string::npos) << out.str();
  const BitPlan back = load_bit_plan(write_temp("rt.yaml", out.str()), net);
  auto same = [](const TensorCoding& a, const TensorCoding& b) {
    return a.bits == b.bits && a.coded_bits == b.coded_bits && a.symbols == b.symbols;
  };
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    if (net.layer(i).weights > 0) {
      EXPECT_TRUE(same(back.weights[i], plan.weights[i])) << "weights of layer " << i;
    }
    EXPECT_TRUE(same(back.activations[i], plan.activations[i])) << "activations of layer " << i;
  }
}

TEST(BitPlanFile, NamesThatNeedQuotingRoundTrip) {
  // Layer names as ONNX exporters write them, and worse: the plan file quotes what YAML needs quoted.
  const Network net = load_workload(write_temp("odd_net.yaml", R"(name: "net: v1 #2"
input: {shape: [2, 4, 4]}
layers:
  - {name: "/conv: 1 #a", op: conv, out_channels: 4, kernel: 1}
  - {name: "{fc}, [x]", op: fc, out_features: 10}
)"));
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[1] = TensorCoding{3, 40.5, 8};
  plan.activations[2] = TensorCoding{5};
  std::ostringstream out;
  write_bit_plan(out, net, plan);
  const BitPlan back = load_bit_plan(write_temp("odd.yaml", out.str()), net);
  EXPECT_EQ(back.weights[1].bits, 3);
  EXPECT_EQ(back.weights[1].coded_bits, 40.5);
  EXPECT_EQ(back.weights[1].symbols, 8);
  EXPECT_EQ(back.activations[2].bits, 5);
  EXPECT_EQ(back.activations[1].bits, 8);
}

TEST(BitPlanFile, UnknownTensorGetsDidYouMean) {
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8}\ntensors:\n  fc:x: {bits: 4}\n", tiny_net()),
            "F:3:3: error: tensors.fc:x: no such tensor in workload 'tiny' (did you mean 'fc:w'?); tensors are "
            "named <layer>:w and <layer>:a");
}

TEST(BitPlanFile, MissingTensorsWithoutDefault) {
  EXPECT_EQ(plan_error("tensors:\n  fc:w: {bits: 4}\n", tiny_net()),
            "F:1:1: error: tensors: 4 tensor(s) have no setting and there is no default (e.g. a:a, a:w, fc:a, "
            "input:a); add them or 'default: {weight_bits: B, activation_bits: B}'");
}

TEST(BitPlanFile, BadValuesAllReported) {
  EXPECT_EQ(plan_error("workload: resnet50\ndefault: {weight_bits: 0, activation_bits: 8}\ntensors:\n"
                       "  a:w: {bits: 40, coded_bits: -3}\n  a:a: {bits: 4, symbols: 3}\n",
                       tiny_net()),
            "F:1:11: error: workload: this plan is for 'resnet50', but the workload is 'tiny'\n"
            "F:2:24: error: default.weight_bits: expected an integer from 1 to 32, got '0'\n"
            "F:4:15: error: tensors.a:w.bits: expected an integer from 1 to 32, got '40'\n"
            "F:4:31: error: tensors.a:w.coded_bits: expected a number >= 0, got '-3'\n"
            "F:5:27: error: tensors.a:a.symbols: only meaningful with coded_bits\n"
            "F:1:1: error: tensors: 1 tensor(s) have no setting and there is no default (e.g. fc:w); add them or "
            "'default: {weight_bits: B, activation_bits: B}'");
}

TEST(BitPlanFile, OnlyActivationsCanStayUnquantized) {
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8}\ntensors:\n  a:w: {bits: none}\n", tiny_net()),
            "F:3:15: error: tensors.a:w.bits: expected an integer from 1 to 32, got 'none'");
}

TEST(BitPlanFile, LevelsMustFitBitsAndTheQuantizer) {
  const std::string head = "default: {weight_bits: 8, activation_bits: 8}\ntensors:\n";
  // Symbols 0..t-1 take ceil(log2 t) bits.
  EXPECT_EQ(plan_error(head + "  a:w: {bits: 1, levels: 255}\n", tiny_net()),
            "F:3:26: error: tensors.a:w.levels: 255 levels need 8 bits (symbols 0 to t-1 take ceil(log2 t) bits), "
            "but bits is 1");
  EXPECT_EQ(plan_error(head + "  a:a: {bits: 1, levels: 256}\n", tiny_net()),
            "F:3:26: error: tensors.a:a.levels: 256 levels need 8 bits (symbols 0 to t-1 take ceil(log2 t) bits), "
            "but bits is 1");
  // Weights: seed 004 eq. 1, t = 2k + 1.
  EXPECT_EQ(plan_error(head + "  a:w: {bits: 8, levels: 1}\n  fc:w: {bits: 8, levels: 16}\n", tiny_net()),
            "F:3:26: error: tensors.a:w.levels: expected an odd number >= 3 (weights use seed 004 eq. 1: t = 2k + 1 "
            "levels), got '1'\n"
            "F:4:27: error: tensors.fc:w.levels: expected an odd number >= 3 (weights use seed 004 eq. 1: t = 2k + 1 "
            "levels), got '16'");
  EXPECT_EQ(plan_error(head + "  a:a: {bits: 8, levels: 1}\n", tiny_net()),
            "F:3:26: error: tensors.a:a.levels: expected a number >= 2 (one level stores nothing), got '1'");
  // What the quantizers accept at the edge still loads: 2^bits levels for activations, 2^bits - 1 for weights.
  const BitPlan plan = load_bit_plan(
      write_temp("edge.yaml", head + "  a:a: {bits: 8, levels: 256}\n  a:w: {bits: 2, levels: 3}\n"), tiny_net());
  EXPECT_EQ(plan.activations[1].levels, 256);
  EXPECT_EQ(plan.weights[1].levels, 3);
}

TEST(BitPlanFile, CodedSizeOfZeroAndSettingsOfUnstoredTensorsRefused) {
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8}\ntensors:\n  a:w: {bits: 4, coded_bits: 0}\n",
                       tiny_net()),
            "F:3:30: error: tensors.a:w.coded_bits: expected a number > 0 (the coded size of 8 values), got '0'");
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8}\ntensors:\n  a:a: {bits: none, levels: 4}\n",
                       tiny_net()),
            "F:3:29: error: tensors.a:a.levels: only meaningful for a stored tensor, but bits is none (the value "
            "stays inside the datapath)");
}

TEST(BitPlanFile, DuplicateTensorIsAnError) {
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8}\ntensors:\n  a:w: {bits: 4}\n  a:w: {bits: 2}\n",
                       tiny_net()),
            "F:4:3: error: tensors.a:w: duplicate key (first at line 3)");
  EXPECT_EQ(plan_error("default: {weight_bits: 8, activation_bits: 8, weight_bits: 4}\n", tiny_net()),
            "F:1:47: error: default.weight_bits: duplicate key (first at line 1)");
}

TEST(BitPlanFile, TextFileIsNotEchoedWhole) {
  // Any text file given as --plan parses as one long scalar: quote its start only.
  std::string text;
  for (int i = 0; i < 50; ++i) text += "This is a line of some text file, not a plan.\n";
  EXPECT_EQ(plan_error(text, tiny_net()),
            "F:1:1: error: (top level): expected a map, got 'This is a line of some text file, not a plan. This is a "
            "line...'");
}

}  // namespace
}  // namespace bitsim::sim
