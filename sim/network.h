// The layer graph of a CNN: immutable after Network::build(), which infers and checks every shape.
// Layers are exposed in topological order (file order where the file already is one); the
// Boost.Graph used to order and check the edges stays inside network.cpp.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/diagnostics.h"
#include "sim/base/names.h"

namespace bitsim::sim {

// Scale: y = x * scale[c] + shift[c] per channel (or one value for all, or one per C x H x W value,
// e.g. a detector's box decode against its prior boxes), e.g. an input normalization imported from
// ONNX; elementwise, off the array like add. Its constants are not weights: not quantized, not
// fetched (held on chip with the layer's instructions; not modelled). Mul: the product of two
// tensors of one shape, or of a C x H x W tensor and a C x 1 x 1 one (a squeeze-excitation gate).
// Pad: height and width grown by the window's pads (a standalone ONNX Pad; zero padding right
// before a conv is folded into the conv instead). Add, Concat, Scale, Mul and Pad move data, off the array.
// Resize: height and width scaled to resize.height x resize.width (nearest or linear, ONNX's
// coordinate rules); it moves data, off the array. ConvTranspose: the transposed convolution
// (gradient of a conv) as ONNX defines it, on the array as a GEMM without zero insertion: M = input
// pixels, K = input channels per group, N = output channels per group x kernel; the products of
// overlapping windows are summed into the output off the array (col2im).
// Slice: a strided box of the input (channels, height, width ranges; ONNX Slice and each output of
// Split). Reshape: the same values under another C x H x W view (an ONNX Reshape that keeps their
// order). Shuffle: channels viewed as groups x (C / groups), transposed (ShuffleNet's channel
// shuffle). Transpose: the C x H x W axes permuted (an ONNX Transpose that keeps the batch axis first,
// e.g. a detector head's N, C, H, W -> N, H, W, C). Slice, Reshape, Shuffle and Transpose move data,
// off the array: every value read from and written to memory once, like concat and pad (hardware
// that addresses them in place would not: not modelled).
// Tensors that are not images map onto C x H x W by their dimensions after the batch, in order:
// [N, C, H, W] is C x H x W, [N, A, B] is A x B x 1 (e.g. a detector's [N, boxes, K] is boxes x K x 1),
// [N, F] is F x 1 x 1; the values' order is ONNX's in every case.
enum class LayerOp {
  Input,
  Conv,
  FullyConnected,
  MaxPool,
  AvgPool,
  Add,
  Concat,
  Scale,
  Mul,
  Pad,
  Resize,
  ConvTranspose,
  Slice,
  Reshape,
  Shuffle,
  Transpose
};

inline constexpr NameTable kLayerOpNames{std::array{
    NamedValue<LayerOp>{LayerOp::Input, "input"}, NamedValue<LayerOp>{LayerOp::Conv, "conv"},
    NamedValue<LayerOp>{LayerOp::FullyConnected, "fc"}, NamedValue<LayerOp>{LayerOp::MaxPool, "maxpool"},
    NamedValue<LayerOp>{LayerOp::AvgPool, "avgpool"}, NamedValue<LayerOp>{LayerOp::Add, "add"},
    NamedValue<LayerOp>{LayerOp::Concat, "concat"}, NamedValue<LayerOp>{LayerOp::Scale, "scale"},
    NamedValue<LayerOp>{LayerOp::Mul, "mul"}, NamedValue<LayerOp>{LayerOp::Pad, "pad"},
    NamedValue<LayerOp>{LayerOp::Resize, "resize"}, NamedValue<LayerOp>{LayerOp::ConvTranspose, "convtranspose"},
    NamedValue<LayerOp>{LayerOp::Slice, "slice"}, NamedValue<LayerOp>{LayerOp::Reshape, "reshape"},
    NamedValue<LayerOp>{LayerOp::Shuffle, "shuffle"}, NamedValue<LayerOp>{LayerOp::Transpose, "transpose"}}};
static_assert(kLayerOpNames.complete());
constexpr std::string_view op_name(LayerOp op) { return kLayerOpNames.name(op); }

// The function applied to a layer's output (after any bias). Softmax runs along one axis
// (softmax_axis: over the channels of each pixel by default; for an FC layer: over its outputs). Clip: min(max(x,
// clip_min), clip_max), for the clips that are not a ReLU (ReLU and ReLU6 are Relu, with relu_max). LeakyRelu: x < 0 ?
// alpha x : x with alpha = leaky_alpha; PRelu the same with one slope per channel (prelu_slope, or one for all).
enum class Activation { None, Relu, Sigmoid, HardSigmoid, HardSwish, Softmax, Clip, Tanh, LeakyRelu, PRelu, Exp };
inline constexpr NameTable kActivationNames{std::array{
    NamedValue<Activation>{Activation::None, "none"}, NamedValue<Activation>{Activation::Relu, "relu"},
    NamedValue<Activation>{Activation::Sigmoid, "sigmoid"},
    NamedValue<Activation>{Activation::HardSigmoid, "hardsigmoid"},
    NamedValue<Activation>{Activation::HardSwish, "hardswish"}, NamedValue<Activation>{Activation::Softmax, "softmax"},
    NamedValue<Activation>{Activation::Clip, "clip"}, NamedValue<Activation>{Activation::Tanh, "tanh"},
    NamedValue<Activation>{Activation::LeakyRelu, "leakyrelu"}, NamedValue<Activation>{Activation::PRelu, "prelu"},
    NamedValue<Activation>{Activation::Exp, "exp"}}};
static_assert(kActivationNames.complete());
constexpr std::string_view activation_name(Activation a) { return kActivationNames.name(a); }
// True when the activation's output is never negative (ReLU quantizers apply: seed 004 eq. 2).
bool nonnegative(Activation a);

// A feature map: channels x height x width values per image.
struct Shape {
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t count() const { return channels * height * width; }
  bool operator==(const Shape&) const = default;
};

// ONNX auto_pad SAME_UPPER / SAME_LOWER: shape inference picks the pads so that the output is
// ceil(input / stride), the odd pad going after (upper) or before (lower) the input.
enum class AutoPad { None, SameUpper, SameLower };

// How a pad layer fills the border: with pad_value, with the nearest edge value, or mirrored
// (reflect: without repeating the edge).
enum class PadMode { Constant, Edge, Reflect };

// A resize layer's output size and interpolation, with ONNX Resize's rules: each output coordinate
// x maps to an input coordinate by `transform` (half_pixel: (x + 0.5) / scale - 0.5; asymmetric:
// x / scale; align_corners: x (in - 1) / (in scale - 1); pytorch_half_pixel: half_pixel, 0 when out
// is 1), scale = out / in unless given; nearest rounds it by `nearest`, linear interpolates (clamped to
// the edge).
enum class ResizeMode { Nearest, Linear };
enum class ResizeTransform { HalfPixel, Asymmetric, AlignCorners, PytorchHalfPixel };
enum class NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };
// A slice layer's box per axis (channels, height, width): start, end (exclusive) and step >= 1, as
// ONNX writes them (negative counts from the end; clamped to the input by Network::build).
struct SliceSpec {
  std::array<std::int64_t, 3> start{0, 0, 0};
  std::array<std::int64_t, 3> end{INT64_MAX, INT64_MAX, INT64_MAX};
  std::array<std::int64_t, 3> step{1, 1, 1};
};

