// ONNX import: a model file becomes the same Network the simulator uses, carrying its trained
// values (LayerValues), for the inference engine. Supported operators and how they map:
//   Conv -> conv (groups, strides, explicit pads incl. asymmetric, dilations; auto_pad NOTSET, VALID,
//   SAME_UPPER, SAME_LOWER: the SAME pads are chosen by Network::build once shapes are known)
//   Gemm (transA = 0), MatMul with a constant right side -> fc; a following Add of a constant -> bias
//   BatchNormalization after a conv or fc used only by it -> folded into its weights and bias;
//   elsewhere -> a per-channel scale layer
//   Relu, Clip (min 0: ReLU / ReLU6; other bounds: clip), Sigmoid, HardSigmoid, HardSwish, Softmax
//   (over channels; over all values of [N, F] rows only when they flatten a 1 x 1 map) -> the
//   producing layer's activation when it is used only by them, else an identity scale layer that
//   carries the activation
//   MaxPool, AveragePool (explicit or auto_pad, ceil_mode, count_include_pad), GlobalAveragePool -> pooling
//   Add of two layers -> add; Sub of two layers -> a scale layer (x -1) on the second, then add;
//   Mul of two layers (equal shapes, or a C x 1 x 1 gate) -> mul; Div of two layers: unsupported
//   Add/Sub/Mul/Div with a constant, constant - x -> scale (constants broadcast the ONNX way, from
//   the last axis: scalars and ones that vary along axis 1 only, e.g. [C, 1, 1], are supported)
//   Concat on the channel axis -> concat; Flatten, Reshape to [N, -1] or [N, C*H*W], Identity,
//   Dropout -> no layer
//   Transpose of a 2-D constant -> folded; of a computed tensor, only the identity permutation
//   Graph input [N, C, H, W], [N, C, L] (a C x L x 1 map) or [N, F]
//   Pad of height and width: zeros read only by Convs -> folded into their pads; otherwise (any
//   constant, edge, reflect; also zeros before a pool) -> a pad layer
//   Constant nodes and initializers -> constants
// Anything else is an InputError naming the node, its operator and the supported ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.h"

namespace bitsim::sim {

// A float tensor with its ONNX name and dimensions.
struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> dims;
  std::vector<float> data;
};

struct OnnxOptions {
  // Channels, height, width of the input, for models whose input has symbolic dimensions
  // (the batch dimension may always be symbolic).
  std::optional<Shape> input_shape;
  // Graph inputs to treat as constants (the ONNX backend test cases feed weights as inputs).
  std::vector<NamedTensor> constants;
  // Leave out a Softmax whose output is a graph output: the network's output is then its input, the
  // logits. Output MSE on probabilities hides errors where the softmax saturates (most values near 0
  // or 1) and is far from additive across tensors; on logits it is not. Top-1 is the same either way.
  bool logits = false;
};

Network load_onnx(const std::string& path, const OnnxOptions& options = {});

// Reads a serialized TensorProto (the .pb files of ONNX test data). Float tensors only.
NamedTensor read_onnx_tensor(const std::string& path);

}  // namespace bitsim::sim
