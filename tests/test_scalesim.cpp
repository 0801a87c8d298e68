// bitsim against SCALE-Sim v2 on SCALE-Sim's own inputs: compute cycles equal "Total Cycles" of its
// CALC-mode COMPUTE_REPORT, layer for layer. The expected numbers are derived by hand below from
// v2's formulas (shared/notes/scalesim-model.md §2): lines per dataflow, then Total Cycles = lines - 1.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <set>

#include "sim/analytical_model.h"
#include "sim/hw_config.h"
#include "sim/workload.h"
#include "tests/test_util.h"

namespace bitsim::sim {
namespace {

const std::string kData = std::string(BITSIM_SOURCE_DIR) + "/tests/data/scalesim/";

std::int64_t cycles_of(const Network& net, const HardwareConfig& hw, const std::string& layer) {
  const AnalyticalModel model(net, hw);
  const SimResult r = model.evaluate(BitPlan::uniform(net, 8, 8));
  return r.layers.at(*net.find(layer)).compute_cycles;
}

TEST(FoldFormulas, HandWorkedCasesPerDataflow) {
  // 4x4 array, GEMM M=10, K=6, N=5.
  // os: ceil(10/4)=3 row folds x ceil(5/4)=2 col folds x (K + R + C - 2 = 12) = 72 lines.
  EXPECT_EQ(fold_lines(Dataflow::OutputStationary, 4, 4, 10, 6, 5), 72);
  // ws: ceil(6/4)=2 x ceil(5/4)=2 x (2R + C + M - 2 = 20) = 80 lines.
  EXPECT_EQ(fold_lines(Dataflow::WeightStationary, 4, 4, 10, 6, 5), 80);
  // is: ceil(6/4)=2 x ceil(10/4)=3 x (2R + C + N - 2 = 15) = 90 lines.
  EXPECT_EQ(fold_lines(Dataflow::InputStationary, 4, 4, 10, 6, 5), 90);
  // A GEMM that fills exactly one fold still pays the full fill and drain.
  EXPECT_EQ(fold_lines(Dataflow::OutputStationary, 4, 4, 4, 1, 4), 7);
  // Compute cycles are lines - 1 per group; groups run one after another.
  EXPECT_EQ(gemm_compute_cycles(Dataflow::WeightStationary, 4, 4, Gemm{10, 6, 5, 1}, 1), 79);
  EXPECT_EQ(gemm_compute_cycles(Dataflow::WeightStationary, 4, 4, Gemm{10, 6, 5, 3}, 1), 3 * 79);
  // A batch of 2 doubles M.
  EXPECT_EQ(gemm_compute_cycles(Dataflow::OutputStationary, 4, 4, Gemm{10, 6, 5, 1}, 2), 5 * 2 * 12 - 1);
  EXPECT_EQ(gemm_compute_cycles(Dataflow::OutputStationary, 4, 4, Gemm{}, 1), 0);
}

TEST(ScaleSimEquality, ResNet50Conv1OnAllThreeShippedConfigs) {
  // Conv1: 224x224, 7x7, 3 channels, 64 filters, stride 2. E = ceil((224 - 7 + 2) / 2) = 110, so
  // M = 12100, K = 147, N = 64.
  const Network net = load_workload(kData + "mlperf_Resnet50.csv");
  EXPECT_EQ(net.layer(*net.find("Conv1")).output, (Shape{64, 110, 110}));
  // google.cfg, ws 256x256: 1 x 1 x (512 + 256 + 12100 - 2) = 12866 lines.
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "google.cfg"), "Conv1"), 12865);
  // scale.cfg, os 32x32: ceil(12100/32) = 379 x ceil(64/32) = 2 x (147 + 62) = 158422 lines.
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "scale.cfg"), "Conv1"), 158421);
  // eyeriss.cfg as given is ws 12x14: ceil(147/12) = 13 x ceil(64/14) = 5 x (24 + 14 + 12100 - 2).
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "eyeriss.cfg"), "Conv1"), 13 * 5 * 12136 - 1);
  // The same array as is: 13 x ceil(12100/14) = 865 x (24 + 14 + 64 - 2) = 1124500 lines.
  HardwareConfig is = load_hardware_config(kData + "eyeriss.cfg");
  is.dataflow = Dataflow::InputStationary;
  EXPECT_EQ(cycles_of(net, is, "Conv1"), 1124499);
}

