// The SystemC model against the analytical model and against hand-built cases whose answer is
// known. Each test runs in its own process (CTest), but the model also supports several runs per
// process, which one test checks.
#include <gtest/gtest.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/detailed_model.h"
#include "sim/workload.h"
#include "tests/test_util.h"

// libsystemc's main() references sc_main; the tests use GoogleTest's main.
extern "C" int sc_main(int, char**) { return 0; }

namespace bitsim::sim {
namespace {

const std::string kRoot = BITSIM_SOURCE_DIR;

// A JSON value and a strict RFC 8259 parser (no extensions, duplicate keys refused), so that the
// trace is checked as the viewers read it, not as text.
struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  struct Member;
  std::vector<Member> object;  // in file order

  const Json* find(const std::string& key) const;
  std::vector<std::string> keys() const;
};
struct Json::Member {
  std::string key;
  Json value;
};

const Json* Json::find(const std::string& key) const {
  for (const auto& m : object)
    if (m.key == key) return &m.value;
  return nullptr;
}

std::vector<std::string> Json::keys() const {
  std::vector<std::string> out;
  for (const auto& m : object) out.push_back(m.key);
  std::sort(out.begin(), out.end());
  return out;
}

class JsonParser {
 public:
  // Throws std::runtime_error naming the offset of the first problem.
  static Json parse(const std::string& text) {
    JsonParser p(text);
    Json v = p.value();
    p.space();
    if (p.m_at != text.size()) p.fail("text after the value");
    return v;
  }

 private:
  explicit JsonParser(const std::string& text) : m_text(text) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON offset " + std::to_string(m_at) + ": " + what);
  }
  char peek() const { return m_at < m_text.size() ? m_text[m_at] : '\0'; }
  void space() {
    while (m_at < m_text.size() && std::strchr(" \t\r\n", m_text[m_at]) != nullptr) ++m_at;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++m_at;
  }
  bool literal(const char* word) {
    if (m_text.compare(m_at, std::strlen(word), word) != 0) return false;
    m_at += std::strlen(word);
    return true;
  }
  Json value() {
    space();
    Json v;
    const char c = peek();
    if (c == '{' || c == '[') {
      const bool object = c == '{';
      const char close = object ? '}' : ']';
      v.kind = object ? Json::Kind::Object : Json::Kind::Array;
      ++m_at;
      space();
      if (peek() == close) {
        ++m_at;
        return v;
      }
      while (true) {
        if (object) {
          space();
          std::string key = string();
          if (v.find(key)) fail("duplicate key '" + key + "'");
          space();
          expect(':');
          v.object.push_back({std::move(key), value()});
        } else {
          v.array.push_back(value());
        }
        space();
        if (peek() != ',') break;
        ++m_at;
      }
      expect(close);
    } else if (c == '"') {
      v.kind = Json::Kind::String;
      v.string = string();
    } else if (literal("true") || literal("false")) {
      v.kind = Json::Kind::Bool;
      v.boolean = m_text[m_at - 1] == 'e' && m_text[m_at - 2] == 'u';  // "true", not "false"
    } else if (!literal("null")) {
      v.kind = Json::Kind::Number;
      v.number = number();
    }
    return v;
  }
  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  double number() {
    const std::size_t begin = m_at;
    const auto digits = [&] {
      const std::size_t from = m_at;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++m_at;
      if (m_at == from) fail("expected a digit");
    };
    if (peek() == '-') ++m_at;
    if (peek() == '0') {
      ++m_at;
    } else {
      digits();
    }
    if (peek() == '.') {
      ++m_at;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++m_at;
      if (peek() == '+' || peek() == '-') ++m_at;
      digits();
    }
    return std::stod(m_text.substr(begin, m_at - begin));
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (m_at >= m_text.size()) fail("unterminated string");
      const char c = m_text[m_at++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      static const std::string escapes = "\"\\/bfnrt", escaped = "\"\\/\b\f\n\r\t";
      const char e = peek();
      ++m_at;
      if (e == 'u') {  // \uXXXX: bitsim writes none, so ASCII is enough here
        const std::string hex = m_text.substr(m_at, 4);
        if (hex.size() != 4 || !std::all_of(hex.begin(), hex.end(),
                                            [](char h) { return std::isxdigit(static_cast<unsigned char>(h)) != 0; }))
          fail("bad \\u escape");
        const unsigned long code = std::stoul(hex, nullptr, 16);
        if (code >= 0x80) fail("non-ASCII \\u escape");
        out += static_cast<char>(code);
        m_at += 4;
      } else if (e != '\0' && escapes.find(e) != std::string::npos) {
        out += escaped[escapes.find(e)];
      } else {
        fail("bad escape");
      }
    }
  }
  const std::string& m_text;
  std::size_t m_at = 0;
};

