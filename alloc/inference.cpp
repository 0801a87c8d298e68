// The forward pass: convolutions as im2col + GEMM (Eigen), batches split across threads.
#include "alloc/inference.h"

#include <fmt/format.h>
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "sim/base/diagnostics.h"
#include "sim/base/parallel.h"

namespace bitsim::alloc {

using sim::Layer;
using sim::LayerOp;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One thread's working memory for the layers it runs.
struct LayerScratch {
  std::vector<float> col;  // im2col
  kernels::DepthwiseScratch depthwise;
};

InferenceEngine::InferenceEngine(const sim::Network& net, int threads, kernels::Isa isa)
    : m_net(net), m_threads(std::max(1, threads)), m_isa(isa) {
  if (isa > kernels::best_isa())
    throw InputError({}, fmt::format("this processor cannot run the engine's {} kernels (it runs {})",
                                     kernels::isa_name(isa), kernels::isa_name(kernels::best_isa())));
  if (!net.has_values())
    throw InputError(
        {}, fmt::format("workload '{}' has no trained values: measured error needs an ONNX model", net.name()));
}

namespace {

void activate(const Layer& l, float* data, std::size_t count) {
  const auto hard_sigmoid = [&](float x) { return std::clamp(l.hard_alpha * x + l.hard_beta, 0.0f, 1.0f); };
  switch (l.activation) {
    case sim::Activation::None:
      return;
    case sim::Activation::Relu:
    case sim::Activation::Clip: {
      // std::clamp's values (NaN passes) in a form the compiler turns into vector max and min.
      const float lo = l.activation == sim::Activation::Relu ? 0.0f : l.clip_min;
      const float hi = l.activation == sim::Activation::Clip ? l.clip_max
                       : l.relu_max > 0                      ? l.relu_max
                                                             : std::numeric_limits<float>::infinity();
      for (std::size_t k = 0; k < count; ++k) {
        const float v = lo > data[k] ? lo : data[k];
        data[k] = hi < v ? hi : v;
      }
      return;
    }
    case sim::Activation::Sigmoid:
      for (std::size_t k = 0; k < count; ++k) data[k] = 1.0f / (1.0f + std::exp(-data[k]));
      return;
    case sim::Activation::HardSigmoid:
      for (std::size_t k = 0; k < count; ++k) data[k] = hard_sigmoid(data[k]);
      return;
    case sim::Activation::HardSwish:  // x * HardSigmoid(x) with alpha 1/6, beta 0.5 (ONNX)
      for (std::size_t k = 0; k < count; ++k) data[k] *= std::clamp(data[k] / 6.0f + 0.5f, 0.0f, 1.0f);
      return;
    case sim::Activation::Exp:
      for (std::size_t k = 0; k < count; ++k) data[k] = std::exp(data[k]);
      return;
    case sim::Activation::Tanh:
      for (std::size_t k = 0; k < count; ++k) data[k] = std::tanh(data[k]);
      return;
    case sim::Activation::LeakyRelu:
      for (std::size_t k = 0; k < count; ++k) data[k] = data[k] < 0 ? l.leaky_alpha * data[k] : data[k];
      return;
    case sim::Activation::PRelu: {  // slope per channel (planes of H x W), or one for all
      const std::size_t plane = static_cast<std::size_t>(l.output.height * l.output.width);
      for (std::size_t k = 0; k < count; ++k) {
        const float a =
            l.prelu_slope.size() == 1 ? l.prelu_slope[0] : l.prelu_slope[(k / plane) % l.prelu_slope.size()];
        data[k] = data[k] < 0 ? a * data[k] : data[k];
      }
      return;
    }
    case sim::Activation::Softmax: {  // along softmax_axis: `len` values `inner` apart, per (outer, inner)
      const std::array<std::size_t, 3> dims{static_cast<std::size_t>(l.output.channels),
                                            static_cast<std::size_t>(l.output.height),
                                            static_cast<std::size_t>(l.output.width)};
      const auto a = static_cast<std::size_t>(l.softmax_axis);
      std::size_t outer = 1, inner = 1;
      for (std::size_t d = 0; d < a; ++d) outer *= dims[d];
      for (std::size_t d = a + 1; d < 3; ++d) inner *= dims[d];
      const std::size_t len = dims[a];
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t p = 0; p < inner; ++p) {
          float* v = data + o * len * inner + p;
          float top = -std::numeric_limits<float>::infinity();
          for (std::size_t c = 0; c < len; ++c) top = std::max(top, v[c * inner]);
          float sum = 0;
          for (std::size_t c = 0; c < len; ++c) sum += v[c * inner] = std::exp(v[c * inner] - top);
          for (std::size_t c = 0; c < len; ++c) v[c * inner] /= sum;
        }
      return;
    }
  }
}

// The activation the kernels apply as they store each value (ReLU, ReLU6, Clip: the same values
// as activate(), NaN included); none for the others, which activate() applies afterwards.
std::optional<kernels::Clamp> store_clamp(const Layer& l) {
  switch (l.activation) {
    case sim::Activation::None:
      return kernels::Clamp{};
    case sim::Activation::Relu:
      return kernels::Clamp{0.0f, l.relu_max > 0 ? l.relu_max : std::numeric_limits<float>::infinity()};
    case sim::Activation::Clip:
      return kernels::Clamp{l.clip_min, l.clip_max};
    default:
      return std::nullopt;
  }
}

// Rows (c, kh, kw) of the im2col matrix of one group: row r, column e * F + f holds the input value
// under tap (kh, kw) of output (e, f), 0 in the padding.
void im2col(const Layer& l, const sim::Shape& in, const float* x, std::int64_t cin, float* col) {
  const auto& win = l.window;
  const std::int64_t E = l.output.height, F = l.output.width, P = E * F;
  for (std::int64_t c = 0; c < cin; ++c)
    for (std::int64_t kh = 0; kh < win.kernel_h; ++kh)
      for (std::int64_t kw = 0; kw < win.kernel_w; ++kw) {
        float* row = col + ((c * win.kernel_h + kh) * win.kernel_w + kw) * P;
        const float* plane = x + c * in.height * in.width;
        const std::int64_t dw = kw * win.dilation_w - win.pad_w;
        // Output columns f with 0 <= f * stride + dw < width: [f0, f1).
        const std::int64_t f0 = std::min(F, dw >= 0 ? 0 : (-dw + win.stride_w - 1) / win.stride_w);
        const std::int64_t f1 = std::clamp<std::int64_t>((in.width - dw + win.stride_w - 1) / win.stride_w, f0, F);
        for (std::int64_t e = 0; e < E; ++e) {
          float* out = row + e * F;
          const std::int64_t ih = e * win.stride_h - win.pad_h + kh * win.dilation_h;
          if (ih < 0 || ih >= in.height) {
            std::fill(out, out + F, 0.0f);
            continue;
          }
          const float* src = plane + ih * in.width + dw;
          std::fill(out, out + f0, 0.0f);
          for (std::int64_t f = f0; f < f1; ++f) out[f] = src[f * win.stride_w];
          std::fill(out + f1, out + F, 0.0f);
        }
      }
}

void conv(const Layer& l, const sim::Shape& in, const float* x, float* y, const std::vector<float>& w, kernels::Isa isa,
          kernels::Clamp clamp, LayerScratch& scratch) {
  const auto& win = l.window;
  const std::int64_t g = l.groups, cin = in.channels / g, cout = l.output.channels / g;
  const std::int64_t E = l.output.height, F = l.output.width, P = E * F, K = cin * win.kernel_h * win.kernel_w;
  const float* bias = l.values->bias.empty() ? nullptr : l.values->bias.data();
  const bool pointwise = win.kernel_h == 1 && win.kernel_w == 1 && win.stride_h == 1 && win.stride_w == 1 &&
                         win.pad_h == 0 && win.pad_w == 0 && win.pad_h_end == 0 && win.pad_w_end == 0;
  if (cin == 1 && cout == 1 && !pointwise) {  // depthwise: a direct loop beats a 1-row GEMM
    const kernels::DepthwiseShape shape{.in_h = in.height,
                                        .in_w = in.width,
                                        .out_h = E,
                                        .out_w = F,
                                        .kernel_h = win.kernel_h,
                                        .kernel_w = win.kernel_w,
                                        .stride_h = win.stride_h,
                                        .stride_w = win.stride_w,
                                        .dilation_h = win.dilation_h,
                                        .dilation_w = win.dilation_w,
                                        .pad_h = win.pad_h,
                                        .pad_w = win.pad_w};
    for (std::int64_t gi = 0; gi < g; ++gi)
      kernels::depthwise(isa, shape, x + gi * in.height * in.width, w.data() + gi * win.kernel_h * win.kernel_w,
                         bias != nullptr ? bias[gi] : 0.0f, y + gi * P, clamp, scratch.depthwise);
    return;
  }
  for (std::int64_t gi = 0; gi < g; ++gi) {
    const float* rhs = x + gi * cin * in.height * in.width;  // pointwise: the input planes already are it
    if (!pointwise) {
      scratch.col.resize(static_cast<std::size_t>(K * P));
      im2col(l, in, rhs, cin, scratch.col.data());
      rhs = scratch.col.data();
    }
    kernels::gemm(isa, cout, K, P, w.data() + gi * cout * K, rhs, bias != nullptr ? bias + gi * cout : nullptr,
                  y + gi * cout * P, clamp);
  }
}

void pool(const Layer& l, const sim::Shape& in, const float* x, float* y) {
  const auto& w = l.window;
  const bool is_max = l.op == LayerOp::MaxPool;
  for (std::int64_t c = 0; c < in.channels; ++c) {
    const float* plane = x + c * in.height * in.width;
    for (std::int64_t e = 0; e < l.output.height; ++e)
      for (std::int64_t f = 0; f < l.output.width; ++f) {
        float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
        std::int64_t inside = 0;
        for (std::int64_t kh = 0; kh < w.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < w.kernel_w; ++kw) {
            const std::int64_t ih = e * w.stride_h - w.pad_h + kh, iw = f * w.stride_w - w.pad_w + kw;
            if (ih < 0 || ih >= in.height || iw < 0 || iw >= in.width) continue;
            const float v = plane[ih * in.width + iw];
            acc = is_max ? std::max(acc, v) : acc + v;
            ++inside;
          }
        if (!is_max) {
          // count_include_pad divides by the window clipped to the padded input, else by the
          // values inside the input.
          std::int64_t div = inside;
          if (w.count_include_pad) {
            const std::int64_t h0 = e * w.stride_h - w.pad_h, w0 = f * w.stride_w - w.pad_w;
            const std::int64_t h1 = std::min(h0 + w.kernel_h, in.height + w.pad_h_end);
            const std::int64_t w1 = std::min(w0 + w.kernel_w, in.width + w.pad_w_end);
            div = (h1 - h0) * (w1 - w0);
          }
          acc = div > 0 ? acc / static_cast<float>(div) : 0.0f;
        }
        y[(c * l.output.height + e) * l.output.width + f] = acc;
      }
  }
}

// A pad layer: each output pixel reads the input pixel it maps to (edge: clamped; reflect: mirrored
// about the border without repeating it) or is the constant.
void pad(const Layer& l, const sim::Shape& in, const float* x, float* y) {
  const auto& w = l.window;
  const auto source = [&](std::int64_t o, std::int64_t before, std::int64_t size) -> std::int64_t {
    const std::int64_t i = o - before;
    if (i >= 0 && i < size) return i;
    switch (w.pad_mode) {
      case sim::PadMode::Constant:
        return -1;
      case sim::PadMode::Edge:
        return std::clamp<std::int64_t>(i, 0, size - 1);
      case sim::PadMode::Reflect:
        return i < 0 ? -i : 2 * (size - 1) - i;  // pads < size (checked by the network)
    }
    return -1;
  };
  for (std::int64_t c = 0; c < in.channels; ++c) {
    const float* plane = x + c * in.height * in.width;
    for (std::int64_t e = 0; e < l.output.height; ++e) {
      const std::int64_t ih = source(e, w.pad_h, in.height);
      for (std::int64_t f = 0; f < l.output.width; ++f) {
        const std::int64_t iw = source(f, w.pad_w, in.width);
        y[(c * l.output.height + e) * l.output.width + f] = ih < 0 || iw < 0 ? w.pad_value : plane[ih * in.width + iw];
      }
    }
  }
}

// ONNX ConvTranspose per group: the GEMM cols = W^T X (N = out channels x kernel, M = input pixels),
// then each product added at its output position (col2im), then the bias.
void conv_transpose(const Layer& l, const sim::Shape& in, const float* x, float* y, const std::vector<float>& w) {
  const auto& win = l.window;
  const std::int64_t g = l.groups, cin = in.channels / g, cout = l.output.channels / g;
  const std::int64_t P = in.height * in.width, taps = win.kernel_h * win.kernel_w, N = cout * taps;
  const std::int64_t H = l.output.height, W = l.output.width;
  std::fill(y, y + l.output.count(), 0.0f);
  RowMatrix cols(N, P);
  for (std::int64_t gi = 0; gi < g; ++gi) {
    Eigen::Map<const RowMatrix> Wg(w.data() + gi * cin * N, cin, N);
    Eigen::Map<const RowMatrix> X(x + gi * cin * P, cin, P);
    cols.noalias() = Wg.transpose() * X;
    for (std::int64_t oc = 0; oc < cout; ++oc)
      for (std::int64_t kh = 0; kh < win.kernel_h; ++kh)
        for (std::int64_t kw = 0; kw < win.kernel_w; ++kw) {
          const std::int64_t row = (oc * win.kernel_h + kh) * win.kernel_w + kw;
          float* plane = y + (gi * cout + oc) * H * W;
          for (std::int64_t ih = 0; ih < in.height; ++ih) {
            const std::int64_t oh = ih * win.stride_h - win.pad_h + kh * win.dilation_h;
            if (oh < 0 || oh >= H) continue;
            for (std::int64_t iw = 0; iw < in.width; ++iw) {
              const std::int64_t ow = iw * win.stride_w - win.pad_w + kw * win.dilation_w;
              if (ow >= 0 && ow < W) plane[oh * W + ow] += cols(row, ih * in.width + iw);
            }
          }
        }
  }
  if (l.values && !l.values->bias.empty())
    for (std::int64_t c = 0; c < l.output.channels; ++c)
      std::for_each(y + c * H * W, y + (c + 1) * H * W,
                    [&](float& v) { v += l.values->bias[static_cast<std::size_t>(c)]; });
}

// The input coordinate of output coordinate x along an axis of `in` -> `out` values (ONNX Resize).
double resize_source(const sim::ResizeSpec& r, double x, std::int64_t in, std::int64_t out, double scale) {
  switch (r.transform) {
    case sim::ResizeTransform::HalfPixel:
      return (x + 0.5) / scale - 0.5;
    case sim::ResizeTransform::PytorchHalfPixel:
      return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case sim::ResizeTransform::AlignCorners: {  // over in x scale, unrounded (ONNX's reference)
      const double span = static_cast<double>(in) * scale - 1;
      return out > 1 && span > 0 ? x * static_cast<double>(in - 1) / span : 0.0;
    }
    case sim::ResizeTransform::Asymmetric:
      return x / scale;
  }
  return 0.0;
}

std::int64_t nearest_index(sim::NearestRounding rounding, double v, std::int64_t in) {
  double r = 0;
  switch (rounding) {
    case sim::NearestRounding::RoundPreferFloor:
      r = v == std::floor(v) + 0.5 ? std::floor(v) : std::round(v);
      break;
    case sim::NearestRounding::RoundPreferCeil:
      r = v == std::floor(v) + 0.5 ? std::ceil(v) : std::round(v);
      break;
    case sim::NearestRounding::Floor:
      r = std::floor(v);
      break;
    case sim::NearestRounding::Ceil:
      r = std::ceil(v);
      break;
  }
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(r), 0, in - 1);
}

