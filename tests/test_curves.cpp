// The curves file format, modelled curves, and the hand-off from an allocation to a simulated plan.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "alloc/curves.h"
#include "alloc/curves_cache.h"
#include "alloc/modelled_curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/solver.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::alloc {
namespace {

using testing::write_temp;

std::string curves_error(const std::string& text) {
  return testing::error_of("bad.csv", text, [](const std::string& path) { load_curves(path); });
}

TEST(CurvesFile, ReadsRowsMetadataAndOptionalColumns) {
  const RateDistortionCurves c = load_curves(write_temp("c.csv", R"(# provenance: measured on 64 images
# rate: entropy
tensor,option,rate_bits,distortion,bits,count
conv1:w,b2,100,5,2,50
conv1:w,b4,200,1,4,50
conv1:a,b8,800,0.5,8,100
conv1:w,b3,260,2,3,50
)"));
  EXPECT_EQ(c.rate, RateKind::Entropy);
  EXPECT_EQ(c.provenance, "measured on 64 images");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].layer, "conv1");
  EXPECT_EQ(c.tensors[0].kind, CurveTensorKind::Weight);
  EXPECT_EQ(c.tensors[1].kind, CurveTensorKind::Activation);
  EXPECT_EQ(c.total_values(), 150);
  // b3 costs more than b4 and is worse: off the Pareto front.
  EXPECT_EQ(pareto_front(c.tensors[0]), (std::vector<int>{0, 1}));
  EXPECT_DOUBLE_EQ(c.min_rate_bits(), 900);
  EXPECT_DOUBLE_EQ(c.max_rate_bits(), 1000);
}

TEST(CurvesFile, WriteThenReadGivesTheSameCurves) {
  const sim::Network net = sim::load_workload(std::string(BITSIM_SOURCE_DIR) + "/workloads/alexnet.yaml");
  ModelOptions options;
  options.sample = 4096;
  const RateDistortionCurves c = modelled_curves(net, options);
  std::ostringstream text;
  write_curves(text, c);
  const RateDistortionCurves back = load_curves(write_temp("rt.csv", text.str()));
  ASSERT_EQ(back.tensors.size(), c.tensors.size());
  EXPECT_EQ(back.provenance, c.provenance);
  EXPECT_EQ(back.rate, c.rate);
  for (std::size_t i = 0; i < c.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].tensor, c.tensors[i].tensor);
    EXPECT_EQ(back.tensors[i].count, c.tensors[i].count);
    ASSERT_EQ(back.tensors[i].options.size(), c.tensors[i].options.size());
    for (std::size_t k = 0; k < c.tensors[i].options.size(); ++k) {
      EXPECT_EQ(back.tensors[i].options[k].rate_bits, c.tensors[i].options[k].rate_bits);
      EXPECT_EQ(back.tensors[i].options[k].distortion, c.tensors[i].options[k].distortion);
      EXPECT_EQ(back.tensors[i].options[k].beta, c.tensors[i].options[k].beta);
    }
  }
}

