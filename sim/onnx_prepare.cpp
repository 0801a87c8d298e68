// The ONNX import stages before the mapping to layers (see onnx_prepare.h).
#include "sim/onnx_prepare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include "sim/base/checked.h"
#include "sim/base/diagnostics.h"

namespace bitsim::sim {
namespace {

// Constants folded here are shapes and small tables, not weights: beyond this many values a node
// is left to the mapping.
constexpr std::int64_t kMaxFoldValues = std::int64_t{1} << 22;

// A constant during folding: values as double (int64 shapes are exact up to 2^53), and whether its
// ONNX type is an integer one (written back as INT64, else FLOAT).
struct Const {
  std::vector<std::int64_t> dims;
  std::vector<double> v;
  bool integer = false;
  std::int64_t count() const {
    std::int64_t n = 1;
    for (std::int64_t d : dims) n *= d;
    return n;
  }
};

std::int64_t saturate(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
  if (x <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(x);
}

bool integer_type(int t) {
  using T = onnx::TensorProto;
  return t == T::INT64 || t == T::INT32 || t == T::INT16 || t == T::INT8 || t == T::UINT8 || t == T::UINT16 ||
         t == T::UINT32 || t == T::UINT64 || t == T::BOOL;
}

template <typename T>
bool raw_values(const std::string& raw, std::int64_t count, std::vector<double>& out) {
  if (raw.size() != static_cast<std::uint64_t>(count) * sizeof(T)) return false;
  out.resize(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < out.size(); ++i) {
    T x;
    std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(x);
  }
  return true;
}

// A TensorProto as a Const, when it is small, stored inside the file and of a numeric type; else none
// (the mapping reads it, and reports what is wrong with it).
std::optional<Const> to_const(const onnx::TensorProto& t) {
  using T = onnx::TensorProto;
  if (t.data_location() == T::EXTERNAL) return std::nullopt;
  Const c;
  std::int64_t count = 1;
  for (auto d : t.dims()) {
    const auto grown = checked_mul(count, static_cast<std::int64_t>(d));
    if (d < 0 || !grown || *grown > kMaxFoldValues) return std::nullopt;
    count = *grown;
    c.dims.push_back(d);
  }
  c.integer = integer_type(t.data_type());
  const std::string& raw = t.raw_data();
  bool ok = false;
  auto typed = [&](const auto& field) {
    if (static_cast<std::int64_t>(field.size()) != count) return false;
    c.v.assign(field.begin(), field.end());
    return true;
  };
  switch (t.data_type()) {
    case T::FLOAT:
      ok = raw.empty() ? typed(t.float_data()) : raw_values<float>(raw, count, c.v);
      break;
    case T::DOUBLE:
      ok = raw.empty() ? typed(t.double_data()) : raw_values<double>(raw, count, c.v);
      break;
    case T::INT64:
      ok = raw.empty() ? typed(t.int64_data()) : raw_values<std::int64_t>(raw, count, c.v);
      break;
    case T::INT32:
      ok = raw.empty() ? typed(t.int32_data()) : raw_values<std::int32_t>(raw, count, c.v);
      break;
    case T::INT8:
      ok = raw.empty() ? typed(t.int32_data()) : raw_values<std::int8_t>(raw, count, c.v);
      break;
    case T::UINT8:
    case T::BOOL:  // one byte each
      ok = raw.empty() ? typed(t.int32_data()) : raw_values<std::uint8_t>(raw, count, c.v);
      break;
    default:
      return std::nullopt;
  }
  if (!ok) return std::nullopt;
  if (!c.integer && std::any_of(c.v.begin(), c.v.end(), [](double x) { return !std::isfinite(x); }))
    return std::nullopt;  // the mapping names the tensor and the value
  return c;
}

onnx::TensorProto to_proto(const Const& c, const std::string& name) {
  onnx::TensorProto t;
  t.set_name(name);
  for (std::int64_t d : c.dims) t.add_dims(d);
  if (c.integer) {
    t.set_data_type(onnx::TensorProto::INT64);
    for (double x : c.v) t.add_int64_data(saturate(x));
  } else {
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (double x : c.v) t.add_float_data(static_cast<float>(x));
  }
  return t;
}

std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// Thrown inside the folder when a node cannot be folded as written (the node stays for the mapping).
struct NotFoldable {};

std::int64_t axis_in(std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) throw NotFoldable{};
  return axis;
}

// numpy broadcasting of two constants through f.
Const broadcast(const Const& a, const Const& b, const std::function<double(double, double)>& f) {
  const std::size_t rank = std::max(a.dims.size(), b.dims.size());
  auto padded = [rank](const std::vector<std::int64_t>& d) {
    std::vector<std::int64_t> p(rank - d.size(), 1);
    p.insert(p.end(), d.begin(), d.end());
    return p;
  };
  const auto da = padded(a.dims), db = padded(b.dims);
  Const out;
  out.integer = a.integer && b.integer;
  for (std::size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) throw NotFoldable{};
    out.dims.push_back(da[i] == 1 ? db[i] : da[i]);
  }
  if (out.count() > kMaxFoldValues) throw NotFoldable{};
  const auto so = strides_of(out.dims), sa = strides_of(da), sb = strides_of(db);
  out.v.resize(static_cast<std::size_t>(out.count()));
  for (std::int64_t i = 0; i < out.count(); ++i) {
    std::int64_t ia = 0, ib = 0, rest = i;
    for (std::size_t d = 0; d < rank; ++d) {
      const std::int64_t x = rest / so[d];
      rest %= so[d];
      if (da[d] != 1) ia += x * sa[d];
      if (db[d] != 1) ib += x * sb[d];
    }
    out.v[static_cast<std::size_t>(i)] = f(a.v[static_cast<std::size_t>(ia)], b.v[static_cast<std::size_t>(ib)]);
  }
  return out;
}

// ONNX's shape inference trusts the model it is given: the fuzzer found a malformed Conv that makes
// it read out of bounds (SEGV in onnx::convPoolShapeInference). It therefore runs in a child
// process, which sends the graph with its inferred shapes back through a pipe; a child that crashes,
// hangs (30 s) or throws leaves the model as it was, and the reason is returned ("" on success).
std::string infer_in_child(onnx::ModelProto& model) {
  std::array<int, 2> fds{};
  if (pipe(fds.data()) != 0) return "cannot create a pipe";
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return "cannot start a process";
  }
  if (pid == 0) {  // the child: infer, send, leave without running any destructor or exit handler
    close(fds[0]);
    if (const int null = open("/dev/null", O_WRONLY); null >= 0) dup2(null, 2);
    for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, SIG_DFL);  // no crash reports
    std::string out;
    try {
      onnx::ShapeInferenceOptions options{false, 0, true};
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
      out = "1" + model.graph().SerializeAsString();
    } catch (const std::exception& e) {
      out = std::string("0") + e.what();
    }
    for (std::size_t at = 0; at < out.size();) {
      const ssize_t n = write(fds[1], out.data() + at, out.size() - at);
      if (n <= 0) _exit(2);
      at += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  std::array<char, 1 << 16> buffer{};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      timed_out = true;
      break;
    }
    const ssize_t n = read(fds[0], buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buffer.data(), static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return "it ran for more than 30 s";
  if (WIFSIGNALED(status)) return fmt::format("it crashed on this model (signal {})", WTERMSIG(status));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got.empty()) return "it ended without an answer";
  if (got[0] == '0') return got.substr(1);
  onnx::GraphProto inferred;
  if (!inferred.ParseFromString(got.substr(1))) return "its answer could not be read";
  model.mutable_graph()->Swap(&inferred);
  return {};
}