// The parser above is strict where viewers are: what it accepts is JSON. First in the file, so
// that in a run of the whole binary its exceptions come before any SystemC run (an exception after
// one trips AddressSanitizer's stack bookkeeping; CTest runs each test in its own process anyway).
TEST(TraceJson, ParserIsStrict) {
  const Json v = JsonParser::parse(R"( {"a": [1, -0.5e3, "x\"\u0041", true, false, null], "b": {}} )");
  ASSERT_EQ(v.keys(), (std::vector<std::string>{"a", "b"}));
  const std::vector<Json>& a = v.find("a")->array;
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[1].number, -500);
  EXPECT_EQ(a[2].string, "x\"A");
  EXPECT_TRUE(a[3].boolean);
  EXPECT_EQ(a[4].kind, Json::Kind::Bool);
  EXPECT_FALSE(a[4].boolean);
  EXPECT_EQ(a[5].kind, Json::Kind::Null);
  for (const char* bad : {"[1,]", "{\"a\": 1,}", "{'a': 1}", "{a: 1}", "[01]", "[1.]", "[.5]", "[NaN]", "[1] x",
                          "{\"a\": 1, \"a\": 2}", "[\"\\x\"]", "[\"tab\there\"]", "[", "", "[tru]"})
    EXPECT_THROW(JsonParser::parse(bad), std::runtime_error) << bad;
}

struct Case {
  const char* hw;
  const char* workload;  // workloads/NAME.yaml, or a path under the source folder ending in .onnx
  int bits;
};

Network case_workload(const Case& c) {
  const std::string name = c.workload;
  return load_workload(name.ends_with(".onnx") ? kRoot + "/" + name : kRoot + "/workloads/" + name + ".yaml");
}

// Upper bound on what pipelining a layer through its tiles adds to the slowest stage: each of
// the other stages' share of one tile, twice (fill and drain), plus the DRAM latency of a read
// and a write.
double fill_bound(const LayerTiming& t, int tiles, const HardwareConfig& hw) {
  return 2.0 * (t.dram_time_s + t.decode_time_s + t.compute_time_s) / tiles + 2 * hw.dram_latency_s + 1e-12;
}

class Agreement : public ::testing::TestWithParam<Case> {};

TEST_P(Agreement, WithoutPrefetchAndWithUnlimitedBuffersEachLayerMatchesTheAnalyticalModel) {
  const Case& c = GetParam();
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + c.hw + ".yaml");
  const Network net = case_workload(c);
  const BitPlan plan = BitPlan::uniform(net, c.bits, c.bits);
  const SimResult analytical = AnalyticalModel(net, hw).evaluate(plan);
  DetailedOptions options;
  options.prefetch = false;
  options.unlimited_buffers = true;
  const DetailedResult detailed = simulate_detailed(net, hw, plan, 1, options);
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    if (net.layer(i).op == LayerOp::Input) continue;
    const LayerTiming& a = analytical.layers[i];
    const double t = detailed.result.layers[i].time_s;
    // Never faster than the slowest stage (1 ps per tile of SystemC time rounding allowed) ...
    EXPECT_GE(t, a.time_s - 1e-12 * detailed.layers[i].tiles) << net.layer(i).name;
    // ... and slower only by the pipeline's fill and drain.
    EXPECT_LE(t, a.time_s + fill_bound(a, detailed.layers[i].tiles, hw)) << net.layer(i).name;
    // Same traffic, symbols and cycles as the analytical model.
    EXPECT_EQ(detailed.result.layers[i].dram_bytes, a.dram_bytes);
    EXPECT_EQ(detailed.result.layers[i].compute_cycles, a.compute_cycles);
  }
}