TEST(ScaleSimEquality, AlexNetConv2) {
  // Conv2: 27x27, 5x5, 96 channels, 256 filters, stride 1: E = 23, M = 529, K = 2400, N = 256.
  const Network net = load_workload(kData + "alexnet.csv");
  // google ws: ceil(2400/256) = 10 x 1 x (512 + 256 + 529 - 2 = 1295) = 12950 lines.
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "google.cfg"), "Conv2"), 12949);
  // eyeriss ws 12x14: 200 x ceil(256/14) = 19 x (24 + 14 + 529 - 2 = 565) = 2147000 lines.
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "eyeriss.cfg"), "Conv2"), 2146999);
  // Conv1 has a partial window at the edge: ceil((224 - 11 + 4) / 4) = 55, not 54.
  EXPECT_EQ(net.layer(*net.find("Conv1")).output, (Shape{96, 55, 55}));
}

TEST(ScaleSimEquality, GemmInput) {
  // "Test 1, 128, 64, 256,": M = 128, N = 64, K = 256. scale.cfg os 32x32:
  // ceil(128/32) = 4 x ceil(64/32) = 2 x (256 + 62) = 2544 lines.
  const Network net = load_workload(kData + "test_mnk_input.csv");
  const Layer& l = net.layer(*net.find("Test 1"));
  EXPECT_EQ(l.gemm.m, 128);
  EXPECT_EQ(l.gemm.k, 256);
  EXPECT_EQ(l.gemm.n, 64);
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "scale.cfg"), "Test 1"), 2543);
}

TEST(ScaleSimEquality, DepthwiseSplitIsTheSumOverChannels) {
  const std::string path = testing::write_temp(
      "dp.csv",
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "Conv2DP, 112, 112, 3, 3, 32, 1, 1,\n");
  const Network net = load_workload(path);
  // v2 splits into 32 layers of C = 1, N = 1: M = 110 * 110 = 12100, K = 9. On scale.cfg (os 32x32)
  // each has ceil(12100/32) = 379 x 1 x (9 + 62) = 26909 lines, Total Cycles 26908.
  EXPECT_EQ(cycles_of(net, load_hardware_config(kData + "scale.cfg"), "Conv2DP"), 32 * 26908);
  EXPECT_EQ(net.total_macs(), 32 * 12100 * 9);
}

TEST(ScaleSimEquality, WholeResNet50TotalsOnGoogleConfig) {
  // Sum over the 54 layers of lines - 1, each computed with the ws formula from the CSV's fields.
  const Network net = load_workload(kData + "mlperf_Resnet50.csv");
  const HardwareConfig hw = load_hardware_config(kData + "google.cfg");
  std::ifstream in(kData + "mlperf_Resnet50.csv");
  std::string line;
  std::getline(in, line);
  std::int64_t expected = 0;
  int rows = 0;
  while (std::getline(in, line)) {
    std::int64_t h, w, r, s, c, n, st;
    char name[64];
    if (std::sscanf(line.c_str(), "%63[^,], %ld, %ld, %ld, %ld, %ld, %ld, %ld,", name, &h, &w, &r, &s, &c, &n, &st) !=
        8)
      continue;
    const std::int64_t e = (h - r + st + st - 1) / st, f = (w - s + st + st - 1) / st;
    const std::int64_t m = e * f, k = r * s * c;
    expected += ((k + 255) / 256) * ((n + 255) / 256) * (2 * 256 + 256 + m - 2) - 1;
    ++rows;
  }
  EXPECT_EQ(rows, 54);
  const SimResult result = AnalyticalModel(net, hw).evaluate(BitPlan::uniform(net, 8, 8));
  EXPECT_EQ(result.compute_cycles, expected);
  // CALC mode: DRAM never stalls, so time is compute alone.
  double compute_s = 0;
  for (const auto& l : result.layers) compute_s += l.compute_time_s;
  EXPECT_DOUBLE_EQ(result.time_s, compute_s);
}

std::string csv_error(const std::string& name, const std::string& text) {
  return testing::error_of(name, text, [](const std::string& path) { load_workload(path); });
}

const std::string kHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

TEST(ScaleSimCsv, MalformedRowsGetFileLineErrorsInsteadOfCrashes) {
  // v2 loses the stride of a row without a trailing comma and crashes with IndexError.
  EXPECT_EQ(csv_error("a.csv", kHeader + "Conv1, 224, 224, 7, 7, 3, 64, 2\n"),
            "F:2:32: error: expected 8 comma-separated fields (name, IFMAP Height, IFMAP Width, Filter Height, "
            "Filter Width, Channels, Num Filter, Strides) ending with a trailing comma, got 7 (SCALE-Sim drops the "
            "field after the last comma)");
  // v2 crashes on int('') for a line of commas.
  EXPECT_EQ(csv_error("b.csv", kHeader + ",,,,,,,,,\n"),
            "F:2:1: error: layer name: expected a name, got an empty field");
  EXPECT_EQ(csv_error("c.csv", kHeader + "Conv1, 224, 22x, 7, 7, 3, 64, 2,\n"),
            "F:2:13: error: IFMAP Width: expected a positive integer, got '22x'");
  // v2 asserts.
  EXPECT_EQ(csv_error("d.csv", kHeader + "Conv1, 5, 224, 7, 7, 3, 64, 2,\n"),
            "F:2:16: error: filter 7x7 is larger than the IFMAP 5x224");
  EXPECT_EQ(csv_error("e.csv", kHeader), "F: error: no layers (expected a header line, then one row per layer)");
  EXPECT_EQ(csv_error("f.csv", "Layer, M, N, K,\nfc1, 0, 4, 4,\n"),
            "F:2:6: error: M: expected a positive integer, got '0'");
}