// The inputs ONNX requires of the operators bitsim folds or maps (the first never empty); others: 0.
int min_inputs(const std::string& op) {
  static const std::map<std::string, int> table{{"Conv", 2},
                                                {"ConvTranspose", 2},
                                                {"Gemm", 2},
                                                {"MatMul", 2},
                                                {"BatchNormalization", 5},
                                                {"Add", 2},
                                                {"Sub", 2},
                                                {"Mul", 2},
                                                {"Div", 2},
                                                {"Pow", 2},
                                                {"Equal", 2},
                                                {"Less", 2},
                                                {"Greater", 2},
                                                {"PRelu", 2},
                                                {"Reshape", 2},
                                                {"Expand", 2},
                                                {"Gather", 2},
                                                {"Where", 3},
                                                {"Range", 3},
                                                {"Max", 1},
                                                {"Min", 1},
                                                {"Concat", 1},
                                                {"Relu", 1},
                                                {"Clip", 1},
                                                {"Sigmoid", 1},
                                                {"HardSigmoid", 1},
                                                {"HardSwish", 1},
                                                {"Softmax", 1},
                                                {"Tanh", 1},
                                                {"LeakyRelu", 1},
                                                {"Exp", 1},
                                                {"MaxPool", 1},
                                                {"AveragePool", 1},
                                                {"GlobalAveragePool", 1},
                                                {"GlobalMaxPool", 1},
                                                {"ReduceMean", 1},
                                                {"ReduceMax", 1},
                                                {"ReduceProd", 1},
                                                {"Flatten", 1},
                                                {"Squeeze", 1},
                                                {"Unsqueeze", 1},
                                                {"Transpose", 1},
                                                {"Pad", 1},
                                                {"Identity", 1},
                                                {"Dropout", 1},
                                                {"Resize", 1},
                                                {"Upsample", 1},
                                                {"Slice", 1},
                                                {"Split", 1},
                                                {"Shape", 1},
                                                {"Size", 1},
                                                {"Cast", 1},
                                                {"ConstantOfShape", 1},
                                                {"Neg", 1},
                                                {"Floor", 1},
                                                {"Ceil", 1},
                                                {"Sqrt", 1},
                                                {"Not", 1},
                                                {"Abs", 1}};
  const auto it = table.find(op);
  return it == table.end() ? 0 : it->second;
}

class Preparer {
 public:
  Preparer(onnx::ModelProto& model, std::string path, const std::optional<Shape>& input_shape,
           const std::set<std::string>& supported)
      : m_model(model), m_path(std::move(path)), m_input_shape(input_shape), m_supported(supported) {}