TEST(CurvesFile, EveryMistakeIsReportedWithItsPlace) {
  EXPECT_EQ(curves_error("tensor,option,rate,distortion\n"),
            "F:1:15: error: unknown column 'rate' (did you mean 'rate_bits'?); expected: tensor, option, rate_bits, "
            "distortion, kind, layer, bits, levels, beta, count, fixed_bits, entropy_bits, coded_bits\n"
            "F:1:1: error: missing column 'rate_bits' (required: tensor, option, rate_bits, distortion)");
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion\na:w,x,-1,2\na:w,y,1,nan\na:w,z,1,1\na:w,z,2,0\n"),
            "F:2:7: error: rate_bits: expected a number from 0 to 9007199254740992, got '-1'\n"
            "F:3:9: error: distortion: expected a finite number >= 0, got 'nan'\n"
            "F:5:5: error: tensor a:w has option 'z' twice");
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion,count,kind\na:w,x,1,1,10,weight\na:w,y,2,0,12,weights\n"
                         "a:w,z,3,0,12,weight\n"),
            "F:3:14: error: kind: expected weight or activation, got 'weights'\n"
            "F:4:11: error: count: tensor a:w was given 10 values earlier, got 12");
  EXPECT_EQ(curves_error(""), "F: error: empty file: expected a header line (tensor,option,rate_bits,distortion,...)");
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion\na:w,x,1\n"),
            "F:2:8: error: expected 4 fields (one per header column), got 3");
  // A field too many is an error at that field (it used to be ignored).
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion\na:w,x,1,2,3\n"),
            "F:2:11: error: expected 4 fields (one per header column), got 5");
  // Levels the plan rule refuses (allocate would write a plan that does not load): even weight
  // levels, one activation level, more levels than the bits hold.
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion,bits,levels\na:w,x,1,1,2,4\nb:a,y,1,1,1,1\n"
                         "c:w,z,1,1,1,5\n"),
            "F:2:13: error: levels: expected an odd number >= 3 for a weight tensor (seed 004 eq. 1: t = 2k + 1 "
            "levels), got '4'\n"
            "F:3:13: error: levels: expected a number >= 2 for an activation tensor (one level stores nothing), got "
            "'1'\n"
            "F:4:13: error: levels: 5 levels need 3 bits (symbols 0 to t-1 take ceil(log2 t) bits), but bits is 1");
  // Sizes past 2^53 bits (1e300 overflowed the solvers' whole-bit sums).
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion,coded_bits\na:w,x,1e300,1,\na:w,y,1,1,1e17\n"),
            "F:2:7: error: rate_bits: expected a number from 0 to 9007199254740992, got '1e300'\n"
            "F:3:11: error: coded_bits: expected a number from 0 to 9007199254740992, got '1e17'");
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion\na:w,\"x,1,2\n"),
            "F:2:5: error: unterminated quoted field (a quoted field cannot span lines)");
  EXPECT_EQ(curves_error("tensor,option,rate_bits,distortion\na:w,x\"y,1,2\n"),
            "F:2:6: error: a quote inside an unquoted field");
}

TEST(CurvesFile, NamesWithCommasAndQuotesRoundTrip) {
  RateDistortionCurves c;
  TensorCurve t;
  t.tensor = "block \"a\", conv:w";
  t.layer = "block \"a\", conv";
  CurveOption o;
  o.name = "t=15,beta=0.25";
  o.rate_bits = 10;
  o.distortion = 0.5;
  t.options.push_back(o);
  c.tensors.push_back(t);
  std::ostringstream text;
  write_curves(text, c);
  EXPECT_NE(text.str().find("\"block \"\"a\"\", conv:w\",\"t=15,beta=0.25\",10,0.5,"), std::string::npos) << text.str();
  const RateDistortionCurves back = load_curves(testing::write_temp("quoted.csv", text.str()));
  ASSERT_EQ(back.tensors.size(), 1u);
  EXPECT_EQ(back.tensors[0].tensor, t.tensor);
  EXPECT_EQ(back.tensors[0].layer, t.layer);
  ASSERT_EQ(back.tensors[0].options.size(), 1u);
  EXPECT_EQ(back.tensors[0].options[0].name, o.name);
}

TEST(ModelledCurves, DeterministicLabelledAndComplete) {
  const sim::Network net = sim::load_workload(std::string(BITSIM_SOURCE_DIR) + "/workloads/resnet50.yaml");
  ModelOptions options;
  options.sample = 4096;
  const RateDistortionCurves a = modelled_curves(net, options);
  const RateDistortionCurves b = modelled_curves(net, options);
  std::ostringstream ta, tb;
  write_curves(ta, a);
  write_curves(tb, b);
  EXPECT_EQ(ta.str(), tb.str());
  EXPECT_EQ(a.provenance.rfind("modelled", 0), 0u);
  // 54 weight tensors (53 convs + fc) and 72 activation tensors (every layer but the input).
  EXPECT_EQ(a.tensors.size(), 54u + 72u);
  EXPECT_EQ(a.total_values(), net.total_weights() + net.total_activations());
  for (const TensorCurve& t : a.tensors)
    for (const CurveOption& o : t.options) {
      EXPECT_GE(o.coded_bits, o.entropy_bits) << t.tensor << " " << o.name;  // a prefix code never beats H
      EXPECT_LE(o.entropy_bits, o.fixed_bits + 1) << t.tensor << " " << o.name;
      EXPECT_EQ(o.rate_bits, o.coded_bits);
    }
}

