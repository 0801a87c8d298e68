// bitsim's float inference engine against ONNX Runtime's CPU engine (npm onnxruntime-node, the
// version pinned in tools/ort/package-lock.json, installed by tools/ort/install): an oracle nobody
// here wrote, on every ONNX model of the suite, on seeded random inputs (issue 13).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alloc/inference.h"
#include "sim/base/diagnostics.h"
#include "sim/onnx.h"
#include "tests/test_util.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = BITSIM_SOURCE_DIR;
const fs::path kOrt = kRoot / "tools/ort";

// |bitsim - ORT| <= kTolerance * max(1, |ORT|) for every output value: float32 sums taken in another
// order (im2col + GEMM here, ORT's own kernels there) differ by a few ulps per layer, far below it.
constexpr double kTolerance = 1e-4;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Why ONNX Runtime cannot run here, or nothing when tools/ort/install installed it and saw it run
// (its stamp file).
std::optional<std::string> ort_unavailable() {
  if (fs::exists(kOrt / "node_modules/.bitsim-installed")) return std::nullopt;
  std::string why =
      "ONNX Runtime (npm onnxruntime-node) is not installed in tools/ort/node_modules; tools/ort/install (run by "
      "./tools/test) installs it with npm";
  if (fs::exists(kOrt / "unavailable.txt")) why += ". Its last attempt: " + read_text(kOrt / "unavailable.txt");
  return why;
}

struct OrtRun {
  int exit_code = -1;  // -1: ended by a signal or not started
  std::string err;
};