  PreparedOnnx run() {
    onnx::GraphProto& g = *m_model.mutable_graph();
    for (const auto& o : m_model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") m_opset = o.version();
    for (const auto& n : g.node()) {  // before any stage drops it as dead, or reads its inputs
      const std::string label = n.name().empty() ? "(unnamed)" : n.name();
      if (n.output_size() < 1 || n.output(0).empty())
        fail(fmt::format("node '{}' ({}): the node has no output", label, n.op_type()));
      if (const int least = min_inputs(n.op_type()); n.input_size() < least || (least > 0 && n.input(0).empty()))
        fail(fmt::format("node '{}' ({}): expected at least {} input(s), got {}", label, n.op_type(), least,
                         n.input_size()));
    }
    set_input_dims(g);
    infer_shapes();
    // Folding makes shapes static (a Reshape with a now-constant shape), which lets more fold.
    for (int round = 0; round < 32 && fold(g) > 0; ++round) infer_shapes();
    note_folded();
    absorb_input_transposes(g);
    absorb_flatten_transposes(g);
    drop_dead_nodes(g);
    drop_unused_initializers(g);
    list_unsupported(g);
    collect_shapes(g);
    return std::move(m_out);
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw InputError({m_path, 0, 0}, msg); }

  std::vector<onnx::ValueInfoProto*> real_inputs(onnx::GraphProto& g) const {
    std::set<std::string> initializers;
    for (const auto& t : g.initializer()) initializers.insert(t.name());
    std::vector<onnx::ValueInfoProto*> out;
    for (auto& in : *g.mutable_input())
      if (!initializers.contains(in.name())) out.push_back(&in);
    return out;
  }

  // Batch 1; symbolic C, H, W from --input-shape (in the model's own layout: an input read only by
  // an NHWC -> NCHW transpose takes H, W, C).
  void set_input_dims(onnx::GraphProto& g) {
    const auto inputs = real_inputs(g);
    if (inputs.size() != 1) return;  // the mapping reports it
    auto* shape = inputs[0]->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() >= 1 && !shape->dim(0).has_dim_value()) shape->mutable_dim(0)->set_dim_value(1);
    if (!m_input_shape) return;
    std::vector<std::int64_t> chw{m_input_shape->channels, m_input_shape->height, m_input_shape->width};
    if (shape->dim_size() == 4 && reads_only_nhwc_transposes(g, inputs[0]->name())) chw = {chw[1], chw[2], chw[0]};
    const int rank = shape->dim_size();
    if (rank < 2 || rank > 4) return;
    // [N, C, H, W], [N, C, L] (C x L x 1) or [N, F] (F x 1 x 1)
    for (int i = 1; i < rank; ++i) shape->mutable_dim(i)->set_dim_value(chw[static_cast<std::size_t>(i - 1)]);
  }

  static bool is_perm(const onnx::NodeProto& n, std::initializer_list<std::int64_t> perm) {
    if (n.op_type() != "Transpose") return false;
    for (const auto& a : n.attribute())
      if (a.name() == "perm") return std::equal(a.ints().begin(), a.ints().end(), perm.begin(), perm.end());
    return false;
  }

  static std::vector<const onnx::NodeProto*> readers(const onnx::GraphProto& g, const std::string& value) {
    std::vector<const onnx::NodeProto*> out;
    for (const auto& n : g.node())
      if (std::find(n.input().begin(), n.input().end(), value) != n.input().end()) out.push_back(&n);
    return out;
  }

  static bool is_graph_output(const onnx::GraphProto& g, const std::string& value) {
    return std::any_of(g.output().begin(), g.output().end(), [&](const auto& o) { return o.name() == value; });
  }

  bool reads_only_nhwc_transposes(const onnx::GraphProto& g, const std::string& value) const {
    const auto r = readers(g, value);
    return !r.empty() && !is_graph_output(g, value) && std::all_of(r.begin(), r.end(), [](const onnx::NodeProto* n) {
      return is_perm(*n, {0, 3, 1, 2});
    });
  }