TEST_P(Agreement, WithPrefetchTheTotalStaysBetweenTheResourceBoundsAndTheLayerSum) {
  const Case& c = GetParam();
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/" + c.hw + ".yaml");
  const Network net = case_workload(c);
  const BitPlan plan = BitPlan::uniform(net, c.bits, c.bits);
  const SimResult analytical = AnalyticalModel(net, hw).evaluate(plan);
  for (bool unlimited : {true, false}) {
    DetailedOptions options;
    options.unlimited_buffers = unlimited;
    const DetailedResult d = simulate_detailed(net, hw, plan, 1, options);
    double dram = 0, decode = 0, compute = 0, layer_sum = 0, fill = 0;
    for (std::size_t i = 0; i < net.layers().size(); ++i) {
      const LayerTiming& a = analytical.layers[i];
      dram += a.dram_time_s;
      decode += a.decode_time_s;
      compute += a.compute_time_s;
      layer_sum += a.time_s;
      if (net.layer(i).op != LayerOp::Input) fill += fill_bound(a, d.layers[i].tiles, hw);
    }
    const double slack = 1e-12 * static_cast<double>(net.layers().size()) * 64;
    EXPECT_GE(d.result.time_s, std::max({dram, decode, compute}) - slack) << unlimited;
    EXPECT_NEAR(d.dram_busy_s, dram, slack);
    EXPECT_NEAR(d.array_busy_s, compute, slack);
    if (unlimited) {
      EXPECT_LE(d.result.time_s, layer_sum + fill);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedModels, Agreement,
                         ::testing::Values(Case{"tpu", "resnet50", 2}, Case{"tpu", "resnet50", 8},
                                           Case{"tpu", "mobilenet_v1", 4}, Case{"eyeriss", "resnet50", 4},
                                           Case{"eyeriss", "mobilenet_v1", 16},
                                           // detector heads: transposes, reshapes, concats along any axis
                                           Case{"tpu", "tests/data/onnx/dethead.onnx", 8}),
                         [](const auto& test) {
                           std::string name = std::string(test.param.hw) + "_" + test.param.workload + "_" +
                                              std::to_string(test.param.bits);
                           for (char& ch : name)
                             if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
                           return name;
                         });

// One FC layer (1024 -> 1024 weights, 1M values) on a 16x16 array at 1 GHz.
Network fc_net(const std::string& name) {
  return load_workload(testing::write_temp(name + ".yaml", R"(name: one_fc
input: {shape: [1024, 1, 1]}
layers:
  - {name: fc, op: fc, out_features: 1024, bias: false}
)"));
}

HardwareConfig small_hw(const std::string& name, const std::string& bandwidth, int lanes, const std::string& sram) {
  return load_hardware_config(testing::write_temp(name + "_hw.yaml",
                                                  "name: small\n"
                                                  "array: {rows: 16, cols: 16, dataflow: ws}\n"
                                                  "clock: \"1 GHz\"\n"
                                                  "sram: {weights: \"" +
                                                      sram + "\", activations: \"" + sram +
                                                      "\"}\n"
                                                      "dram: {bandwidth: \"" +
                                                      bandwidth +
                                                      "\"}\n"
                                                      "decoder: {lanes: " +
                                                      std::to_string(lanes) +
                                                      "}\n"
                                                      "datapath: {native_bits: 8}\n"));
}

TEST(HandBuilt, DramBoundLayer) {
  // 1 MiB of 8-bit weights at 1 GB/s: 1.05 ms of DRAM; compute: 64 folds x (32+16+1-2) - 1 = 3007 cycles.
  const Network net = fc_net("dram");
  const HardwareConfig hw = small_hw("dram", "1 GB/s", 0, "1 MiB");
  const DetailedResult d = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 1, {});
  const double dram = (1024.0 * 1024 + 1024 + 1024) / 1e9;
  EXPECT_NEAR(d.result.time_s, dram, dram / 64 + 4e-6);
  EXPECT_GE(d.result.time_s, dram);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Dram);
  EXPECT_GT(d.layers[1].stall_dram_s, 0.9 * (d.result.time_s - d.array_busy_s));
}

TEST(HandBuilt, DecoderBoundLayer) {
  // Entropy-coded weights: 1M symbols on 1 lane at 1 GHz = 1.05 ms; DRAM (100 GB/s) and compute are short.
  const Network net = fc_net("decode");
  const HardwareConfig hw = small_hw("decode", "100 GB/s", 1, "1 MiB");
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[1] = TensorCoding{4, 2.0 * 1024 * 1024, std::int64_t{1024} * 1024};
  const DetailedResult d = simulate_detailed(net, hw, plan, 1, {});
  const double decode = 1024.0 * 1024 / 1e9;
  EXPECT_GE(d.result.time_s, decode);
  EXPECT_LE(d.result.time_s, decode * (1 + 2.0 / 64) + 1e-6);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Decode);
  EXPECT_NEAR(d.decoder_busy_s, decode, 1e-9);
  EXPECT_GT(d.layers[1].stall_decode_s, 0.5 * decode);
}

