// Network construction: name resolution, topological order (Boost.Graph), shape inference.
#include "sim/network.h"

#include <fmt/format.h>
#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <queue>
#include <utility>

#include "sim/base/checked.h"

namespace bitsim::sim {

bool nonnegative(Activation a) {
  switch (a) {
    case Activation::Relu:
    case Activation::Sigmoid:
    case Activation::HardSigmoid:
    case Activation::Softmax:
      return true;
    case Activation::None:
    case Activation::HardSwish:
    case Activation::Clip:  // a clip with a lower bound >= 0 is nonnegative too; not relied on
    case Activation::Tanh:
    case Activation::LeakyRelu:
    case Activation::PRelu:
      return false;
    case Activation::Exp:
      return true;
  }
  return false;
}

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

std::string shape_text(const Shape& s) { return fmt::format("{}x{}x{}", s.channels, s.height, s.width); }

// a x b x ..., or nullopt past int64.
std::optional<std::int64_t> product(std::initializer_list<std::int64_t> factors) {
  std::optional<std::int64_t> out = 1;
  for (const std::int64_t f : factors) out = checked_mul(out, f);
  return out;
}

// Output size along one axis; nullopt when the window does not fit.
std::optional<std::int64_t> window_output(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                          std::int64_t pad_begin, std::int64_t pad_end, std::int64_t dilation,
                                          bool ceil_mode) {
  const std::int64_t span = dilation * (kernel - 1) + 1;
  const std::int64_t room = in + pad_begin + pad_end - span;
  if (room < 0) return std::nullopt;
  // ceil_mode is SCALE-Sim's rule, ceil((in + 2 pad - span) / stride) + 1: unlike PyTorch's, it
  // keeps a last window that starts past the input (a 1x1 stride-2 conv on 56 gives 29, not 28).
  return (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
}

// Topological order over the spec indices, preferring file order (smallest index first).
// Returns fewer indices than nodes when the graph has a cycle.
std::vector<int> stable_topological_order(const Graph& g) {
  const auto n = boost::num_vertices(g);
  std::vector<std::size_t> pending(n);
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (std::size_t v = 0; v < n; ++v) {
    pending[v] = boost::in_degree(v, g);
    if (pending[v] == 0) ready.push(static_cast<int>(v));
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    const int v = ready.top();
    ready.pop();
    order.push_back(v);
    for (auto [e, end] = boost::out_edges(static_cast<std::size_t>(v), g); e != end; ++e) {
      const auto t = boost::target(*e, g);
      if (--pending[t] == 0) ready.push(static_cast<int>(t));
    }
  }
  return order;
}

class ShapeInference {
 public:
  explicit ShapeInference(Diagnostics& diag) : m_diag(diag) {}

  // Fills output, weights, parameters, macs and gemm of `layer` from its producers' shapes, within
  // the limits in network.h (kMaxDimension for what the spec gives, the sizes it derives checked).
  void infer(Layer& layer, const std::vector<const Layer*>& producers, std::int64_t out_channels) {
    if (!attributes_in_range(layer, out_channels)) return;
    infer_shape(layer, producers, out_channels);
    if (layer.output.channels > 0) sizes_in_range(layer);  // an output was inferred
  }

 private:
  // Every number the layer's spec gives: windows at least 1 (pads at least 0), at most kMaxDimension.
  bool attributes_in_range(const Layer& layer, std::int64_t out_channels) {
    const Window& w = layer.window;
    std::vector<std::pair<std::string_view, std::int64_t>> at_least_one;
    if (layer.op == LayerOp::Input)
      at_least_one = {
          {"channels", layer.output.channels}, {"height", layer.output.height}, {"width", layer.output.width}};
    const bool conv = layer.op == LayerOp::Conv || layer.op == LayerOp::ConvTranspose;
    if (conv || layer.op == LayerOp::FullyConnected)
      at_least_one.emplace_back(conv ? "out_channels" : "out_features", out_channels);
    if (conv) at_least_one.emplace_back("groups", layer.groups);
    const bool windowed = conv || ((layer.op == LayerOp::MaxPool || layer.op == LayerOp::AvgPool) && !w.global);
    if (windowed)
      for (const auto& f : {std::pair<std::string_view, std::int64_t>{"kernel height", w.kernel_h},
                            {"kernel width", w.kernel_w},
                            {"stride height", w.stride_h},
                            {"stride width", w.stride_w},
                            {"dilation height", w.dilation_h},
                            {"dilation width", w.dilation_w}})
        at_least_one.push_back(f);
    std::vector<std::pair<std::string_view, std::int64_t>> at_least_zero;
    if (windowed || layer.op == LayerOp::Pad)
      at_least_zero = {
          {"pad top", w.pad_h}, {"pad left", w.pad_w}, {"pad bottom", w.pad_h_end}, {"pad right", w.pad_w_end}};
    bool ok = true;
    auto check = [&](std::string_view what, std::int64_t v, std::int64_t least) {
      if (v >= least && v <= kMaxDimension) return;
      m_diag.error(layer.where,
                   fmt::format("{}: {} must be from {} to {}, got {}", layer.name, what, least, kMaxDimension, v));
      ok = false;
    };
    if (layer.activation == Activation::Softmax && (layer.softmax_axis < 0 || layer.softmax_axis > 2)) {
      m_diag.error(layer.where,
                   fmt::format("{}: the softmax axis must be 0 (channels), 1 (height) or 2 (width), got {}", layer.name,
                               layer.softmax_axis));
      ok = false;
    }
    for (const auto& [what, v] : at_least_one) check(what, v, 1);
    for (const auto& [what, v] : at_least_zero) check(what, v, 0);
    return ok;
  }

  // The derived sizes: each tensor within kMaxTensorValues, the layer's MACs within kMaxLayerMacs
  // (checked products: nothing wraps).
  void sizes_in_range(Layer& layer) {
    const auto values = product({layer.output.channels, layer.output.height, layer.output.width});
    auto too_large = [&](std::string_view what, std::optional<std::int64_t> v, std::int64_t limit) {
      if (v && *v <= limit) return false;
      m_diag.error(layer.where,
                   v ? fmt::format("{}: {} {} exceed the limit of {}", layer.name, *v, what, limit)
                     : fmt::format("{}: its {} overflow 64-bit integers (limit {})", layer.name, what, limit));
      return true;
    };
    if (too_large("output values per image", values, kMaxTensorValues)) return;
    if (too_large("weights", layer.weights >= 0 ? std::optional(layer.weights) : std::nullopt, kMaxTensorValues))
      return;
    too_large("multiply-accumulates per image", layer.macs >= 0 ? std::optional(layer.macs) : std::nullopt,
              kMaxLayerMacs);
  }

  void infer_shape(Layer& layer, const std::vector<const Layer*>& producers, std::int64_t out_channels) {
    switch (layer.op) {
      case LayerOp::Input:
        return;  // shape given
      case LayerOp::Conv:
        return conv(layer, producers, out_channels);
      case LayerOp::FullyConnected:
        return fully_connected(layer, producers, out_channels);
      case LayerOp::MaxPool:
      case LayerOp::AvgPool:
        return pool(layer, producers);
      case LayerOp::Add:
        return add(layer, producers);
      case LayerOp::Concat:
        return concat(layer, producers);
      case LayerOp::Scale:
        if (arity(layer, producers, 1, 1)) layer.output = producers[0]->output;
        return;
      case LayerOp::Mul:
        return mul(layer, producers);
      case LayerOp::Pad:
        return pad(layer, producers);
      case LayerOp::Resize:
        return resize(layer, producers);
      case LayerOp::ConvTranspose:
        return conv_transpose(layer, producers, out_channels);
      case LayerOp::Slice:
        return slice(layer, producers);
      case LayerOp::Reshape:
        if (!arity(layer, producers, 1, 1)) return;
        if (layer.view.count() != producers[0]->output.count() || layer.view.channels < 1 || layer.view.height < 1 ||
            layer.view.width < 1) {
          m_diag.error(layer.where, fmt::format("{}: a {} view of the {} input does not hold the same values",
                                                layer.name, shape_text(layer.view), shape_text(producers[0]->output)));
          return;
        }
        layer.output = layer.view;
        return;
      case LayerOp::Shuffle:
        if (!arity(layer, producers, 1, 1)) return;
        if (layer.groups < 1 || producers[0]->output.channels % layer.groups != 0) {
          m_diag.error(layer.where, fmt::format("{}.groups: expected a divisor of the input channels ({}), got {}",
                                                layer.name, producers[0]->output.channels, layer.groups));
          return;
        }
        layer.output = producers[0]->output;
        return;
      case LayerOp::Transpose: {
        if (!arity(layer, producers, 1, 1)) return;
        std::array<int, 3> sorted = layer.perm;
        std::sort(sorted.begin(), sorted.end());
        if (sorted != std::array<int, 3>{0, 1, 2}) {
          m_diag.error(layer.where, fmt::format("{}.perm: expected a permutation of 0, 1, 2, got {}, {}, {}",
                                                layer.name, layer.perm[0], layer.perm[1], layer.perm[2]));
          return;
        }
        const std::array<std::int64_t, 3> in = axes(producers[0]->output);
        layer.output = {in[static_cast<std::size_t>(layer.perm[0])], in[static_cast<std::size_t>(layer.perm[1])],
                        in[static_cast<std::size_t>(layer.perm[2])]};
        return;
      }
    }
  }

  static std::array<std::int64_t, 3> axes(const Shape& s) { return {s.channels, s.height, s.width}; }

  // ONNX Slice per axis with a positive step: start and end counted from the end when negative,
  // clamped to [0, size]; ceil((end - start) / step) values, at least one.
  void slice(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    const std::array<std::int64_t, 3> size{in.channels, in.height, in.width};
    std::array<std::int64_t, 3> out{};
    for (std::size_t a = 0; a < 3; ++a) {
      std::int64_t& b = layer.slice.start[a];
      std::int64_t& e = layer.slice.end[a];
      const std::int64_t step = layer.slice.step[a];
      if (b < 0) b = b < -size[a] ? 0 : b + size[a];
      if (e < 0) e = e < -size[a] ? 0 : e + size[a];
      b = std::min(b, size[a]);
      e = std::min(e, size[a]);
      out[a] = step >= 1 && e > b ? (e - b + step - 1) / step : 0;
    }
    if (out[0] < 1 || out[1] < 1 || out[2] < 1) {
      m_diag.error(layer.where, fmt::format("{}: the slice of the {} input is empty (steps must be >= 1)", layer.name,
                                            shape_text(in)));
      return;
    }
    layer.output = {out[0], out[1], out[2]};
  }

  // The output size given, or floor(in x scale) (ONNX Resize with scales).
  void resize(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    ResizeSpec& r = layer.resize;
    const auto scaled = [](std::int64_t size, double scale) {
      const double v = std::floor(static_cast<double>(size) * scale);
      return v >= 1 && v <= static_cast<double>(kMaxDimension) ? static_cast<std::int64_t>(v) : std::int64_t{0};
    };
    if (r.height == 0) r.height = scaled(in.height, r.scale_h);
    if (r.width == 0) r.width = scaled(in.width, r.scale_w);
    if (r.height < 1 || r.width < 1 || r.height > kMaxDimension || r.width > kMaxDimension) {
      m_diag.error(layer.where,
                   fmt::format("{}: resizing the {} input gives no output from 1 to {} in height and width", layer.name,
                               shape_text(in), kMaxDimension));
      return;
    }
    layer.output = {in.channels, r.height, r.width};
  }

  // ONNX ConvTranspose: out = stride (in - 1) + output_padding + dilation (kernel - 1) + 1 - pads.
  void conv_transpose(Layer& layer, const std::vector<const Layer*>& producers, std::int64_t out_channels) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    if (in.channels % layer.groups != 0 || out_channels % layer.groups != 0) {
      m_diag.error(layer.where, fmt::format("{}.groups: expected a divisor of the input channels ({}) and of "
                                            "out_channels ({}), got {}",
                                            layer.name, in.channels, out_channels, layer.groups));
      return;
    }
    const Window& w = layer.window;
    const auto axis = [](std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                         std::int64_t begin, std::int64_t end, std::int64_t extra) -> std::optional<std::int64_t> {
      const auto grown = product({stride, size - 1});  // each factor <= 2^24
      if (!grown) return std::nullopt;
      const std::int64_t out = *grown + extra + dilation * (kernel - 1) + 1 - begin - end;
      return out >= 1 ? std::optional(out) : std::nullopt;
    };
    const auto h = axis(in.height, w.kernel_h, w.stride_h, w.dilation_h, w.pad_h, w.pad_h_end, w.output_pad_h);
    const auto wd = axis(in.width, w.kernel_w, w.stride_w, w.dilation_w, w.pad_w, w.pad_w_end, w.output_pad_w);
    if (!h || !wd || w.output_pad_h < 0 || w.output_pad_w < 0 || w.output_pad_h > kMaxDimension ||
        w.output_pad_w > kMaxDimension) {
      m_diag.error(layer.where, fmt::format("{}: kernel {}x{}, stride {}x{}, pads and output padding {}x{} give no "
                                            "output for the {} input",
                                            layer.name, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.output_pad_h,
                                            w.output_pad_w, shape_text(in)));
      return;
    }
    layer.output = {out_channels, *h, *wd};
    const auto m = product({in.height, in.width});
    const auto n = product({out_channels / layer.groups, w.kernel_h, w.kernel_w});
    const auto weights = n ? product({in.channels, *n}) : std::nullopt;
    const auto macs = m && weights ? product({*m, *weights}) : std::nullopt;
    layer.gemm = {m.value_or(-1), in.channels / layer.groups, n.value_or(-1), layer.groups};
    layer.weights = weights ? *weights + (layer.bias ? out_channels : 0) : -1;
    layer.parameters = weights ? layer.weights + (layer.batchnorm ? 2 * out_channels : 0) : -1;
    layer.macs = macs.value_or(-1);
  }

  bool arity(const Layer& layer, const std::vector<const Layer*>& producers, std::size_t min, std::size_t max) {
    if (producers.size() >= min && producers.size() <= max) return true;
    const std::string want = min == max ? fmt::format("{} input", min) : fmt::format("at least {} inputs", min);
    m_diag.expected(layer.where, layer.name + ".inputs", want, fmt::format("{}", producers.size()));
    return false;
  }

  bool spatial(Layer& layer, const Shape& in, std::int64_t channels) {
    if (layer.window.auto_pad != AutoPad::None) resolve_auto_pad(layer.window, in);
    const Window& w = layer.window;
    const auto h = window_output(in.height, w.kernel_h, w.stride_h, w.pad_h, w.pad_h_end, w.dilation_h, w.ceil_mode);
    const auto wd = window_output(in.width, w.kernel_w, w.stride_w, w.pad_w, w.pad_w_end, w.dilation_w, w.ceil_mode);
    if (!h || !wd) {
      m_diag.error(layer.where,
                   fmt::format("{}: kernel {}x{} (dilation {}x{}, padding {}x{}) does not fit the {} input", layer.name,
                               w.kernel_h, w.kernel_w, w.dilation_h, w.dilation_w, w.pad_h, w.pad_w, shape_text(in)));
      return false;
    }
    layer.output = {channels, *h, *wd};
    return true;
  }

  // ONNX's rule: output = ceil(in / stride), total pad = max(0, (out - 1) stride + span - in).
  static void resolve_auto_pad(Window& w, const Shape& in) {
    const bool upper = w.auto_pad == AutoPad::SameUpper;
    const auto axis = [upper](std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                              std::int64_t& begin, std::int64_t& end) {
      const std::int64_t out = (size + stride - 1) / stride;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - size);
      begin = upper ? total / 2 : total - total / 2;
      end = total - begin;
    };
    axis(in.height, w.kernel_h, w.stride_h, w.dilation_h, w.pad_h, w.pad_h_end);
    axis(in.width, w.kernel_w, w.stride_w, w.dilation_w, w.pad_w, w.pad_w_end);
    w.auto_pad = AutoPad::None;
  }

