// Helpers shared by the test suites: temporary files and folders that remove themselves,
// path-free error messages, and an ONNX file read independently of bitsim's importer.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace bitsim::testing {

// A path in the temporary folder owned by this object: whatever is there when it goes (a file or a
// whole folder) is removed, also when the test fails. Moves, never copies.
class TempPath {
 public:
  explicit TempPath(std::string path) : m_path(std::move(path)) {}
  TempPath(TempPath&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}
  TempPath& operator=(TempPath&& other) noexcept {
    if (this != &other) {
      remove();
      m_path = std::exchange(other.m_path, {});
    }
    return *this;
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() { remove(); }

  const std::string& path() const { return m_path; }

 private:
  void remove() {
    if (m_path.empty()) return;
    std::error_code ignored;  // never throw from a destructor; a missing path is fine
    std::filesystem::remove_all(m_path, ignored);
    m_path.clear();
  }
  std::string m_path;
};

namespace detail {

// The temporary paths handed out as plain strings (write_temp, temp_path): removed when the running
// test ends, passed or failed (a GoogleTest listener), and at the latest when the process exits.
class TempRegistry {
 public:
  static TempRegistry& instance() {
    static TempRegistry registry;
    return registry;
  }
  void add(std::string path) {
    const std::lock_guard lock(m_mutex);
    if (!m_listening) {
      // GoogleTest owns (and never deletes) its listeners; appended during a test, this one still
      // hears that test's end.
      ::testing::UnitTest::GetInstance()->listeners().Append(new Listener(*this));
      m_listening = true;
    }
    m_paths.emplace_back(std::move(path));
  }
  void clear() {
    std::vector<TempPath> gone;
    const std::lock_guard lock(m_mutex);
    gone.swap(m_paths);
  }

 private:
  class Listener : public ::testing::EmptyTestEventListener {
   public:
    explicit Listener(TempRegistry& registry) : m_registry(registry) {}
    void OnTestEnd(const ::testing::TestInfo&) override { m_registry.clear(); }

   private:
    TempRegistry& m_registry;
  };
  std::mutex m_mutex;
  bool m_listening = false;
  std::vector<TempPath> m_paths;
};

}  // namespace detail

// A file's bytes (empty when it cannot be read: the test's own checks then fail on what is missing).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A path "bitsim_<suite>.<test>_<pid>_<name>" in the temporary folder, unique to the running test
// and process (CTest runs the tests in parallel processes). Nothing is created; whatever the test
// puts there (a file or a folder) is removed when the test ends, also on failure.
inline std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  for (char& c : test)
    if (c == '/') c = '_';
  std::string path = ::testing::TempDir() + "bitsim_" + test + "_" + std::to_string(getpid()) + "_" + name;
  detail::TempRegistry::instance().add(path);
  return path;
}

// Writes `text` to temp_path(name) and returns that path; the file goes when the test ends.
inline std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = temp_path(name);
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return path;
}

// `message` with every occurrence of `path` replaced by "F", so expectations need no temp paths.
inline std::string scrub(const std::string& message, const std::string& path) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = message.find(path, from)) != std::string::npos; from = at + path.size())
    out += message.substr(from, at - from) + "F";
  return out + message.substr(from);
}

// The InputError message of `load(path)` for a file holding `text`, with the path scrubbed.
template <typename Load>
std::string error_of(const std::string& name, const std::string& text, Load&& load) {
  const std::string path = write_temp(name, text);
  try {
    load(path);
  } catch (const std::exception& e) {
    return scrub(e.what(), path);
  }
  return "(no error)";
}

// An ONNX model's graph as the file states it, read with a minimal protobuf wire-format decoder
// (not ONNX's classes, which bitsim's importer uses): the nodes and the float initializers, so
// that tests can compare what bitsim imported with what the file holds.
struct OnnxFileTensor {
  std::string name;
  std::vector<std::int64_t> dims;
  std::vector<float> data;
};

struct OnnxFileNode {
  std::string op_type;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, float> float_attributes;  // attributes of type FLOAT, e.g. epsilon
};

struct OnnxFileGraph {
  std::vector<OnnxFileNode> nodes;
  std::map<std::string, OnnxFileTensor> initializers;  // float initializers and Constant nodes' values
};

