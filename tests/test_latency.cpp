// The latency-aware solver against brute force: every plan of a small residual network, timed by
// the analytical model itself, for both objectives, with and without a size budget.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <algorithm>
#include <random>

#include "alloc/modelled_curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/latency_solver.h"
#include "sim/workload.h"
#include "test_util.h"

namespace bitsim::alloc {
namespace {

using testing::write_temp;

// input -> a -> b -> c -> sum(a, c) -> fc: 'a' is read by b and by the add (two live tensors).
sim::Network residual_net() {
  return sim::load_workload(write_temp("res.yaml", R"(name: res
input: {shape: [2, 6, 6]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 3, padding: 1}
  - {name: b, op: conv, out_channels: 4, kernel: 1}
  - {name: c, op: conv, out_channels: 4, kernel: 3, padding: 1}
  - {name: sum, op: add, inputs: [a, c]}
  - {name: fc, op: fc, out_features: 5}
)"));
}

sim::HardwareConfig tiny_hw(const std::string& datapath, const std::string& policy = "stream") {
  return sim::load_hardware_config(write_temp("hw.yaml", R"(name: tiny
array: {rows: 4, cols: 4, dataflow: ws}
clock: "200 MHz"
sram: {weights: "1 KiB", activations: "1 KiB"}
dram: {bandwidth: "1 GB/s", latency: "10 ns", policy: )" + policy +
                                                             R"(}
decoder: {lanes: 1}
datapath: {native_bits: 8)" + datapath + R"(}
)"));
}

// Three options per tensor, random sizes and errors (not convex, not monotone in bits); coded sizes
// are (0.4 + spread x U(0, 1)) x the fixed-length size.
RateDistortionCurves random_curves(const sim::Network& net, std::mt19937& rng, RateKind rate, double spread = 0.6) {
  RateDistortionCurves c;
  c.rate = rate;
  std::uniform_real_distribution<double> u(0, 1);
  auto add = [&](const std::string& layer, bool weights, std::int64_t count) {
    TensorCurve t;
    t.layer = layer;
    t.tensor = layer + (weights ? ":w" : ":a");
    t.kind = weights ? CurveTensorKind::Weight : CurveTensorKind::Activation;
    t.count = count;
    for (const int b : {2, 4, 8}) {
      CurveOption o;
      o.name = "b" + std::to_string(b);
      o.bits = b;
      o.rate_bits = std::ceil(b * static_cast<double>(count) * (rate == RateKind::Fixed ? 1.0 : 0.4 + spread * u(rng)));
      o.distortion = std::ldexp(1.0, -2 * b) * (0.2 + u(rng));
      t.options.push_back(o);
    }
    c.tensors.push_back(t);
  };
  for (const sim::Layer& l : net.layers()) {
    if (l.weights > 0) add(l.name, true, l.weights);
    add(l.name, false, l.output.count());
  }
  return c;
}

// One test instance: the network, a config, the model over both, and random curves.
struct Instance {
  sim::Network net;
  sim::HardwareConfig hw;
  sim::AnalyticalModel model;
  RateDistortionCurves curves;
  Instance(const std::string& datapath, const std::string& policy, RateKind rate, unsigned seed)
      : net(residual_net()), hw(tiny_hw(datapath, policy)), model(net, hw) {
    std::mt19937 rng(seed);
    curves = pin_unquantized(random_curves(net, rng, rate), model);
  }
};

struct Plan {
  std::vector<int> choice;
  double time = 0, error = 0, rate = 0;
};

std::vector<Plan> all_plans(const RateDistortionCurves& c, const sim::AnalyticalModel& model) {
  std::vector<Plan> plans;
  std::vector<int> choice(c.tensors.size(), 0);
  while (true) {
    const Allocation a = make_allocation(c, choice);
    const sim::BitPlan plan = to_bit_plan(model.network(), c, a, 8, "");
    plans.push_back({choice, model.evaluate(plan).time_s, a.distortion, a.rate_bits});
    std::size_t k = 0;
    while (k < choice.size() && ++choice[k] == static_cast<int>(c.tensors[k].options.size())) choice[k++] = 0;
    if (k == choice.size()) break;
  }
  return plans;
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// Both objectives, with and without a size budget, at targets spread over the plans' own range.
void check_exact(const sim::Network& net, const sim::AnalyticalModel& model, const RateDistortionCurves& c) {
  const std::vector<Plan> plans = all_plans(c, model);
  std::vector<double> times, errors, rates;
  for (const Plan& p : plans) {
    times.push_back(p.time);
    errors.push_back(p.error);
    rates.push_back(p.rate);
  }
  for (double q : {0.02, 0.3, 0.7}) {
    for (bool budgeted : {false, true}) {
      const double budget = budgeted ? quantile(rates, 0.4) : std::numeric_limits<double>::infinity();
      // Min error s.t. time.
      LatencyGoal g;
      g.objective = LatencyObjective::MinError;
      g.max_time_s = quantile(times, q);
      g.budget_bits = budget;
      double best = std::numeric_limits<double>::infinity();
      for (const Plan& p : plans)
        if (p.time <= g.max_time_s && p.rate <= budget) best = std::min(best, p.error);
      if (std::isfinite(best)) {
        const LatencyAllocation r = allocate_for_latency(c, model, 8, g);
        EXPECT_TRUE(r.allocation.proven_optimal);
        EXPECT_NEAR(r.allocation.distortion, best, 1e-12 * best) << "q " << q << " budget " << budget;
        const double timed = model.evaluate(to_bit_plan(net, c, r.allocation, 8, "")).time_s;
        EXPECT_DOUBLE_EQ(r.time_s, timed);
        EXPECT_LE(timed, g.max_time_s);
        EXPECT_LE(r.allocation.rate_bits, budget);
      }
      // Min time s.t. error.
      LatencyGoal e;
      e.objective = LatencyObjective::MinTime;
      e.max_error = quantile(errors, q);
      e.budget_bits = budget;
      double fastest = std::numeric_limits<double>::infinity();
      for (const Plan& p : plans)
        if (p.error <= e.max_error && p.rate <= budget) fastest = std::min(fastest, p.time);
      if (std::isfinite(fastest)) {
        const LatencyAllocation r = allocate_for_latency(c, model, 8, e);
        EXPECT_TRUE(r.allocation.proven_optimal);
        EXPECT_NEAR(r.time_s, fastest, 1e-12 * fastest) << "q " << q << " budget " << budget;
        EXPECT_LE(r.allocation.distortion, e.max_error * (1 + 1e-12));
        EXPECT_LE(r.allocation.rate_bits, budget);
      }
    }
  }
}

void check_against_brute_force(const std::string& datapath, RateKind rate, unsigned seed) {
  const Instance in(datapath, "stream", rate, seed);
  check_exact(in.net, in.model, in.curves);
}

TEST(LatencySolver, ExactAgainstBruteForceFixedRates) {
  for (unsigned seed : {1u, 2u}) check_against_brute_force("", RateKind::Fixed, seed);
}

TEST(LatencySolver, ExactAgainstBruteForceCodedRates) {
  for (unsigned seed : {3u, 4u}) check_against_brute_force("", RateKind::Coded, seed);
}

TEST(LatencySolver, ExactAgainstBruteForcePackedPrecision) {
  // Compute time then depends on the widest of a layer's weight and input bits.
  check_against_brute_force(", precision_scaling: packed", RateKind::Fixed, 5);
}

// Under fusion the add runs in c's output path (c's output is no tensor: one "on_chip" option) and
// c's timing writes the sum; the shortcut 'a' is fetched once by b and read on chip by the add.
TEST(LatencySolver, ExactAgainstBruteForceFusedDatapath) {
  check_against_brute_force(", fusion: elementwise_pool, shortcut: on_chip_if_fits", RateKind::Fixed, 6);
  check_against_brute_force(", fusion: elementwise, shortcut: dram", RateKind::Coded, 7);
  // Packed precision: a conv that reads its input from the on-chip copy (p reads a after b fetched
  // it) still has its cycles set by that input's bits; p's output waits on chip for the add.
  const sim::Network proj = sim::load_workload(write_temp("proj.yaml", R"(name: proj
input: {shape: [2, 6, 6]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 3, padding: 1}
  - {name: b, op: conv, out_channels: 4, kernel: 1}
  - {name: p, op: conv, out_channels: 4, kernel: 1, inputs: [a]}
  - {name: sum, op: add, inputs: [b, p]}
  - {name: fc, op: fc, out_features: 5}
)"));
  const sim::HardwareConfig packed =
      tiny_hw(", precision_scaling: packed, fusion: elementwise_pool, shortcut: on_chip_if_fits");
  const sim::AnalyticalModel proj_model(proj, packed);
  ASSERT_FALSE(proj_model.traffic().layer(*proj.find("p")).chip_reads.empty());
  std::mt19937 rng(9);
  check_exact(proj, proj_model, pin_unquantized(random_curves(proj, rng, RateKind::Fixed), proj_model));
  const Instance in(", fusion: elementwise_pool", "stream", RateKind::Fixed, 8);
  EXPECT_EQ(on_chip_tensors(in.curves), 1u);
}

// Storage format per tensor: with a one-lane decoder (5 ns per symbol against 1 ns per byte of
// DRAM) a coded tensor is smaller but slower to read, so the choice matters both ways. input -> a
// -> fc: five tensors, each fixed length at 2, 4 and 8 bits and coded where that is smaller.
TEST(LatencySolver, StorageFormatChoiceAgainstBruteForce) {
  const sim::Network net = sim::load_workload(write_temp("chain.yaml", R"(name: chain
input: {shape: [2, 6, 6]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 3, padding: 1}
  - {name: fc, op: fc, out_features: 5}
)"));
  const sim::HardwareConfig hw = tiny_hw("");
  const sim::AnalyticalModel model(net, hw);
  for (const unsigned seed : {11u, 12u}) {
    std::mt19937 rng(seed);
    const RateDistortionCurves raw = random_curves(net, rng, RateKind::Coded, 0.9);
    const RateDistortionCurves c = curves_for_hardware(raw, model);
    std::size_t coded = 0;
    for (const TensorCurve& t : c.tensors) {
      for (const CurveOption& o : t.options) {
        if (o.format != StorageFormat::Coded) continue;
        ++coded;
        EXPECT_LT(o.rate_bits, o.fixed_bits >= 0 ? o.fixed_bits : o.bits * static_cast<double>(t.count));
      }
    }
    // Fixed length always; coded where smaller (spread 0.9: about a third of the options are not).
    EXPECT_GT(coded, 0u);
    EXPECT_LT(coded, 15u);
    check_exact(net, model, c);
  }
  // Without a decoder there is nothing coded to choose.
  sim::HardwareConfig none = hw;
  none.decoder_lanes = 0;
  const sim::AnalyticalModel no_decoder(net, none);
  std::mt19937 rng(11);
  const RateDistortionCurves c = curves_for_hardware(random_curves(net, rng, RateKind::Coded, 0.9), no_decoder);
  for (const TensorCurve& t : c.tensors) {
    EXPECT_EQ(t.options.size(), 3u) << t.tensor;
    for (const CurveOption& o : t.options) EXPECT_EQ(o.format, StorageFormat::Fixed);
  }
  check_exact(net, no_decoder, c);
}

TEST(LatencySolver, UnreachableTargetNamesTheBestPossible) {
  const Instance in("", "stream", RateKind::Fixed, 7);
  const sim::AnalyticalModel& model = in.model;
  const RateDistortionCurves& c = in.curves;
  LatencyGoal g;
  g.max_time_s = 1e-9;
  try {
    allocate_for_latency(c, model, 8, g);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no plan meets the target: the best any plan reaches is"), std::string::npos)
        << e.what();
  }
}

// VGG-16's smallest plan takes ~2.1e8 bits: the feasibility pass weighs size by a large multiplier
// that must not overflow (1e300 x 2e8 did, and reported 3.1e8 bits as the smallest). A budget of
// exactly the smallest size is feasible; one bit less is not, and the message names that size.
// Seven branches read by one concat: their options' combinations exceed the DP's limits (set low
// here, so that the test is quick), so the live tensors' options are thinned until they fit. The
// plan meets the target, is not claimed optimal, and is a real plan.
TEST(LatencySolver, TooManyLiveTensorsAreThinnedNotRefused) {
  std::string text = "name: wide\ninput: {name: input, shape: [8, 16, 16]}\nlayers:\n";
  std::string branches;
  for (int b = 0; b < 7; ++b) {
    text += fmt::format(
        "  - {{name: b{}, op: conv, inputs: [input], out_channels: 8, kernel: 3, padding: 1, relu: true}}\n", b);
    branches += (b ? ", b" : "b") + std::to_string(b);
  }
  text += "  - {name: join, op: concat, inputs: [" + branches + "]}\n";
  text += "  - {name: head, op: conv, out_channels: 8, kernel: 1}\n";
  const sim::Network net = sim::load_workload(write_temp("wide.yaml", text));
  const sim::HardwareConfig hw = sim::load_hardware_config(std::string(BITSIM_SOURCE_DIR) + "/configs/eyeriss.yaml");
  const sim::AnalyticalModel model(net, hw);
  const RateDistortionCurves curves = curves_for_hardware(modelled_curves(net), model);
  LatencyGoal quickest;
  quickest.objective = LatencyObjective::MinTime;
  quickest.max_states = 2000;
  quickest.max_combos = 20000;
  const double fastest = allocate_for_latency(curves, model, 8, quickest).time_s;
  LatencyGoal g = quickest;
  g.objective = LatencyObjective::MinError;
  g.max_time_s = 1.5 * fastest;
  const LatencyAllocation r = allocate_for_latency(curves, model, 8, g);
  EXPECT_LE(r.time_s, g.max_time_s);
  EXPECT_FALSE(r.allocation.proven_optimal);
  const auto thinned = std::find_if(r.allocation.details.begin(), r.allocation.details.end(),
                                    [](const auto& d) { return d.first == "thinned"; });
  ASSERT_NE(thinned, r.allocation.details.end());
  // The plan is a real plan: simulated, it takes the time the DP says.
  const sim::BitPlan plan = to_bit_plan(net, curves, r.allocation, 8, "thinned");
  EXPECT_NEAR(model.evaluate(plan).time_s, r.time_s, 1e-9 * r.time_s);
}

TEST(LatencySolver, SizeFeasibilityOnALargeNetwork) {
  const sim::Network net = sim::load_workload(std::string(BITSIM_SOURCE_DIR) + "/workloads/vgg16.yaml");
  const sim::HardwareConfig hw = sim::load_hardware_config(std::string(BITSIM_SOURCE_DIR) + "/configs/tpu.yaml");
  const sim::AnalyticalModel model(net, hw);
  // Curves that still offer choices for the pooled convs' outputs, which the TPU keeps inside its
  // datapath, are refused; as the datapath sees them they are accepted.
  try {
    allocate_for_latency(modelled_curves(net), model, 8, LatencyGoal{});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(
        std::string(e.what()).find("curves tensor conv1_2:a: on hardware 'tpu' this tensor stays inside the fused "
                                   "datapath (datapath.fusion: elementwise_pool)"),
        std::string::npos)
        << e.what();
  }
  const RateDistortionCurves curves = curves_for_hardware(modelled_curves(net), model);
  double smallest = 0;
  for (const TensorCurve& t : curves.tensors) {
    double least = std::numeric_limits<double>::infinity();
    for (const CurveOption& o : t.options) least = std::min(least, o.rate_bits);
    smallest += least;
  }
  ASSERT_GT(smallest, 2e8);
  LatencyGoal g;
  g.max_time_s = 1.0;  // any plan
  g.budget_bits = smallest;
  const LatencyAllocation r = allocate_for_latency(curves, model, 8, g);
  EXPECT_LE(r.allocation.rate_bits, smallest);
  g.budget_bits = smallest - 1;
  try {
    allocate_for_latency(curves, model, 8, g);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("the smallest takes {} bits", smallest)), std::string::npos)
        << e.what();
  }
}

TEST(LatencySolver, RefineMeetsTheTargetOfANonAdditiveTimer) {
  const Instance in("", "stream", RateKind::Fixed, 8);
  const sim::AnalyticalModel& model = in.model;
  const RateDistortionCurves& c = in.curves;
  std::vector<double> times;
  for (const Plan& p : all_plans(c, model)) times.push_back(p.time);
  LatencyGoal g;
  g.max_time_s = quantile(times, 0.8);
  // A timer slower than the model, by half the gap between the target and the fastest plan: the
  // first plan misses, tightening must fix it (the fastest plan still meets the target).
  const double slowdown = 1 + 0.5 * (g.max_time_s / quantile(times, 0) - 1);
  int calls = 0;
  const PlanTimer slower = [&](const sim::BitPlan& plan) {
    ++calls;
    return slowdown * model.evaluate(plan).time_s;
  };
  const RefinedAllocation r = refine_for_latency(c, model, 8, g, slower);
  EXPECT_TRUE(r.met);
  EXPECT_FALSE(r.result.allocation.proven_optimal);  // optimal for the tightened model, not the timer
  EXPECT_LE(r.timed_s, g.max_time_s);
  EXPECT_GT(r.rounds, 1);
  EXPECT_EQ(calls, r.rounds);
  // The refined plan gives up error relative to the plan for the additive model.
  EXPECT_GE(r.result.allocation.distortion, allocate_for_latency(c, model, 8, g).allocation.distortion);
}

// A timer whose slowdown grows with the plan's time (slower plans lose more, as under SystemC's
// stalls): tightening by the ratio missed overshoots below the fastest plan after round 1. The
// loop must then try the fastest plan, which meets the target, and bisect back towards less error.
TEST(LatencySolver, RefineReachesATargetAtTheEdge) {
  const Instance in("", "stream", RateKind::Fixed, 8);
  const sim::AnalyticalModel& model = in.model;
  const RateDistortionCurves& c = in.curves;
  LatencyGoal quickest;
  quickest.objective = LatencyObjective::MinTime;
  const double fastest = allocate_for_latency(c, model, 8, quickest).time_s;
  const PlanTimer timer = [&](const sim::BitPlan& plan) {
    const double t = model.evaluate(plan).time_s;
    return t * (1 + 3 * (t - fastest) / fastest);
  };
  LatencyGoal g;
  g.max_time_s = 1.05 * fastest;
  const RefinedAllocation r = refine_for_latency(c, model, 8, g, timer);
  EXPECT_TRUE(r.met);
  EXPECT_LE(r.timed_s, g.max_time_s);
  EXPECT_GT(r.rounds, 2);
  // A target the fastest plan misses under the timer: nothing meets, the fastest tried is reported.
  const PlanTimer slower = [&](const sim::BitPlan& plan) { return 1.01 * timer(plan); };
  g.max_time_s = 1.005 * fastest;
  const RefinedAllocation none = refine_for_latency(c, model, 8, g, slower);
  EXPECT_FALSE(none.met);
  EXPECT_DOUBLE_EQ(none.timed_s, 1.01 * fastest);
  EXPECT_LE(none.rounds, 3);  // it stops once the fastest plan has missed
}

TEST(LatencySolver, ResidentWeightsAreChargedAsAnUpperBound) {
  const Instance in("", "resident", RateKind::Fixed, 9);
  const sim::Network& net = in.net;
  const sim::AnalyticalModel& model = in.model;
  const RateDistortionCurves& c = in.curves;
  LatencyGoal g;
  g.objective = LatencyObjective::MinTime;
  const LatencyAllocation r = allocate_for_latency(c, model, 8, g);
  EXPECT_FALSE(r.allocation.proven_optimal);
  EXPECT_LE(model.evaluate(to_bit_plan(net, c, r.allocation, 8, "")).time_s, r.time_s);
}

}  // namespace
}  // namespace bitsim::alloc