// node tools/ort/run.mjs ARGS, stdout discarded, stderr kept; killed after 300 s.
OrtRun run_ort(const std::vector<std::string>& args, const fs::path& scratch) {
  const fs::path err_path = scratch / "ort-stderr.txt";
  std::vector<std::string> storage{"node", (kOrt / "run.mjs").string()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (std::string& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    const int out = open("/dev/null", O_WRONLY);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(120);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  OrtRun r;
  if (pid < 0) {
    r.err = "fork failed";
    return r;
  }
  int status = 0;
  bool killed = false;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (!killed && std::chrono::steady_clock::now() - start > std::chrono::seconds(300)) {
      kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.err = read_text(err_path);
  if (killed) r.err += " (killed after 300 s)";
  return r;
}

struct OrtCase {
  const char* name;  // the test's name
  const char* path;  // under the source folder
  int batch;
  std::uint32_t seed;
  float low;  // input values uniform in [low, high)
  float high;
  std::optional<sim::Shape> input_shape;  // C, H, W, for symbolic input dimensions
};

// Names the case in test listings (CTest shows a parameter's printed value).
void PrintTo(const OrtCase& c, std::ostream* os) { *os << c.path; }

// Every ONNX model of the suite that bitsim loads and can compute (the others are in kRefused): the
// test models of tools/scripts/make_test_models.py (their batch dimension is fixed at 2: ORT runs two
// images at a time), the shipped Fashion-MNIST model at a batch that crosses the engine's 256-image
// chunks, and PP-OCR's text-direction classifier (tests/data/thirdparty).
const OrtCase kCases[] = {
    {"acts", "tests/data/onnx/acts.onnx", 4, 11, -1.0f, 1.0f, std::nullopt},
    {"branchy", "tests/data/onnx/branchy.onnx", 4, 12, -1.0f, 1.0f, std::nullopt},
    {"clamps", "tests/data/onnx/clamps.onnx", 4, 13, -1.0f, 1.0f, std::nullopt},
    {"layouts", "tests/data/onnx/layouts.onnx", 4, 14, -1.0f, 1.0f, std::nullopt},
    {"padconv", "tests/data/onnx/padconv.onnx", 4, 15, -1.0f, 1.0f, std::nullopt},
    {"padsub", "tests/data/onnx/padsub.onnx", 4, 16, -1.0f, 1.0f, std::nullopt},
    {"poolsoftmax", "tests/data/onnx/poolsoftmax.onnx", 4, 17, -1.0f, 1.0f, std::nullopt},
    {"se", "tests/data/onnx/se.onnx", 4, 18, -1.0f, 1.0f, std::nullopt},
    {"shuffle", "tests/data/onnx/shuffle.onnx", 4, 19, -1.0f, 1.0f, std::nullopt},
    {"twoheads", "tests/data/onnx/twoheads.onnx", 4, 20, -1.0f, 1.0f, std::nullopt},
    {"dethead", "tests/data/onnx/dethead.onnx", 4, 21, -1.0f, 1.0f, std::nullopt},
    {"fmnist_cnn", "workloads/fmnist_cnn.onnx", 300, 22, 0.0f, 1.0f, std::nullopt},
    {"ppocr_cls", "tests/data/thirdparty/ppocr_cls.onnx", 8, 23, -1.0f, 1.0f, sim::Shape{3, 48, 192}},
};

// Models of tests/data/onnx that bitsim refuses on purpose (tests/test_onnx.cpp checks each message):
// it would compute something else than ONNX does, or the model is malformed.
const std::set<std::string> kRefused = {"concatbatch", "flatslice", "flatsoftmax", "matmulmap",     "padwrap",
                                        "rankmul",     "samepads",  "softmax11",   "transposebatch"};

bool has_note(const sim::Network& net, const std::string& text) {
  const std::vector<std::string>& notes = net.notes();
  return std::any_of(notes.begin(), notes.end(),
                     [&](const std::string& n) { return n.find(text) != std::string::npos; });
}

class OrtOracle : public ::testing::TestWithParam<OrtCase> {};

TEST_P(OrtOracle, FloatOutputsMatchOnnxRuntime) {
  if (const auto why = ort_unavailable()) GTEST_SKIP() << *why;
  const OrtCase& c = GetParam();
  const fs::path model = kRoot / c.path;
  const std::string dir = testing::temp_path("ort-" + std::string(c.name));
  fs::create_directories(dir);
  std::vector<std::string> args = {"--model", model.string(),          "--out",  dir,
                                   "--batch", std::to_string(c.batch), "--seed", std::to_string(c.seed),
                                   "--low",   std::to_string(c.low),   "--high", std::to_string(c.high)};
  sim::OnnxOptions options;
  options.input_shape = c.input_shape;
  if (c.input_shape) {
    args.emplace_back("--dims");
    args.push_back(std::to_string(c.input_shape->channels) + "," + std::to_string(c.input_shape->height) + "," +
                   std::to_string(c.input_shape->width));
  }
  const OrtRun ort = run_ort(args, dir);
  if (ort.exit_code == 127 || ort.exit_code == 3) GTEST_SKIP() << "ONNX Runtime cannot run: node: " << ort.err;
  ASSERT_EQ(ort.exit_code, 0) << ort.err;

  const sim::Network net = sim::load_onnx(model.string(), options);
  ASSERT_FALSE(has_note(net, "transpose(s) of graph outputs"))
      << "an output transpose was dropped: the outputs are not in the graph's layout";
  const sim::NamedTensor input = sim::read_onnx_tensor(dir + "/input_0.pb");
  ASSERT_EQ(input.dims.at(0), c.batch);
  std::vector<float> x = input.data;
  if (has_note(net, "is N, H, W, C")) {  // ORT reads N, H, W, C; bitsim's network reads N, C, H, W
    ASSERT_EQ(input.dims.size(), 4u);
    const auto h = static_cast<std::size_t>(input.dims[1]);
    const auto w = static_cast<std::size_t>(input.dims[2]);
    const auto ch = static_cast<std::size_t>(input.dims[3]);
    for (std::size_t n = 0; n < static_cast<std::size_t>(c.batch); ++n)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t xx = 0; xx < w; ++xx)
          for (std::size_t k = 0; k < ch; ++k)
            x[((n * ch + k) * h + y) * w + xx] = input.data[((n * h + y) * w + xx) * ch + k];
  }
  const alloc::InferenceEngine engine(net);
  const alloc::Activations got = engine.forward(x, c.batch);

  // ORT writes each graph output for the whole batch; forward() gives each image's outputs one after
  // another, in the same (graph) order.
  const std::size_t outputs = net.outputs().size();
  ASSERT_FALSE(fs::exists(dir + "/output_" + std::to_string(outputs) + ".pb")) << "ORT wrote more outputs";
  std::vector<sim::NamedTensor> ref;
  for (std::size_t k = 0; k < outputs; ++k)
    ref.push_back(sim::read_onnx_tensor(dir + "/output_" + std::to_string(k) + ".pb"));
  std::vector<float> expected;
  expected.reserve(got.size());
  for (std::size_t n = 0; n < static_cast<std::size_t>(c.batch); ++n)
    for (std::size_t k = 0; k < outputs; ++k) {
      const std::size_t per_image = ref[k].data.size() / static_cast<std::size_t>(c.batch);
      ASSERT_EQ(per_image * static_cast<std::size_t>(c.batch), ref[k].data.size()) << ref[k].name;
      ASSERT_EQ(per_image, net.layer(static_cast<std::size_t>(net.outputs()[k])).output.count()) << ref[k].name;
      const auto from = ref[k].data.begin() + static_cast<std::ptrdiff_t>(n * per_image);
      expected.insert(expected.end(), from, from + static_cast<std::ptrdiff_t>(per_image));
    }
  ASSERT_EQ(got.size(), expected.size());

  double worst = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double a = got[i];
    const double b = expected[i];
    if (std::isinf(b) || std::isinf(a)) {  // the same infinity (hostile_overflow)
      if (a != b && bad++ < 5) ADD_FAILURE() << c.name << " value " << i << ": bitsim " << a << ", ORT " << b;
      continue;
    }
    const double rel = std::fabs(a - b) / std::max(1.0, std::fabs(b));
    worst = std::max(worst, std::isnan(rel) ? INFINITY : rel);
    if (!(rel <= kTolerance) && bad++ < 5)
      ADD_FAILURE() << c.name << " value " << i << ": bitsim " << a << ", ORT " << b << " (relative error " << rel
                    << ")";
  }
  EXPECT_EQ(bad, 0u) << c.name << ": values beyond the tolerance, of " << got.size();
  RecordProperty("max_relative_error", std::to_string(worst));
  std::printf("%s: %zu values, max |bitsim - ORT| / max(1, |ORT|) = %.3g\n", c.name, got.size(), worst);
}

INSTANTIATE_TEST_SUITE_P(Models, OrtOracle, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<OrtCase>& p) { return std::string(p.param.name); });