void resize(const Layer& l, const sim::Shape& in, const float* x, float* y) {
  const sim::ResizeSpec& r = l.resize;
  const std::int64_t H = l.output.height, W = l.output.width;
  const double sh = r.scale_h > 0 ? r.scale_h : static_cast<double>(H) / static_cast<double>(in.height);
  const double sw = r.scale_w > 0 ? r.scale_w : static_cast<double>(W) / static_cast<double>(in.width);
  // Per output row / column: the two input indices and the weight of the second (nearest: one index).
  struct Tap {
    std::int64_t lo = 0, hi = 0;
    float t = 0;
  };
  const auto taps = [&](std::int64_t out, std::int64_t size, double scale) {
    std::vector<Tap> v(static_cast<std::size_t>(out));
    for (std::int64_t i = 0; i < out; ++i) {
      const double src = resize_source(r, static_cast<double>(i), size, out, scale);
      Tap& t = v[static_cast<std::size_t>(i)];
      if (r.mode == sim::ResizeMode::Nearest) {
        t.lo = t.hi = nearest_index(r.nearest, src, size);
      } else {
        const double c = std::clamp(src, 0.0, static_cast<double>(size - 1));
        t.lo = static_cast<std::int64_t>(std::floor(c));
        t.hi = std::min(t.lo + 1, size - 1);
        t.t = static_cast<float>(c - static_cast<double>(t.lo));
      }
    }
    return v;
  };
  const std::vector<Tap> rows = taps(H, in.height, sh), cols = taps(W, in.width, sw);
  for (std::int64_t c = 0; c < in.channels; ++c) {
    const float* plane = x + c * in.height * in.width;
    float* out = y + c * H * W;
    for (std::int64_t e = 0; e < H; ++e) {
      const Tap& a = rows[static_cast<std::size_t>(e)];
      const float* r0 = plane + a.lo * in.width;
      const float* r1 = plane + a.hi * in.width;
      for (std::int64_t f = 0; f < W; ++f) {
        const Tap& b = cols[static_cast<std::size_t>(f)];
        const float top = r0[b.lo] + b.t * (r0[b.hi] - r0[b.lo]);
        const float bottom = r1[b.lo] + b.t * (r1[b.hi] - r1[b.lo]);
        out[e * W + f] = top + a.t * (bottom - top);
      }
    }
  }
}

}  // namespace