// Propagated error: a tensor's distortion is its quantizer's noise relative to its power, times
// its gain to the output, whatever its size. input -> a -> b -> c -> sum(a, c) -> fc (ReLU on
// a, b, c): fc's output has gain 1, sum feeds fc (1), c is one of sum's two inputs (1/2), b feeds c
// (1/2), and a reaches the output through b (1/2) and through the add directly (1/2): 1.
TEST(ModelledCurves, PropagatedErrorCountsEachTensorByItsQuantizerAndGain) {
  const sim::Network net = sim::load_workload(write_temp("res.yaml", R"(name: res
input: {shape: [2, 6, 6]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 3, padding: 1, relu: true}
  - {name: b, op: conv, out_channels: 8, kernel: 1, relu: true}
  - {name: c, op: conv, out_channels: 4, kernel: 3, padding: 1, relu: true}
  - {name: sum, op: add, inputs: [a, c]}
  - {name: fc, op: fc, out_features: 5}
)"));
  ModelOptions options;
  options.sample = 4096;
  const RateDistortionCurves c = modelled_curves(net, options);
  auto first = [&](const std::string& tensor) {
    for (const TensorCurve& t : c.tensors)
      if (t.tensor == tensor) return t.options.front().distortion;
    ADD_FAILURE() << tensor;
    return 0.0;
  };
  // Weights: the same quantizer option, gains 1 (a), 1/2 (b, c), 1 (fc); sizes 72, 32, 288, 725.
  EXPECT_DOUBLE_EQ(first("b:w"), first("c:w"));
  EXPECT_DOUBLE_EQ(first("a:w"), 2 * first("b:w"));
  EXPECT_DOUBLE_EQ(first("fc:w"), first("a:w"));
  // ReLU activations (second moment 1/2) with the same quantizer: a (gain 1) twice b (1/2).
  EXPECT_DOUBLE_EQ(first("a:a"), 2 * first("b:a"));
  EXPECT_DOUBLE_EQ(first("b:a"), first("c:a"));
  // The earlier model stays selectable: n_i x MSE_i / N, so b's 8 x 36 activations count twice a's 4 x 36.
  options.error = ErrorModel::ValueShare;
  const RateDistortionCurves v = modelled_curves(net, options);
  auto first_v = [&](const std::string& tensor) {
    for (const TensorCurve& t : v.tensors)
      if (t.tensor == tensor) return t.options.front().distortion;
    return 0.0;
  };
  EXPECT_DOUBLE_EQ(first_v("b:a"), 2 * first_v("a:a"));
  EXPECT_NE(v.provenance, c.provenance);
}

TEST(PlanFromAllocation, CarriesBitsAndCodedSizesToTheSimulator) {
  const sim::Network net = sim::load_workload(std::string(BITSIM_SOURCE_DIR) + "/workloads/alexnet.yaml");
  const sim::HardwareConfig hw = sim::load_hardware_config(std::string(BITSIM_SOURCE_DIR) + "/configs/tpu.yaml");
  ModelOptions options;
  options.sample = 4096;
  const RateDistortionCurves c = modelled_curves(net, options);
  const Allocation a = allocate(c, 3.0 * static_cast<double>(c.total_values()), find_solver("exact"));
  const sim::BitPlan plan = to_bit_plan(net, c, a, 8, "exact");
  const std::size_t conv1 = *net.find("conv1");
  const CurveOption& chosen = c.tensors[0].options[static_cast<std::size_t>(a.choice[0])];
  EXPECT_EQ(plan.weights[conv1].bits, chosen.bits);
  EXPECT_DOUBLE_EQ(plan.weights[conv1].coded_bits, chosen.coded_bits);
  EXPECT_EQ(plan.weights[conv1].symbols, net.layer(conv1).weights);
  EXPECT_EQ(plan.activations[0].bits, 8);  // the input: the default
  EXPECT_FALSE(plan.activations[0].entropy_coded());
  // The plan file carries the same plan: simulated the same after a round trip.
  std::ostringstream text;
  sim::write_bit_plan(text, net, plan);
  const sim::BitPlan back = sim::load_bit_plan(write_temp("p.yaml", text.str()), net);
  const sim::AnalyticalModel model(net, hw);
  EXPECT_EQ(model.evaluate(back).time_s, model.evaluate(plan).time_s);
  const PlanScore score = score_plan(c, a, &model, &plan);
  ASSERT_TRUE(score.simulated);
  EXPECT_EQ(score.simulated->time_s, model.evaluate(plan).time_s);
  EXPECT_DOUBLE_EQ(score.coded_bits, a.rate_bits);
}

TEST(PlanFromAllocation, CurvesThatDoNotFitTheWorkloadAreRejected) {
  const sim::Network net = sim::load_workload(std::string(BITSIM_SOURCE_DIR) + "/workloads/alexnet.yaml");
  const RateDistortionCurves c = load_curves(write_temp("w.csv",
                                                        "tensor,option,rate_bits,distortion,count\n"
                                                        "conv9:w,b2,10,1,5\nconv1:w,b2,10,1,5\npool1:w,b2,1,1,\n"
                                                        "conv2:w,b2,10,1,\nconv2:wx,b4,20,1,\n"));
  const Allocation a = make_allocation(c, {0, 0, 0, 0, 0});
  try {
    to_bit_plan(net, c, a, 8, "");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(testing::scrub(e.what(), c.source),
              "F:2:1: error: curves tensor conv9:w: workload 'alexnet' has no layer 'conv9' (did you mean 'conv1'?)\n"
              "F:3:1: error: curves tensor conv1:w: count 5 does not match the workload's 23296 values\n"
              "F:4:1: error: curves tensor pool1:w: layer 'pool1' has no weights\n"
              // One row renamed (options of a tensor split across two names) made the latency solver crash.
              "F:6:1: error: curves tensor conv2:wx: layer 'conv2' already has a weight curve, conv2:w (line 5); each "
              "tensor's options must share one name");
  }
}

}  // namespace
}  // namespace bitsim::alloc

