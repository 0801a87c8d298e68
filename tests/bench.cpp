// Speed of the paths the optimizers lean on: the analytical model (called thousands of times) and
// the solvers. Run: ./build/bitsim_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// (README figures are the medians of that command).
#include <benchmark/benchmark.h>
#include <random>

#include "alloc/dataset.h"
#include "alloc/inference.h"
#include "alloc/modelled_curves.h"
#include "alloc/plan_score.h"
#include "alloc/solvers/latency_solver.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/study.h"
#include "alloc/study/study_spec.h"
#include "sim/analytical_model.h"
#include "sim/detailed_model.h"
#include "sim/workload.h"

namespace {

using namespace bitsim;
using namespace bitsim::sim;

const std::string kRoot = BITSIM_SOURCE_DIR;

void evaluate_plan(benchmark::State& state, const char* hw_name, const char* workload) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + hw_name + ".yaml");
  const Network net = load_workload(kRoot + "/workloads/" + workload + ".yaml");
  const AnalyticalModel model(net, hw);
  BitPlan plan = BitPlan::uniform(net, 4, 4);
  for (std::size_t i = 0; i < plan.weights.size(); i += 3) plan.weights[i] = TensorCoding{2, 1e5, 1000};
  SimResult result;
  for (auto _ : state) {
    model.evaluate(plan, result);
    benchmark::DoNotOptimize(result.time_s);
  }
  state.counters["layers"] = static_cast<double>(net.layers().size());
}

void BM_EvaluateResNet50Tpu(benchmark::State& s) { evaluate_plan(s, "tpu", "resnet50"); }
void BM_EvaluateMobileNetEyeriss(benchmark::State& s) { evaluate_plan(s, "eyeriss", "mobilenet_v1"); }
BENCHMARK(BM_EvaluateResNet50Tpu);
BENCHMARK(BM_EvaluateMobileNetEyeriss);

// Building the model: under row stationary (configs/eyeriss.yaml) it searches each layer's mapping.
void BM_BuildModelResNet50Eyeriss(benchmark::State& state) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  const Network net = load_workload(kRoot + "/workloads/resnet50.yaml");
  for (auto _ : state) benchmark::DoNotOptimize(AnalyticalModel(net, hw).array_cost(1).compute_cycles);
}
BENCHMARK(BM_BuildModelResNet50Eyeriss)->Unit(benchmark::kMillisecond);

// The SystemC model on the same plan (tile-level events; the modules are elaborated once).
void detailed_plan(benchmark::State& state, const char* hw_name, const char* workload) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + hw_name + ".yaml");
  const Network net = load_workload(kRoot + "/workloads/" + workload + ".yaml");
  BitPlan plan = BitPlan::uniform(net, 4, 4);
  for (std::size_t i = 0; i < plan.weights.size(); i += 3) plan.weights[i] = TensorCoding{2, 1e5, 1000};
  for (auto _ : state) benchmark::DoNotOptimize(simulate_detailed(net, hw, plan, 1, {}).result.time_s);
}
void BM_SystemcResNet50Tpu(benchmark::State& s) { detailed_plan(s, "tpu", "resnet50"); }
void BM_SystemcMobileNetEyeriss(benchmark::State& s) { detailed_plan(s, "eyeriss", "mobilenet_v1"); }
BENCHMARK(BM_SystemcResNet50Tpu)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SystemcMobileNetEyeriss)->Unit(benchmark::kMillisecond);

// The one-off cost the model saves the optimizers: loading and building the network.
void BM_LoadResNet50(benchmark::State& state) {
  const std::string path = kRoot + "/workloads/resnet50.yaml";
  for (auto _ : state) benchmark::DoNotOptimize(load_workload(path).total_macs());
}
BENCHMARK(BM_LoadResNet50)->Unit(benchmark::kMillisecond);

// A ResNet-50-sized allocation problem: 110 tensors x 64 options, non-convex (noisy) curves with
// entropy-coded-like rates, seeded. Budget: 4 bits per value.
alloc::RateDistortionCurves synthetic_curves() {
  std::mt19937_64 rng(110);
  auto u = [&] { return static_cast<double>(rng() >> 11) / 9007199254740992.0; };
  alloc::RateDistortionCurves c;
  for (int i = 0; i < 110; ++i) {
    alloc::TensorCurve t;
    t.tensor = "t" + std::to_string(i) + ":w";
    t.layer = "t" + std::to_string(i);
    t.count = 1000 + static_cast<std::int64_t>(u() * 2e6);
    for (int k = 0; k < 64; ++k) {
      alloc::CurveOption o;
      o.bits = 1 + k / 8;
      o.name = "o" + std::to_string(k);
      o.rate_bits = std::ceil(static_cast<double>(t.count) * o.bits * (0.55 + 0.45 * u()));
      o.distortion = static_cast<double>(t.count) * std::exp2(-2.0 * o.bits) * (0.5 + u());
      t.options.push_back(o);
    }
    c.tensors.push_back(std::move(t));
  }
  return c;
}