void InferenceEngine::run_layer(std::size_t i, std::vector<Activations>& outs, int b, const ForwardHooks* hooks,
                                LayerScratch& scratch) const {
  const Layer& l = m_net.layer(i);
  const std::size_t out_count = static_cast<std::size_t>(l.output.count());
  const std::vector<float>* w = l.values ? &l.values->weights : nullptr;
  if (hooks && i < hooks->weights.size() && hooks->weights[i]) w = hooks->weights[i];
  {
    float* y = outs[i].data() + static_cast<std::size_t>(b) * out_count;
    auto input = [&](std::size_t k) {
      const auto p = static_cast<std::size_t>(l.inputs[k]);
      return outs[p].data() + static_cast<std::size_t>(b) * static_cast<std::size_t>(m_net.layer(p).output.count());
    };
    auto in_shape = [&](std::size_t k) { return m_net.layer(static_cast<std::size_t>(l.inputs[k])).output; };
    switch (l.op) {
      case LayerOp::Input:
        break;
      case LayerOp::Conv:
        if (const std::optional<kernels::Clamp> clamp = store_clamp(l)) {
          conv(l, in_shape(0), input(0), y, *w, m_isa, *clamp, scratch);
          return;  // activated as stored
        }
        conv(l, in_shape(0), input(0), y, *w, m_isa, kernels::Clamp{}, scratch);
        break;
      case LayerOp::FullyConnected: {
        const auto K = static_cast<Eigen::Index>(l.gemm.k), N = static_cast<Eigen::Index>(l.gemm.n);
        Eigen::Map<const RowMatrix> W(w->data(), N, K);
        Eigen::Map<const Eigen::VectorXf> X(input(0), K);
        Eigen::Map<Eigen::VectorXf> Y(y, N);
        Y.noalias() = W * X;
        if (!l.values->bias.empty()) Y += Eigen::Map<const Eigen::VectorXf>(l.values->bias.data(), N);
        break;
      }
      case LayerOp::MaxPool:
      case LayerOp::AvgPool:
        pool(l, in_shape(0), input(0), y);
        break;
      case LayerOp::Add: {  // ((x0 + x1) + x2) + ..., the first two in one pass
        const float* x0 = input(0);
        if (l.inputs.size() == 1) {
          std::copy(x0, x0 + out_count, y);
          break;
        }
        const float* x1 = input(1);
        for (std::size_t j = 0; j < out_count; ++j) y[j] = x0[j] + x1[j];
        for (std::size_t k = 2; k < l.inputs.size(); ++k) {
          const float* x = input(k);
          for (std::size_t j = 0; j < out_count; ++j) y[j] += x[j];
        }
        break;
      }
      case LayerOp::Mul: {  // equal shapes, or a per-channel gate broadcast over the pixels
        const auto na = static_cast<std::size_t>(in_shape(0).count()),
                   nb = static_cast<std::size_t>(in_shape(1).count());
        const float* big = na >= nb ? input(0) : input(1);
        const float* small = na >= nb ? input(1) : input(0);
        const std::size_t plane = na == nb ? 1 : static_cast<std::size_t>(l.output.height * l.output.width);
        for (std::size_t j = 0; j < out_count; ++j) y[j] = big[j] * small[j / plane];
        break;
      }
      case LayerOp::Concat: {  // per index of the axes before concat_axis, each input's block in turn
        const std::int64_t outer = l.concat_axis == 0   ? 1
                                   : l.concat_axis == 1 ? l.output.channels
                                                        : l.output.channels * l.output.height;
        float* at = y;
        for (std::int64_t o = 0; o < outer; ++o)
          for (std::size_t k = 0; k < l.inputs.size(); ++k) {
            const auto block = static_cast<std::size_t>(in_shape(k).count() / outer);
            const float* from = input(k) + static_cast<std::size_t>(o) * block;
            at = std::copy(from, from + block, at);
          }
        break;
      }
      case LayerOp::Transpose: {  // output (i0, i1, i2) is input value at axis perm[a] = i_a
        const sim::Shape in = in_shape(0);
        const std::array<std::int64_t, 3> stride{in.height * in.width, in.width, 1};
        const std::int64_t s0 = stride[static_cast<std::size_t>(l.perm[0])],
                           s1 = stride[static_cast<std::size_t>(l.perm[1])],
                           s2 = stride[static_cast<std::size_t>(l.perm[2])];
        const float* x = input(0);
        float* o = y;
        for (std::int64_t i0 = 0; i0 < l.output.channels; ++i0)
          for (std::int64_t i1 = 0; i1 < l.output.height; ++i1)
            for (std::int64_t i2 = 0; i2 < l.output.width; ++i2) *o++ = x[i0 * s0 + i1 * s1 + i2 * s2];
        break;
      }
      case LayerOp::Pad:
        pad(l, in_shape(0), input(0), y);
        break;
      case LayerOp::Resize:
        resize(l, in_shape(0), input(0), y);
        break;
      case LayerOp::ConvTranspose:
        conv_transpose(l, in_shape(0), input(0), y, *w);
        break;
      case LayerOp::Slice: {
        const sim::Shape in = in_shape(0);
        const sim::SliceSpec& sl = l.slice;
        const float* x = input(0);
        float* o = y;
        for (std::int64_t c = 0; c < l.output.channels; ++c)
          for (std::int64_t h = 0; h < l.output.height; ++h)
            for (std::int64_t v = 0; v < l.output.width; ++v)
              *o++ = x[((sl.start[0] + c * sl.step[0]) * in.height + sl.start[1] + h * sl.step[1]) * in.width +
                       sl.start[2] + v * sl.step[2]];
        break;
      }
      case LayerOp::Reshape:
        std::copy(input(0), input(0) + out_count, y);
        break;
      case LayerOp::Shuffle: {  // channel gi * (C / g) + k goes to k * g + gi
        const std::int64_t g = l.groups, per = l.output.channels / g, plane = l.output.height * l.output.width;
        for (std::int64_t gi = 0; gi < g; ++gi)
          for (std::int64_t k = 0; k < per; ++k)
            std::copy(input(0) + (gi * per + k) * plane, input(0) + (gi * per + k + 1) * plane,
                      y + (k * g + gi) * plane);
        break;
      }
      case LayerOp::Scale: {
        const auto& s = *l.values;
        const std::size_t plane = static_cast<std::size_t>(l.output.height * l.output.width);
        const float* x = input(0);
        for (std::size_t j = 0; j < out_count; ++j) {  // one value for all, one per channel or one per value
          const std::size_t c = s.weights.size() == 1 ? 0 : s.weights.size() == out_count ? j : j / plane;
          y[j] = x[j] * s.weights[c] + s.bias[c];
        }
        break;
      }
    }
    activate(l, y, out_count);
  }
}

