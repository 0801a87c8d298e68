// Replays what the fuzzing harness (tools/fuzz) found, and the damaged inputs of issue 12, through
// the same loader entries the fuzz targets use: each must load or be refused with an InputError —
// no other exception, no sanitizer report (the ASan build runs this too), no crash.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/fuzz/fuzz_entries.h"

namespace bitsim::fuzz {
namespace {

const std::filesystem::path kRoot = BITSIM_SOURCE_DIR;

std::string bytes_of(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// tests/fuzz/regressions/<loader>/*: inputs that once crashed a loader, kept once fixed.
TEST(FuzzRegressions, EveryKeptInputLoadsOrIsRefused) {
  std::size_t replayed = 0;
  for (const auto& name : kLoaderNames.names()) {
    const std::filesystem::path dir = kRoot / "tests/fuzz/regressions" / std::string(name);
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      EXPECT_NO_THROW(run(*kLoaderNames.find(name), bytes_of(entry.path()))) << entry.path();
      ++replayed;
    }
  }
  RecordProperty("replayed", static_cast<int>(replayed));
}

// The hostile ONNX models (tools/scripts/make_hostile_models.py) are refused through the fuzz entry
// too, and the shipped files (the fuzzers' seeds) load.
TEST(FuzzRegressions, HostileModelsAreRefusedAndSeedsLoad) {
  std::size_t hostile = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot / "tests/data/onnx")) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("hostile_", 0) != 0 || file == "hostile_overflow.onnx") continue;  // that one loads
    EXPECT_FALSE(run(Loader::Onnx, bytes_of(entry.path()))) << file;
    ++hostile;
  }
  EXPECT_GE(hostile, 10u);
  EXPECT_TRUE(run(Loader::HardwareYaml, bytes_of(kRoot / "configs/tpu.yaml")));
  EXPECT_TRUE(run(Loader::WorkloadYaml, bytes_of(kRoot / "workloads/resnet50.yaml")));
  EXPECT_TRUE(run(Loader::Onnx, bytes_of(kRoot / "workloads/fmnist_cnn.onnx")));
  EXPECT_TRUE(run(Loader::ScaleSimCsv, bytes_of(kRoot / "tests/data/scalesim/mlperf_Resnet50.csv")));
  EXPECT_TRUE(run(Loader::ScaleSimCfg, bytes_of(kRoot / "tests/data/scalesim/google.cfg")));
  EXPECT_FALSE(run(Loader::Idx, "not an idx file"));
}

}  // namespace
}  // namespace bitsim::fuzz
