// bitsim's YAML network format: a name, one input shape, and a list of layers.
#include <fmt/format.h>

#include "sim/base/yaml_fields.h"
#include "sim/workload.h"

namespace bitsim::sim {
namespace {

struct OpKeys {
  LayerOp op;
  std::vector<std::string> keys;  // allowed besides name, op, inputs
};

const std::vector<OpKeys>& op_table() {
  static const std::vector<OpKeys> table = {
      {LayerOp::Conv,
       {"out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias", "batchnorm", "relu", "ceil_mode"}},
      {LayerOp::FullyConnected, {"out_features", "bias", "batchnorm", "relu"}},
      {LayerOp::MaxPool, {"kernel", "stride", "padding", "ceil_mode", "global"}},
      {LayerOp::AvgPool, {"kernel", "stride", "padding", "ceil_mode", "global"}},
      {LayerOp::Add, {"relu"}},
      {LayerOp::Mul, {"relu"}},
      {LayerOp::Concat, {"relu"}},
  };
  return table;
}

class LayerReader {
 public:
  explicit LayerReader(const yaml::Reader& r) : m_r(r) {}

  // An int or a [height, width] pair.
  bool pair(const YAML::Node& node, const std::string& path, std::int64_t min, std::int64_t& h, std::int64_t& w) {
    if (node.IsSequence()) {
      if (node.size() != 2) {
        m_r.diag.expected(yaml::where(m_r.file, node), path, "an integer or [height, width]",
                          fmt::format("a list of {}", node.size()));
        return false;
      }
      const auto a = m_r.integer(node[0], path + "[0]", min, INT32_MAX);
      const auto b = m_r.integer(node[1], path + "[1]", min, INT32_MAX);
      if (!a || !b) return false;
      h = *a;
      w = *b;
      return true;
    }
    const auto v = m_r.integer(node, path, min, INT32_MAX);
    if (!v) return false;
    h = w = *v;
    return true;
  }

  std::optional<LayerSpec> read(const YAML::Node& node, std::size_t index) {
    const std::string at = fmt::format("layers[{}]", index);
    if (!m_r.require_map(node, at)) return std::nullopt;
    LayerSpec spec;
    spec.where = yaml::where(m_r.file, node);
    const auto name = node["name"] ? m_r.text(node["name"], at + ".name") : std::nullopt;
    if (!node["name"]) m_r.diag.error(spec.where, at + ".name: missing (every layer needs a name)");
    if (!name) return std::nullopt;
    spec.name = *name;
    const std::string path = fmt::format("layers.{}", spec.name);
    const OpKeys* keys = op_keys(node, path, spec.where);
    if (!keys) return std::nullopt;
    spec.op = keys->op;
    std::vector<std::string> allowed = {"name", "op", "inputs"};
    allowed.insert(allowed.end(), keys->keys.begin(), keys->keys.end());
    m_r.reject_unknown_keys(node, path, allowed);
    read_inputs(node, path, spec);
    read_flags(node, path, spec);
    switch (spec.op) {
      case LayerOp::Conv:
        read_conv(node, path, spec);
        break;
      case LayerOp::FullyConnected:
        required_count(node, path, "out_features", spec);
        break;
      case LayerOp::MaxPool:
      case LayerOp::AvgPool:
        read_pool(node, path, spec);
        break;
      case LayerOp::Add:
      case LayerOp::Concat:
      case LayerOp::Scale:
      case LayerOp::Mul:
      case LayerOp::Pad:
      case LayerOp::Input:
      case LayerOp::Resize:  // ONNX only: not in the YAML op table
      case LayerOp::ConvTranspose:
      case LayerOp::Slice:
      case LayerOp::Reshape:
      case LayerOp::Shuffle:
      case LayerOp::Transpose:
        break;
    }
    spec.window.pad_h_end = spec.window.pad_h;  // the YAML format pads symmetrically
    spec.window.pad_w_end = spec.window.pad_w;
    return spec;
  }

 private:
  // The layer's op and the keys it allows, or null (reported) for a missing or unknown op.
  const OpKeys* op_keys(const YAML::Node& node, const std::string& path, const SourceLocation& where) const {
    std::vector<std::string> op_names;
    for (const auto& o : op_table()) op_names.emplace_back(op_name(o.op));
    if (!node["op"]) {
      m_r.diag.error(where, fmt::format("{}.op: missing; expected one of: {}", path, fmt::join(op_names, ", ")));
      return nullptr;
    }
    const auto op = m_r.choice(node["op"], path + ".op", op_names);
    if (!op) return nullptr;
    for (const auto& o : op_table())
      if (op_name(o.op) == *op) return &o;
    return nullptr;
  }

  void read_inputs(const YAML::Node& node, const std::string& path, LayerSpec& spec) const {
    const auto in = node["inputs"];
    if (!in) return;
    if (in.IsScalar()) {
      spec.inputs.push_back(in.Scalar());
    } else if (in.IsSequence() && in.size() > 0) {
      for (std::size_t i = 0; i < in.size(); ++i)
        if (const auto s = m_r.text(in[i], fmt::format("{}.inputs[{}]", path, i))) spec.inputs.push_back(*s);
    } else {
      m_r.diag.expected(yaml::where(m_r.file, in), path + ".inputs", "a layer name or a list of layer names",
                        yaml::describe(in));
    }
  }

