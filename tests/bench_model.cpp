// Speed of the analytical model, the path the optimizers call thousands of times.
// Run: ./build/bitsim_bench  (figures quoted in the README are medians of --benchmark_repetitions).
#include <benchmark/benchmark.h>

#include "sim/analytical_model.h"
#include "sim/workload.h"

namespace {

using namespace bitsim::sim;

void evaluate_plan(benchmark::State& state, const char* hw_name, const char* workload) {
  const std::string root = BITSIM_SOURCE_DIR;
  const HardwareConfig hw = load_hardware_config(root + "/configs/" + hw_name + ".yaml");
  const Network net = load_workload(root + "/workloads/" + workload + ".yaml");
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

// The one-off cost the model saves the optimizers: loading and building the network.
void BM_LoadResNet50(benchmark::State& state) {
  const std::string path = std::string(BITSIM_SOURCE_DIR) + "/workloads/resnet50.yaml";
  for (auto _ : state) benchmark::DoNotOptimize(load_workload(path).total_macs());
}
BENCHMARK(BM_LoadResNet50)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
