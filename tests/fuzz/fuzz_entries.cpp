// The loaders the fuzzing harness drives; see fuzz_entries.h.
#include "tests/fuzz/fuzz_entries.h"

#include <fmt/format.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

#include "alloc/curves.h"
#include "alloc/dataset.h"
#include "alloc/study/study_spec.h"
#include "sim/base/diagnostics.h"
#include "sim/bit_plan.h"
#include "sim/hw_config.h"
#include "sim/network.h"
#include "sim/workload.h"

namespace bitsim::fuzz {

namespace {

std::string_view extension(Loader loader, std::string_view bytes) {
  switch (loader) {
    case Loader::Numpy:  // a zip archive (.npz) or a single array (.npy)
      return bytes.substr(0, 2) == "PK" ? ".npz" : ".npy";
    case Loader::HardwareYaml:
    case Loader::WorkloadYaml:
    case Loader::Plan:
    case Loader::Study:
      return ".yaml";
    case Loader::ScaleSimCfg:
      return ".cfg";
    case Loader::ScaleSimCsv:
    case Loader::Curves:
      return ".csv";
    case Loader::Onnx:
      return ".onnx";
    case Loader::Idx:
      return ".idx";
  }
  return "";
}

// The bytes in a file of this process's own (removed when done).
class TempFile {
 public:
  TempFile(Loader loader, std::string_view bytes) {
    const char* dir = std::getenv("TMPDIR");
    m_path = fmt::format("{}/bitsim-fuzz-{}-{}{}", dir ? dir : "/tmp", ::getpid(), kLoaderNames.name(loader),
                         extension(loader, bytes));
    std::ofstream(m_path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempFile() { std::remove(m_path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

// The network fuzzed plans are read against: small, with weights and a residual add.
const sim::Network& plan_network() {
  static const sim::Network net = [] {
    const TempFile f(Loader::WorkloadYaml, R"(name: tiny
input: {shape: [2, 6, 6]}
layers:
  - {name: a, op: conv, out_channels: 4, kernel: 3, padding: 1, relu: true}
  - {name: b, op: conv, out_channels: 4, kernel: 1}
  - {name: sum, op: add, inputs: [a, b]}
  - {name: fc, op: fc, out_features: 5}
)");
    return sim::load_workload(f.path());
  }();
  return net;
}

}  // namespace

bool run(Loader loader, std::string_view bytes) {
  const sim::Network& net = plan_network();  // before the input's own file
  const TempFile f(loader, bytes);
  try {
    switch (loader) {
      case Loader::HardwareYaml:
        sim::load_hardware_yaml(f.path());
        break;
      case Loader::ScaleSimCfg:
        sim::load_scalesim_config(f.path());
        break;
      case Loader::WorkloadYaml:
        sim::load_workload_yaml(f.path());
        break;
      case Loader::ScaleSimCsv:
        sim::load_scalesim_topology(f.path());
        break;
      case Loader::Onnx:
        sim::load_onnx_workload(f.path());
        break;
      case Loader::Plan:
        sim::load_bit_plan(f.path(), net);
        break;
      case Loader::Curves:
        alloc::load_curves(f.path());
        break;
      case Loader::Study:
        study::load_study_spec(f.path());
        break;
      case Loader::Idx: {
        std::vector<std::uint32_t> dims;
        alloc::read_idx(f.path(), dims);
        break;
      }
      case Loader::Numpy:  // as --data reads it for a model with a 1 x 28 x 28 input (the seeds')
        alloc::load_dataset(f.path(), sim::Shape{1, 28, 28});
        break;
    }
  } catch (const InputError&) {
    return false;
  }
  return true;
}

}  // namespace bitsim::fuzz
