// The table of workload formats and format detection.
#include "sim/workload.h"

#include <fmt/format.h>
#include <array>
#include <fstream>

namespace bitsim::sim {

namespace {
constexpr std::array kFormats = {
    WorkloadFormat{"yaml", "bitsim network YAML (layer graph; shapes inferred)", load_workload_yaml},
    WorkloadFormat{"scalesim", "SCALE-Sim v2 convolution topology CSV", load_scalesim_topology},
    WorkloadFormat{"scalesim-gemm", "SCALE-Sim v2 GEMM topology CSV (name, M, N, K)", load_scalesim_gemm},
    WorkloadFormat{"onnx", "ONNX model with trained values (see README: supported operators)", load_onnx_workload},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view detect(const std::string& path) {
  if (ends_with(path, ".yaml") || ends_with(path, ".yml")) return "yaml";
  if (ends_with(path, ".onnx")) return "onnx";
  if (ends_with(path, ".csv")) {
    std::ifstream in(path);
    if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
    std::string header;
    std::getline(in, header);
    const auto first = header.find(',');
    if (first != std::string::npos) {
      const auto second = header.find(',', first + 1);
      std::string_view col(header.data() + first + 1,
                           (second == std::string::npos ? header.size() : second) - first - 1);
      while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
      while (!col.empty() && col.back() == ' ') col.remove_suffix(1);
      if (col == "M") return "scalesim-gemm";
    }
    return "scalesim";
  }
  throw InputError({path, 0, 0},
                   "cannot tell the workload format from the file name: expected .yaml, .yml, .onnx or .csv "
                   "(or give the format explicitly)");
}
}  // namespace

std::span<const WorkloadFormat> workload_formats() { return kFormats; }

Network load_workload(const std::string& path, std::string_view format, const WorkloadOptions& options) {
  const std::string_view name = format == "auto" ? detect(path) : format;
  std::vector<std::string> names;
  for (const auto& f : kFormats) {
    if (f.name == name) return f.load(path, options);
    names.emplace_back(f.name);
  }
  throw InputError(
      {}, fmt::format("unknown workload format '{}'; expected auto or one of: {}", format, fmt::join(names, ", ")));
}

}  // namespace bitsim::sim
