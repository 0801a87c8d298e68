// Loading networks from files. Formats are an open set: one table of loaders, chosen by name or by
// the file's extension and header, listed by `bitsim list formats`.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sim/network.h"

namespace bitsim::sim {

// Settings some formats need: the input shape of an ONNX model with symbolic dimensions; `logits`:
// an ONNX Softmax that produces a graph output is left out (sim/onnx.h, OnnxOptions::logits).
struct WorkloadOptions {
  std::optional<Shape> input_shape;
  bool logits = false;
};

struct WorkloadFormat {
  std::string_view name;
  std::string_view description;
  Network (*load)(const std::string& path, const WorkloadOptions& options);
};

std::span<const WorkloadFormat> workload_formats();

// format "auto": .yaml/.yml -> yaml; .onnx -> onnx; .csv -> scalesim-gemm when the header's second column is "M",
// else scalesim. Throws InputError for unreadable or malformed files and unknown format names.
Network load_workload(const std::string& path, std::string_view format = "auto", const WorkloadOptions& options = {});

// bitsim's own YAML network description (README "Workload format").
Network load_workload_yaml(const std::string& path, const WorkloadOptions& options = {});
// SCALE-Sim v2 convolution topology CSV, with v2's semantics: no padding, ceil output size,
// a name containing "DP" split into one layer per input channel.
Network load_scalesim_topology(const std::string& path, const WorkloadOptions& options = {});
// SCALE-Sim v2 GEMM topology CSV (`-i gemm`): rows `name, M, N, K,`.
Network load_scalesim_gemm(const std::string& path, const WorkloadOptions& options = {});
// ONNX model with its trained values (sim/onnx.h); the input shape must be concrete.
Network load_onnx_workload(const std::string& path, const WorkloadOptions& options = {});

}  // namespace bitsim::sim