TEST(HandBuilt, ComputeBoundLayer) {
  // A 3x3 conv with 256 -> 256 channels on 56x56: K = 2304, N = 256 on 16x16 (ws):
  // 144 x 16 folds x (32 + 16 + 3136 - 2) = 7,331,328 lines -> 7,331,327 cycles; little data at 1 TB/s.
  const Network net = load_workload(testing::write_temp("conv.yaml", R"(name: conv
input: {shape: [256, 56, 56]}
layers:
  - {name: c, op: conv, out_channels: 256, kernel: 3, padding: 1}
)"));
  const HardwareConfig hw = small_hw("compute", "1 TB/s", 0, "8 MiB");
  const DetailedResult d = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 1, {});
  EXPECT_EQ(d.result.layers[1].compute_cycles, 7331327);
  const double compute = 7331327 / 1e9;
  EXPECT_GE(d.result.time_s, compute);
  EXPECT_LE(d.result.time_s, compute + 2 * d.result.layers[1].dram_time_s + 1e-9);
  EXPECT_EQ(d.result.layers[1].bottleneck, Bottleneck::Compute);
}

TEST(HandBuilt, BufferTooSmallForDoubleBufferingSerializesFetchAndCompute) {
  // The FC layer in 64 tiles of 16 KiB of weights each; with a 24 KiB weight buffer only one tile
  // fits, so a tile's fetch cannot overlap the previous tile's compute. Bandwidth and compute are
  // balanced (about 16 us each per tile), so the time roughly doubles against a roomy buffer.
  const Network net = fc_net("buffer");
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  const HardwareConfig roomy = small_hw("roomy", "1 GB/s", 0, "1 MiB");
  HardwareConfig tight = roomy;
  tight.sram_weight_bytes = 24 * 1024;
  tight.clock_hz = 3007.0 / 64 / 16.4e-6 * 64;  // compute per tile ~ DRAM per tile
  HardwareConfig balanced = roomy;
  balanced.clock_hz = tight.clock_hz;
  const DetailedResult fast = simulate_detailed(net, balanced, plan, 1, {});
  const DetailedResult slow = simulate_detailed(net, tight, plan, 1, {});
  EXPECT_GT(slow.result.time_s, 1.5 * fast.result.time_s);
  EXPECT_GT(slow.layers[1].stall_buffer_s, 0.3 * slow.result.time_s);
  EXPECT_LE(slow.peak_weight_buffer_bytes, 24 * 1024);
  EXPECT_GT(fast.peak_weight_buffer_bytes, 24 * 1024);
}