  void conv(Layer& layer, const std::vector<const Layer*>& producers, std::int64_t out_channels) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    if (in.channels % layer.groups != 0 || out_channels % layer.groups != 0) {  // groups >= 1: checked
      m_diag.error(layer.where, fmt::format("{}.groups: expected a divisor of the input channels ({}) and of "
                                            "out_channels ({}), got {}",
                                            layer.name, in.channels, out_channels, layer.groups));
      return;
    }
    if (!spatial(layer, in, out_channels)) return;
    const Window& w = layer.window;
    // Each factor is at most kMaxDimension (2^24): a product of two fits; the rest are checked
    // (-1: past int64, reported by sizes_in_range).
    const auto k = product({w.kernel_h, w.kernel_w, in.channels / layer.groups});
    const auto m = product({layer.output.height, layer.output.width});
    const auto weights = k ? product({out_channels, *k}) : std::nullopt;
    const auto macs = k && m ? product({*m, *k, out_channels}) : std::nullopt;
    layer.gemm = {m.value_or(-1), k.value_or(-1), out_channels / layer.groups, layer.groups};
    layer.weights = weights ? *weights + (layer.bias ? out_channels : 0) : -1;
    layer.parameters = weights ? layer.weights + (layer.batchnorm ? 2 * out_channels : 0) : -1;
    layer.macs = macs.value_or(-1);
  }

  void fully_connected(Layer& layer, const std::vector<const Layer*>& producers, std::int64_t out_features) {
    if (!arity(layer, producers, 1, 1)) return;
    const std::int64_t in = producers[0]->output.count();  // flattens C x H x W (within kMaxTensorValues)
    layer.output = {out_features, 1, 1};
    layer.gemm = {1, in, out_features, 1};
    const auto weights = product({in, out_features});  // up to 2^40 x 2^24: checked
    layer.weights = weights ? *weights + (layer.bias ? out_features : 0) : -1;
    layer.parameters = weights ? layer.weights + (layer.batchnorm ? 2 * out_features : 0) : -1;
    layer.macs = weights.value_or(-1);
  }

  void pool(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    if (layer.window.global) {
      layer.window.kernel_h = in.height;
      layer.window.kernel_w = in.width;
      layer.window.stride_h = in.height;
      layer.window.stride_w = in.width;
    }
    spatial(layer, in, in.channels);
  }

  void add(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 2, SIZE_MAX)) return;
    for (const Layer* p : producers)
      if (!(p->output == producers[0]->output)) {
        m_diag.error(layer.where,
                     fmt::format("{}: add needs inputs of one shape, got {} ({}) and {} ({})", layer.name,
                                 producers[0]->name, shape_text(producers[0]->output), p->name, shape_text(p->output)));
        return;
      }
    layer.output = producers[0]->output;
  }

  void mul(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 2, 2)) return;
    const Shape a = producers[0]->output, b = producers[1]->output;
    const auto gate = [](const Shape& big, const Shape& small) {
      return small.channels == big.channels && small.height == 1 && small.width == 1;
    };
    if (a == b || gate(a, b) || gate(b, a)) {
      layer.output = a.count() >= b.count() ? a : b;
      return;
    }
    m_diag.error(layer.where,
                 fmt::format("{}: mul needs inputs of one shape or C x H x W with C x 1 x 1, got {} ({}) "
                             "and {} ({})",
                             layer.name, producers[0]->name, shape_text(a), producers[1]->name, shape_text(b)));
  }

  void pad(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 1, 1)) return;
    const Shape in = producers[0]->output;
    const Window& w = layer.window;
    const auto fits = [&](std::int64_t pad, std::int64_t size) {
      if (pad < 0) return false;  // cropping is not supported
      if (w.pad_mode == PadMode::Reflect) return pad < size;
      return w.pad_mode == PadMode::Constant || size > 0;
    };
    if (!fits(w.pad_h, in.height) || !fits(w.pad_h_end, in.height) || !fits(w.pad_w, in.width) ||
        !fits(w.pad_w_end, in.width)) {
      m_diag.error(layer.where, fmt::format("{}: pads (top {}, left {}, bottom {}, right {}) do not fit the {} input{}",
                                            layer.name, w.pad_h, w.pad_w, w.pad_h_end, w.pad_w_end, shape_text(in),
                                            w.pad_mode == PadMode::Reflect ? " (reflect: each pad < the side)" : ""));
      return;
    }
    layer.output = {in.channels, in.height + w.pad_h + w.pad_h_end, in.width + w.pad_w + w.pad_w_end};
  }

  // Inputs equal in every axis but concat_axis, joined along it.
  void concat(Layer& layer, const std::vector<const Layer*>& producers) {
    if (!arity(layer, producers, 2, SIZE_MAX)) return;
    if (layer.concat_axis < 0 || layer.concat_axis > 2) {
      m_diag.error(layer.where, fmt::format("{}.axis: expected 0 (channels), 1 (height) or 2 (width), got {}",
                                            layer.name, layer.concat_axis));
      return;
    }
    const auto a = static_cast<std::size_t>(layer.concat_axis);
    std::array<std::int64_t, 3> out = axes(producers[0]->output);
    out[a] = 0;
    for (const Layer* p : producers) {
      std::array<std::int64_t, 3> in = axes(p->output);
      const std::int64_t along = std::exchange(in[a], out[a]);
      if (in != out) {
        static constexpr std::array<std::string_view, 3> kOthers{"height and width", "channels and width",
                                                                 "channels and height"};
        m_diag.error(layer.where,
                     fmt::format("{}: concat needs inputs of one {}, got {} ({}) and {} ({})", layer.name, kOthers[a],
                                 producers[0]->name, shape_text(producers[0]->output), p->name, shape_text(p->output)));
        return;
      }
      out[a] += along;
    }
    layer.output = {out[0], out[1], out[2]};
  }

  Diagnostics& m_diag;
};

}  // namespace

