// Workload YAML: published parameter and MAC counts of the shipped networks, shape inference, and
// the exact message for each kind of mistake.
#include <gtest/gtest.h>

#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

const std::string kRoot = BITSIM_SOURCE_DIR;

Network shipped(const std::string& name) { return load_workload(kRoot + "/workloads/" + name + ".yaml"); }

// Published counts: torchvision's model documentation (parameters; GFLOPS there are MACs of conv
// and fc layers), Howard et al. 2017 Table 1 / Keras (MobileNet), Simonyan & Zisserman 2015 (VGG).
TEST(ShippedWorkloads, ResNet50MatchesPublishedCounts) {
  const Network net = shipped("resnet50");
  EXPECT_EQ(net.total_parameters(), 25'557'032);                        // torchvision resnet50: 25,557,032
  EXPECT_NEAR(static_cast<double>(net.total_macs()), 4.09e9, 0.005e9);  // torchvision: 4.09 GFLOPS
  EXPECT_EQ(net.total_macs(), 4'089'184'256);
  const Layer& fc = net.layer(*net.find("fc1000"));
  EXPECT_EQ(fc.weights, 2048 * 1000 + 1000);
  EXPECT_EQ(net.layer(*net.find("res5c")).output, (Shape{2048, 7, 7}));
}

TEST(ShippedWorkloads, MobileNetV1MatchesPublishedCounts) {
  const Network net = shipped("mobilenet_v1");
  EXPECT_EQ(net.total_parameters(), 4'231'976);                      // Keras MobileNet(alpha=1.0) trainable parameters
  EXPECT_NEAR(static_cast<double>(net.total_macs()), 569e6, 0.5e6);  // paper: 569 million mult-adds
  const Layer& dw = net.layer(*net.find("conv_dw_2"));
  EXPECT_EQ(dw.groups, 64);
  EXPECT_EQ(dw.weights, 64 * 9);
  EXPECT_EQ(dw.output, (Shape{64, 56, 56}));
  EXPECT_EQ(dw.gemm.k, 9);
  EXPECT_EQ(dw.gemm.n, 1);
  EXPECT_EQ(dw.gemm.groups, 64);
}

TEST(ShippedWorkloads, AlexNetMatchesPublishedCounts) {
  const Network net = shipped("alexnet");
  EXPECT_EQ(net.total_parameters(), 61'100'840);                        // torchvision alexnet
  EXPECT_NEAR(static_cast<double>(net.total_macs()), 0.71e9, 0.005e9);  // torchvision: 0.71 GFLOPS
  EXPECT_EQ(net.layer(*net.find("conv1")).output, (Shape{64, 55, 55}));
  EXPECT_EQ(net.layer(*net.find("pool5")).output, (Shape{256, 6, 6}));
}

TEST(ShippedWorkloads, Vgg16MatchesPublishedCounts) {
  const Network net = shipped("vgg16");
  EXPECT_EQ(net.total_parameters(), 138'357'544);                        // torchvision vgg16
  EXPECT_NEAR(static_cast<double>(net.total_macs()), 15.47e9, 0.005e9);  // torchvision: 15.47 GFLOPS
}

TEST(ShippedWorkloads, EyerissPapersConvLayersMatchTheirCounts) {
  // JSSC 2017, Tables V and VI: 2663 MOPs for AlexNet's five conv layers at batch 4, 46.04 G MACs
  // for VGG-16's thirteen at batch 3. ISSCC 2016: 2.3 M and 14.7 M weights.
  const Network alexnet = shipped("alexnet_eyeriss");
  EXPECT_EQ(alexnet.total_macs(), 665'784'864);
  EXPECT_NEAR(static_cast<double>(alexnet.total_macs()) * 4, 2663e6, 0.5e6);
  EXPECT_NEAR(static_cast<double>(alexnet.total_weights()), 2.3e6, 0.05e6);
  EXPECT_EQ(alexnet.layer(*alexnet.find("conv1")).output, (Shape{96, 55, 55}));
  EXPECT_EQ(alexnet.layer(*alexnet.find("conv2")).gemm,
            (Gemm{std::int64_t{27} * 27, std::int64_t{5} * 5 * 48, 128, 2}));
  EXPECT_EQ(alexnet.layer(*alexnet.find("conv5")).output, (Shape{256, 13, 13}));
  const Network vgg = shipped("vgg16_eyeriss");
  EXPECT_NEAR(static_cast<double>(vgg.total_macs()) * 3, 46.04e9, 0.005e9);
  EXPECT_NEAR(static_cast<double>(vgg.total_weights()), 14.7e6, 0.05e6);
}

using testing::write_temp;

std::string load_error(const std::string& path) {
  try {
    load_workload(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(WorkloadYaml, InfersShapesThroughGraphWithForwardReferences) {
  const std::string path = write_temp("fwd.yaml", R"(name: tiny
input: {shape: [3, 32, 32]}
layers:
  - {name: sum, op: add, inputs: [a, b]}
  - {name: a, op: conv, inputs: input, out_channels: 8, kernel: 3, padding: 1}
  - {name: b, op: conv, inputs: input, out_channels: 8, kernel: [1, 1]}
  - {name: cat, op: concat, inputs: [sum, a]}
  - {name: pool, op: maxpool, kernel: 2, ceil_mode: true}
  - {name: fc, op: fc, out_features: 10}
)");
  const Network net = load_workload(path);
  // Topological order, file order where possible: input, a, b, sum, cat, pool, fc.
  ASSERT_EQ(net.layers().size(), 7u);
  EXPECT_EQ(net.layer(1).name, "a");
  EXPECT_EQ(net.layer(3).name, "sum");
  EXPECT_EQ(net.layer(4).output, (Shape{16, 32, 32}));
  EXPECT_EQ(net.layer(5).output, (Shape{16, 16, 16}));
  EXPECT_EQ(net.layer(6).weights, 16 * 16 * 16 * 10 + 10);
  EXPECT_EQ(net.consumers(1).size(), 2u);
}

TEST(WorkloadYaml, DilationStrideAndCeilMode) {
  const std::string path = write_temp("dil.yaml", R"(name: d
input: {shape: [4, 17, 17]}
layers:
  - {name: c, op: conv, out_channels: 4, kernel: 3, dilation: 2, stride: 2}
  - {name: p, op: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {name: g, op: avgpool, global: true}
)");
  const Network net = load_workload(path);
  EXPECT_EQ(net.layer(1).output, (Shape{4, 7, 7}));  // (17 - 5) / 2 + 1
  EXPECT_EQ(net.layer(2).output, (Shape{4, 3, 3}));  // ceil((7 - 3) / 2) + 1
  EXPECT_EQ(net.layer(3).output, (Shape{4, 1, 1}));
}

struct BadCase {
  const char* name;
  const char* text;
  const char* message;
};

class BadWorkload : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadWorkload, ReportsFileLineAndExpectation) {
  const BadCase& c = GetParam();
  const std::string path = write_temp(std::string(c.name) + ".yaml", c.text);
  std::string expected = "F";
  expected += c.message;
  EXPECT_EQ(testing::scrub(load_error(path), path), expected);
}

const char* kHead = "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n";

INSTANTIATE_TEST_SUITE_P(
    Messages, BadWorkload,
    ::testing::Values(
        BadCase{"unknown_op",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: convv, out_channels: 2, kernel: 1}\n",
                ":4:19: error: layers.a.op: expected one of conv, fc, maxpool, avgpool, add, mul, concat, got 'convv' "
                "(did you mean 'conv'?)"},
        BadCase{"unknown_key",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_chanels: 2, kernel: 1}\n",
                ":4:25: error: layers.a.out_chanels: unknown key (did you mean 'out_channels'?); expected one of: "
                "name, op, inputs, out_channels, kernel, stride, padding, dilation, groups, bias, batchnorm, relu, "
                "ceil_mode\n"
                "F:4:5: error: layers.a.out_channels: missing (required for conv layers)"},
        BadCase{"missing_kernel",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 2}\n",
                ":4:5: error: layers.a.kernel: missing (required for conv layers)"},
        BadCase{"bad_input_name",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 2, kernel: 1}\n  - "
                "{name: b, op: add, inputs: [a, inptu]}\n",
                ":5:5: error: b.inputs: no layer named 'inptu' (did you mean 'input'?)"},
        BadCase{"kernel_too_big",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 2, kernel: 9}\n",
                ":4:5: error: a: kernel 9x9 (dilation 1x1, padding 0x0) does not fit the 3x8x8 input"},
        BadCase{"add_shapes",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 2, kernel: 1}\n  - "
                "{name: b, op: add, inputs: [a, input]}\n",
                ":5:5: error: b: add needs inputs of one shape, got a (2x8x8) and input (3x8x8)"},
        BadCase{"bad_groups",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 4, kernel: 1, "
                "groups: 2}\n",
                ":4:5: error: a.groups: expected a divisor of the input channels (3) and of out_channels (4), got 2"},
        BadCase{"negative_stride",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 4, kernel: 1, "
                "stride: -1}\n",
                ":4:61: error: layers.a.stride: expected an integer from 1 to 2147483647, got '-1'"},
        BadCase{"duplicate",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 4, kernel: 1}\n  - "
                "{name: a, op: conv, out_channels: 4, kernel: 1}\n",
                ":5:5: error: a: duplicate layer name (first defined at line 4)"},
        BadCase{
            "cycle",
            "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: add, inputs: [input, b]}\n  - {name: b, "
            "op: conv, inputs: a, out_channels: 3, kernel: 1}\n",
            ":4:5: error: a: part of a cycle in the layer graph\nF:5:5: error: b: part of a cycle in the layer graph"},
        BadCase{"duplicate_key",
                "name: n\ninput: {shape: [3, 8, 8]}\nlayers:\n  - {name: a, op: conv, out_channels: 4, kernel: 1, "
                "kernel: 3}\n",
                ":4:53: error: layers[0].kernel: duplicate key (first at line 4)"},
        BadCase{"syntax", "name: n\ninput: {shape: [3, 8, 8]\nlayers: []\n",
                ":3:1: error: YAML syntax: end of map flow not found"},
        BadCase{"no_input", "name: n\nlayers:\n  - {name: a, op: conv, out_channels: 4, kernel: 1}\n",
                ":1:1: error: input: missing (expected {name: input, shape: [C, H, W]})"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(WorkloadYaml, ReportsEveryProblemAtOnce) {
  const std::string path = write_temp("many.yaml", std::string(kHead) +
                                                       "  - {name: a, op: conv, out_channels: 0, kernel: 1}\n"
                                                       "  - {name: b, op: pool, kernel: 2}\n"
                                                       "  - {name: c, op: fc}\n");
  const std::string msg = load_error(path);
  EXPECT_NE(msg.find(":4:39: error: layers.a.out_channels: expected an integer from 1 to 2147483647, got '0'"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(":5:19: error: layers.b.op: expected one of"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":6:5: error: layers.c.out_features: missing (required for fc layers)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace bitsim::sim

namespace bitsim::sim {
namespace {

// Network::build is where every loader's layers meet (YAML, SCALE-Sim, ONNX): it checks each
// number a spec gives and each size it derives, so a hostile file cannot make shapes wrap or divide
// by zero (issue 12).
std::string build_error(const std::vector<LayerSpec>& specs) {
  try {
    Network::build("n", specs);
  } catch (const InputError& e) {
    return e.diagnostics().front().message;
  }
  return "no error";
}

std::vector<LayerSpec> input_and(LayerSpec layer, Shape in = {3, 8, 8}) {
  LayerSpec input;
  input.name = "input";
  input.op = LayerOp::Input;
  input.input_shape = in;
  layer.name = "x";
  layer.inputs = {"input"};
  return {input, layer};
}

LayerSpec conv(std::int64_t out, std::int64_t kernel = 3) {
  LayerSpec c;
  c.op = LayerOp::Conv;
  c.out_channels = out;
  c.window.kernel_h = c.window.kernel_w = kernel;
  return c;
}

TEST(NetworkLimits, WindowsGroupsAndShapesOutOfRangeAreRefused) {
  LayerSpec c = conv(4);
  c.groups = 0;  // was a division by zero
  EXPECT_EQ(build_error(input_and(c)), "x: groups must be from 1 to 16777216, got 0");
  c = conv(4);
  c.window.stride_h = 0;  // was a division by zero
  EXPECT_EQ(build_error(input_and(c)), "x: stride height must be from 1 to 16777216, got 0");
  c = conv(4, -3);  // was a negative output shape
  EXPECT_EQ(build_error(input_and(c)), "x: kernel height must be from 1 to 16777216, got -3");
  c = conv(4);
  c.window.dilation_w = -1;
  EXPECT_EQ(build_error(input_and(c)), "x: dilation width must be from 1 to 16777216, got -1");
  c = conv(4);
  c.window.pad_w_end = -2;
  EXPECT_EQ(build_error(input_and(c)), "x: pad right must be from 0 to 16777216, got -2");
  EXPECT_EQ(build_error(input_and(conv(4), Shape{0, 8, 8})), "input: channels must be from 1 to 16777216, got 0");
  EXPECT_EQ(build_error(input_and(conv(0))), "x: out_channels must be from 1 to 16777216, got 0");
  // A million of padding on every side (VGG-16 with padding 1000000 reported -7.4e18 parameters):
  // the output no longer fits the limit on values per tensor.
  c = conv(64);
  c.window.pad_h = c.window.pad_w = c.window.pad_h_end = c.window.pad_w_end = 1'000'000;
  EXPECT_EQ(build_error(input_and(c)), "x: 256001536002304 output values per image exceed the limit of 1099511627776");
  // Sizes the product of three in-range numbers would wrap: reported, not wrapped.
  LayerSpec fc;
  fc.op = LayerOp::FullyConnected;
  fc.out_channels = kMaxDimension;
  EXPECT_EQ(build_error(input_and(fc, Shape{kMaxDimension, kMaxDimension, 1})),
            "input: 281474976710656 output values per image exceed the limit of 1099511627776");
  EXPECT_EQ(build_error(input_and(fc, Shape{1 << 20, 1 << 20, 1})),
            "x: its weights overflow 64-bit integers (limit 1099511627776)");
}

// Data-movement layers of detector heads (issue 13): a transpose permutes C, H, W; a concat joins
// along any axis, its inputs equal in the other two; wrong attributes are named.
TEST(NetworkMoves, TransposeAndConcatAlongAnAxis) {
  LayerSpec t;  // named x by input_and
  t.op = LayerOp::Transpose;
  t.perm = {1, 2, 0};  // N, C, H, W -> N, H, W, C
  std::vector<LayerSpec> specs = input_and(t, Shape{3, 4, 5});
  EXPECT_EQ(Network::build("n", specs).layer(1).output, (Shape{4, 5, 3}));
  t.perm = {1, 1, 0};
  EXPECT_EQ(build_error(input_and(t)), "x.perm: expected a permutation of 0, 1, 2, got 1, 1, 0");

  LayerSpec other;  // a second input: 3 x 2 x 5 (height 2)
  other.name = "other";
  other.op = LayerOp::Input;
  other.input_shape = {3, 2, 5};
  LayerSpec cat;
  cat.op = LayerOp::Concat;
  cat.concat_axis = 1;
  specs = input_and(cat, Shape{3, 4, 5});
  specs[1].name = "cat";
  specs[1].inputs = {"input", "other"};
  specs = {specs[0], other, specs[1]};  // (not insert: GCC 12 -O3 warns of array bounds inside it)
  const Network joined = Network::build("n", specs);
  EXPECT_EQ(joined.layer(*joined.find("cat")).output, (Shape{3, 6, 5}));
  EXPECT_EQ(joined.layer(*joined.find("cat")).macs, 0);
  specs[2].concat_axis = 0;  // channels: the heights differ
  EXPECT_EQ(build_error(specs),
            "cat: concat needs inputs of one height and width, got input (3x4x5) and other (3x2x5)");
  specs[2].concat_axis = 2;
  EXPECT_EQ(build_error(specs),
            "cat: concat needs inputs of one channels and height, got input (3x4x5) and other (3x2x5)");
  specs[2].concat_axis = 3;
  EXPECT_EQ(build_error(specs), "cat.axis: expected 0 (channels), 1 (height) or 2 (width), got 3");
}

}  // namespace
}  // namespace bitsim::sim