// PP-OCR's classifier as shipped (paddle2onnx: a Shape -> Slice -> Concat -> Reshape flatten, Casts,
// BatchNormalization nodes, hard-swish as Mul/Add/Clip/Div) loads with the MAC count of an
// independent count (a script over the ONNX graph's shapes, written for the npm model survey).
TEST(ThirdPartyModel, PpOcrClassifierLoads) {
  sim::OnnxOptions options;
  options.input_shape = sim::Shape{3, 48, 192};
  const sim::Network net = sim::load_onnx((kRoot / "tests/data/thirdparty/ppocr_cls.onnx").string(), options);
  EXPECT_EQ(net.name(), "ppocr_cls");
  EXPECT_EQ(net.total_macs(), 16315376);
  ASSERT_EQ(net.outputs().size(), 1u);
  EXPECT_EQ(net.layer(static_cast<std::size_t>(net.outputs()[0])).output, (sim::Shape{2, 1, 1}));
}

// Every model under tests/data/onnx is compared above, refused on purpose, or hostile: refused, except
// hostile_overflow, which loads but whose outputs are infinite (refused where error is measured,
// tests/test_eval.cpp). A model added to the folder must be added to one of the lists.
TEST(OrtOracleCoverage, EveryTestModelIsComparedOrRefused) {
  std::set<std::string> compared;
  for (const OrtCase& c : kCases) compared.insert(fs::path(c.path).stem().string());
  std::size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(kRoot / "tests/data/onnx")) {
    if (entry.path().extension() != ".onnx") continue;
    const std::string name = entry.path().stem().string();
    ++seen;
    if (compared.contains(name)) continue;
    EXPECT_TRUE(kRefused.contains(name) || name.rfind("hostile_", 0) == 0)
        << name << ".onnx is neither compared with ONNX Runtime (kCases) nor listed as refused (kRefused)";
    if (name == "hostile_overflow") continue;
    EXPECT_THROW(sim::load_onnx(entry.path().string()), InputError) << name;
  }
  EXPECT_GE(seen, 27u);
}

}  // namespace
}  // namespace bitsim