struct ResizeSpec {
  std::int64_t height = 0, width = 0;  // of the output
  double scale_h = 0, scale_w = 0;     // as given (scales input), else out / in
  ResizeMode mode = ResizeMode::Nearest;
  ResizeTransform transform = ResizeTransform::HalfPixel;
  NearestRounding nearest = NearestRounding::RoundPreferFloor;
};

// Sliding-window parameters of conv and pooling layers; a pad layer uses the four pads and its fill.
struct Window {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;          // before (top, left)
  std::int64_t pad_h_end = 0, pad_w_end = 0;  // after (bottom, right); equal to the above unless asymmetric
  std::int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;                // output size rounds up, SCALE-Sim's rule (see window_output in network.cpp)
  bool global = false;                   // pooling over the whole input
  bool count_include_pad = false;        // average pooling divides by the full window, padding included
  AutoPad auto_pad = AutoPad::None;      // resolved into the pads by Network::build
  PadMode pad_mode = PadMode::Constant;  // pad layers only
  float pad_value = 0;
  std::int64_t output_pad_h = 0, output_pad_w = 0;  // ConvTranspose: added after the last output row / column
};

// Trained values of a layer, when the network was imported with them (ONNX). Conv weights are
// [out_channels][in_channels / groups][kernel_h][kernel_w] (ConvTranspose, as ONNX stores them:
// [in_channels][out_channels / groups][kernel_h][kernel_w]), FC weights [out][in] (in = C x H x W
// flattened in that order); scale layers keep their scale and shift here (1, C or C x H x W values).
struct LayerValues {
  std::vector<float> weights;
  std::vector<float> bias;  // empty: none
};

// GEMM view of an array layer for one image: M output pixels, K window values per group, N filters
// per group; `groups` such GEMMs run one after another (grouped and depthwise convolutions).
struct Gemm {
  std::int64_t m = 0, k = 0, n = 0, groups = 0;
  bool operator==(const Gemm&) const = default;
};