namespace bitsim::alloc {
namespace {

TEST(CurvesCache, StoresAndReusesByModelDataAndRate) {
  const std::string model = std::string(BITSIM_SOURCE_DIR) + "/tests/data/onnx/padconv.onnx";
  const std::string key = curves_cache_key(model, {}, "fashion-mnist-train:64", RateKind::Coded);
  EXPECT_EQ(key, curves_cache_key(model, {}, "fashion-mnist-train:64", RateKind::Coded));
  EXPECT_NE(key, curves_cache_key(model, {}, "fashion-mnist-train:65", RateKind::Coded));
  EXPECT_NE(key, curves_cache_key(model, {}, "fashion-mnist-train:64", RateKind::Entropy));
  // The same file imported otherwise is another network: an input shape, softmax outputs left out.
  sim::WorkloadOptions shaped, logits;
  shaped.input_shape = sim::Shape{1, 28, 28};
  logits.logits = true;
  EXPECT_NE(key, curves_cache_key(model, shaped, "fashion-mnist-train:64", RateKind::Coded));
  EXPECT_NE(key, curves_cache_key(model, logits, "fashion-mnist-train:64", RateKind::Coded));
  const std::string dir = testing::temp_path("cache");
  EXPECT_FALSE(load_cached_curves(dir, key).curves);
  EXPECT_EQ(load_cached_curves(dir, key).problem, "");  // absent is no problem
  const RateDistortionCurves curves = load_curves(testing::write_temp("c.csv", R"(# provenance: measured on 4 images
# rate: coded
tensor,option,rate_bits,distortion,bits,count
conv:w,t3,100,0.5,2,108
conv:w,t7,200,0.125,3,108
)"));
  EXPECT_EQ(store_cached_curves(dir, key, curves), "");
  const auto back = load_cached_curves(dir, key);
  ASSERT_TRUE(back.curves);
  EXPECT_EQ(back.problem, "");
  EXPECT_EQ(back.curves->provenance, "measured on 4 images");
  ASSERT_EQ(back.curves->tensors.size(), 1u);
  EXPECT_EQ(back.curves->tensors[0].options[1].distortion, 0.125);
  // Only the entry is left in the folder: no temporary.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void overwrite(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A truncated or corrupted entry, or one without a checksum, is reported and not used; storing the
// curves again repairs it.
TEST(CurvesCache, DamagedEntriesAreDetectedNotReused) {
  const std::string dir = testing::temp_path("cache");
  const RateDistortionCurves curves = load_curves(testing::write_temp("c.csv", R"(# rate: fixed
tensor,option,rate_bits,distortion
a:w,t3,100,0.5
a:w,t7,200,0.125
b:w,t3,50,0.25
)"));
  ASSERT_EQ(store_cached_curves(dir, "k", curves), "");
  const std::string path = cached_curves_path(dir, "k");
  const std::string good = read_all(path);
  ASSERT_EQ(good.rfind("# bitsim-cache fnv1a64=", 0), 0u) << good;

  // Cut before the last tensor's row: still a valid CSV (one tensor fewer); only the checksum tells.
  overwrite(path, good.substr(0, good.rfind("b:w")));
  CachedCurves c = load_cached_curves(dir, "k");
  EXPECT_FALSE(c.curves);
  EXPECT_NE(c.problem.find("damaged cache entry"), std::string::npos) << c.problem;

  std::string flipped = good;
  flipped[flipped.find("0.125")] = '9';  // same size, one digit changed
  overwrite(path, flipped);
  c = load_cached_curves(dir, "k");
  EXPECT_FALSE(c.curves);
  EXPECT_NE(c.problem.find("checksum"), std::string::npos) << c.problem;

  overwrite(path, good.substr(good.find('\n') + 1));  // no header: an entry of the old format
  c = load_cached_curves(dir, "k");
  EXPECT_FALSE(c.curves);
  EXPECT_NE(c.problem.find("no checksum header"), std::string::npos) << c.problem;

  overwrite(path, "");
  EXPECT_FALSE(load_cached_curves(dir, "k").curves);

  ASSERT_EQ(store_cached_curves(dir, "k", curves), "");  // the curves measured again replace it
  c = load_cached_curves(dir, "k");
  ASSERT_TRUE(c.curves);
  EXPECT_EQ(c.curves->tensors.size(), 2u);
  EXPECT_EQ(read_all(path), good);
}

// A cache entry that cannot be written is reported, not thrown, and leaves no temporary.
TEST(CurvesCache, FailedStoreIsReportedAndLeavesNothing) {
  const std::string dir = testing::temp_path("cache");
  const RateDistortionCurves curves =
      load_curves(testing::write_temp("c.csv", "tensor,option,rate_bits,distortion\na:w,t3,1,0.5\n"));
  std::filesystem::create_directories(cached_curves_path(dir, "k"));  // a folder where the entry goes
  const std::string problem = store_cached_curves(dir, "k", curves);
  EXPECT_NE(problem.find("nothing was written"), std::string::npos) << problem;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  EXPECT_TRUE(std::filesystem::is_directory(cached_curves_path(dir, "k")));
}

}  // namespace
}  // namespace bitsim::alloc
