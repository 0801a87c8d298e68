// The kernels of engine_kernels.h written once for any vector width: engine_kernels.cpp includes
// this file once per instruction set, inside that set's own namespace, after defining the set's
// vector operations `V` and BITSIM_KERNEL (the function attribute naming the set's target). It has
// no include guard on purpose. Every output value is one accumulator that starts from the bias and
// takes one fused multiply-add per term in the documented order, whatever the vector width: lanes
// are different output values, never parts of one sum, so every instruction set gives the same bits.

// R rows of W times NV vectors of X's columns; with `Partial`, the last vector holds `lanes` values.
template <std::size_t R, std::size_t NV, bool Partial>
BITSIM_KERNEL inline void gemm_tile(std::int64_t K, std::int64_t P, const float* W, const float* X, const float* bias,
                                    float* Y, Clamp clamp, int lanes) {
  constexpr std::int64_t w = V::kWidth;
  typename V::Vec acc[R][NV];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::set1(bias != nullptr ? bias[r] : 0.0f);
  for (std::int64_t k = 0; k < K; ++k) {
    const float* x_row = X + k * P;
    typename V::Vec x[NV];
    for (std::size_t v = 0; v < NV; ++v) {
      const float* at = x_row + static_cast<std::int64_t>(v) * w;
      x[v] = Partial && v == NV - 1 ? V::load_partial(at, lanes) : V::load(at);
    }
    for (std::size_t r = 0; r < R; ++r) {
      const typename V::Vec wr = V::set1(W[static_cast<std::int64_t>(r) * K + k]);
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::fma(wr, x[v], acc[r][v]);
    }
  }
  const typename V::Vec lo = V::set1(clamp.lo), hi = V::set1(clamp.hi);
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < NV; ++v) {
      float* y = Y + static_cast<std::int64_t>(r) * P + static_cast<std::int64_t>(v) * w;
      if (Partial && v == NV - 1)
        V::store_partial(y, V::clamp(acc[r][v], lo, hi), lanes);
      else
        V::store(y, V::clamp(acc[r][v], lo, hi));
    }
}

// R rows of the product, every column: two vectors at a time, then one, then the remainder.
template <std::size_t R>
BITSIM_KERNEL inline void gemm_rows(std::int64_t K, std::int64_t P, const float* W, const float* X, const float* bias,
                                    float* Y, Clamp clamp) {
  constexpr std::int64_t w = V::kWidth;
  std::int64_t p = 0;
  for (; p + 2 * w <= P; p += 2 * w) gemm_tile<R, 2, false>(K, P, W, X + p, bias, Y + p, clamp, V::kWidth);
  if (p + w <= P) {
    gemm_tile<R, 1, false>(K, P, W, X + p, bias, Y + p, clamp, V::kWidth);
    p += w;
  }
  if (p < P) gemm_tile<R, 1, true>(K, P, W, X + p, bias, Y + p, clamp, static_cast<int>(P - p));
}

BITSIM_KERNEL inline void gemm(std::int64_t M, std::int64_t K, std::int64_t P, const float* W, const float* X,
                               const float* bias, float* Y, Clamp clamp) {
  constexpr std::int64_t kRows = 6;  // 6 x 2 accumulators, 2 loaded vectors and a broadcast: 15 registers
  for (std::int64_t m = 0; m < M; m += kRows) {
    const float* w = W + m * K;
    const float* b = bias != nullptr ? bias + m : nullptr;
    float* y = Y + m * P;
    switch (M - m < kRows ? M - m : kRows) {
      case 1:
        gemm_rows<1>(K, P, w, X, b, y, clamp);
        break;
      case 2:
        gemm_rows<2>(K, P, w, X, b, y, clamp);
        break;
      case 3:
        gemm_rows<3>(K, P, w, X, b, y, clamp);
        break;
      case 4:
        gemm_rows<4>(K, P, w, X, b, y, clamp);
        break;
      case 5:
        gemm_rows<5>(K, P, w, X, b, y, clamp);
        break;
      default:
        gemm_rows<6>(K, P, w, X, b, y, clamp);
        break;
    }
  }
}

