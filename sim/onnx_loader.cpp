// ONNX models -> Network with trained values (see onnx.h for the operator mapping).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "sim/base/checked.h"
#include "sim/onnx.h"
#include "sim/onnx_prepare.h"
#include "sim/workload.h"

namespace bitsim::sim {
namespace {

// The operators the mapping imports (after sim/onnx_prepare.h's stages).
const std::set<std::string>& supported_ops() {
  static const std::set<std::string> ops = [] {
    const std::string_view names =
        "Conv Gemm MatMul BatchNormalization Relu Clip Sigmoid HardSigmoid HardSwish Softmax Tanh LeakyRelu PRelu "
        "Max Min MaxPool AveragePool GlobalAveragePool GlobalMaxPool ReduceMean ReduceMax Add Sub Mul Div Concat "
        "Flatten Reshape Squeeze Unsqueeze Transpose Pad Identity Dropout Constant Resize Upsample ConvTranspose "
        "Slice Split Exp";
    std::set<std::string> out;
    for (std::size_t at = 0; at < names.size();) {
      const std::size_t end = std::min(names.find(' ', at), names.size());
      out.emplace(names.substr(at, end - at));
      at = end + 1;
    }
    return out;
  }();
  return ops;
}

// A tensor's values as float: from raw_data (little-endian T, exactly `count` of them) if present,
// else the typed field.
template <typename T, typename Field>
void read_values(const onnx::TensorProto& t, const Field& field, std::int64_t count, const std::string& where,
                 std::vector<float>& out) {
  const std::string& raw = t.raw_data();
  if (raw.empty()) {
    out.assign(field.begin(), field.end());
    return;
  }
  if (raw.size() % sizeof(T) != 0 || raw.size() / sizeof(T) != static_cast<std::uint64_t>(count))
    throw InputError({where, 0, 0}, fmt::format("tensor '{}': raw_data holds {} bytes, its dimensions need {} ({} "
                                                "values of {} bytes)",
                                                t.name(), raw.size(), static_cast<std::uint64_t>(count) * sizeof(T),
                                                count, sizeof(T)));
  std::vector<T> v(static_cast<std::size_t>(count));
  std::memcpy(v.data(), raw.data(), raw.size());
  out.assign(v.begin(), v.end());
}

NamedTensor from_proto(const onnx::TensorProto& t, const std::string& where) {
  NamedTensor out;
  out.name = t.name();
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw InputError({where, 0, 0}, fmt::format("tensor '{}': external data is not supported (save the model with "
                                                "its tensors inside the .onnx file)",
                                                t.name()));
  std::int64_t count = 1;
  for (auto d : t.dims()) {
    out.dims.push_back(d);
    const auto grown = checked_mul(count, static_cast<std::int64_t>(d));
    if (grown) count = *grown;
    if (d < 0 || !grown || count > kMaxTensorValues)
      throw InputError(
          {where, 0, 0},
          fmt::format("tensor '{}': dimensions [{}] {}", t.name(), fmt::join(t.dims(), ", "),
                      d < 0 ? "include a negative one" : fmt::format("hold more than {} values", kMaxTensorValues)));
  }
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      read_values<float>(t, t.float_data(), count, where, out.data);
      break;
    case onnx::TensorProto::INT32:  // exact in float32 up to 2^24 (test inputs, shapes)
      read_values<std::int32_t>(t, t.int32_data(), count, where, out.data);
      break;
    case onnx::TensorProto::INT64:
      read_values<std::int64_t>(t, t.int64_data(), count, where, out.data);
      break;
    default:
      throw InputError({where, 0, 0},
                       fmt::format("tensor '{}': data type {} is not supported (float32, int32 and int64 are)",
                                   t.name(), static_cast<int>(t.data_type())));
  }
  if (static_cast<std::int64_t>(out.data.size()) != count)
    throw InputError({where, 0, 0}, fmt::format("tensor '{}': {} values for dimensions of {} values", t.name(),
                                                out.data.size(), count));
  // A scalar may be infinite (a Clip bound of +inf is no bound); NaN never, nor infinity in a tensor.
  const bool scalar = out.data.size() == 1;
  if (const auto bad = std::find_if(out.data.begin(), out.data.end(),
                                    [scalar](float v) { return std::isnan(v) || (std::isinf(v) && !scalar); });
      bad != out.data.end())
    throw InputError({where, 0, 0}, fmt::format("tensor '{}': value {} (flat index {}) is not a finite number",
                                                t.name(), *bad, bad - out.data.begin()));
  return out;
}

// One ONNX value during import: produced by a layer, or a constant.
struct Value {
  int layer = -1;  // index into specs
  const NamedTensor* constant = nullptr;
};

class Importer {
 public:
  Importer(std::string path, const onnx::ModelProto& model, const OnnxOptions& options, PreparedOnnx prepared)
      : m_path(std::move(path)), m_model(model), m_options(options), m_prepared(std::move(prepared)) {}

  Network run() {
    const onnx::GraphProto& g = m_model.graph();
    for (const auto& t : g.initializer()) add_constant(from_proto(t, m_path));
    for (const auto& t : m_options.constants) add_constant(t);
    for (const auto& n : g.node())
      for (const auto& in : n.input()) {
        ++m_uses[in];
        m_readers[in].push_back(&n);
      }
    for (const auto& o : g.output()) {
      ++m_uses[o.name()];
      m_graph_outputs.insert(o.name());
    }

    for (const auto& in : g.input()) {
      if (m_values.contains(in.name())) continue;  // an initializer listed as input
      if (m_input_seen)
        fail_model(fmt::format("graph input '{}': only one non-constant input is supported", in.name()));
      m_input_seen = true;
      add_input(in);
    }
    if (!m_input_seen) fail_model("the graph has no input");
    for (const auto& n : g.node()) node(n);
    if (g.output_size() < 1) fail_model("the graph has no output");
    std::vector<std::string> outputs;  // the layers computing the graph's outputs, in its order
    for (const auto& o : g.output()) {
      const auto out = m_values.find(o.name());
      if (out == m_values.end() || out->second.layer < 0)
        fail_model(fmt::format("graph output '{}' is not computed by a supported layer", o.name()));
      outputs.push_back(m_specs[static_cast<std::size_t>(out->second.layer)].name);
    }

    std::vector<std::string> notes = m_prepared.notes;
    if (m_folded_bn > 0)
      notes.push_back(fmt::format("folded {} BatchNormalization node(s) into the preceding layers", m_folded_bn));
    if (m_negated > 0)
      notes.push_back(fmt::format("imported {} Sub node(s) of two computed tensors as an Add of a negating scale layer",
                                  m_negated));
    if (m_left_out_softmax > 0)
      notes.push_back(
          fmt::format("left out {} Softmax node(s) computing graph outputs (logits): the outputs are their "
                      "inputs",
                      m_left_out_softmax));
    if (m_folded_bias > 0)
      notes.push_back(fmt::format("folded {} Add node(s) into the preceding layers' bias", m_folded_bias));
    // Named by its file: exporters' graph names say little (every PyTorch export is "torch_jit").
    std::string name = m_path.substr(m_path.find_last_of('/') + 1);
    name = name.substr(0, name.rfind(".onnx"));
    if (g.output_size() > 1) notes.push_back(fmt::format("{} graph outputs, each written off chip", g.output_size()));
    Network net = Network::build(name, m_specs, std::move(notes), outputs);
    check_value_sizes(net);
    for (const ShapeCheck& c : m_shape_checks) {
      const Shape& shape = net.layer(*net.find(c.layer)).output;
      if (const std::string problem = c.problem(shape); !problem.empty())
        fail(*c.node, fmt::format("{} the {}x{}x{} output of '{}' {}", problem, shape.channels, shape.height,
                                  shape.width, c.layer, c.supported));
    }
    return net;
  }

 private:
  [[noreturn]] void fail_model(const std::string& msg) const { throw InputError({m_path, 0, 0}, msg); }
  [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& msg) const {
    throw InputError({m_path, 0, 0}, fmt::format("node '{}' ({}): {}", node_label(n), n.op_type(), msg));
  }

