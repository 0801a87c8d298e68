// The ONNX import pipeline before layers are mapped (sim/onnx_loader.cpp runs it, then maps):
//   1. shapes: the graph input's batch is 1 (and its symbolic dimensions those of --input-shape);
//      ONNX's own shape inference, with data propagation, gives every value's static shape;
//   2. constant folding: every node whose inputs are constants, and Shape/Size of a value whose
//      shape is static, becomes a constant (Shape, Size, Gather, Slice, Concat, Unsqueeze, Squeeze,
//      Cast, ConstantOfShape, Range, Reshape, Identity, Constant, Transpose, Add, Sub, Mul, Div, Neg,
//      Floor, Ceil, Sqrt, ReduceProd, Equal, Where, Min, Max, Expand on constants), so the
//      Shape -> Gather -> Concat -> Reshape flatten of exporters is a Reshape with a constant shape;
//   3. layout: a Transpose NHWC -> NCHW right after the graph input is absorbed (the network reads
//      N, C, H, W); a Transpose NCHW -> NHWC before a flatten that feeds only matrix products with
//      constant weights is absorbed into those weights (their rows permuted to C, H, W order); other
//      transposes (within each image) are layers, so that outputs keep the graph's layout;
//   4. operators: every node whose operator the mapping does not import is listed at once, with
//      counts and node names.
// Each stage says what it did (notes, printed by `inspect`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/network.h"

namespace onnx {
class ModelProto;
}

namespace bitsim::sim {

struct PreparedOnnx {
  std::vector<std::string> notes;                           // one line per stage that changed something
  std::map<std::string, std::vector<std::int64_t>> shapes;  // static shapes (batch 1) of values
  bool input_was_nhwc = false;                              // stage 3 absorbed an input transpose
};

// Runs stages 1 to 4 on `model` in place. `supported` lists the operators the mapping imports.
// Throws InputError naming `path`: a stage that cannot run, or the unsupported operators, all of them.
PreparedOnnx prepare_onnx(onnx::ModelProto& model, const std::string& path, const std::optional<Shape>& input_shape,
                          const std::set<std::string>& supported);

}  // namespace bitsim::sim