// What a layer computes, the same in a loader's spec and in the built network.
struct LayerAttributes {
  std::string name;
  LayerOp op = LayerOp::Conv;
  Window window;
  std::int64_t groups = 1;
  bool bias = false;
  bool batchnorm = false;  // folded at inference; counted as 2 parameters per channel
  Activation activation = Activation::None;
  float relu_max = 0;                               // > 0: clip at this value after the ReLU (ReLU6)
  float hard_alpha = 0.2f, hard_beta = 0.5f;        // HardSigmoid: max(0, min(1, alpha x + beta))
  float clip_min = -INFINITY, clip_max = INFINITY;  // Clip
  float leaky_alpha = 0.01f;                        // LeakyRelu
  std::vector<float> prelu_slope;                   // PRelu: one per channel, or one for all
  ResizeSpec resize;                                // Resize
  SliceSpec slice;                                  // Slice
  Shape view;                                       // Reshape: the output's C x H x W
  int concat_axis = 0;                              // Concat: the axis joined (0 channels, 1 height, 2 width)
  int softmax_axis = 0;                             // Softmax: the axis normalized over (the same numbering)
  std::array<int, 3> perm{0, 1, 2};                 // Transpose: output axis a is input axis perm[a]
  std::shared_ptr<const LayerValues> values;        // null unless imported with trained values
  SourceLocation where;
};

// A layer as a loader read it, before shapes are inferred.
struct LayerSpec : LayerAttributes {
  std::vector<std::string> inputs;  // empty: the layer listed just before (or the network input)
  Shape input_shape;                // LayerOp::Input only
  std::int64_t out_channels = 0;    // Conv: filters; FullyConnected: output features
};

// A layer of a built network: its attributes, and what shape inference derived from them.
struct Layer : LayerAttributes {
  std::vector<int> inputs;  // indices of producer layers, in the order written
  Shape output;
  std::int64_t weights = 0;     // values in the weight tensor (kernel + bias): what is quantized and fetched
  std::int64_t parameters = 0;  // weights + BatchNorm scale and shift, as published parameter counts count them
  std::int64_t macs = 0;        // multiply-accumulates per image
  Gemm gemm;                    // zero for layers that do not run on the array

  bool on_array() const { return op == LayerOp::Conv || op == LayerOp::FullyConnected || op == LayerOp::ConvTranspose; }
};

// What a network may hold (Network::build refuses more, naming the layer and the figure): every
// size, kernel, stride, pad, dilation, channel or group count at most kMaxDimension; a tensor (a
// layer's output per image, or its weights) at most kMaxTensorValues values; a layer at most
// kMaxLayerMacs multiply-accumulates per image, and the network's sums within int64.
inline constexpr std::int64_t kMaxDimension = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxTensorValues = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxLayerMacs = std::int64_t{1} << 56;

class Network {
 public:
  // Infers shapes and checks the graph; throws InputError listing every problem found.
  // `notes` records what an importer did (e.g. folded BatchNorm), for reports.
  // `outputs` names the layers whose values are the network's outputs, in order (an ONNX graph's
  // outputs); empty: every layer no other layer reads, in topological order.
  static Network build(std::string name, const std::vector<LayerSpec>& specs, std::vector<std::string> notes = {},
                       const std::vector<std::string>& outputs = {});

  const std::string& name() const { return m_name; }
  const std::vector<std::string>& notes() const { return m_notes; }
  std::span<const Layer> layers() const { return m_layers; }
  const Layer& layer(std::size_t index) const { return m_layers.at(index); }
  std::optional<std::size_t> find(std::string_view layer_name) const;
  // Indices of the layers that read layer `index`'s output, in topological order.
  std::span<const int> consumers(std::size_t index) const;
  // The layers whose values are the network's outputs (at least one), in order.
  std::span<const int> outputs() const { return m_outputs; }
  std::vector<std::string> layer_names() const;

  std::int64_t total_macs() const;  // per image
  std::int64_t total_weights() const;
  std::int64_t total_parameters() const;
  // Values in every layer output (network inputs excluded), per image.
  std::int64_t total_activations() const;
  // True when every layer that computes with parameters carries its trained values.
  bool has_values() const;

 private:
  std::string m_name;
  std::vector<std::string> m_notes;
  std::vector<Layer> m_layers;
  std::vector<std::vector<int>> m_consumers;
  std::vector<int> m_outputs;
  std::map<std::string, std::size_t, std::less<>> m_index;  // layer name -> index (find() in log time)
};

}  // namespace bitsim::sim