  void add_constant(NamedTensor t) {
    m_constants.push_back(std::make_unique<NamedTensor>(std::move(t)));
    m_values[m_constants.back()->name] = Value{-1, m_constants.back().get()};
  }

  void add_input(const onnx::ValueInfoProto& in) {
    LayerSpec spec;
    spec.name = unique(in.name());
    spec.op = LayerOp::Input;
    const auto& dims = in.type().tensor_type().shape().dim();
    if (m_options.input_shape) {
      spec.input_shape = *m_options.input_shape;
    } else {
      if (dims.size() < 2 || dims.size() > 4)
        fail_model(fmt::format("input '{}': expected [N, C, H, W], [N, C, L] or [N, F], got {} dimensions", in.name(),
                               dims.size()));
      std::vector<std::int64_t> v;
      for (int i = 1; i < dims.size(); ++i) {
        if (!dims[i].has_dim_value())
          fail_model(fmt::format("input '{}': dimension {} is symbolic ('{}'); give --input-shape C,H,W", in.name(), i,
                                 dims[i].dim_param()));
        v.push_back(dims[i].dim_value());
      }
      // [N, C, L] is a C x L x 1 map (1-D ops are not supported; elementwise ones and channel ops are).
      spec.input_shape = v.size() == 3   ? Shape{v[0], v[1], v[2]}
                         : v.size() == 2 ? Shape{v[0], v[1], 1}
                                         : Shape{v[0], 1, 1};
    }
    m_rank[in.name()] = dims.size() >= 2 && dims.size() <= 4 ? dims.size() : 4;
    push(spec, in.name());
  }

  std::string unique(std::string name) {
    for (char& c : name)
      if (c == ':' || c == ' ' || c == ',') c = '_';
    std::string out = name;
    for (int k = 2; m_names.contains(out); ++k) out = fmt::format("{}_{}", name, k);
    m_names.insert(out);
    return out;
  }

  // A unique layer name for node n: its name, or its first output's.
  static std::string node_label(const onnx::NodeProto& n) {
    if (!n.name().empty()) return n.name();
    return n.output_size() > 0 ? n.output(0) : std::string("(unnamed)");
  }
  std::string layer_name(const onnx::NodeProto& n) { return unique(node_label(n)); }

  int push(LayerSpec spec, const std::string& output) {
    spec.where = {m_path, 0, 0};  // shape errors name the file
    m_specs.push_back(std::move(spec));
    const int index = static_cast<int>(m_specs.size()) - 1;
    m_values[output] = Value{index, nullptr};
    return index;
  }

  const Value& value(const onnx::NodeProto& n, int i) {
    if (i >= n.input_size() || n.input(i).empty()) fail(n, fmt::format("input {} is missing", i));
    const auto it = m_values.find(n.input(i));
    if (it == m_values.end()) fail(n, fmt::format("input '{}' is not produced by any supported node", n.input(i)));
    return it->second;
  }
  int layer_input(const onnx::NodeProto& n, int i) {
    const Value& v = value(n, i);
    if (v.layer < 0) fail(n, fmt::format("input '{}' must be computed, not a constant", n.input(i)));
    return v.layer;
  }
  const NamedTensor& constant_input(const onnx::NodeProto& n, int i) {
    const Value& v = value(n, i);
    if (!v.constant) fail(n, fmt::format("input '{}' must be a constant (initializer)", n.input(i)));
    if (v.constant->data.empty()) fail(n, fmt::format("the constant '{}' holds no values", n.input(i)));
    return *v.constant;
  }
  bool has_input(const onnx::NodeProto& n, int i) const { return i < n.input_size() && !n.input(i).empty(); }

  // The layer may absorb this node (its output, the node's input `input`, feeds only this node, and
  // the layer has no activation yet).
  bool absorbable(const onnx::NodeProto& n, int layer, int input = 0) const {
    const auto uses = m_uses.find(n.input(input));
    return uses != m_uses.end() && uses->second == 1 &&
           m_specs[static_cast<std::size_t>(layer)].activation == Activation::None;
  }
  void alias(const onnx::NodeProto& n, int layer) { m_values[n.output(0)] = Value{layer, nullptr}; }

  // A scale layer y = x * scale[c] + shift[c] (one value: all channels) reading `input`, for node n.
  int push_scale(const onnx::NodeProto& n, int input, std::vector<float> scale, std::vector<float> shift) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::Scale;
    spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
    auto values = std::make_shared<LayerValues>();
    values->weights = std::move(scale);
    values->bias = std::move(shift);
    spec.values = values;
    return push(spec, n.output(0));
  }