void solve(benchmark::State& state, const alloc::RateDistortionCurves& curves, const char* solver) {
  const alloc::SolverInfo& info = alloc::find_solver(solver);
  const double budget = 4.0 * static_cast<double>(curves.total_values());
  const alloc::Allocation once = alloc::allocate(curves, budget, info);
  for (auto _ : state) benchmark::DoNotOptimize(alloc::allocate(curves, budget, info).distortion);
  state.counters["proven_optimal"] = once.proven_optimal ? 1 : 0;
  state.counters["distortion"] = once.distortion;
}

void BM_Solve110x64(benchmark::State& state, const char* solver) {
  static const alloc::RateDistortionCurves curves = synthetic_curves();
  solve(state, curves, solver);
}
BENCHMARK_CAPTURE(BM_Solve110x64, equal, "equal")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Solve110x64, lagrangian, "lagrangian")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Solve110x64, exact, "exact")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Solve110x64, sqnr, "sqnr")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Solve110x64, sensitivity, "sensitivity")->Unit(benchmark::kMillisecond);

void BM_SolveResNet50Modelled(benchmark::State& state, const char* solver) {
  static const alloc::RateDistortionCurves curves =
      alloc::modelled_curves(load_workload(kRoot + "/workloads/resnet50.yaml"));
  solve(state, curves, solver);
}
BENCHMARK_CAPTURE(BM_SolveResNet50Modelled, lagrangian, "lagrangian")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SolveResNet50Modelled, exact, "exact")->Unit(benchmark::kMillisecond);

void BM_ModelledCurvesResNet50(benchmark::State& state) {
  const Network net = load_workload(kRoot + "/workloads/resnet50.yaml");
  for (auto _ : state) benchmark::DoNotOptimize(alloc::modelled_curves(net).tensors.size());
}
BENCHMARK(BM_ModelledCurvesResNet50)->Unit(benchmark::kMillisecond);

// The shipped co-design study (512 hardware points x 5 budgets x 2 solvers = 5120 rows), end to
// end (curves, solving, simulating), with 1 and 2 threads.
void BM_CodesignStudy(benchmark::State& state) {
  const study::StudySpec spec = study::load_study_spec(kRoot + "/configs/sweeps/codesign.yaml");
  study::StudyOptions options;
  options.threads = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(study::run_study(spec, options).rows.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(spec.points()));
}
BENCHMARK(BM_CodesignStudy)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Latency-aware allocation on ResNet-50 (modelled curves, TPU config): least error at >= 400 images/s.
void BM_LatencyResNet50Tpu(benchmark::State& state) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  const Network net = load_workload(kRoot + "/workloads/resnet50.yaml");
  const AnalyticalModel model(net, hw);
  const alloc::RateDistortionCurves curves = alloc::curves_for_hardware(alloc::modelled_curves(net), model);
  alloc::LatencyGoal goal;
  goal.max_time_s = 1.0 / 400;
  for (auto _ : state) benchmark::DoNotOptimize(alloc::allocate_for_latency(curves, model, 8, goal).time_s);
}
BENCHMARK(BM_LatencyResNet50Tpu)->Unit(benchmark::kMillisecond);

}  // namespace

// The inference engine on the shipped Fashion-MNIST model: 256 test images per iteration, float32.
// tools/bench-engine runs these next to ONNX Runtime and PyTorch on the same model.
void run_engine_fmnist256(benchmark::State& state, int threads, alloc::kernels::Isa isa) {
  const Network net = load_workload(kRoot + "/workloads/fmnist_cnn.onnx");
  const alloc::Dataset data = alloc::load_dataset("fashion-mnist:256");
  const alloc::InferenceEngine engine(net, threads, isa);
  for (auto _ : state) benchmark::DoNotOptimize(engine.forward(data.images, data.count).data());
  state.SetItemsProcessed(state.iterations() * data.count);
}

// 2 threads, the kernels this processor runs best.
void BM_EngineFmnist256(benchmark::State& state) { run_engine_fmnist256(state, 2, alloc::kernels::best_isa()); }
BENCHMARK(BM_EngineFmnist256)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with the kernels built for plain x86-64 (SSE2, std::fma): what the vector units give.
void BM_EngineFmnist256Generic(benchmark::State& state) {
  run_engine_fmnist256(state, 2, alloc::kernels::Isa::generic);
}
BENCHMARK(BM_EngineFmnist256Generic)->Unit(benchmark::kMillisecond)->UseRealTime();

// One thread: its CPU time per forward hardly depends on what else the machine runs (the figure
// tools/bench-engine compares with ONNX Runtime's on one thread, on a shared machine).
void BM_EngineFmnist256OneThread(benchmark::State& state) {
  run_engine_fmnist256(state, 1, alloc::kernels::best_isa());
}
BENCHMARK(BM_EngineFmnist256OneThread)->Unit(benchmark::kMillisecond);

// libsystemc's own main() references sc_main; Google Benchmark provides main().
extern "C" int sc_main(int, char**) { return 0; }

BENCHMARK_MAIN();
