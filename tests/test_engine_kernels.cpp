// The inference engine's kernels (alloc/engine_kernels.h) against their documented sums, computed
// here with std::fma in the documented order, bit for bit on every instruction set this processor
// runs; and the whole engine giving the same bits with each of them.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "alloc/engine_kernels.h"
#include "alloc/inference.h"
#include "sim/onnx.h"

namespace bitsim {
namespace {

using alloc::kernels::Clamp;
using alloc::kernels::DepthwiseShape;
using alloc::kernels::Isa;

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  return v;
}

float clamped(float v, Clamp c) {
  v = c.lo > v ? c.lo : v;
  return c.hi < v ? c.hi : v;
}

// The same bits (NaN included), value by value, with the first difference named.
void expect_same_bits(const std::vector<float>& want, const std::vector<float>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::bit_cast<std::uint32_t>(want[i]) != std::bit_cast<std::uint32_t>(got[i])) {
      ADD_FAILURE() << what << ": value " << i << " is " << got[i] << ", expected " << want[i];
      return;
    }
}

TEST(EngineKernels, GemmIsTheDocumentedSumOnEveryInstructionSet) {
  const Clamp relu6{0.0f, 6.0f};
  int cases = 0;
  for (const std::int64_t M : {1, 2, 5, 6, 7, 13})
    for (const std::int64_t K : {1, 3, 9, 32})
      for (const std::int64_t P : {1, 7, 8, 15, 16, 17, 31, 32, 33, 49})
        for (const bool with_bias : {false, true}) {
          const auto seed = static_cast<std::uint64_t>(M * 1000000 + K * 1000 + P);
          const std::vector<float> W = random_values(static_cast<std::size_t>(M * K), seed);
          std::vector<float> X = random_values(static_cast<std::size_t>(K * P), seed + 1);
          const std::vector<float> bias = random_values(static_cast<std::size_t>(M), seed + 2);
          X[0] = std::numeric_limits<float>::quiet_NaN();  // passes through the sum and the clamp
          const Clamp clamp = with_bias ? relu6 : Clamp{};
          std::vector<float> want(static_cast<std::size_t>(M * P));
          for (std::int64_t m = 0; m < M; ++m)
            for (std::int64_t p = 0; p < P; ++p) {
              float acc = with_bias ? bias[static_cast<std::size_t>(m)] : 0.0f;
              for (std::int64_t k = 0; k < K; ++k)
                acc = std::fma(W[static_cast<std::size_t>(m * K + k)], X[static_cast<std::size_t>(k * P + p)], acc);
              want[static_cast<std::size_t>(m * P + p)] = clamped(acc, clamp);
            }
          for (const Isa isa : alloc::kernels::supported_isas()) {
            std::vector<float> got(want.size(), -1.0f);
            alloc::kernels::gemm(isa, M, K, P, W.data(), X.data(), with_bias ? bias.data() : nullptr, got.data(),
                                 clamp);
            expect_same_bits(want, got,
                             std::string(alloc::kernels::isa_name(isa)) + " gemm M=" + std::to_string(M) +
                                 " K=" + std::to_string(K) + " P=" + std::to_string(P));
            ++cases;
          }
        }
  EXPECT_GE(cases, 480);
}

std::int64_t output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                         std::int64_t pads) {
  return (in + pads - (kernel - 1) * dilation - 1) / stride + 1;
}