  // The version of the default operator set (ai.onnx) the model imports; 1 if it names none.
  std::int64_t opset() const {
    for (const auto& o : m_model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
    return 1;
  }

  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static std::int64_t int_attr(const onnx::NodeProto& n, const char* name, std::int64_t def) {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  static float float_attr(const onnx::NodeProto& n, const char* name, float def) {
    const auto* a = attr(n, name);
    return a ? a->f() : def;
  }
  static std::vector<std::int64_t> ints_attr(const onnx::NodeProto& n, const char* name) {
    const auto* a = attr(n, name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : std::vector<std::int64_t>{};
  }

  void window(const onnx::NodeProto& n, Window& w, bool kernel_from_attr) {
    const std::string auto_pad = attr(n, "auto_pad") ? attr(n, "auto_pad")->s() : "NOTSET";
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")
      w.auto_pad = auto_pad == "SAME_UPPER" ? AutoPad::SameUpper : AutoPad::SameLower;
    else if (auto_pad != "NOTSET" && auto_pad != "VALID")
      fail(n, fmt::format("auto_pad '{}' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER are)", auto_pad));
    if (kernel_from_attr) {
      const auto k = ints_attr(n, "kernel_shape");
      if (k.size() != 2) fail(n, "expected a 2-D kernel_shape");
      w.kernel_h = k[0];
      w.kernel_w = k[1];
    }
    const auto strides = ints_attr(n, "strides");
    if (!strides.empty()) {
      if (strides.size() != 2) fail(n, "expected 2 strides");
      w.stride_h = strides[0];
      w.stride_w = strides[1];
    }
    const auto pads = ints_attr(n, "pads");
    if (!pads.empty()) {
      if (w.auto_pad != AutoPad::None) fail(n, "pads and auto_pad SAME together");
      if (pads.size() != 4) fail(n, "expected 4 pads");
      w.pad_h = pads[0];
      w.pad_w = pads[1];
      w.pad_h_end = pads[2];
      w.pad_w_end = pads[3];
    }
    const auto dil = ints_attr(n, "dilations");
    if (!dil.empty()) {
      if (dil.size() != 2) fail(n, "expected 2 dilations");
      w.dilation_h = dil[0];
      w.dilation_w = dil[1];
    }
  }

  // The values of a layer being built (every LayerValues here was created non-const by this importer).
  LayerValues& values_of(int layer) {
    auto& spec = m_specs[static_cast<std::size_t>(layer)];
    if (!spec.values) spec.values = std::make_shared<LayerValues>();
    return const_cast<LayerValues&>(*spec.values);
  }

  void node(const onnx::NodeProto& n) {
    if (m_skipped.contains(&n)) return;  // imported with an earlier node (a channel shuffle)
    const std::string& op = n.op_type();
    if (n.output_size() < 1 || n.output(0).empty()) fail(n, "the node has no output");
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      fail(n, fmt::format("operator domain '{}' is not supported", n.domain()));
    if (op == "Constant") {
      const auto* a = attr(n, "value");
      if (!a) fail(n, "only the 'value' form of Constant is supported");
      NamedTensor t = from_proto(a->t(), m_path);
      t.name = n.output(0);
      add_constant(std::move(t));
    } else if (op == "Identity" || op == "Dropout") {
      const Value v = value(n, 0);
      m_values[n.output(0)] = v;
    } else if (op == "Pad") {
      pad(n);
    } else if (op == "Transpose") {
      transpose(n);
    } else if (op == "Flatten" || op == "Reshape") {
      flatten(n);
    } else if (op == "Conv") {
      conv(n);
    } else if (op == "ConvTranspose") {
      conv_transpose(n);
    } else if (op == "Resize" || op == "Upsample") {
      resize(n);
    } else if (op == "Slice") {
      slice(n);
    } else if (op == "Split") {
      split(n);
    } else if (op == "Gemm" || op == "MatMul") {
      gemm(n);
    } else if (op == "BatchNormalization") {
      batchnorm(n);
    } else if (op == "Relu" || op == "Clip" || op == "Sigmoid" || op == "HardSigmoid" || op == "HardSwish" ||
               op == "Softmax" || op == "Tanh" || op == "LeakyRelu" || op == "PRelu" || op == "Max" || op == "Min" ||
               op == "Exp") {
      activation(n);
    } else if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      pool(n);
    } else if (op == "ReduceMean" || op == "ReduceMax") {
      reduce(n);
    } else if (op == "Squeeze" || op == "Unsqueeze") {
      view_change(n);
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      arithmetic(n);
    } else if (op == "Concat" && n.input_size() == 1) {  // one input: the identity
      alias(n, layer_input(n, 0));
    } else if (op == "Concat") {
      if (axis_attr(n, 1) != 1) fail(n, "only concatenation along the channel axis (1) is supported");
      LayerSpec spec;
      spec.name = layer_name(n);
      spec.op = LayerOp::Concat;
      for (int i = 0; i < n.input_size(); ++i)
        spec.inputs.push_back(m_specs[static_cast<std::size_t>(layer_input(n, i))].name);
      push(spec, n.output(0));
    } else {
      fail(n, fmt::format("unsupported operator; supported: {}", fmt::join(supported_ops(), ", ")));
    }
    // The ONNX rank of what the node computed: 2 for [N, F] rows (Flatten, Reshape, Gemm/MatMul), 4 for
    // maps (conv, pooling, pad), else the largest rank of its computed inputs (the other supported
    // operators keep the layout).
    const int handler_rank = std::exchange(m_node_rank, 0);  // set by a handler that knows it
    int rank = 0;
    if (op == "Flatten" || op == "Reshape" || op == "Gemm" || op == "MatMul")
      rank = 2;
    else if (op == "Conv" || op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" ||
             op == "GlobalMaxPool" || op == "Pad" || op == "ConvTranspose" || op == "Resize" || op == "Upsample")
      rank = 4;
    else
      for (const auto& in : n.input())
        if (const auto it = m_rank.find(in); it != m_rank.end()) rank = std::max(rank, it->second);
    if (handler_rank > 0) rank = handler_rank;
    if (rank > 0) m_rank[n.output(0)] = rank;
  }

  // The node's `axis` attribute (or `def`), negative values counted from the rank of its first input.
  std::int64_t axis_attr(const onnx::NodeProto& n, std::int64_t def) const {
    const std::int64_t axis = int_attr(n, "axis", def);
    return axis < 0 ? axis + rank_of(n.input(0)) : axis;
  }

  // The ONNX rank of a computed value (4 if not known).
  int rank_of(const std::string& value) const {
    const auto it = m_rank.find(value);
    return it == m_rank.end() ? 4 : it->second;
  }

  // Transposing a 2-D constant (a weight matrix) is folded; on computed tensors only the identity
  // permutation (a no-op) is accepted.
  void transpose(const onnx::NodeProto& n) {
    const Value v = value(n, 0);
    const auto perm = ints_attr(n, "perm");
    if (v.layer >= 0) {
      // No perm reverses the dimensions (not the identity on the 2-D and more tensors imported here).
      bool identity = !perm.empty();
      for (std::size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<std::int64_t>(i);
      if (!identity) fail(n, "only layout-preserving transposes of computed tensors (perm 0, 1, 2, ...) are supported");
      alias(n, v.layer);
      return;
    }
    const NamedTensor& c = *v.constant;
    if (c.dims.size() != 2 || !(perm.empty() || (perm.size() == 2 && perm[0] == 1 && perm[1] == 0)))
      fail(n, "only 2-D constants can be transposed");
    NamedTensor t;
    t.name = n.output(0);
    t.dims = {c.dims[1], c.dims[0]};
    t.data.resize(c.data.size());
    for (std::int64_t r = 0; r < c.dims[0]; ++r)
      for (std::int64_t k = 0; k < c.dims[1]; ++k)
        t.data[static_cast<std::size_t>(k * c.dims[0] + r)] = c.data[static_cast<std::size_t>(r * c.dims[1] + k)];
    add_constant(std::move(t));
  }

  // Padding of height and width. Zero padding read only by convs (without auto_pad) is folded into
  // their pads; anything else is a pad layer.
  void pad(const onnx::NodeProto& n) {
    const std::string mode = attr(n, "mode") ? attr(n, "mode")->s() : "constant";
    Window w;
    if (mode == "edge")
      w.pad_mode = PadMode::Edge;
    else if (mode == "reflect")
      w.pad_mode = PadMode::Reflect;
    else if (mode != "constant")
      fail(n, fmt::format("mode '{}' is not supported (constant, edge and reflect are)", mode));
    std::vector<std::int64_t> pads = ints_attr(n, attr(n, "paddings") ? "paddings" : "pads");  // opset 1: paddings
    if (has_input(n, 1)) {
      const NamedTensor& t = constant_input(n, 1);
      pads.assign(t.data.begin(), t.data.end());
    }
    w.pad_value = float_attr(n, "value", 0);
    if (has_input(n, 2)) w.pad_value = constant_input(n, 2).data.at(0);
    if (has_input(n, 3)) fail(n, "the axes input is not supported (pads for all 4 axes are)");
    if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5])
      fail(n, "only padding of height and width of a 4-D tensor is supported");
    if (std::any_of(pads.begin(), pads.end(), [](std::int64_t p) { return p < 0; }))
      fail(n, "negative pads (cropping) are not supported");
    w.pad_h = pads[2];
    w.pad_w = pads[3];
    w.pad_h_end = pads[6];
    w.pad_w_end = pads[7];
    const int input = layer_input(n, 0);
    const auto& readers = m_readers[n.output(0)];
    const bool foldable = w.pad_mode == PadMode::Constant && w.pad_value == 0 && !readers.empty() &&
                          static_cast<int>(readers.size()) == m_uses[n.output(0)] &&
                          std::all_of(readers.begin(), readers.end(), [&](const onnx::NodeProto* r) {
                            return r->op_type() == "Conv" && r->input(0) == n.output(0) &&
                                   (!attr(*r, "auto_pad") || attr(*r, "auto_pad")->s() == "NOTSET");
                          });
    if (foldable) {
      m_pads[n.output(0)] = {w.pad_h, w.pad_w, w.pad_h_end, w.pad_w_end};
      alias(n, input);
      return;
    }
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::Pad;
    spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
    spec.window = w;
    push(spec, n.output(0));
  }

  void flatten(const onnx::NodeProto& n) {
    if (n.op_type() == "Flatten" && axis_attr(n, 1) != 1) fail(n, "only axis 1 is supported");
    if (n.op_type() == "Reshape") {
      const NamedTensor& shape = constant_input(n, 1);
      if (shape.data.size() == 5 && channel_shuffle(n, shape)) return;
      if (shape.data.size() != 2) {  // e.g. [N, C] -> [N, C, 1, 1]
        view_change(n);
        return;
      }
      if (!(shape.data[1] == -1 || shape.data[1] > 0)) fail(n, "only reshapes to [N, -1] (flattening) are supported");
      if (const auto features = static_cast<std::int64_t>(shape.data[1]); features > 0)  // all of C x H x W
        m_shape_checks.push_back({&n, m_specs[static_cast<std::size_t>(layer_input(n, 0))].name,
                                  [features](const Shape& s) {
                                    return s.count() == features
                                               ? std::string()
                                               : fmt::format("[N, {}] is not a flattening of", features);
                                  },
                                  "(only reshapes to [N, C x H x W] are supported)"});
    }
    alias(n, layer_input(n, 0));
  }

  void conv(const onnx::NodeProto& n) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::Conv;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    const NamedTensor& w = constant_input(n, 1);
    if (w.dims.size() != 4) fail(n, "expected a 4-D weight tensor [M, C/group, kH, kW]");
    window(n, spec.window, false);
    if (const auto it = m_pads.find(n.input(0)); it != m_pads.end()) {
      spec.window.pad_h += it->second[0];
      spec.window.pad_w += it->second[1];
      spec.window.pad_h_end += it->second[2];
      spec.window.pad_w_end += it->second[3];
    }
    spec.window.kernel_h = w.dims[2];
    spec.window.kernel_w = w.dims[3];
    spec.groups = int_attr(n, "group", 1);
    spec.out_channels = w.dims[0];
    push_weighted(n, std::move(spec), w);
  }