void InferenceEngine::check_memory(std::size_t from, int images) const {
  // Refused up front, rather than failing in the middle.
  double bytes = 0;
  for (std::size_t i = std::max<std::size_t>(from, 1); i < m_net.layers().size(); ++i)
    bytes += static_cast<double>(images) * static_cast<double>(m_net.layer(i).output.count()) * sizeof(float);
  if (bytes > static_cast<double>(kMaxInferenceBytes))
    throw InputError({}, fmt::format("running '{}' on {} images needs {:.3g} GiB for its layer outputs, over the "
                                     "limit of {} GiB: use fewer images (--data NAME:N)",
                                     m_net.name(), images, bytes / 0x1p30, kMaxInferenceBytes >> 30));
}

void InferenceEngine::forward_from(std::vector<Activations>& outs, std::size_t from, int n,
                                   const ForwardHooks* hooks) const {
  const std::size_t layers = m_net.layers().size();
  check_memory(from, n);  // every layer's output of every image is kept
  outs.resize(layers);
  for (std::size_t i = std::max<std::size_t>(from, 1); i < layers; ++i)
    outs[i].resize(static_cast<std::size_t>(n) *
                   static_cast<std::size_t>(m_net.layer(i).output.count()));  // every value is written
  // Images are independent: each thread runs its share of the batch an image at a time through
  // every layer, so that what a layer reads was written moments before (in cache).
  auto work = [&](int begin, int end) {
    LayerScratch scratch;
    for (int b = begin; b < end; ++b)
      for (std::size_t i = std::max<std::size_t>(from, 1); i < layers; ++i) {
        run_layer(i, outs, b, hooks, scratch);
        if (hooks && i < hooks->outputs.size() && hooks->outputs[i]) {
          const auto count = static_cast<std::size_t>(m_net.layer(i).output.count());
          hooks->outputs[i](std::span<float>(outs[i].data() + static_cast<std::size_t>(b) * count, count));
        }
      }
  };
  const int threads = std::min(m_threads, n);
  if (threads <= 1) {
    work(0, n);
    return;
  }
  // One contiguous share of the images per thread.
  parallel_for(static_cast<std::size_t>(threads), threads, [&] {
    return [&](std::size_t t) {
      const int k = static_cast<int>(t);
      work(n * k / threads, n * (k + 1) / threads);
    };
  });
}