  void read_flags(const YAML::Node& node, const std::string& path, LayerSpec& spec) const {
    auto flag = [&](const char* key, bool& out) {
      if (const auto n = node[key])
        if (const auto v = m_r.boolean(n, path + "." + key)) out = *v;
    };
    bool relu = false;
    flag("relu", relu);
    if (relu) spec.activation = Activation::Relu;
    flag("batchnorm", spec.batchnorm);
    flag("ceil_mode", spec.window.ceil_mode);
    flag("global", spec.window.global);
    spec.bias = spec.op == LayerOp::FullyConnected;  // fc layers carry a bias unless told otherwise
    flag("bias", spec.bias);
  }

  void required_count(const YAML::Node& node, const std::string& path, const char* key, LayerSpec& spec) const {
    if (!node[key]) {
      m_r.diag.error(spec.where, fmt::format("{}.{}: missing (required for {} layers)", path, key, op_name(spec.op)));
      return;
    }
    if (const auto v = m_r.integer(node[key], path + "." + key, 1, INT32_MAX)) spec.out_channels = *v;
  }

  void read_conv(const YAML::Node& node, const std::string& path, LayerSpec& spec) {
    Window& w = spec.window;
    required_count(node, path, "out_channels", spec);
    if (!node["kernel"])
      m_r.diag.error(spec.where, path + ".kernel: missing (required for conv layers)");
    else
      pair(node["kernel"], path + ".kernel", 1, w.kernel_h, w.kernel_w);
    if (node["groups"])
      if (const auto g = m_r.integer(node["groups"], path + ".groups", 1, INT32_MAX)) spec.groups = *g;
    if (node["dilation"]) pair(node["dilation"], path + ".dilation", 1, w.dilation_h, w.dilation_w);
    if (node["stride"]) pair(node["stride"], path + ".stride", 1, w.stride_h, w.stride_w);
    if (node["padding"]) pair(node["padding"], path + ".padding", 0, w.pad_h, w.pad_w);
  }

  void read_pool(const YAML::Node& node, const std::string& path, LayerSpec& spec) {
    Window& w = spec.window;
    if (w.global) {
      for (const char* key : {"kernel", "stride", "padding", "ceil_mode"})
        if (node[key])
          m_r.diag.error(
              yaml::where(m_r.file, node[key]),
              fmt::format("{}.{}: not allowed with global: true (the window is the whole input)", path, key));
      return;
    }
    if (!node["kernel"]) {
      m_r.diag.error(spec.where, path + ".kernel: missing (required for pooling unless global: true)");
      return;
    }
    pair(node["kernel"], path + ".kernel", 1, w.kernel_h, w.kernel_w);
    w.stride_h = w.kernel_h;  // pooling stride defaults to the kernel
    w.stride_w = w.kernel_w;
    if (node["stride"]) pair(node["stride"], path + ".stride", 1, w.stride_h, w.stride_w);
    if (node["padding"]) pair(node["padding"], path + ".padding", 0, w.pad_h, w.pad_w);
  }

  const yaml::Reader& m_r;
};

}  // namespace

Network load_workload_yaml(const std::string& path, const WorkloadOptions&) {
  const YAML::Node root = yaml::load_file(path);
  Diagnostics diag;
  const yaml::Reader r{path, diag};
  if (!r.require_map(root, "(top level)")) diag.throw_if_any();
  r.reject_unknown_keys(root, "", {"name", "input", "layers"});

  std::string name;
  if (!root["name"])
    diag.error(yaml::where(path, root), "name: missing (the network's name)");
  else if (const auto v = r.text(root["name"], "name"))
    name = *v;

  std::vector<LayerSpec> specs;
  LayerSpec input;
  input.op = LayerOp::Input;
  input.name = "input";
  const YAML::Node in = root["input"];
  if (!in) {
    diag.error(yaml::where(path, root), "input: missing (expected {name: input, shape: [C, H, W]})");
  } else if (r.require_map(in, "input")) {
    input.where = yaml::where(path, in);
    r.reject_unknown_keys(in, "input", {"name", "shape"});
    if (in["name"])
      if (const auto v = r.text(in["name"], "input.name")) input.name = *v;
    const YAML::Node shape = in["shape"];
    if (!shape) {
      diag.error(input.where, "input.shape: missing (expected [channels, height, width])");
    } else if (!shape.IsSequence() || shape.size() != 3) {
      diag.expected(yaml::where(path, shape), "input.shape", "[channels, height, width]", yaml::describe(shape));
    } else {
      const auto c = r.integer(shape[0], "input.shape[0]", 1, INT32_MAX);
      const auto h = r.integer(shape[1], "input.shape[1]", 1, INT32_MAX);
      const auto w = r.integer(shape[2], "input.shape[2]", 1, INT32_MAX);
      if (c && h && w) input.input_shape = {*c, *h, *w};
    }
  }
  specs.push_back(input);

  const YAML::Node layers = root["layers"];
  if (!layers) {
    diag.error(yaml::where(path, root), "layers: missing (expected a list of layers)");
  } else if (!layers.IsSequence() || layers.size() == 0) {
    diag.expected(yaml::where(path, layers), "layers", "a non-empty list of layers", yaml::describe(layers));
  } else {
    LayerReader reader(r);
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (auto spec = reader.read(layers[i], i)) specs.push_back(std::move(*spec));
  }
  diag.throw_if_any();
  return Network::build(name, specs);
}

}  // namespace bitsim::sim