  // Attribute values ONNX's own shape inference divides by, or a node it cannot name: inference is
  // skipped and the mapping reports the node (ONNX forbids these values; the library trusts them).
  static std::string inference_hazard(const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      if (n.output_size() == 0) return "a node without outputs";
      for (const auto& a : n.attribute()) {
        const std::string& k = a.name();
        if (k != "group" && k != "strides" && k != "dilations" && k != "kernel_shape" && k != "blocksize") continue;
        if (a.ints_size() == 0 && a.i() < 1) return fmt::format("{} {} of node '{}'", k, a.i(), n.name());
        for (auto v : a.ints())
          if (v < 1) return fmt::format("{} {} of node '{}'", k, v, n.name());
      }
    }
    return {};
  }

  // ONNX's shape inference, with data propagation (shapes computed by Shape -> ... -> Reshape).
  void infer_shapes() {
    if (const std::string hazard = inference_hazard(m_model.graph()); !hazard.empty()) {
      if (!m_inference_failed) m_out.notes.push_back("ONNX shape inference skipped: " + hazard);
      m_inference_failed = true;
    }
    if (m_inference_failed) return;
    // Stale value_info from the exporter (e.g. symbolic batch) would be kept: start afresh.
    m_model.mutable_graph()->clear_value_info();
    if (const std::string problem = infer_in_child(m_model); !problem.empty()) {
      // A model whose declared shapes disagree, or one the library cannot take: mapped without them.
      m_out.notes.push_back(
          fmt::format("ONNX shape inference stopped (folding and layout stages see fewer shapes): {}", problem));
      m_inference_failed = true;
    }
    m_shapes.clear();
    const onnx::GraphProto& g = m_model.graph();
    auto add = [&](const onnx::ValueInfoProto& v) {
      if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
      std::vector<std::int64_t> dims;
      for (const auto& d : v.type().tensor_type().shape().dim()) {
        if (!d.has_dim_value() || d.dim_value() < 0) return;
        dims.push_back(d.dim_value());
      }
      m_shapes[v.name()] = dims;
    };
    for (const auto& v : g.input()) add(v);
    for (const auto& v : g.value_info()) add(v);
    for (const auto& v : g.output()) add(v);
    for (const auto& t : g.initializer()) m_shapes[t.name()] = {t.dims().begin(), t.dims().end()};
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
  static std::optional<std::vector<std::int64_t>> ints_attr(const onnx::NodeProto& n, const char* name) {
    const auto* a = attr(n, name);
    if (!a) return std::nullopt;
    return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
  }

  // Constant input i of n ("" inputs are absent: nullopt); NotFoldable if it is computed.
  std::optional<Const> in(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) return std::nullopt;
    const auto it = m_consts.find(n.input(i));
    if (it == m_consts.end()) throw NotFoldable{};
    return it->second;
  }
  Const need(const onnx::NodeProto& n, int i) const {
    auto c = in(n, i);
    if (!c) throw NotFoldable{};
    return *c;
  }
  static std::vector<std::int64_t> ints(const Const& c) {
    std::vector<std::int64_t> out;
    for (double x : c.v) out.push_back(saturate(x));
    return out;
  }

  // The node's outputs as constants, or NotFoldable.
  std::vector<Const> evaluate(const onnx::NodeProto& n) const {
    const std::string& op = n.op_type();
    if (op == "Constant") {
      const onnx::AttributeProto& a = n.attribute_size() == 1 ? n.attribute(0) : throw NotFoldable{};
      Const c;
      if (a.name() == "value") {
        auto t = to_const(a.t());
        if (!t) throw NotFoldable{};
        return {*t};
      }
      if (a.name() == "value_int" || a.name() == "value_float") {
        c.integer = a.name() == "value_int";
        c.v = {c.integer ? static_cast<double>(a.i()) : static_cast<double>(a.f())};
        return {c};
      }
      if (a.name() == "value_ints" || a.name() == "value_floats") {
        c.integer = a.name() == "value_ints";
        if (c.integer)
          for (auto x : a.ints()) c.v.push_back(static_cast<double>(x));
        else
          for (auto x : a.floats()) c.v.push_back(x);
        c.dims = {static_cast<std::int64_t>(c.v.size())};
        return {c};
      }
      throw NotFoldable{};
    }
    if (op == "Shape" || op == "Size") {
      const auto it = m_shapes.find(n.input(0));
      if (it == m_shapes.end()) throw NotFoldable{};
      const auto& s = it->second;
      Const c;
      c.integer = true;
      if (op == "Size") {
        double p = 1;
        for (auto d : s) p *= static_cast<double>(d);
        c.v = {p};
        return {c};
      }
      const auto r = static_cast<std::int64_t>(s.size());
      std::int64_t start = int_attr(n, "start", 0), end = int_attr(n, "end", r);
      if (start < 0) start += r;
      if (end < 0) end += r;
      start = std::clamp<std::int64_t>(start, 0, r);
      end = std::clamp<std::int64_t>(end, 0, r);
      for (std::int64_t i = start; i < end; ++i) c.v.push_back(static_cast<double>(s[static_cast<std::size_t>(i)]));
      c.dims = {static_cast<std::int64_t>(c.v.size())};
      return {c};
    }
    if (op == "Identity") return {need(n, 0)};
    if (op == "Cast") {
      Const c = need(n, 0);
      const auto to = static_cast<int>(int_attr(n, "to", onnx::TensorProto::FLOAT));
      if (to == onnx::TensorProto::BOOL)
        for (double& x : c.v) x = x != 0 ? 1 : 0;
      else if (integer_type(to))
        for (double& x : c.v) x = std::trunc(x);
      c.integer = integer_type(to);
      return {c};
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Equal" || op == "Min" || op == "Max" ||
        op == "Less" || op == "Greater" || op == "Pow") {
      if (n.input_size() != 2) throw NotFoldable{};
      const Const a = need(n, 0), b = need(n, 1);
      const bool integer = a.integer && b.integer;
      std::function<double(double, double)> f;
      if (op == "Add") f = [](double x, double y) { return x + y; };
      if (op == "Sub") f = [](double x, double y) { return x - y; };
      if (op == "Mul") f = [](double x, double y) { return x * y; };
      if (op == "Div")
        f = [integer](double x, double y) {
          if (integer && y == 0) throw NotFoldable{};
          return integer ? std::trunc(x / y) : x / y;
        };
      if (op == "Pow") f = [](double x, double y) { return std::pow(x, y); };
      if (op == "Min") f = [](double x, double y) { return std::min(x, y); };
      if (op == "Max") f = [](double x, double y) { return std::max(x, y); };
      if (op == "Equal") f = [](double x, double y) { return x == y ? 1.0 : 0.0; };
      if (op == "Less") f = [](double x, double y) { return x < y ? 1.0 : 0.0; };
      if (op == "Greater") f = [](double x, double y) { return x > y ? 1.0 : 0.0; };
      Const c = broadcast(a, b, f);
      c.integer = integer || op == "Equal" || op == "Less" || op == "Greater";
      if (std::any_of(c.v.begin(), c.v.end(), [](double x) { return !std::isfinite(x); })) throw NotFoldable{};
      return {c};
    }
    if (op == "Neg" || op == "Floor" || op == "Ceil" || op == "Sqrt" || op == "Not" || op == "Abs") {
      Const c = need(n, 0);
      for (double& x : c.v)
        x = op == "Neg"     ? -x
            : op == "Floor" ? std::floor(x)
            : op == "Ceil"  ? std::ceil(x)
            : op == "Sqrt"  ? std::sqrt(x)
            : op == "Abs"   ? std::fabs(x)
                            : (x == 0 ? 1 : 0);
      if (std::any_of(c.v.begin(), c.v.end(), [](double x) { return !std::isfinite(x); })) throw NotFoldable{};
      return {c};
    }
    if (op == "Where") {
      const Const cond = need(n, 0), a = need(n, 1), b = need(n, 2);
      Const pick = broadcast(cond, a, [](double c, double x) { return c != 0 ? x : std::nan(""); });
      Const out = broadcast(pick, b, [](double x, double y) { return std::isnan(x) ? y : x; });
      out.integer = a.integer && b.integer;
      return {out};
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
      Const c = need(n, 0);
      std::optional<std::vector<std::int64_t>> axes = ints_attr(n, "axes");
      if (!axes && n.input_size() > 1 && !n.input(1).empty()) axes = ints(need(n, 1));
      if (op == "Unsqueeze") {
        if (!axes) throw NotFoldable{};
        const std::size_t rank = c.dims.size() + axes->size();
        std::vector<bool> inserted(rank, false);
        for (auto a : *axes) inserted[static_cast<std::size_t>(axis_in(a, rank))] = true;
        std::vector<std::int64_t> dims;
        std::size_t k = 0;
        for (std::size_t i = 0; i < rank; ++i) dims.push_back(inserted[i] ? 1 : c.dims.at(k++));
        c.dims = dims;
      } else {
        std::vector<std::int64_t> dims;
        for (std::size_t i = 0; i < c.dims.size(); ++i) {
          bool drop = !axes && c.dims[i] == 1;
          if (axes)
            for (auto a : *axes) drop = drop || axis_in(a, c.dims.size()) == static_cast<std::int64_t>(i);
          if (drop && c.dims[i] != 1) throw NotFoldable{};
          if (!drop) dims.push_back(c.dims[i]);
        }
        c.dims = dims;
      }
      return {c};
    }
    if (op == "Concat") {
      std::vector<Const> parts;
      parts.reserve(static_cast<std::size_t>(n.input_size()));
      for (int i = 0; i < n.input_size(); ++i) parts.push_back(need(n, i));
      if (parts.empty()) throw NotFoldable{};
      const std::size_t rank = parts[0].dims.size();
      const std::int64_t axis = axis_in(int_attr(n, "axis", 0), rank);
      Const out;
      out.dims = parts[0].dims;
      out.integer = true;
      out.dims[static_cast<std::size_t>(axis)] = 0;
      for (const Const& p : parts) {
        if (p.dims.size() != rank) throw NotFoldable{};
        for (std::size_t d = 0; d < rank; ++d)
          if (static_cast<std::int64_t>(d) != axis && p.dims[d] != out.dims[d]) throw NotFoldable{};
        out.dims[static_cast<std::size_t>(axis)] += p.dims[static_cast<std::size_t>(axis)];
        out.integer = out.integer && p.integer;
      }
      std::int64_t outer = 1;
      for (std::int64_t d = 0; d < axis; ++d) outer *= out.dims[static_cast<std::size_t>(d)];
      for (std::int64_t o = 0; o < outer; ++o)
        for (const Const& p : parts) {
          const std::int64_t chunk = p.count() / std::max<std::int64_t>(outer, 1);
          out.v.insert(out.v.end(), p.v.begin() + o * chunk, p.v.begin() + (o + 1) * chunk);
        }
      return {out};
    }
    if (op == "Gather") {
      const Const data = need(n, 0), idx = need(n, 1);
      const std::int64_t axis = axis_in(int_attr(n, "axis", 0), data.dims.size());
      const std::int64_t dim = data.dims[static_cast<std::size_t>(axis)];
      Const out;
      out.integer = data.integer;
      out.dims.assign(data.dims.begin(), data.dims.begin() + axis);
      out.dims.insert(out.dims.end(), idx.dims.begin(), idx.dims.end());
      out.dims.insert(out.dims.end(), data.dims.begin() + axis + 1, data.dims.end());
      std::int64_t outer = 1, inner = 1;
      for (std::int64_t d = 0; d < axis; ++d) outer *= data.dims[static_cast<std::size_t>(d)];
      for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < data.dims.size(); ++d) inner *= data.dims[d];
      for (std::int64_t o = 0; o < outer; ++o)
        for (double iv : idx.v) {
          std::int64_t i = saturate(iv);
          if (i < 0) i += dim;
          if (i < 0 || i >= dim) throw NotFoldable{};
          const auto from = data.v.begin() + (o * dim + i) * inner;
          out.v.insert(out.v.end(), from, from + inner);
        }
      return {out};
    }
    if (op == "Slice") {
      const Const data = need(n, 0);
      std::vector<std::int64_t> starts, ends, axes, steps;
      if (m_opset < 10) {
        starts = ints_attr(n, "starts").value_or(std::vector<std::int64_t>{});
        ends = ints_attr(n, "ends").value_or(std::vector<std::int64_t>{});
        axes = ints_attr(n, "axes").value_or(std::vector<std::int64_t>{});
      } else {
        starts = ints(need(n, 1));
        ends = ints(need(n, 2));
        if (auto a = in(n, 3)) axes = ints(*a);
        if (auto s = in(n, 4)) steps = ints(*s);
      }
      if (axes.empty())
        for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
      if (steps.empty()) steps.assign(starts.size(), 1);
      if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
        throw NotFoldable{};
      const std::size_t rank = data.dims.size();
      std::vector<std::int64_t> lo(rank, 0), step(rank, 1), len(rank);
      for (std::size_t d = 0; d < rank; ++d) len[d] = data.dims[d];
      for (std::size_t k = 0; k < starts.size(); ++k) {
        const auto d = static_cast<std::size_t>(axis_in(axes[k], rank));
        const std::int64_t dim = data.dims[d], s = steps[k];
        if (s == 0) throw NotFoldable{};
        // ONNX: negative from the end; clamped to [0, dim] (positive steps) or [-1, dim - 1].
        auto clampi = [&](std::int64_t x) {
          if (x < 0) x = x <= std::numeric_limits<std::int64_t>::min() / 2 ? -1 - dim : x + dim;
          return s > 0 ? std::clamp<std::int64_t>(x, 0, dim) : std::clamp<std::int64_t>(x, -1, dim - 1);
        };
        const std::int64_t b = clampi(starts[k]), e = clampi(ends[k]);
        lo[d] = b;
        step[d] = s;
        len[d] =
            s > 0 ? std::max<std::int64_t>(0, (e - b + s - 1) / s) : std::max<std::int64_t>(0, (b - e - s - 1) / -s);
      }
      Const out;
      out.integer = data.integer;
      out.dims = len;
      const auto st = strides_of(data.dims);
      const std::int64_t total = out.count();
      const auto so = strides_of(out.dims);
      for (std::int64_t i = 0; i < total; ++i) {
        std::int64_t rest = i, at = 0;
        for (std::size_t d = 0; d < rank; ++d) {
          const std::int64_t x = rest / so[d];
          rest %= so[d];
          at += (lo[d] + x * step[d]) * st[d];
        }
        out.v.push_back(data.v[static_cast<std::size_t>(at)]);
      }
      return {out};
    }
    if (op == "ConstantOfShape") {
      const Const shape = need(n, 0);
      Const out;
      out.dims = ints(shape);
      if (std::any_of(out.dims.begin(), out.dims.end(), [](std::int64_t d) { return d < 0; }) ||
          out.count() > kMaxFoldValues)
        throw NotFoldable{};
      double value = 0;
      out.integer = false;
      if (const auto* a = attr(n, "value")) {
        auto t = to_const(a->t());
        if (!t || t->v.size() != 1) throw NotFoldable{};
        value = t->v[0];
        out.integer = t->integer;
      }
      out.v.assign(static_cast<std::size_t>(out.count()), value);
      return {out};
    }
    if (op == "Range") {
      const Const start = need(n, 0), limit = need(n, 1), delta = need(n, 2);
      if (start.v.size() != 1 || limit.v.size() != 1 || delta.v.size() != 1 || delta.v[0] == 0) throw NotFoldable{};
      const double count = std::max(0.0, std::ceil((limit.v[0] - start.v[0]) / delta.v[0]));
      if (count > static_cast<double>(kMaxFoldValues)) throw NotFoldable{};
      Const out;
      out.integer = start.integer;
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(count); ++i)
        out.v.push_back(start.v[0] + static_cast<double>(i) * delta.v[0]);
      out.dims = {static_cast<std::int64_t>(out.v.size())};
      return {out};
    }
    if (op == "Reshape" || op == "Flatten") {
      Const c = need(n, 0);
      std::vector<std::int64_t> dims;
      if (op == "Flatten") {
        const std::int64_t axis = int_attr(n, "axis", 1);
        const auto a = axis < 0 ? axis + static_cast<std::int64_t>(c.dims.size()) : axis;
        std::int64_t outer = 1;
        for (std::int64_t d = 0; d < a && d < static_cast<std::int64_t>(c.dims.size()); ++d)
          outer *= c.dims[static_cast<std::size_t>(d)];
        dims = {outer, c.count() / std::max<std::int64_t>(outer, 1)};
      } else {
        dims = ints(need(n, 1));
        std::int64_t known = 1, infer = -1;
        for (std::size_t i = 0; i < dims.size(); ++i) {
          if (dims[i] == 0 && i < c.dims.size() && int_attr(n, "allowzero", 0) == 0) dims[i] = c.dims[i];
          if (dims[i] == -1) {
            if (infer >= 0) throw NotFoldable{};
            infer = static_cast<std::int64_t>(i);
          } else if (dims[i] < 0) {
            throw NotFoldable{};
          } else {
            known *= dims[i];
          }
        }
        if (infer >= 0) dims[static_cast<std::size_t>(infer)] = known == 0 ? 0 : c.count() / known;
      }
      const std::int64_t before = c.count();
      c.dims = dims;
      if (c.count() != before) throw NotFoldable{};
      return {c};
    }
    if (op == "Transpose") {
      const Const c = need(n, 0);
      std::vector<std::int64_t> perm = ints_attr(n, "perm").value_or(std::vector<std::int64_t>{});
      if (perm.empty())
        for (std::size_t i = c.dims.size(); i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
      if (perm.size() != c.dims.size()) throw NotFoldable{};
      Const out;
      out.integer = c.integer;
      for (auto p : perm) out.dims.push_back(c.dims.at(static_cast<std::size_t>(axis_in(p, c.dims.size()))));
      const auto si = strides_of(c.dims), so = strides_of(out.dims);
      out.v.resize(c.v.size());
      for (std::int64_t i = 0; i < out.count(); ++i) {
        std::int64_t rest = i, at = 0;
        for (std::size_t d = 0; d < perm.size(); ++d) {
          const std::int64_t x = rest / so[d];
          rest %= so[d];
          at += x * si[static_cast<std::size_t>(perm[d])];
        }
        out.v[static_cast<std::size_t>(i)] = c.v[static_cast<std::size_t>(at)];
      }
      return {out};
    }
    if (op == "ReduceProd") {
      const Const c = need(n, 0);
      if (int_attr(n, "keepdims", 1) != 0 || attr(n, "axes")) throw NotFoldable{};
      Const out;
      out.integer = c.integer;
      out.v = {std::accumulate(c.v.begin(), c.v.end(), 1.0, std::multiplies<>())};
      return {out};
    }
    if (op == "Expand") {
      const Const c = need(n, 0), shape = need(n, 1);
      Const ones;
      ones.dims = ints(shape);
      if (std::any_of(ones.dims.begin(), ones.dims.end(), [](std::int64_t d) { return d < 1; })) throw NotFoldable{};
      if (ones.count() > kMaxFoldValues) throw NotFoldable{};
      ones.v.assign(static_cast<std::size_t>(ones.count()), 1.0);
      Const out = broadcast(c, ones, [](double x, double) { return x; });
      out.integer = c.integer;
      return {out};
    }
    throw NotFoldable{};
  }

  static const std::set<std::string>& foldable_ops() {
    static const std::set<std::string> ops{
        "Constant", "Shape",   "Size",      "Identity",  "Cast",       "Add",   "Sub",
        "Mul",      "Div",     "Equal",     "Min",       "Max",        "Less",  "Greater",
        "Pow",      "Neg",     "Floor",     "Ceil",      "Sqrt",       "Not",   "Abs",
        "Where",    "Gather",  "Unsqueeze", "Squeeze",   "Concat",     "Slice", "ConstantOfShape",
        "Range",    "Reshape", "Flatten",   "Transpose", "ReduceProd", "Expand"};
    return ops;
  }

  // Stage 2. Constant nodes always fold (the mapping reads initializers); other nodes fold when every
  // input is constant (Shape and Size: when the input's shape is static) and the result is small.
  int fold(onnx::GraphProto& g) {
    for (const auto& t : g.initializer())
      if (!m_consts.contains(t.name()))
        if (auto c = to_const(t)) m_consts[t.name()] = std::move(*c);
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    int count = 0;
    for (auto& n : *g.mutable_node()) {
      std::vector<Const> outputs;
      if (foldable_ops().contains(n.op_type()) && n.output_size() == 1 &&
          (n.domain().empty() || n.domain() == "ai.onnx")) {
        try {
          outputs = evaluate(n);
        } catch (const NotFoldable&) {
          outputs.clear();
        }
      }
      if (outputs.empty() || outputs[0].count() > kMaxFoldValues ||
          static_cast<std::int64_t>(outputs[0].v.size()) != outputs[0].count()) {
        *kept.Add() = n;
        continue;
      }
      // Large float results of constants (weights) stay nodes unless the mapping could not read them.
      *g.add_initializer() = to_proto(outputs[0], n.output(0));
      m_consts[n.output(0)] = std::move(outputs[0]);
      m_shapes[n.output(0)] = m_consts[n.output(0)].dims;
      if (n.op_type() != "Constant") ++m_folded[n.op_type()];
      ++count;
    }
    g.mutable_node()->Swap(&kept);
    return count;
  }

  void note_folded() {
    if (m_folded.empty()) return;
    std::vector<std::string> parts;
    int total = 0;
    for (const auto& [op, count] : m_folded) {
      parts.push_back(fmt::format("{} {}", count, op));
      total += count;
    }
    m_out.notes.push_back(fmt::format("folded {} node(s) computing constants ({})", total, fmt::join(parts, ", ")));
  }

  static void rename_input(onnx::GraphProto& g, const std::string& from, const std::string& to) {
    for (auto& n : *g.mutable_node())
      for (auto& in : *n.mutable_input())
        if (in == from) in = to;
  }

  static void erase_node(onnx::GraphProto& g, const onnx::NodeProto* target) {
    auto* nodes = g.mutable_node();
    for (int i = 0; i < nodes->size(); ++i)
      if (&nodes->Get(i) == target) {
        nodes->DeleteSubrange(i, 1);
        return;
      }
  }

  // Stage 3a: input [N, H, W, C] read only by Transpose(0, 3, 1, 2): the network reads [N, C, H, W].
  void absorb_input_transposes(onnx::GraphProto& g) {
    const auto inputs = real_inputs(g);
    if (inputs.size() != 1 || !reads_only_nhwc_transposes(g, inputs[0]->name())) return;
    onnx::ValueInfoProto& input = *inputs[0];
    auto* shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != 4) return;
    const onnx::TensorShapeProto old = *shape;
    *shape->mutable_dim(1) = old.dim(3);
    *shape->mutable_dim(2) = old.dim(1);
    *shape->mutable_dim(3) = old.dim(2);
    const auto transposes = readers(g, input.name());
    for (const onnx::NodeProto* t : transposes) {
      const std::string out = t->output(0);
      erase_node(g, t);
      rename_input(g, out, input.name());
      for (auto& o : *g.mutable_output())
        if (o.name() == out) o.set_name(input.name());
    }
    m_out.input_was_nhwc = true;
    m_out.notes.push_back(fmt::format("input '{}' is N, H, W, C: absorbed {} transpose(s) to N, C, H, W", input.name(),
                                      transposes.size()));
    infer_shapes();
  }

  // Stage 3b: Transpose(0, 2, 3, 1) -> Flatten/Reshape to [N, F] -> MatMul/Gemm with constant
  // weights: the flatten reads H, W, C order; the weights' input rows are permuted to C, H, W order
  // and the transpose goes.
  void absorb_flatten_transposes(onnx::GraphProto& g) {
    int absorbed = 0;
    for (bool again = true; again;) {
      again = false;
      for (const auto& t : g.node()) {
        if (!is_perm(t, {0, 2, 3, 1}) || is_graph_output(g, t.output(0))) continue;
        const auto in_shape = m_shapes.find(t.input(0));
        if (in_shape == m_shapes.end() || in_shape->second.size() != 4) continue;
        const std::int64_t c = in_shape->second[1], h = in_shape->second[2], w = in_shape->second[3];
        const auto flattens = readers(g, t.output(0));
        std::vector<std::pair<onnx::NodeProto*, std::string>> products;  // node, weight name
        bool ok = !flattens.empty();
        for (const onnx::NodeProto* f : flattens) {
          const auto out = m_shapes.find(f->output(0));
          ok = ok && (f->op_type() == "Flatten" || f->op_type() == "Reshape") && f->input(0) == t.output(0) &&
               out != m_shapes.end() && out->second.size() == 2 && out->second[1] == c * h * w &&
               !is_graph_output(g, f->output(0));
          if (!ok) break;
          for (const onnx::NodeProto* p : readers(g, f->output(0))) {
            const bool gemm = p->op_type() == "Gemm";
            ok = ok && (gemm || p->op_type() == "MatMul") && p->input(0) == f->output(0) && p->input_size() >= 2 &&
                 initializer(g, p->input(1)) != nullptr && readers(g, p->input(1)).size() == 1 &&
                 (!gemm || int_attr(*p, "transA", 0) == 0);
            if (ok) products.emplace_back(const_cast<onnx::NodeProto*>(p), p->input(1));
          }
          ok = ok && !readers(g, f->output(0)).empty();
        }
        if (!ok) continue;
        for (const auto& [p, weight] : products) {
          onnx::TensorProto* b = initializer(g, weight);
          auto full = to_const(*b);
          if (!full || full->dims.size() != 2) {
            ok = false;
            break;
          }
          const bool trans_b = p->op_type() == "Gemm" && int_attr(*p, "transB", 0) != 0;
          const std::int64_t rows = trans_b ? full->dims[1] : full->dims[0],
                             cols = trans_b ? full->dims[0] : full->dims[1];
          if (rows != c * h * w) {
            ok = false;
            break;
          }
          Const permuted = *full;
          for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x)
              for (std::int64_t ch = 0; ch < c; ++ch) {
                const std::int64_t hwc = (y * w + x) * c + ch, chw = (ch * h + y) * w + x;
                for (std::int64_t o = 0; o < cols; ++o) {
                  const auto from = static_cast<std::size_t>(trans_b ? o * rows + hwc : hwc * cols + o);
                  const auto to = static_cast<std::size_t>(trans_b ? o * rows + chw : chw * cols + o);
                  permuted.v[to] = full->v[from];
                }
              }
          *b = to_proto(permuted, weight);
        }
        if (!ok) continue;
        const std::string from = t.output(0), to = t.input(0);
        erase_node(g, &t);
        rename_input(g, from, to);
        ++absorbed;
        again = true;
        break;
      }
    }
    if (absorbed > 0) {
      m_out.notes.push_back(fmt::format(
          "absorbed {} N, H, W, C transpose(s) before a flatten into the following weights (rows to C, H, W order)",
          absorbed));
      infer_shapes();
    }
  }

  static onnx::TensorProto* initializer(onnx::GraphProto& g, const std::string& name) {
    for (auto& t : *g.mutable_initializer())
      if (t.name() == name) return &t;
    return nullptr;
  }

  // Nodes no graph output depends on (exporters leave some, e.g. unused shape computations): gone,
  // so that the network's outputs are the graph's.
  void drop_dead_nodes(onnx::GraphProto& g) {
    std::set<std::string> needed;
    for (const auto& o : g.output()) needed.insert(o.name());
    std::vector<bool> live(static_cast<std::size_t>(g.node_size()), false);
    for (int i = g.node_size(); i-- > 0;) {
      const onnx::NodeProto& n = g.node(i);
      const bool used =
          std::any_of(n.output().begin(), n.output().end(), [&](const std::string& o) { return needed.contains(o); });
      if (!used) continue;
      live[static_cast<std::size_t>(i)] = true;
      needed.insert(n.input().begin(), n.input().end());
    }
    google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
    int dropped = 0;
    for (int i = 0; i < g.node_size(); ++i) {
      if (live[static_cast<std::size_t>(i)])
        *kept.Add() = g.node(i);
      else
        ++dropped;
    }
    g.mutable_node()->Swap(&kept);
    if (dropped > 0) m_out.notes.push_back(fmt::format("dropped {} node(s) no graph output depends on", dropped));
  }

  // Initializers nothing reads any more (inputs of folded nodes): gone, so that the mapping does not
  // read tensors of types it does not import (bool, int8 shape tables).
  void drop_unused_initializers(onnx::GraphProto& g) {
    std::set<std::string> read;
    for (const auto& n : g.node()) read.insert(n.input().begin(), n.input().end());
    for (const auto& o : g.output()) read.insert(o.name());
    google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
    for (auto& t : *g.mutable_initializer())
      if (read.contains(t.name())) *kept.Add() = t;
    g.mutable_initializer()->Swap(&kept);
    auto* inputs = g.mutable_input();
    for (int i = inputs->size(); i-- > 0;) {
      const std::string& name = inputs->Get(i).name();
      if (!read.contains(name) && m_consts.contains(name)) inputs->DeleteSubrange(i, 1);
    }
  }

  // Stage 4: every operator the mapping does not import, at once.
  void list_unsupported(const onnx::GraphProto& g) const {
    std::map<std::string, std::vector<std::string>> nodes;
    int count = 0;
    for (const auto& n : g.node()) {
      const bool other_domain = !n.domain().empty() && n.domain() != "ai.onnx";
      const std::string op = other_domain ? n.domain() + "." + n.op_type() : n.op_type();
      if (!other_domain && m_supported.contains(op)) continue;
      nodes[op].push_back(n.name().empty() ? (n.output_size() > 0 ? n.output(0) : "(unnamed)") : n.name());
      ++count;
    }
    if (nodes.empty()) return;
    std::vector<std::string> parts;
    for (const auto& [op, names] : nodes) {
      std::vector<std::string> shown(
          names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(names.size(), 3)));
      std::string part = fmt::format("{} x{} ({}{})", op, names.size(), fmt::join(shown, ", "),
                                     names.size() > 3 ? fmt::format(", {} more", names.size() - 3) : "");
      if (foldable_ops().contains(op)) part += " [not folded: an input is computed or its shape is not static]";
      parts.push_back(part);
    }
    std::vector<std::string> supported(m_supported.begin(), m_supported.end());
    fail(fmt::format("{} node(s) use operators bitsim does not import: {}; supported: {}", count,
                     fmt::join(parts, "; "), fmt::join(supported, ", ")));
  }

  void collect_shapes(const onnx::GraphProto&) { m_out.shapes = m_shapes; }

  onnx::ModelProto& m_model;
  std::string m_path;
  std::optional<Shape> m_input_shape;
  const std::set<std::string>& m_supported;
  std::int64_t m_opset = 0;
  bool m_inference_failed = false;
  std::map<std::string, std::vector<std::int64_t>> m_shapes;
  std::map<std::string, Const> m_consts;
  std::map<std::string, int> m_folded;  // folded nodes per operator (Constant nodes not counted)
  PreparedOnnx m_out;
};

}  // namespace

PreparedOnnx prepare_onnx(onnx::ModelProto& model, const std::string& path, const std::optional<Shape>& input_shape,
                          const std::set<std::string>& supported) {
  return Preparer(model, path, input_shape, supported).run();
}

}  // namespace bitsim::sim