std::vector<Activations> InferenceEngine::forward_all(std::span<const float> input, int n,
                                                      const ForwardHooks* hooks) const {
  std::vector<Activations> outs(m_net.layers().size());
  const auto in_count = static_cast<std::size_t>(m_net.layer(0).output.count());
  if (input.size() != static_cast<std::size_t>(n) * in_count)
    throw InputError({},
                     fmt::format("input has {} values, expected {} images of {} values", input.size(), n, in_count));
  outs[0].assign(input.begin(), input.end());
  if (hooks && !hooks->outputs.empty() && hooks->outputs[0]) hooks->outputs[0](outs[0]);  // input quantizer
  forward_from(outs, 1, n, hooks);
  return outs;
}

Activations InferenceEngine::forward(std::span<const float> input, int n, const ForwardHooks* hooks) const {
  const auto in_count = static_cast<std::size_t>(m_net.layer(0).output.count());
  const std::size_t out_count = output_size();
  if (input.size() != static_cast<std::size_t>(n) * in_count)
    throw InputError({},
                     fmt::format("input has {} values, expected {} images of {} values", input.size(), n, in_count));
  const int threads = std::max(1, std::min(m_threads, n));
  check_memory(1, threads);  // each thread holds one image's layer outputs
  const auto outputs = m_net.outputs();
  Activations out(static_cast<std::size_t>(n) * out_count);
  // Each thread runs its share of the images one at a time through every layer, in buffers that
  // hold one image (they stay in cache), and keeps only the outputs.
  parallel_for(static_cast<std::size_t>(threads), threads, [&] {
    return [&](std::size_t t) {
      const int k = static_cast<int>(t);
      std::vector<Activations> outs(m_net.layers().size());
      for (std::size_t i = 0; i < outs.size(); ++i)
        outs[i].resize(static_cast<std::size_t>(m_net.layer(i).output.count()));
      LayerScratch scratch;
      for (int b = n * k / threads; b < n * (k + 1) / threads; ++b) {
        const auto image = input.subspan(static_cast<std::size_t>(b) * in_count, in_count);
        std::copy(image.begin(), image.end(), outs[0].begin());
        if (hooks && !hooks->outputs.empty() && hooks->outputs[0]) hooks->outputs[0](outs[0]);  // input quantizer
        for (std::size_t i = 1; i < outs.size(); ++i) {
          run_layer(i, outs, 0, hooks, scratch);
          if (hooks && i < hooks->outputs.size() && hooks->outputs[i]) hooks->outputs[i](outs[i]);
        }
        auto at = out.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(b) * out_count);
        for (const int o : outputs)
          at = std::copy(outs[static_cast<std::size_t>(o)].begin(), outs[static_cast<std::size_t>(o)].end(), at);
      }
    };
  });
  return out;
}