namespace {

// Each layer's producers (indices into `specs`): its named inputs, or the layer listed just before.
// Reports duplicate names, unknown or self inputs and a network without input.
std::vector<std::vector<int>> resolve_producers(const std::string& name, const std::vector<LayerSpec>& specs,
                                                Diagnostics& diag) {
  const int n = static_cast<int>(specs.size());
  // Layers are indexed by int, as the graph's edges and Layer::inputs are.
  const auto spec = [&](int i) -> const LayerSpec& { return specs[static_cast<std::size_t>(i)]; };
  std::map<std::string, int, std::less<>> by_name;
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    if (!by_name.emplace(spec(i).name, i).second)
      diag.error(spec(i).where, fmt::format("{}: duplicate layer name (first defined at line {})", spec(i).name,
                                            spec(by_name[spec(i).name]).where.line));
    names.push_back(spec(i).name);
  }
  if (std::none_of(specs.begin(), specs.end(), [](const LayerSpec& s) { return s.op == LayerOp::Input; }))
    diag.error({}, fmt::format("network '{}' has no input", name));
  std::vector<std::vector<int>> producers(specs.size());
  for (int i = 0; i < n; ++i) {
    const LayerSpec& s = spec(i);
    std::vector<int>& mine = producers[static_cast<std::size_t>(i)];
    if (s.op == LayerOp::Input) continue;
    if (s.inputs.empty()) {
      if (i == 0)
        diag.error(s.where, fmt::format("{}: the first layer needs explicit inputs", s.name));
      else
        mine.push_back(i - 1);
    }
    for (const auto& in : s.inputs) {
      const auto it = by_name.find(in);
      if (it == by_name.end()) {
        std::string msg = fmt::format("{}.inputs: no layer named '{}'", s.name, in);
        const std::string guess = did_you_mean(in, names);
        if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
        diag.error(s.where, msg);
      } else if (it->second == i) {
        diag.error(s.where, fmt::format("{}.inputs: a layer cannot read its own output", s.name));
      } else {
        mine.push_back(it->second);
      }
    }
  }
  return producers;
}

