// The inference engine's inner loops (matrix products and depthwise convolutions), built for the
// vector units the machine has and chosen when the program runs: AVX-512, AVX2 with FMA, or plain
// x86-64. Every variant computes each output value with the same operations in the same order
// (one fused multiply-add per term, terms in ascending order), so they give the same bits.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace bitsim::alloc::kernels {

// Instruction sets the kernels are built for, from the least to the most capable.
enum class Isa { generic, avx2, avx512 };

// The most capable instruction set this processor runs (AVX2 also needs FMA; AVX-512 needs
// AVX-512F and the operating system's support, as the compiler's CPU check reports it).
Isa best_isa();
std::string_view isa_name(Isa isa);
// Every instruction set this processor runs, generic first.
std::vector<Isa> supported_isas();

// A clamp applied as each value is stored (ReLU, ReLU6, Clip); NaN stays NaN, as std::clamp.
struct Clamp {
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

// Y[m][p] = clamp(bias[m] + sum over k of W[m][k] * X[k][p]) for M x P outputs, row-major with
// row strides K (W), P (X, Y); the sum starts from the bias (0 when `bias` is null) and adds one
// fused multiply-add per k, in ascending k.
void gemm(Isa isa, std::int64_t M, std::int64_t K, std::int64_t P, const float* W, const float* X, const float* bias,
          float* Y, Clamp clamp);

// The geometry of one depthwise convolution plane (one input channel, one filter).
struct DepthwiseShape {
  std::int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;  // before (top, left); the bottom and right follow from the sizes
  bool operator==(const DepthwiseShape&) const = default;
};

// Working memory for depthwise(): the zero-padded input plane, split by stride into column phases.
// The layout is worked out once per shape (a layer's channels share it).
struct DepthwiseScratch {
  std::optional<DepthwiseShape> shape;  // the layout below is for this shape
  std::int64_t rows = 0, width = 0;
  std::vector<float> phases;
  std::vector<std::int64_t> offsets, first, end;
};

// y[e][f] = clamp(bias + sum over the taps (kh, kw) in row-major order of taps[kh][kw] *
// x[e * stride_h - pad_h + kh * dilation_h][f * stride_w - pad_w + kw * dilation_w]), one fused
// multiply-add per tap, the padding read as zeros.
void depthwise(Isa isa, const DepthwiseShape& shape, const float* x, const float* taps, float bias, float* y,
               Clamp clamp, DepthwiseScratch& scratch);

}  // namespace bitsim::alloc::kernels