std::size_t InferenceEngine::output_size() const {
  std::size_t total = 0;
  for (const int o : m_net.outputs())
    total += static_cast<std::size_t>(m_net.layer(static_cast<std::size_t>(o)).output.count());
  return total;
}

Activations InferenceEngine::outputs_of(const std::vector<Activations>& outs, int n) const {
  const auto outputs = m_net.outputs();
  if (outputs.size() == 1) return outs[static_cast<std::size_t>(outputs[0])];
  Activations out;
  out.reserve(static_cast<std::size_t>(n) * output_size());
  for (int image = 0; image < n; ++image)
    for (const int o : outputs) {
      const auto size = static_cast<std::size_t>(m_net.layer(static_cast<std::size_t>(o)).output.count());
      const auto& values = outs[static_cast<std::size_t>(o)];
      const auto from = values.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(image) * size);
      out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(size));
    }
  return out;
}

double InferenceEngine::output_mse(const std::vector<Activations>& a, const std::vector<Activations>& b) const {
  const auto outputs = m_net.outputs();
  if (outputs.size() == 1)
    return mean_squared_error(a[static_cast<std::size_t>(outputs[0])], b[static_cast<std::size_t>(outputs[0])]);
  double sum = 0;
  std::size_t count = 0;
  for (const int o : outputs) {
    const auto& x = a[static_cast<std::size_t>(o)];
    sum += mean_squared_error(x, b[static_cast<std::size_t>(o)]) * static_cast<double>(x.size());
    count += x.size();
  }
  return count == 0 ? 0.0 : sum / static_cast<double>(count);
}