namespace detail {

// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): tag = field << 3 | type.
class Wire {
 public:
  explicit Wire(std::string_view data) : m_data(data) {}
  bool done() const { return m_at >= m_data.size(); }
  // The next field's number and wire type.
  std::pair<std::uint64_t, int> tag() {
    const std::uint64_t t = varint();
    return {t >> 3, static_cast<int>(t & 7)};
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto byte = static_cast<unsigned char>(take(1)[0]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    throw std::runtime_error("protobuf: varint too long");
  }
  std::string_view bytes() { return take(static_cast<std::size_t>(varint())); }
  float fixed32_float() {
    float f;
    std::memcpy(&f, take(4).data(), 4);  // little-endian on the machines bitsim supports
    return f;
  }
  void skip(int type) {
    switch (type) {
      case 0:
        varint();
        return;
      case 1:
        take(8);
        return;
      case 2:
        bytes();
        return;
      case 5:
        take(4);
        return;
      default:
        throw std::runtime_error("protobuf: unsupported wire type " + std::to_string(type));
    }
  }

 private:
  std::string_view take(std::size_t n) {
    if (n > m_data.size() - m_at) throw std::runtime_error("protobuf: truncated message");
    const std::string_view out = m_data.substr(m_at, n);
    m_at += n;
    return out;
  }
  std::string_view m_data;
  std::size_t m_at = 0;
};

// TensorProto: dims = 1, data_type = 2 (1: FLOAT), float_data = 4, name = 8, raw_data = 9.
// Returns false for tensors that are not float.
inline bool read_onnx_tensor_proto(std::string_view message, OnnxFileTensor& t) {
  Wire w(message);
  std::uint64_t data_type = 0;
  std::string_view raw;
  while (!w.done()) {
    const auto [field, type] = w.tag();
    if (field == 1 && type == 0) {
      t.dims.push_back(static_cast<std::int64_t>(w.varint()));
    } else if (field == 1 && type == 2) {
      Wire packed(w.bytes());
      while (!packed.done()) t.dims.push_back(static_cast<std::int64_t>(packed.varint()));
    } else if (field == 2 && type == 0) {
      data_type = w.varint();
    } else if (field == 4 && type == 5) {
      t.data.push_back(w.fixed32_float());
    } else if (field == 4 && type == 2) {
      Wire packed(w.bytes());
      while (!packed.done()) t.data.push_back(packed.fixed32_float());
    } else if (field == 8 && type == 2) {
      t.name = std::string(w.bytes());
    } else if (field == 9 && type == 2) {
      raw = w.bytes();
    } else {
      w.skip(type);
    }
  }
  if (data_type != 1) return false;
  if (!raw.empty()) {
    t.data.resize(raw.size() / 4);
    std::memcpy(t.data.data(), raw.data(), t.data.size() * 4);
  }
  return true;
}

// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5 (AttributeProto: name = 1,
// f = 2, t = 5). A Constant node's tensor attribute becomes an initializer named by its output.
inline OnnxFileNode read_onnx_node(std::string_view message, OnnxFileGraph& graph) {
  OnnxFileNode node;
  std::vector<OnnxFileTensor> constants;
  Wire w(message);
  while (!w.done()) {
    const auto [field, type] = w.tag();
    if (type != 2 || field < 1 || field > 5) {
      w.skip(type);
    } else if (field == 1) {
      node.inputs.emplace_back(w.bytes());
    } else if (field == 2) {
      node.outputs.emplace_back(w.bytes());
    } else if (field == 3) {
      node.name = std::string(w.bytes());
    } else if (field == 4) {
      node.op_type = std::string(w.bytes());
    } else {
      Wire a(w.bytes());
      std::string name;
      std::optional<float> f;
      OnnxFileTensor t;
      bool tensor = false;
      while (!a.done()) {
        const auto [af, at] = a.tag();
        if (af == 1 && at == 2) {
          name = std::string(a.bytes());
        } else if (af == 2 && at == 5) {
          f = a.fixed32_float();
        } else if (af == 5 && at == 2) {
          tensor = read_onnx_tensor_proto(a.bytes(), t);
        } else {
          a.skip(at);
        }
      }
      if (f) node.float_attributes[name] = *f;
      if (tensor) constants.push_back(std::move(t));
    }
  }
  if (node.op_type == "Constant" && constants.size() == 1 && node.outputs.size() == 1) {
    constants[0].name = node.outputs[0];
    graph.initializers[node.outputs[0]] = std::move(constants[0]);
  }
  return node;
}

}  // namespace detail

// ModelProto: graph = 7; GraphProto: node = 1, initializer = 5.
inline OnnxFileGraph read_onnx_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  OnnxFileGraph graph;
  detail::Wire model(file);
  while (!model.done()) {
    const auto [field, type] = model.tag();
    if (field != 7 || type != 2) {
      model.skip(type);
      continue;
    }
    detail::Wire g(model.bytes());
    while (!g.done()) {
      const auto [gf, gt] = g.tag();
      if (gf == 1 && gt == 2) {
        graph.nodes.push_back(detail::read_onnx_node(g.bytes(), graph));
      } else if (gf == 5 && gt == 2) {
        OnnxFileTensor t;
        if (detail::read_onnx_tensor_proto(g.bytes(), t)) graph.initializers[t.name] = std::move(t);
      } else {
        g.skip(gt);
      }
    }
  }
  return graph;
}

}  // namespace bitsim::testing