TEST(ScaleSimCsv, TextAfterTheLastCommaIsDroppedAndRepeatedNamesAreMadeUnique) {
  const std::string path =
      testing::write_temp("dup.csv", kHeader + "FC, 1, 64, 1, 64, 1, 10, 1, #dw\n\nFC, 1, 64, 1, 64, 1, 10, 1,\n");
  const Network net = load_workload(path);
  EXPECT_TRUE(net.find("FC"));
  EXPECT_TRUE(net.find("FC@4"));
}

// True when `message` starts with "PATH:LINE:COL: error: ".
bool located_at_a_line(const std::string& message, const std::string& path) {
  if (message.rfind(path + ":", 0) != 0) return false;
  std::size_t at = path.size() + 1;
  for (int field = 0; field < 2; ++field) {  // line, column
    const std::size_t end = message.find_first_not_of("0123456789", at);
    if (end == at || end == std::string::npos || message[end] != ':') return false;
    at = end + 1;
  }
  return message.compare(at, 8, " error: ") == 0;
}

// Every topology SCALE-Sim ships (tests/data/scalesim/topologies, copied from scale-sim-v2, see NOTICE.md)
// either loads or gets an error located at a line and column: never a crash. bitsim rejects exactly
// the 27 files that v2's own parser fails on (measured with v2, shared/reference/scalesim/README.md)
// and loads the other 90.
TEST(ScaleSimCsv, EveryShippedTopologyLoadsOrFailsCleanly) {
  const std::filesystem::path root = kData + "topologies";
  ASSERT_TRUE(std::filesystem::is_directory(root)) << root << " is missing";
  const std::set<std::string> v2_fails = {
      "CSV/LSTM.csv",
      "CSV/MLPERF.csv",
      "conv_nets/MobileNet_4k_non_dw.csv",
      "conv_nets/Resnet50.csv",
      "conv_nets/UNet_maestro.csv",
      "conv_nets/mobilnet_4k.csv",
      "conv_nets/mobilnet_reduce_run.csv",
      "mlperf/MLPERF.csv",
      "mlperf/NCF_recommendation.csv",
      "mlperf/NCF_recommendation_short.csv",
      "mlperf/Sentimental_seqCNN.csv",
      "mlperf/Sentimental_seqLSTM.csv",
      "mlperf/Transformer.csv",
      "mlperf/Transformer_short.csv",
      "mlperf/div256q/AlphaGoZero.csv",
      "mlperf/div256q/NCF_recommendation_short.csv",
      "mlperf/div256q/Resnet50.csv",
      "mlperf/div256q/Sentimental_seqCNN.csv",
      "mlperf/div256q/Sentimental_seqLSTM_short.csv",
      "mlperf/div256q/Transformer_short.csv",
      "mlperf/div64q/AlphaGoZero.csv",
      "mlperf/div64q/NCF_recommendation_short.csv",
      "mlperf/div64q/Resnet50.csv",
      "mlperf/div64q/Sentimental_seqCNN.csv",
      "mlperf/div64q/Sentimental_seqLSTM_short.csv",
      "mlperf/div64q/Transformer_short.csv",
      "rnn_eval/LSTM_template.csv",
  };
  int loaded = 0;
  std::set<std::string> rejected;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".csv") continue;
    const std::string path = entry.path().string();
    try {
      const Network net = load_workload(path);
      EXPECT_GT(net.total_macs(), 0) << path;
      ++loaded;
    } catch (const InputError& e) {
      // "PATH:LINE:COL: error: ..." for the first problem (every problem follows, one per line).
      const std::string message = e.what();
      EXPECT_TRUE(located_at_a_line(message, path)) << message;
      rejected.insert(entry.path().lexically_relative(root).generic_string());
    }
  }
  EXPECT_EQ(loaded + static_cast<int>(rejected.size()), 117);
  EXPECT_EQ(loaded, 90);
  EXPECT_EQ(rejected, v2_fails);
}

}  // namespace
}  // namespace bitsim::sim