TEST(EngineKernels, DepthwiseIsTheDocumentedSumOnEveryInstructionSet) {
  struct Case {
    std::int64_t in_h, in_w, kernel, stride, dilation, pad_before, pad_after;
  };
  // 3x3 stride 1 and 2 (MobileNet), 5x5, dilated, AlexNet's 11x11 stride 4, asymmetric pads, a
  // kernel wider than the input, single rows and columns, and widths around the vector widths.
  const std::vector<Case> cases = {
      {28, 28, 3, 1, 1, 1, 1}, {14, 14, 3, 2, 1, 1, 1}, {15, 17, 3, 2, 1, 0, 1}, {7, 7, 5, 1, 1, 2, 2},
      {9, 33, 5, 2, 1, 2, 2},  {20, 20, 3, 1, 2, 2, 2}, {12, 40, 3, 3, 2, 1, 3}, {227, 227, 11, 4, 1, 0, 0},
      {3, 3, 5, 1, 1, 2, 2},   {1, 16, 3, 1, 1, 1, 1},  {16, 1, 3, 1, 1, 1, 1},  {6, 8, 3, 1, 1, 0, 0},
      {5, 9, 3, 1, 1, 0, 2},   {30, 31, 7, 2, 1, 3, 3},
  };
  for (const Case& c : cases) {
    DepthwiseShape s{.in_h = c.in_h,
                     .in_w = c.in_w,
                     .out_h = output_size(c.in_h, c.kernel, c.stride, c.dilation, c.pad_before + c.pad_after),
                     .out_w = output_size(c.in_w, c.kernel, c.stride, c.dilation, c.pad_before + c.pad_after),
                     .kernel_h = c.kernel,
                     .kernel_w = c.kernel,
                     .stride_h = c.stride,
                     .stride_w = c.stride,
                     .dilation_h = c.dilation,
                     .dilation_w = c.dilation,
                     .pad_h = c.pad_before,
                     .pad_w = c.pad_before};
    const std::string name = std::to_string(c.in_h) + "x" + std::to_string(c.in_w) + " k" + std::to_string(c.kernel) +
                             " s" + std::to_string(c.stride) + " d" + std::to_string(c.dilation) + " p" +
                             std::to_string(c.pad_before) + "/" + std::to_string(c.pad_after);
    const auto seed = static_cast<std::uint64_t>(c.in_h * 7919 + c.in_w * 31 + c.kernel);
    const std::vector<float> x = random_values(static_cast<std::size_t>(s.in_h * s.in_w), seed);
    const std::vector<float> taps = random_values(static_cast<std::size_t>(c.kernel * c.kernel), seed + 1);
    const float bias = 0.25f;
    const Clamp clamp{0.0f, std::numeric_limits<float>::infinity()};
    std::vector<float> want(static_cast<std::size_t>(s.out_h * s.out_w));
    for (std::int64_t e = 0; e < s.out_h; ++e)
      for (std::int64_t f = 0; f < s.out_w; ++f) {
        float acc = bias;
        for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
            const std::int64_t ih = e * s.stride_h - s.pad_h + kh * s.dilation_h;
            const std::int64_t iw = f * s.stride_w - s.pad_w + kw * s.dilation_w;
            const float v =
                ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w ? x[static_cast<std::size_t>(ih * s.in_w + iw)] : 0.0f;
            acc = std::fma(taps[static_cast<std::size_t>(kh * s.kernel_w + kw)], v, acc);
          }
        want[static_cast<std::size_t>(e * s.out_w + f)] = clamped(acc, clamp);
      }
    for (const Isa isa : alloc::kernels::supported_isas()) {
      alloc::kernels::DepthwiseScratch scratch;
      std::vector<float> got(want.size(), -1.0f);
      alloc::kernels::depthwise(isa, s, x.data(), taps.data(), bias, got.data(), clamp, scratch);
      expect_same_bits(want, got, std::string(alloc::kernels::isa_name(isa)) + " depthwise " + name);
    }
  }
}

// The whole engine (im2col, grouped and depthwise convolutions, fused activations, pooling, adds,
// concatenation, ConvTranspose, Resize...) with each instruction set: the same bits in every layer.
TEST(InferenceEngine, EveryInstructionSetGivesTheSameBits) {
  const std::string root = BITSIM_SOURCE_DIR;
  std::vector<std::string> models = {root + "/workloads/fmnist_cnn.onnx"};
  for (const auto& entry : std::filesystem::directory_iterator(root + "/tests/data/onnx"))
    if (entry.path().extension() == ".onnx" && entry.path().stem().string().rfind("hostile_", 0) != 0)
      models.push_back(entry.path().string());
  const std::vector<Isa> isas = alloc::kernels::supported_isas();
  int compared = 0;
  for (const std::string& path : models) {
    sim::Network net;
    try {
      net = sim::load_onnx(path);
    } catch (const std::exception&) {
      continue;  // the models bitsim refuses (tests/test_onnx.cpp checks which and why)
    }
    const int n = 3;
    const std::vector<float> input = random_values(static_cast<std::size_t>(n * net.layer(0).output.count()), 5);
    const alloc::InferenceEngine reference(net, 2, Isa::generic);
    const std::vector<alloc::Activations> want = reference.forward_all(input, n);
    for (const Isa isa : isas) {
      const alloc::InferenceEngine engine(net, 2, isa);
      const std::vector<alloc::Activations> got = engine.forward_all(input, n);
      for (std::size_t i = 1; i < want.size(); ++i)
        expect_same_bits(want[i], got[i],
                         path + " layer " + net.layer(i).name + " with " + std::string(alloc::kernels::isa_name(isa)));
      expect_same_bits(reference.forward(input, n), engine.forward(input, n), path + " outputs");
    }
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

}  // namespace
}  // namespace bitsim