// The layers in topological order (file order where the file already is one); layers on a cycle
// are reported.
std::vector<int> layer_order(const std::vector<LayerSpec>& specs, const std::vector<std::vector<int>>& producers,
                             Diagnostics& diag) {
  Graph graph(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i)
    for (int p : producers[i]) boost::add_edge(static_cast<std::size_t>(p), i, graph);
  std::vector<int> order = stable_topological_order(graph);
  if (order.size() != specs.size()) {
    std::vector<bool> placed(specs.size());
    for (int v : order) placed[static_cast<std::size_t>(v)] = true;
    for (std::size_t i = 0; i < specs.size(); ++i)
      if (!placed[i]) diag.error(specs[i].where, fmt::format("{}: part of a cycle in the layer graph", specs[i].name));
  }
  return order;
}

}  // namespace

Network Network::build(std::string name, const std::vector<LayerSpec>& specs, std::vector<std::string> notes,
                       const std::vector<std::string>& outputs) {
  Diagnostics diag;
  const std::vector<std::vector<int>> producers = resolve_producers(name, specs, diag);
  diag.throw_if_any();
  const std::vector<int> order = layer_order(specs, producers, diag);
  diag.throw_if_any();

  Network net;
  net.m_name = std::move(name);
  net.m_notes = std::move(notes);
  std::vector<int> position(specs.size());
  for (std::size_t pos = 0; pos < order.size(); ++pos)
    position[static_cast<std::size_t>(order[pos])] = static_cast<int>(pos);
  ShapeInference shapes(diag);
  std::vector<bool> valid(specs.size(), true);
  for (int v : order) {
    const LayerSpec& s = specs[static_cast<std::size_t>(v)];
    Layer layer;
    static_cast<LayerAttributes&>(layer) = static_cast<const LayerAttributes&>(s);
    if (s.op == LayerOp::Input) layer.output = s.input_shape;
    std::vector<const Layer*> inputs;
    bool inputs_valid = true;
    for (int p : producers[static_cast<std::size_t>(v)]) {
      layer.inputs.push_back(position[static_cast<std::size_t>(p)]);
      inputs.push_back(&net.m_layers[static_cast<std::size_t>(position[static_cast<std::size_t>(p)])]);
      inputs_valid = inputs_valid && valid[static_cast<std::size_t>(p)];
    }
    if (inputs_valid) {
      const std::size_t errors_before = diag.count();
      shapes.infer(layer, inputs, s.out_channels);
      valid[static_cast<std::size_t>(v)] = diag.count() == errors_before;
    } else {
      valid[static_cast<std::size_t>(v)] = false;  // reported at its producer already
    }
    net.m_layers.push_back(std::move(layer));
  }
  diag.throw_if_any();
  // The network's sums (total_macs() and the like) stay within int64.
  std::optional<std::int64_t> macs = 0, weights = 0, values = 0;
  for (const Layer& l : net.m_layers)
    if (!(macs = checked_add(macs, l.macs)) || !(weights = checked_add(weights, l.parameters)) ||
        !(values = checked_add(values, l.output.count())))
      throw InputError(l.where, fmt::format("network '{}': its total multiply-accumulates, parameters or values "
                                            "overflow 64-bit integers at layer '{}'",
                                            net.m_name, l.name));

  for (std::size_t i = 0; i < net.m_layers.size(); ++i) net.m_index.emplace(net.m_layers[i].name, i);
  net.m_consumers.resize(net.m_layers.size());
  for (std::size_t i = 0; i < net.m_layers.size(); ++i)
    for (int p : net.m_layers[i].inputs) net.m_consumers[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
  for (const std::string& o : outputs) {
    const auto at = net.find(o);
    BITSIM_CHECK(at.has_value());  // a loader names outputs among its own layers
    if (std::find(net.m_outputs.begin(), net.m_outputs.end(), static_cast<int>(*at)) == net.m_outputs.end())
      net.m_outputs.push_back(static_cast<int>(*at));
  }
  if (outputs.empty())
    for (std::size_t i = 0; i < net.m_layers.size(); ++i)
      if (net.m_consumers[i].empty() && net.m_layers[i].op != LayerOp::Input)
        net.m_outputs.push_back(static_cast<int>(i));
  if (net.m_outputs.empty()) net.m_outputs.push_back(static_cast<int>(net.m_layers.size()) - 1);
  return net;
}

std::optional<std::size_t> Network::find(std::string_view layer_name) const {
  const auto it = m_index.find(layer_name);
  return it == m_index.end() ? std::nullopt : std::optional(it->second);
}

std::span<const int> Network::consumers(std::size_t index) const { return m_consumers.at(index); }

std::vector<std::string> Network::layer_names() const {
  std::vector<std::string> names;
  for (const auto& l : m_layers) names.push_back(l.name);
  return names;
}

std::int64_t Network::total_macs() const {
  std::int64_t sum = 0;
  for (const auto& l : m_layers) sum += l.macs;
  return sum;
}

std::int64_t Network::total_weights() const {
  std::int64_t sum = 0;
  for (const auto& l : m_layers) sum += l.weights;
  return sum;
}

std::int64_t Network::total_parameters() const {
  std::int64_t sum = 0;
  for (const auto& l : m_layers) sum += l.parameters;
  return sum;
}

bool Network::has_values() const {
  for (const auto& l : m_layers)
    if ((l.weights > 0 || l.op == LayerOp::Scale) && !l.values) return false;
  return true;
}

std::int64_t Network::total_activations() const {
  std::int64_t sum = 0;
  for (const auto& l : m_layers)
    if (l.op != LayerOp::Input) sum += l.output.count();
  return sum;
}

}  // namespace bitsim::sim