  // A conv or transposed conv: its weights `w` as stored, the bias from input 2 if given.
  void push_weighted(const onnx::NodeProto& n, LayerSpec spec, const NamedTensor& w) {
    auto values = std::make_shared<LayerValues>();
    values->weights = w.data;
    if (has_input(n, 2)) {
      values->bias = constant_input(n, 2).data;
      spec.bias = true;
    }
    spec.values = values;
    push(std::move(spec), n.output(0));
  }

  // ConvTranspose: weights [C_in, C_out / group, kH, kW] kept as ONNX stores them; explicit pads,
  // or the output_shape attribute (pads derived as ONNX says: the total split evenly, the odd one at
  // the end unless auto_pad is SAME_LOWER).
  void conv_transpose(const onnx::NodeProto& n) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::ConvTranspose;
    const int input = layer_input(n, 0);
    spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
    const NamedTensor& w = constant_input(n, 1);
    if (w.dims.size() != 4) fail(n, "expected a 4-D weight tensor [C, M/group, kH, kW]");
    const std::string auto_pad = attr(n, "auto_pad") ? attr(n, "auto_pad")->s() : "NOTSET";
    Window& win = spec.window;
    const auto strides = ints_attr(n, "strides"), dilations = ints_attr(n, "dilations"), pads = ints_attr(n, "pads");
    const auto out_pad = ints_attr(n, "output_padding"), out_shape = ints_attr(n, "output_shape");
    if ((!strides.empty() && strides.size() != 2) || (!dilations.empty() && dilations.size() != 2) ||
        (!pads.empty() && pads.size() != 4) || (!out_pad.empty() && out_pad.size() != 2))
      fail(n, "only 2-D transposed convolutions are supported");
    win.kernel_h = w.dims[2];
    win.kernel_w = w.dims[3];
    if (!strides.empty()) std::tie(win.stride_h, win.stride_w) = std::pair{strides[0], strides[1]};
    if (!dilations.empty()) std::tie(win.dilation_h, win.dilation_w) = std::pair{dilations[0], dilations[1]};
    if (!out_pad.empty()) std::tie(win.output_pad_h, win.output_pad_w) = std::pair{out_pad[0], out_pad[1]};
    if (win.output_pad_h < 0 || win.output_pad_w < 0 || win.output_pad_h >= std::max(win.stride_h, win.dilation_h) ||
        win.output_pad_w >= std::max(win.stride_w, win.dilation_w))
      fail(n, "output_padding must be from 0 to below the stride (or dilation)");
    if (!pads.empty()) {
      win.pad_h = pads[0];
      win.pad_w = pads[1];
      win.pad_h_end = pads[2];
      win.pad_w_end = pads[3];
    }
    if (!out_shape.empty() || (auto_pad != "NOTSET" && auto_pad != "VALID")) {
      // total padding = stride (in - 1) + output_padding + dilation (k - 1) + 1 - out
      const auto in_shape = map_of(n.input(0));
      if (!in_shape) fail(n, "output_shape or auto_pad SAME needs the input's static shape (give --input-shape)");
      const std::array<std::int64_t, 2> in{(*in_shape)[1], (*in_shape)[2]};
      std::array<std::int64_t, 2> target{in[0] * win.stride_h, in[1] * win.stride_w};  // SAME: in x stride
      if (!out_shape.empty()) {
        if (out_shape.size() != 2) fail(n, "only a 2-D output_shape is supported");
        target = {out_shape[0], out_shape[1]};
      }
      const std::array<std::int64_t, 2> k{win.kernel_h, win.kernel_w}, st{win.stride_h, win.stride_w},
          d{win.dilation_h, win.dilation_w}, op{win.output_pad_h, win.output_pad_w};
      std::array<std::int64_t, 2> begin{}, end{};
      for (std::size_t a = 0; a < 2; ++a) {
        const std::int64_t total = st[a] * (in[a] - 1) + op[a] + d[a] * (k[a] - 1) + 1 - target[a];
        if (total < 0) {  // a larger output: rows / columns after the last window (as output_padding)
          (a == 0 ? win.output_pad_h : win.output_pad_w) += -total;
          continue;
        }
        begin[a] = auto_pad == "SAME_LOWER" ? total - total / 2 : total / 2;
        end[a] = total - begin[a];
      }
      win.pad_h = begin[0];
      win.pad_w = begin[1];
      win.pad_h_end = end[0];
      win.pad_w_end = end[1];
    }
    spec.groups = int_attr(n, "group", 1);
    spec.out_channels = w.dims[1] * spec.groups;
    push_weighted(n, std::move(spec), w);
  }

  // Resize (opset 10+: scales or sizes; opset 11+: coordinate_transformation_mode, nearest_mode) and
  // Upsample (opset 7-9: asymmetric coordinates, nearest rounds down) of height and width.
  void resize(const onnx::NodeProto& n) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::Resize;
    const int input = layer_input(n, 0);
    spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
    ResizeSpec& r = spec.resize;
    const bool upsample = n.op_type() == "Upsample", old = upsample || opset() < 11;
    const std::string mode = attr(n, "mode") ? attr(n, "mode")->s() : "nearest";
    if (mode == "linear" || mode == "bilinear")
      r.mode = ResizeMode::Linear;
    else if (mode != "nearest")
      fail(n, fmt::format("mode '{}' is not supported (nearest and linear are)", mode));
    r.transform = ResizeTransform::Asymmetric;
    r.nearest = NearestRounding::Floor;
    if (!old) {
      const std::string t =
          attr(n, "coordinate_transformation_mode") ? attr(n, "coordinate_transformation_mode")->s() : "half_pixel";
      if (t == "half_pixel")
        r.transform = ResizeTransform::HalfPixel;
      else if (t == "pytorch_half_pixel")
        r.transform = ResizeTransform::PytorchHalfPixel;
      else if (t == "align_corners")
        r.transform = ResizeTransform::AlignCorners;
      else if (t != "asymmetric")
        fail(n, fmt::format("coordinate_transformation_mode '{}' is not supported (half_pixel, pytorch_half_pixel, "
                            "align_corners and asymmetric are)",
                            t));
      const std::string nm = attr(n, "nearest_mode") ? attr(n, "nearest_mode")->s() : "round_prefer_floor";
      if (nm == "round_prefer_floor")
        r.nearest = NearestRounding::RoundPreferFloor;
      else if (nm == "round_prefer_ceil")
        r.nearest = NearestRounding::RoundPreferCeil;
      else if (nm == "ceil")
        r.nearest = NearestRounding::Ceil;
      else if (nm != "floor")
        fail(n, fmt::format("nearest_mode '{}' is not supported", nm));
    }
    // Scales: input 1 (opset 9-10), 2 (11+), or the attribute (opset 7); sizes: input 3 (11+).
    std::vector<float> scales;
    if (upsample && attr(n, "scales")) {
      const auto* a = attr(n, "scales");
      scales.assign(a->floats().begin(), a->floats().end());
    } else if (has_input(n, old ? 1 : 2)) {
      const Value& v = value(n, old ? 1 : 2);
      if (!v.constant) fail(n, "the scales must be a constant");
      scales = v.constant->data;  // empty: not given (sizes are)
    }
    const auto in = map_of(n.input(0));
    if (!scales.empty()) {
      if (scales.size() != 4 || scales[0] != 1 || scales[1] != 1 || !(scales[2] > 0) || !(scales[3] > 0))
        fail(n, "only scales [1, 1, height, width] with positive factors are supported");
      r.scale_h = scales[2];  // the output size is floor(input x scale), once shapes are known
      r.scale_w = scales[3];
    } else if (!old && has_input(n, 3)) {
      const std::vector<float>& sizes = constant_input(n, 3).data;
      if (sizes.size() != 4) fail(n, "only sizes [N, C, height, width] are supported");
      if (in && (sizes[1] != static_cast<float>((*in)[0]) || sizes[0] != 1))
        fail(n, "only resizes of height and width are supported");
      if (!(sizes[2] >= 1 && sizes[3] >= 1 && sizes[2] <= static_cast<float>(kMaxDimension) &&
            sizes[3] <= static_cast<float>(kMaxDimension)))
        fail(n,
             fmt::format("sizes {}x{}: expected a height and width from 1 to {}", sizes[2], sizes[3], kMaxDimension));
      r.height = static_cast<std::int64_t>(sizes[2]);
      r.width = static_cast<std::int64_t>(sizes[3]);
    } else {
      fail(n, "neither scales nor sizes are given as constants");
    }
    if (rank_of(n.input(0)) != 4) fail(n, "only resizes of a [N, C, H, W] map are supported");
    push(spec, n.output(0));
  }

  void gemm(const onnx::NodeProto& n) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::FullyConnected;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    const NamedTensor& b = constant_input(n, 1);
    if (b.dims.size() != 2) fail(n, "expected a 2-D constant weight matrix");
    if (const int r = rank_of(n.input(0)); r != 2)
      fail(n, fmt::format("the input has rank {} (a product per row of every map would follow); only [N, F] "
                          "inputs are supported (Flatten first)",
                          r));
    const bool gemm = n.op_type() == "Gemm";
    if (gemm && int_attr(n, "transA", 0) != 0) fail(n, "transA = 1 is not supported");
    const bool trans_b = gemm && int_attr(n, "transB", 0) != 0;
    const float alpha = gemm ? float_attr(n, "alpha", 1) : 1, beta = gemm ? float_attr(n, "beta", 1) : 1;
    const std::int64_t out = trans_b ? b.dims[0] : b.dims[1], in = trans_b ? b.dims[1] : b.dims[0];
    auto values = std::make_shared<LayerValues>();
    values->weights.resize(static_cast<std::size_t>(out * in));
    for (std::int64_t o = 0; o < out; ++o)  // stored [out][in]
      for (std::int64_t i = 0; i < in; ++i)
        values->weights[static_cast<std::size_t>(o * in + i)] =
            alpha * b.data[static_cast<std::size_t>(trans_b ? o * in + i : i * out + o)];
    spec.bias = false;
    if (gemm && has_input(n, 2)) {
      const NamedTensor& c = constant_input(n, 2);
      if (c.data.size() != 1 && static_cast<std::int64_t>(c.data.size()) != out)
        fail(n, "the bias C must have one value or one per output");
      values->bias.assign(static_cast<std::size_t>(out), 0.0f);
      for (std::int64_t o = 0; o < out; ++o)
        values->bias[static_cast<std::size_t>(o)] = beta * c.data[c.data.size() == 1 ? 0 : static_cast<std::size_t>(o)];
      spec.bias = true;
    }
    spec.out_channels = out;
    spec.values = values;
    push(spec, n.output(0));
  }

  // After a conv or FC used only by it: folded into the weights and bias. Elsewhere (e.g. on the
  // input): a per-channel scale layer, y = k x + (shift - mean k).
  void batchnorm(const onnx::NodeProto& n) {
    const int l = layer_input(n, 0);
    if (int_attr(n, "training_mode", 0) != 0) fail(n, "training_mode is not supported");
    const auto& scale = constant_input(n, 1).data;
    const auto& shift = constant_input(n, 2).data;
    const auto& mean = constant_input(n, 3).data;
    const auto& var = constant_input(n, 4).data;
    const float eps = float_attr(n, "epsilon", 1e-5f);
    const std::size_t channels = scale.size();
    if (shift.size() != channels || mean.size() != channels || var.size() != channels)
      fail(n, "scale, B, mean and var must have one value per channel");
    std::vector<float> k(channels), b(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      k[c] = scale[c] / std::sqrt(var[c] + eps);
      b[c] = shift[c] - mean[c] * k[c];
    }
    LayerSpec& spec = m_specs[static_cast<std::size_t>(l)];
    const bool foldable = (spec.op == LayerOp::Conv || spec.op == LayerOp::FullyConnected) && absorbable(n, l);
    if (!foldable) {
      push_scale(n, l, std::move(k), std::move(b));
      return;
    }
    if (channels != static_cast<std::size_t>(spec.out_channels))
      fail(n, fmt::format("expected {} values per parameter", spec.out_channels));
    LayerValues& v = values_of(l);
    if (v.bias.empty()) v.bias.assign(channels, 0.0f);
    const std::size_t per = v.weights.size() / channels;
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t j = 0; j < per; ++j) v.weights[c * per + j] *= k[c];
      v.bias[c] = v.bias[c] * k[c] + b[c];
    }
    spec.bias = true;
    spec.batchnorm = true;
    ++m_folded_bn;
    alias(n, l);
  }

  // Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Softmax: the producing layer's activation
  // when it is used by nothing else; otherwise an identity scale layer that carries it.
  void activation(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    LayerSpec act;
    std::string all_values;  // Softmax over all values: why
    int data_input = 0;      // Max/Min: the computed operand
    if (op == "Relu" || op == "Clip" || op == "Max" || op == "Min") {
      act.activation = Activation::Relu;
      if (op == "Clip" || op == "Max" || op == "Min") {
        float lo = float_attr(n, "min", -INFINITY), hi = float_attr(n, "max", INFINITY);
        if (op == "Clip" && has_input(n, 1)) lo = constant_input(n, 1).data.at(0);
        if (op == "Clip" && has_input(n, 2)) hi = constant_input(n, 2).data.at(0);
        if (op == "Max" || op == "Min") {  // max(x, c) / min(x, c) with a scalar constant c: a clip
          const auto operand = [&](int i) { return i < n.input_size() ? value(n, i) : Value{}; };
          data_input = operand(0).layer >= 0 ? 0 : 1;
          const Value c = operand(1 - data_input);
          if (n.input_size() != 2 || operand(data_input).layer < 0 || !c.constant || c.constant->data.size() != 1)
            fail(n, "only the maximum or minimum of a tensor and a scalar constant is supported (as a clip)");
          (op == "Max" ? lo : hi) = c.constant->data[0];
        }
        if (std::isnan(lo) || std::isnan(hi) || lo > hi)
          fail(n, fmt::format("expected min <= max, got min {} and max {}", lo, hi));
        if (lo == 0 && hi > 0) {  // ReLU, ReLU6
          act.relu_max = std::isinf(hi) ? 0 : hi;
        } else {
          act.activation = Activation::Clip;
          act.clip_min = lo;
          act.clip_max = hi;
        }
      }
    } else if (op == "Sigmoid") {
      act.activation = Activation::Sigmoid;
    } else if (op == "HardSigmoid") {
      act.activation = Activation::HardSigmoid;
      act.hard_alpha = float_attr(n, "alpha", 0.2f);
      act.hard_beta = float_attr(n, "beta", 0.5f);
    } else if (op == "HardSwish") {
      act.activation = Activation::HardSwish;
    } else if (op == "Tanh") {
      act.activation = Activation::Tanh;
    } else if (op == "Exp") {
      act.activation = Activation::Exp;
    } else if (op == "LeakyRelu") {
      act.activation = Activation::LeakyRelu;
      act.leaky_alpha = float_attr(n, "alpha", 0.01f);
    } else if (op == "PRelu") {  // slopes: one, or one per channel ([C], [C, 1, 1], [1, C, 1, 1])
      act.activation = Activation::PRelu;
      const NamedTensor& slope = constant_input(n, 1);
      std::int64_t varying = 0;
      for (std::int64_t d : slope.dims) varying += d != 1;
      if (varying > 1) fail(n, "only one slope, or one per channel, is supported");
      act.prelu_slope = slope.data;
      const auto slopes = static_cast<std::int64_t>(slope.data.size());
      if (slopes > 1)
        m_shape_checks.push_back({&n, m_specs[static_cast<std::size_t>(layer_input(n, 0))].name,
                                  [slopes](const Shape& s) {
                                    return s.channels == slopes
                                               ? std::string()
                                               : fmt::format("{} slopes do not match the channels of", slopes);
                                  },
                                  "(one slope, or one per channel)"});
    } else {                                                            // Softmax
      if (m_options.logits && m_graph_outputs.contains(n.output(0))) {  // left out: the output is its input
        alias(n, layer_input(n, 0));
        ++m_left_out_softmax;
        return;
      }
      act.activation = Activation::Softmax;
      const std::int64_t axis = axis_attr(n, opset() < 13 ? 1 : -1);
      const bool rows = rank_of(n.input(0)) == 2;
      if (axis != 1) fail(n, "only a softmax over channels (axis 1, or 1 / -1 of [N, F] rows) is supported");
      // Over every C x H x W value: on rows (a flattened map), and over axis 1 before opset 13.
      if (rows || opset() < 13) all_values = rows ? "its input is a flattened map" : "axis 1 before opset 13";
    }
    const int l = layer_input(n, data_input);
    // A clamp after a clamp (ReLU then ReLU6, tf2onnx's Max then Min) is one clamp to the two
    // ranges' intersection, in the same output path.
    if (const auto merged = merged_clamp(n, l, data_input, act)) {
      LayerSpec& t = m_specs[static_cast<std::size_t>(l)];
      const auto [lo, hi] = *merged;
      t.activation = lo == 0 && hi > 0 ? Activation::Relu : Activation::Clip;
      t.relu_max = t.activation == Activation::Relu && !std::isinf(hi) ? hi : 0;
      t.clip_min = lo;
      t.clip_max = hi;
      alias(n, l);
      return;
    }
    int target = l;
    if (m_specs[static_cast<std::size_t>(l)].op == LayerOp::Input || !absorbable(n, l, data_input))
      target = push_scale(n, l, {1.0f}, {0.0f});  // identity, to carry the activation
    LayerSpec& t = m_specs[static_cast<std::size_t>(target)];
    t.activation = act.activation;
    t.relu_max = act.relu_max;
    t.hard_alpha = act.hard_alpha;
    t.clip_min = act.clip_min;
    t.clip_max = act.clip_max;
    t.hard_beta = act.hard_beta;
    t.leaky_alpha = act.leaky_alpha;
    t.prelu_slope = act.prelu_slope;
    if (!all_values.empty())  // the same as over channels when H = W = 1
      m_shape_checks.push_back({&n, t.name,
                                [all_values](const Shape& s) {
                                  return s.height * s.width == 1
                                             ? std::string()
                                             : fmt::format(
                                                   "a softmax over all C x H x W values ({}) is not "
                                                   "supported on",
                                                   all_values);
                                },
                                "(only over channels)"});
    alias(n, target);
  }

  // The C x H x W map a static ONNX shape (batch first) stands for: [N, C, H, W], [N, C, L] as
  // C x L x 1, [N, F] as F x 1 x 1; none for other ranks or unknown shapes.
  std::optional<std::array<std::int64_t, 3>> map_of(const std::string& value) const {
    const auto it = m_prepared.shapes.find(value);
    if (it == m_prepared.shapes.end() || it->second.size() < 2 || it->second.size() > 4) return std::nullopt;
    const auto& d = it->second;
    return std::array<std::int64_t, 3>{d[1], d.size() > 2 ? d[2] : 1, d.size() > 3 ? d[3] : 1};
  }

  // Squeeze, Unsqueeze, Reshape that keep the C x H x W map (e.g. [N, C, 1, 1] <-> [N, C]): no layer.
  void view_change(const onnx::NodeProto& n) {
    const int input = layer_input(n, 0);
    const auto from = map_of(n.input(0)), to = map_of(n.output(0));
    if (!from || !to) fail(n, "the shapes are not static (give --input-shape): a reshape needs its output's C x H x W");
    const std::int64_t batch_in = m_prepared.shapes.at(n.input(0)).front(),
                       batch_out = m_prepared.shapes.at(n.output(0)).front();
    if (batch_in != batch_out)
      fail(n, fmt::format("moves values into or out of the batch ({} -> {}); only reshapes of each image are supported",
                          batch_in, batch_out));
    m_node_rank = static_cast<int>(m_prepared.shapes.at(n.output(0)).size());
    if (*from == *to) {  // e.g. [N, C, 1, 1] <-> [N, C]: the same map
      alias(n, input);
      return;
    }
    LayerSpec spec;  // the same values in order, under another C x H x W
    spec.name = layer_name(n);
    spec.op = LayerOp::Reshape;
    spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
    spec.view = Shape{(*to)[0], (*to)[1], (*to)[2]};
    push(spec, n.output(0));
  }

  // ShuffleNet's channel shuffle: Reshape [N, C, H, W] -> [N, g, C/g, H, W], Transpose (0, 2, 1, 3,
  // 4), Reshape back to [N, C, H, W], each read only by the next: one shuffle layer at the last
  // output; the other two nodes are skipped. False when the pattern does not match.
  bool channel_shuffle(const onnx::NodeProto& n, const NamedTensor& shape) {
    const auto only_reader = [&](const std::string& value) -> const onnx::NodeProto* {
      const auto r = m_readers.find(value);
      const auto uses = m_uses.find(value);
      return r != m_readers.end() && r->second.size() == 1 && uses != m_uses.end() && uses->second == 1
                 ? r->second.front()
                 : nullptr;
    };
    const onnx::NodeProto* t = only_reader(n.output(0));
    if (!t || t->op_type() != "Transpose" || ints_attr(*t, "perm") != std::vector<std::int64_t>{0, 2, 1, 3, 4})
      return false;
    const onnx::NodeProto* back = only_reader(t->output(0));
    if (!back || back->op_type() != "Reshape") return false;
    const auto from = map_of(n.input(0)), to = map_of(back->output(0));
    const auto groups = static_cast<std::int64_t>(shape.data[1]);
    if (!from || !to || *from != *to || groups < 1 || (*from)[0] % groups != 0) return false;
    LayerSpec spec;
    spec.name = layer_name(*back);
    spec.op = LayerOp::Shuffle;
    spec.groups = groups;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    push(spec, back->output(0));
    m_rank[back->output(0)] = rank_of(n.input(0));
    m_skipped.insert(t);
    m_skipped.insert(back);
    return true;
  }

  // The (C, H, W) axis of ONNX axis `axis` (0 .. rank-1) of a value of rank `rank` ([N, C, H, W],
  // [N, C, L], [N, F]); -1 for the batch axis.
  static int map_axis(std::int64_t axis, int) { return static_cast<int>(axis) - 1; }

  // Slice of a computed tensor with constant starts, ends, axes and positive steps (opset 1-9:
  // attributes); the batch axis must be kept whole.
  void slice(const onnx::NodeProto& n) {
    const int rank = rank_of(n.input(0));
    std::vector<std::int64_t> starts, ends, axes, steps;
    const auto ints_of = [&](int i) {
      std::vector<std::int64_t> v;
      for (float x : constant_input(n, i).data)  // int64 limits arrive as float (2^63): clamped, as ONNX does
        v.push_back(x >= 9.2e18f ? INT64_MAX : x <= -9.2e18f ? INT64_MIN : static_cast<std::int64_t>(x));
      return v;
    };
    if (opset() < 10) {
      starts = ints_attr(n, "starts");
      ends = ints_attr(n, "ends");
      axes = ints_attr(n, "axes");
    } else {
      starts = ints_of(1);
      ends = ints_of(2);
      if (has_input(n, 3)) axes = ints_of(3);
      if (has_input(n, 4)) steps = ints_of(4);
    }
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      fail(n, "starts, ends, axes and steps must have one entry per sliced axis");
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = LayerOp::Slice;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const std::int64_t axis = axes[k] < 0 ? axes[k] + rank : axes[k];
      if (axis < 0 || axis >= rank) fail(n, fmt::format("axis {} is outside a rank-{} tensor", axes[k], rank));
      const int a = map_axis(axis, rank);
      if (a < 0) {
        if (starts[k] != 0 || steps[k] != 1 || ends[k] < 1) fail(n, "slicing the batch axis is not supported");
        continue;
      }
      if (steps[k] < 1) fail(n, "only positive steps are supported");
      spec.slice.start[static_cast<std::size_t>(a)] = starts[k];
      spec.slice.end[static_cast<std::size_t>(a)] = ends[k];
      spec.slice.step[static_cast<std::size_t>(a)] = steps[k];
    }
    push(spec, n.output(0));
  }

  // Split: one slice layer per output along the axis (sizes from `split`, else equal parts).
  void split(const onnx::NodeProto& n) {
    const int rank = rank_of(n.input(0));
    std::int64_t axis = int_attr(n, "axis", 0);
    if (axis < 0) axis += rank;
    const int a = map_axis(axis, rank);
    if (axis < 0 || axis >= rank || a < 0) fail(n, "only splits of channels, height or width are supported");
    std::vector<std::int64_t> sizes = ints_attr(n, "split");
    if (has_input(n, 1))
      for (float x : constant_input(n, 1).data) sizes.push_back(static_cast<std::int64_t>(x));
    if (sizes.empty()) {
      const auto in = map_of(n.input(0));
      if (!in) fail(n, "equal parts need the input's static shape (give --input-shape)");
      const std::int64_t total = (*in)[static_cast<std::size_t>(a)], parts = n.output_size();
      if (total % parts != 0) fail(n, fmt::format("{} values do not split into {} equal parts", total, parts));
      sizes.assign(static_cast<std::size_t>(parts), total / parts);
    }
    if (static_cast<int>(sizes.size()) != n.output_size()) fail(n, "expected one split size per output");
    const int input = layer_input(n, 0);
    std::int64_t at = 0;
    for (int i = 0; i < n.output_size(); ++i) {
      const std::int64_t size = sizes[static_cast<std::size_t>(i)];
      if (size < 1 || size > kMaxDimension) fail(n, "split sizes must be from 1 to 2^24");
      if (n.output(i).empty()) {  // an output nothing reads, left unnamed
        at += size;
        continue;
      }
      LayerSpec spec;
      spec.name = unique(n.output(i));
      spec.op = LayerOp::Slice;
      spec.inputs = {m_specs[static_cast<std::size_t>(input)].name};
      spec.slice.start[static_cast<std::size_t>(a)] = at;
      at += size;
      spec.slice.end[static_cast<std::size_t>(a)] = at;
      push(spec, n.output(i));
      m_rank[n.output(i)] = rank;
    }
  }

  // ReduceMean / ReduceMax over height and width of a map: global average / max pooling.
  void reduce(const onnx::NodeProto& n) {
    std::vector<std::int64_t> axes = ints_attr(n, "axes");
    if (has_input(n, 1)) {  // opset 18: axes as an input
      const NamedTensor& t = constant_input(n, 1);
      axes.assign(t.data.begin(), t.data.end());
    }
    const int rank = rank_of(n.input(0));
    for (auto& a : axes)
      if (a < 0) a += rank;
    std::sort(axes.begin(), axes.end());
    if (rank != 4 || axes != std::vector<std::int64_t>{2, 3})
      fail(n, "only a reduction over height and width (axes 2, 3) of a map is supported (as global pooling)");
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = n.op_type() == "ReduceMax" ? LayerOp::MaxPool : LayerOp::AvgPool;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    spec.window.global = true;
    m_node_rank = int_attr(n, "keepdims", 1) != 0 ? 4 : 2;
    push(spec, n.output(0));
  }

  // The range [lo, hi] of a ReLU (with relu_max) or Clip activation, or none.
  static std::optional<std::pair<float, float>> clamp_range(const LayerAttributes& a) {
    if (a.activation == Activation::Relu) return std::pair{0.0f, a.relu_max > 0 ? a.relu_max : INFINITY};
    if (a.activation == Activation::Clip) return std::pair{a.clip_min, a.clip_max};
    return std::nullopt;
  }

  // Clamp `act` after layer l's clamp, when l's output feeds only n: the intersection of the two
  // ranges (none when either is not a clamp or they do not overlap).
  std::optional<std::pair<float, float>> merged_clamp(const onnx::NodeProto& n, int l, int input,
                                                      const LayerAttributes& act) const {
    const LayerSpec& spec = m_specs[static_cast<std::size_t>(l)];
    const auto first = clamp_range(spec), second = clamp_range(act);
    const auto uses = m_uses.find(n.input(input));
    if (!first || !second || spec.op == LayerOp::Input || uses == m_uses.end() || uses->second != 1)
      return std::nullopt;
    const float lo = std::max(first->first, second->first), hi = std::min(first->second, second->second);
    if (!(lo <= hi)) return std::nullopt;
    return std::pair{lo, hi};
  }

  void pool(const onnx::NodeProto& n) {
    LayerSpec spec;
    spec.name = layer_name(n);
    spec.op = n.op_type() == "MaxPool" || n.op_type() == "GlobalMaxPool" ? LayerOp::MaxPool : LayerOp::AvgPool;
    spec.inputs = {m_specs[static_cast<std::size_t>(layer_input(n, 0))].name};
    if (n.op_type() == "GlobalAveragePool" || n.op_type() == "GlobalMaxPool") {
      spec.window.global = true;
    } else {
      window(n, spec.window, true);
      spec.window.ceil_mode = int_attr(n, "ceil_mode", 0) != 0;
      spec.window.count_include_pad = int_attr(n, "count_include_pad", 0) != 0;
      if (spec.window.dilation_h != 1 || spec.window.dilation_w != 1) fail(n, "dilated pooling is not supported");
      if (n.output_size() > 1 && !n.output(1).empty()) fail(n, "the Indices output is not supported");
      if (spec.window.ceil_mode && (spec.window.pad_h || spec.window.pad_w || spec.window.pad_h_end ||
                                    spec.window.pad_w_end || spec.window.auto_pad != AutoPad::None))
        fail(n, "ceil_mode with padding is not supported");
    }
    push(spec, n.output(0));
  }

  void arithmetic(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    const Value a = value(n, 0), b = value(n, 1);
    if (a.layer >= 0 && b.layer >= 0) {
      if (op == "Div") fail(n, "Div of two computed tensors is not supported (Add, Sub and Mul are)");
      if (rank_of(n.input(0)) != rank_of(n.input(1)))  // ONNX would align the shorter shape with the last axes
        fail(n, fmt::format("operands of rank {} and {}: broadcasting across ranks is not supported",
                            rank_of(n.input(0)), rank_of(n.input(1))));
      int second = b.layer;
      if (op == "Sub") {  // a - b = a + (-1) b: a negating scale layer, then an add
        LayerSpec neg;
        neg.name = unique(fmt::format("{}_negate", node_label(n)));
        neg.op = LayerOp::Scale;
        neg.inputs = {m_specs[static_cast<std::size_t>(b.layer)].name};
        auto values = std::make_shared<LayerValues>();
        values->weights = {-1.0f};
        values->bias = {0.0f};
        neg.values = values;
        neg.where = {m_path, 0, 0};
        m_specs.push_back(std::move(neg));
        second = static_cast<int>(m_specs.size()) - 1;
        ++m_negated;
      }
      LayerSpec spec;
      spec.name = layer_name(n);
      spec.op = op == "Mul" ? LayerOp::Mul : LayerOp::Add;
      spec.inputs = {m_specs[static_cast<std::size_t>(a.layer)].name, m_specs[static_cast<std::size_t>(second)].name};
      push(spec, n.output(0));
      return;
    }
    if (a.layer < 0 && b.layer < 0) fail(n, "constant folding of two constants is not supported");
    if (b.layer >= 0 && op == "Div") fail(n, "a constant divided by a computed tensor is not supported");
    const int computed = a.layer >= 0 ? 0 : 1;  // which operand
    const int l = a.layer >= 0 ? a.layer : b.layer;
    const NamedTensor& c = *(a.layer >= 0 ? b.constant : a.constant);
    // ONNX broadcasting aligns the constant's dimensions with the tensor's last ones: one value per
    // channel means every dimension but the channel axis (1) is 1 ([C, 1, 1] for [N, C, H, W]).
    const int r = rank_of(n.input(computed));
    for (std::size_t d = 0; d < c.dims.size(); ++d) {
      const auto axis = r - static_cast<int>(c.dims.size()) + static_cast<int>(d);
      if (c.dims[d] != 1 && axis != 1)
        fail(n, fmt::format("the constant '{}' (dims [{}]) varies along axis {} of a rank-{} tensor; supported: "
                            "scalars and one value per channel (axis 1)",
                            c.name, fmt::join(c.dims, ", "), axis, r));
    }
    // A bias after MatMul/Gemm/Conv.
    LayerSpec& prev = m_specs[static_cast<std::size_t>(l)];
    if (op == "Add" && (prev.op == LayerOp::FullyConnected || prev.op == LayerOp::Conv) && absorbable(n, l, computed) &&
        static_cast<std::int64_t>(c.data.size()) == prev.out_channels) {
      LayerValues& v = values_of(l);
      if (v.bias.empty()) v.bias.assign(c.data.size(), 0.0f);
      for (std::size_t i = 0; i < c.data.size(); ++i) v.bias[i] += c.data[i];
      prev.bias = true;
      ++m_folded_bias;
      alias(n, l);
      return;
    }
    // Otherwise an elementwise scale layer (merged into a preceding one used only here).
    int target = l;
    if (prev.op != LayerOp::Scale || !absorbable(n, l, computed)) target = push_scale(n, l, {1.0f}, {0.0f});
    LayerValues& v = values_of(target);
    const std::size_t k = std::max(c.data.size(), v.weights.size());
    if (c.data.size() != 1 && v.weights.size() != 1 && c.data.size() != v.weights.size())
      fail(n, "constants must be scalars or one value per channel");
    if (v.weights.size() < k) {
      v.weights.resize(k, v.weights[0]);
      v.bias.resize(k, v.bias[0]);
    }
    for (std::size_t i = 0; i < k; ++i) {
      const float x = c.data[c.data.size() == 1 ? 0 : i];
      if (op == "Add") v.bias[i] += x;
      if (op == "Sub" && computed == 0) v.bias[i] -= x;
      if (op == "Sub" && computed == 1) {  // c - (k x + b)
        v.weights[i] = -v.weights[i];
        v.bias[i] = x - v.bias[i];
      }
      if (op == "Mul") {
        v.weights[i] *= x;
        v.bias[i] *= x;
      }
      if (op == "Div") {
        v.weights[i] /= x;
        v.bias[i] /= x;
      }
    }
    alias(n, target);
  }

  // Every layer's values have the size its shape calls for.
  void check_value_sizes(const Network& net) const {
    for (const Layer& l : net.layers()) {
      if (!l.values) continue;
      std::size_t want = 0, bias = 0;
      if (l.op == LayerOp::Conv || l.op == LayerOp::FullyConnected || l.op == LayerOp::ConvTranspose) {
        bias = l.bias ? static_cast<std::size_t>(l.op == LayerOp::FullyConnected ? l.gemm.n : l.output.channels) : 0;
        want = static_cast<std::size_t>(l.weights) - bias;
      } else if (l.op == LayerOp::Scale) {
        if (l.values->weights.size() != 1 && static_cast<std::int64_t>(l.values->weights.size()) != l.output.channels)
          fail_model(fmt::format("layer '{}': {} per-channel constants for {} channels", l.name,
                                 l.values->weights.size(), l.output.channels));
        continue;
      }
      if (l.values->weights.size() != want || l.values->bias.size() != bias)
        fail_model(
            fmt::format("layer '{}': the weight tensor has {} values (bias {}), the layer's shape needs {} (bias {})",
                        l.name, l.values->weights.size(), l.values->bias.size(), want, bias));
    }
  }

  std::string m_path;
  const onnx::ModelProto& m_model;
  const OnnxOptions& m_options;
  PreparedOnnx m_prepared;
  std::vector<std::unique_ptr<NamedTensor>> m_constants;
  std::map<std::string, Value> m_values;
  std::map<std::string, int> m_uses;
  std::map<std::string, std::vector<const onnx::NodeProto*>> m_readers;  // the nodes reading each value
  std::map<std::string, std::array<std::int64_t, 4>> m_pads;             // Pad outputs: top, left, bottom, right
  std::set<std::string> m_names;
  std::vector<LayerSpec> m_specs;
  bool m_input_seen = false;
  int m_folded_bn = 0;
  int m_folded_bias = 0;
  int m_negated = 0;
  int m_left_out_softmax = 0;
  std::set<std::string, std::less<>> m_graph_outputs;
  // Checks that need shapes, run once the network is built: on the output of `layer`, read by
  // `node`, `problem` says what is wrong ("" if nothing), `supported` what would be accepted.
  struct ShapeCheck {
    const onnx::NodeProto* node;
    std::string layer;
    std::function<std::string(const Shape&)> problem;
    std::string supported;
  };
  std::vector<ShapeCheck> m_shape_checks;
  std::map<std::string, int> m_rank;  // ONNX rank of computed values (2: [N, F] rows)
  int m_node_rank = 0;
  std::set<const onnx::NodeProto*> m_skipped;  // the rank a handler gave the node's output (0: the default rule)
};

}  // namespace