TEST(DetailedModel, RepeatedRunsInOneProcessAgree) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/eyeriss.yaml");
  const Network net = load_workload(kRoot + "/workloads/mobilenet_v1.yaml");
  const BitPlan plan = BitPlan::uniform(net, 4, 4);
  const DetailedResult a = simulate_detailed(net, hw, plan, 1, {});
  const DetailedResult other = simulate_detailed(net, hw, BitPlan::uniform(net, 8, 8), 2, {});
  const DetailedResult b = simulate_detailed(net, hw, plan, 1, {});
  EXPECT_EQ(a.result.time_s, b.result.time_s);
  EXPECT_NE(a.result.time_s, other.result.time_s);
  for (std::size_t i = 0; i < a.layers.size(); ++i) EXPECT_EQ(a.layers[i].end_s, b.layers[i].end_s);
}

TEST(DetailedModel, InfeasiblePlanIsAnInputError) {
  HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  hw.decoder_lanes = 0;
  const Network net = fc_net("infeasible");
  BitPlan plan = BitPlan::uniform(net, 8, 8);
  plan.weights[1] = TensorCoding{4, 1000, 1000};
  EXPECT_THROW(simulate_detailed(net, hw, plan, 1, {}), InputError);
}

// SystemC time ends at 2^64 ps (~1.8e7 s): a run that could pass it is refused up front (this
// test's first and only SystemC call, as nothing may throw after a run) instead of reporting a
// wrapped-around time; the analytical model has no such limit.
TEST(DetailedModel, RunPastSystemcTimeIsAnInputError) {
  const Network net = fc_net("slow");
  const HardwareConfig hw = small_hw("slow", "1 B/s", 0, "1 MiB");  // the slowest DRAM a config may have
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  // 1 MiB of weights and 2 KiB of activations per image at 1 B/s: 1.8e7 s for a batch of 8192.
  EXPECT_NEAR(AnalyticalModel(net, hw, 8192).evaluate(plan).time_s, 1024.0 * 1024 + 8192 * 2048, 1.0);
  try {
    simulate_detailed(net, hw, plan, 8192, {});
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the SystemC model counts time in 1 ps steps"), std::string::npos) << e.what();
  }
}

// An SRAM of more than 2^62 bytes is a buffer that never fills (it used to overflow int64).
TEST(DetailedModel, HugeBuffersActAsUnlimited) {
  const Network net = fc_net("huge");
  HardwareConfig hw = small_hw("huge", "1 GB/s", 0, "1 MiB");
  hw.sram_weight_bytes = hw.sram_activation_bytes = 1e303;
  DetailedOptions unlimited;
  unlimited.unlimited_buffers = true;
  const BitPlan plan = BitPlan::uniform(net, 8, 8);
  const DetailedResult a = simulate_detailed(net, hw, plan, 1, {});
  const DetailedResult b = simulate_detailed(net, hw, plan, 1, unlimited);
  EXPECT_EQ(a.result.time_s, b.result.time_s);
  EXPECT_GT(a.peak_weight_buffer_bytes, 0);
}