// One depthwise plane from its zero-padded copy, split by stride into column phases (phase q holds
// the padded columns q, q + stride_w, ...; engine_kernels.cpp lays them out): every tap then reads
// consecutive values and no output needs a bounds check. `offsets[kh * kernel_w + kw]` is where tap
// (kh, kw) reads for output (0, 0). A tap in the padding adds a zero product.
BITSIM_KERNEL inline void depthwise_padded(const DepthwiseShape& shape, const float* x, const DepthwisePhases& p,
                                           const float* taps, float bias, float* y, Clamp clamp) {
  constexpr std::int64_t w = V::kWidth;
  // Copies the stores below cannot alias (the vector stores may alias anything).
  const DepthwiseShape s = shape;
  float* const phases = p.data;
  const std::int64_t rows = p.rows, width = p.width, size = s.stride_w * rows * width;
  const std::int64_t* const offsets = p.offsets;
  // The copy: zeros, then each input row's values where its phase columns fall inside the input.
  const typename V::Vec zero = V::set1(0.0f);
  for (std::int64_t k = 0; k < size; k += w) V::store(phases + k, zero);
  for (std::int64_t q = 0; q < s.stride_w; ++q) {
    const std::int64_t j0 = p.first[q], j1 = p.end[q];
    for (std::int64_t ih = 0; ih < s.in_h; ++ih) {
      float* out = phases + (q * rows + ih + s.pad_h) * width;
      const float* in = x + ih * s.in_w;  // phase column j reads in[j * stride_w + q - pad_w]
      for (std::int64_t j = j0; j < j1; j += w) {
        const int lanes = j1 - j < w ? static_cast<int>(j1 - j) : static_cast<int>(w);
        V::store_partial(out + j, V::load_strided(in + (j * s.stride_w + q - s.pad_w), s.stride_w, lanes), lanes);
      }
    }
  }
  const typename V::Vec lo = V::set1(clamp.lo), hi = V::set1(clamp.hi), b = V::set1(bias);
  const std::int64_t taps_count = s.kernel_h * s.kernel_w, row_step = s.stride_h * width;
  constexpr std::int64_t kRows = 4;  // output rows at a time: independent sums, overlapping multiply-adds
  std::int64_t e = 0;
  for (; e + kRows <= s.out_h; e += kRows)
    for (std::int64_t f = 0; f < s.out_w; f += w) {
      const float* at = phases + e * row_step + f;
      typename V::Vec acc[kRows] = {b, b, b, b};
      for (std::int64_t t = 0; t < taps_count; ++t) {
        const typename V::Vec tap = V::set1(taps[t]);
        const float* from = at + offsets[t];
        for (std::int64_t r = 0; r < kRows; ++r) acc[r] = V::fma(tap, V::load(from + r * row_step), acc[r]);
      }
      const std::int64_t lanes = s.out_w - f;
      for (std::int64_t r = 0; r < kRows; ++r) {
        float* out = y + (e + r) * s.out_w + f;
        if (lanes < w)
          V::store_partial(out, V::clamp(acc[r], lo, hi), static_cast<int>(lanes));
        else
          V::store(out, V::clamp(acc[r], lo, hi));
      }
    }
  for (; e < s.out_h; ++e)
    for (std::int64_t f = 0; f < s.out_w; f += w) {
      const float* at = phases + e * row_step + f;
      typename V::Vec acc = b;
      for (std::int64_t t = 0; t < taps_count; ++t) acc = V::fma(V::set1(taps[t]), V::load(at + offsets[t]), acc);
      const std::int64_t lanes = s.out_w - f;
      float* out = y + e * s.out_w + f;
      if (lanes < w)
        V::store_partial(out, V::clamp(acc, lo, hi), static_cast<int>(lanes));
      else
        V::store(out, V::clamp(acc, lo, hi));
    }
}