NamedTensor read_onnx_tensor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  onnx::TensorProto t;
  if (!t.ParseFromIstream(&in)) throw InputError({path, 0, 0}, "not a serialized ONNX TensorProto");
  return from_proto(t, path);
}

Network load_onnx(const std::string& path, const OnnxOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot open file for reading");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) throw InputError({path, 0, 0}, "not an ONNX model (protobuf parse failed)");
  // Graph inputs given as constants (the ONNX test cases' weights) are initializers to every stage.
  for (const NamedTensor& c : options.constants) {
    onnx::TensorProto& t = *model.mutable_graph()->add_initializer();
    t.set_name(c.name);
    for (std::int64_t d : c.dims) t.add_dims(d);
    int type = onnx::TensorProto::FLOAT;  // as the graph declares it (pads are int64)
    for (const auto& graph_input : model.graph().input())
      if (graph_input.name() == c.name) type = graph_input.type().tensor_type().elem_type();
    if (type == onnx::TensorProto::INT64 || type == onnx::TensorProto::INT32) {
      t.set_data_type(type);
      for (float v : c.data)
        type == onnx::TensorProto::INT64 ? t.add_int64_data(static_cast<std::int64_t>(v))
                                         : t.add_int32_data(static_cast<std::int32_t>(v));
    } else {
      t.set_data_type(onnx::TensorProto::FLOAT);
      for (float v : c.data) t.add_float_data(v);
    }
  }
  PreparedOnnx prepared = prepare_onnx(model, path, options.input_shape, supported_ops());
  return Importer(path, model, options, std::move(prepared)).run();
}

Network load_onnx_workload(const std::string& path, const WorkloadOptions& options) {
  OnnxOptions onnx;
  onnx.input_shape = options.input_shape;
  onnx.logits = options.logits;
  return load_onnx(path, onnx);
}

}  // namespace bitsim::sim