// The trace of AlexNet on the TPU, with the first conv's and the FCs' weights entropy coded so that
// the decoder track has spans too, parsed as JSON and checked against the simulation it records:
// Chrome's trace-event format ("X" complete events with ts and dur in microseconds, "M" metadata
// naming the threads), one thread per resource, every layer's span and every tile's compute.
TEST(DetailedModel, ChromeTraceHasATrackPerResource) {
  const HardwareConfig hw = load_hardware_config(kRoot + "/configs/tpu.yaml");
  const Network net = load_workload(kRoot + "/workloads/alexnet.yaml");
  BitPlan plan = BitPlan::uniform(net, 4, 4);
  for (const char* coded : {"conv1", "fc6", "fc7", "fc8"}) {
    const std::size_t i = *net.find(coded);
    plan.weights[i] = TensorCoding{4, 3.0 * static_cast<double>(net.layer(i).weights), net.layer(i).weights};
  }
  DetailedOptions options;
  options.record_trace = true;
  const DetailedResult d = simulate_detailed(net, hw, plan, 1, options);
  std::ostringstream out;
  write_chrome_trace(out, d);
  const Json root = JsonParser::parse(out.str());

  ASSERT_EQ(root.kind, Json::Kind::Object);
  EXPECT_EQ(root.keys(), (std::vector<std::string>{"displayTimeUnit", "traceEvents"}));
  ASSERT_TRUE(root.find("displayTimeUnit"));
  EXPECT_EQ(root.find("displayTimeUnit")->string, "ns");
  const Json* events = root.find("traceEvents");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->kind, Json::Kind::Array);
  ASSERT_EQ(events->array.size(), 4 + d.trace.size());

  // Metadata first: the four tracks' names, thread ids 0 to 3 of process 1.
  const char* track_names[] = {"layers", "dram", "decoder", "array"};
  for (int t = 0; t < 4; ++t) {
    const Json& e = events->array[static_cast<std::size_t>(t)];
    ASSERT_EQ(e.keys(), (std::vector<std::string>{"args", "name", "ph", "pid", "tid"})) << t;
    EXPECT_EQ(e.find("ph")->string, "M");
    EXPECT_EQ(e.find("name")->string, "thread_name");
    EXPECT_EQ(e.find("pid")->number, 1);
    EXPECT_EQ(e.find("tid")->number, t);
    ASSERT_TRUE(e.find("args")->find("name"));
    EXPECT_EQ(e.find("args")->find("name")->string, track_names[t]);
  }

  // Then complete events, ts and dur in microseconds, each on one of the four tracks.
  struct Span {
    std::string name;
    double ts, dur;
  };
  std::vector<Span> tracks[4];
  const double total_us = d.result.time_s * 1e6;
  const double eps_us = 1e-6 * total_us;  // printing rounds to about 1e-15 relative
  for (std::size_t k = 4; k < events->array.size(); ++k) {
    const Json& e = events->array[k];
    ASSERT_EQ(e.keys(), (std::vector<std::string>{"dur", "name", "ph", "pid", "tid", "ts"})) << k;
    EXPECT_EQ(e.find("ph")->string, "X") << k;
    EXPECT_EQ(e.find("pid")->number, 1) << k;
    ASSERT_EQ(e.find("ts")->kind, Json::Kind::Number) << k;
    ASSERT_EQ(e.find("dur")->kind, Json::Kind::Number) << k;
    ASSERT_EQ(e.find("name")->kind, Json::Kind::String) << k;
    const double tid = e.find("tid")->number;
    ASSERT_TRUE(tid == 0 || tid == 1 || tid == 2 || tid == 3) << k;
    const Span s{e.find("name")->string, e.find("ts")->number, e.find("dur")->number};
    EXPECT_GE(s.ts, 0) << s.name;
    EXPECT_GT(s.dur, 0) << s.name;
    EXPECT_LE(s.ts + s.dur, total_us + eps_us) << s.name;
    tracks[static_cast<int>(tid)].push_back(s);
  }

  // Layers: one span per layer that does anything (the input and, on a fusing datapath, the layers
  // run inside another's output path with nothing of their own to move excepted), in network order,
  // from its first activity to its end; layers finish in order, and the last one ends the simulation.
  const std::vector<Span>& layers = tracks[0];
  std::size_t spans = 0, fused_without_span = 0;
  for (std::size_t i = 1; i < net.layers().size(); ++i) {
    if (d.layers[i].end_s == d.layers[i].start_s) {
      ++fused_without_span;
      EXPECT_EQ(d.result.layers[i].time_s, 0) << net.layer(i).name;
      continue;
    }
    ASSERT_LT(spans, layers.size());
    const Span& s = layers[spans];
    EXPECT_EQ(s.name, net.layer(i).name);
    EXPECT_NEAR(s.ts, d.layers[i].start_s * 1e6, eps_us) << s.name;
    EXPECT_NEAR(s.ts + s.dur, d.layers[i].end_s * 1e6, eps_us) << s.name;
    if (spans > 0) {
      EXPECT_GE(s.ts + s.dur, layers[spans - 1].ts + layers[spans - 1].dur - eps_us) << s.name;
    }
    ++spans;
  }
  EXPECT_EQ(spans, layers.size());
  EXPECT_EQ(fused_without_span, hw.fusion == Fusion::None ? 0u : 3u);  // AlexNet's pools on the shipped TPU
  EXPECT_NEAR(layers.back().ts + layers.back().dur, total_us, eps_us);

  // DRAM, decoder, array: one resource each, so spans follow one another without overlapping,
  // and their durations add up to the resource's busy time.
  const double busy_s[4] = {0, d.dram_busy_s, d.decoder_busy_s, d.array_busy_s};
  for (int t = 1; t < 4; ++t) {
    ASSERT_FALSE(tracks[t].empty()) << track_names[t];
    double sum_us = 0;
    for (std::size_t k = 0; k < tracks[t].size(); ++k) {
      sum_us += tracks[t][k].dur;
      if (k > 0) {
        EXPECT_GE(tracks[t][k].ts, tracks[t][k - 1].ts + tracks[t][k - 1].dur - eps_us) << tracks[t][k].name;
      }
    }
    EXPECT_NEAR(sum_us, busy_s[t] * 1e6, eps_us) << track_names[t];
  }
  // The array's busy time is the analytical compute time, layer by layer: each layer on the array
  // computes its tiles "NAME tile 0", "NAME tile 1", ... in order, one span each.
  std::size_t next = 0;
  double compute_us = 0;
  for (std::size_t i = 1; i < net.layers().size(); ++i) {
    if (d.result.layers[i].compute_cycles == 0) continue;
    double layer_us = 0;
    for (int k = 0; k < d.layers[i].tiles; ++k, ++next) {
      ASSERT_LT(next, tracks[3].size());
      EXPECT_EQ(tracks[3][next].name, net.layer(i).name + " tile " + std::to_string(k));
      layer_us += tracks[3][next].dur;
    }
    EXPECT_NEAR(layer_us, d.result.layers[i].compute_time_s * 1e6, eps_us) << net.layer(i).name;
    compute_us += layer_us;
  }
  EXPECT_EQ(next, tracks[3].size());
  EXPECT_NEAR(compute_us, d.array_busy_s * 1e6, eps_us);
  // Decoder spans only for the coded layers' tiles.
  for (const Span& s : tracks[2])
    EXPECT_TRUE(s.name.starts_with("conv1 tile ") || s.name.starts_with("fc6 tile ") ||
                s.name.starts_with("fc7 tile ") || s.name.starts_with("fc8 tile "))
        << s.name;
  // DRAM spans: "NAME weights|inputs|write tile K".
  for (const Span& s : tracks[1]) {
    const std::size_t space = s.name.find(' ');
    ASSERT_NE(space, std::string::npos) << s.name;
    EXPECT_TRUE(net.find(s.name.substr(0, space))) << s.name;
    const std::string rest = s.name.substr(space + 1);
    EXPECT_TRUE(rest.starts_with("weights tile ") || rest.starts_with("inputs tile ") ||
                rest.starts_with("write tile "))
        << s.name;
  }
}

}  // namespace
}  // namespace bitsim::sim