double mean_squared_error(std::span<const float> a, std::span<const float> b) {
  BITSIM_CHECK(a.size() == b.size());
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return a.empty() ? 0.0 : sum / static_cast<double>(a.size());
}

double top1_accuracy(std::span<const float> logits, std::span<const int> labels) {
  if (labels.empty()) return 0;
  const std::size_t classes = logits.size() / labels.size();
  std::size_t right = 0;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    const auto row = logits.subspan(r * classes, classes);
    right += static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()) == labels[r];
  }
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

double top1_agreement(std::span<const float> a, std::span<const float> b, int rows) {
  BITSIM_CHECK(a.size() == b.size() && rows >= 0);
  if (rows == 0) return 0;
  const std::size_t n = static_cast<std::size_t>(rows), width = a.size() / n;
  std::size_t same = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const auto ra = a.subspan(r * width, width), rb = b.subspan(r * width, width);
    same += std::max_element(ra.begin(), ra.end()) - ra.begin() == std::max_element(rb.begin(), rb.end()) - rb.begin();
  }
  return static_cast<double>(same) / static_cast<double>(n);
}

double sqnr_db(std::span<const float> reference, std::span<const float> other) {
  BITSIM_CHECK(reference.size() == other.size());
  double signal = 0, noise = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double d = static_cast<double>(reference[i]) - other[i];
    signal += static_cast<double>(reference[i]) * reference[i];
    noise += d * d;
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal / noise);
}

}  // namespace bitsim::alloc
