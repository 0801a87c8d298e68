// The engine's kernels for each instruction set, and the choice among them when the program runs.
// Each set's code lives in its own namespace inside an unnamed one, compiled with that set's target
// attribute on its own functions only: nothing it instantiates is shared with the other sets (no
// inline function compiled for AVX-512 can be picked by the linker for a plain x86-64 caller).
#include "alloc/engine_kernels.h"

#include <algorithm>
#include <cmath>

#include "sim/base/diagnostics.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define BITSIM_HAVE_X86_KERNELS 1
#endif

namespace bitsim::alloc::kernels {
namespace {

// depthwise()'s padded copy of one plane in scratch memory, and how to read it.
struct DepthwisePhases {
  float* data = nullptr;                  // stride_w phases of rows x width values
  std::int64_t rows = 0, width = 0;       // width: a multiple of the widest vector
  const std::int64_t* offsets = nullptr;  // per tap: where it reads for output (0, 0)
  const std::int64_t* first = nullptr;    // per phase: its first column inside the input
  const std::int64_t* end = nullptr;      // per phase: one past its last column inside the input
};

namespace generic {
#define BITSIM_KERNEL
// One lane: std::fma rounds once, as the vector units' fused multiply-add does.
struct V {
  using Vec = float;
  static constexpr int kWidth = 1;
  static Vec set1(float v) { return v; }
  static Vec load(const float* p) { return *p; }
  static Vec load_partial(const float* p, int /*lanes*/) { return *p; }
  static void store(float* p, Vec v) { *p = v; }
  static void store_partial(float* p, Vec v, int /*lanes*/) { *p = v; }
  static Vec load_strided(const float* p, std::int64_t /*stride*/, int /*lanes*/) { return *p; }
  static Vec fma(Vec a, Vec b, Vec c) { return std::fma(a, b, c); }
  // max then min in the order of MAXPS / MINPS: a NaN value passes through.
  static Vec clamp(Vec v, Vec lo, Vec hi) {
    v = lo > v ? lo : v;
    return hi < v ? hi : v;
  }
};
#include "alloc/engine_kernels_isa.h"  // NOLINT(bugprone-suspicious-include)
#undef BITSIM_KERNEL
}  // namespace generic

#ifdef BITSIM_HAVE_X86_KERNELS
namespace avx2 {
#define BITSIM_KERNEL __attribute__((target("avx2,fma")))
struct V {
  using Vec = __m256;
  static constexpr int kWidth = 8;
  BITSIM_KERNEL static __m256i mask(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  BITSIM_KERNEL static Vec set1(float v) { return _mm256_set1_ps(v); }
  BITSIM_KERNEL static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  BITSIM_KERNEL static Vec load_partial(const float* p, int lanes) { return _mm256_maskload_ps(p, mask(lanes)); }
  BITSIM_KERNEL static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  BITSIM_KERNEL static void store_partial(float* p, Vec v, int lanes) { _mm256_maskstore_ps(p, mask(lanes), v); }
  // Lanes l < `lanes` from p[l * stride], the others 0 (not read).
  BITSIM_KERNEL static Vec load_strided(const float* p, std::int64_t stride, int lanes) {
    if (stride == 1) return load_partial(p, lanes);
    const __m256i index =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(stride)));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, index, _mm256_castsi256_ps(mask(lanes)), 4);
  }
  BITSIM_KERNEL static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  BITSIM_KERNEL static Vec clamp(Vec v, Vec lo, Vec hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); }
};
#include "alloc/engine_kernels_isa.h"  // NOLINT(bugprone-suspicious-include)
#undef BITSIM_KERNEL
}  // namespace avx2

namespace avx512 {
#define BITSIM_KERNEL __attribute__((target("avx512f,avx2,fma")))
struct V {
  using Vec = __m512;
  static constexpr int kWidth = 16;
  BITSIM_KERNEL static __mmask16 mask(int lanes) { return static_cast<__mmask16>((1U << lanes) - 1U); }  // lanes <= 16
  BITSIM_KERNEL static Vec set1(float v) { return _mm512_set1_ps(v); }
  BITSIM_KERNEL static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  BITSIM_KERNEL static Vec load_partial(const float* p, int lanes) { return _mm512_maskz_loadu_ps(mask(lanes), p); }
  BITSIM_KERNEL static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  BITSIM_KERNEL static void store_partial(float* p, Vec v, int lanes) { _mm512_mask_storeu_ps(p, mask(lanes), v); }
  // Lanes l < `lanes` from p[l * stride], the others 0 (not read).
  BITSIM_KERNEL static Vec load_strided(const float* p, std::int64_t stride, int lanes) {
    if (stride == 1) return lanes == kWidth ? load(p) : load_partial(p, lanes);
    if (stride == 2) {                 // the even values of two loads (a gather is far slower)
      const int need = 2 * lanes - 1;  // values p[0 .. need)
      const __m512 a = need >= kWidth ? load(p) : load_partial(p, need);
      const __m512 b = need > kWidth ? load_partial(p + kWidth, need - kWidth) : _mm512_setzero_ps();
      const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      return _mm512_maskz_permutex2var_ps(mask(lanes), a, even, b);
    }
    const __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(static_cast<int>(stride)));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask(lanes), index, p, 4);
  }
  BITSIM_KERNEL static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  // The zero-masked forms: GCC 12's unmasked max and min warn about their undefined source (GCC
  // bug 105593); with every lane selected they compute the same.
  BITSIM_KERNEL static Vec clamp(Vec v, Vec lo, Vec hi) {
    return _mm512_maskz_min_ps(0xFFFF, hi, _mm512_maskz_max_ps(0xFFFF, lo, v));
  }
};
#include "alloc/engine_kernels_isa.h"  // NOLINT(bugprone-suspicious-include)
#undef BITSIM_KERNEL
}  // namespace avx512
#endif

}  // namespace

Isa best_isa() {
#ifdef BITSIM_HAVE_X86_KERNELS
  static const Isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") != 0) return Isa::avx512;
    if (__builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0) return Isa::avx2;
    return Isa::generic;
  }();
  return best;
#else
  return Isa::generic;
#endif
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return "generic";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "generic";
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas{Isa::generic};
  if (best_isa() >= Isa::avx2) isas.push_back(Isa::avx2);
  if (best_isa() >= Isa::avx512) isas.push_back(Isa::avx512);
  return isas;
}

void gemm(Isa isa, std::int64_t M, std::int64_t K, std::int64_t P, const float* W, const float* X, const float* bias,
          float* Y, Clamp clamp) {
  BITSIM_CHECK(isa <= best_isa());
  switch (isa) {
    case Isa::generic:
      return generic::gemm(M, K, P, W, X, bias, Y, clamp);
#ifdef BITSIM_HAVE_X86_KERNELS
    case Isa::avx2:
      return avx2::gemm(M, K, P, W, X, bias, Y, clamp);
    case Isa::avx512:
      return avx512::gemm(M, K, P, W, X, bias, Y, clamp);
#else
    default:
      return generic::gemm(M, K, P, W, X, bias, Y, clamp);
#endif
  }
}

void depthwise(Isa isa, const DepthwiseShape& s, const float* x, const float* taps, float bias, float* y, Clamp clamp,
               DepthwiseScratch& scratch) {
  BITSIM_CHECK(isa <= best_isa());
  if (scratch.shape != s) {
    constexpr std::int64_t kMaxWidth = 16;  // the widest vector's lanes
    const auto round_up = [](std::int64_t v) { return (v + kMaxWidth - 1) / kMaxWidth * kMaxWidth; };
    // Padded row r is input row r - pad_h; padded column c is column c / stride_w of phase
    // c % stride_w, and input column c - pad_w.
    const std::int64_t rows =
        std::max((s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1, s.in_h + s.pad_h);
    const std::int64_t reach = (s.kernel_w - 1) * s.dilation_w / s.stride_w;  // the farthest tap, in phase columns
    const std::int64_t width = round_up(reach + round_up(s.out_w));
    const auto phases = static_cast<std::size_t>(s.stride_w);
    scratch.phases.resize(phases * static_cast<std::size_t>(rows * width));
    scratch.first.resize(phases);
    scratch.end.resize(phases);
    for (std::int64_t q = 0; q < s.stride_w; ++q) {
      // Phase column j holds input column j * stride_w + q - pad_w: inside the input for j in [first, end).
      const std::int64_t from = s.pad_w - q;  // j * stride_w >= from
      const std::int64_t first = std::min(width, from > 0 ? (from + s.stride_w - 1) / s.stride_w : 0);
      scratch.first[static_cast<std::size_t>(q)] = first;
      scratch.end[static_cast<std::size_t>(q)] =
          std::clamp<std::int64_t>((s.in_w + from + s.stride_w - 1) / s.stride_w, first, width);
    }
    scratch.offsets.resize(static_cast<std::size_t>(s.kernel_h * s.kernel_w));
    for (std::int64_t kh = 0; kh < s.kernel_h; ++kh)
      for (std::int64_t kw = 0; kw < s.kernel_w; ++kw) {
        const std::int64_t c = kw * s.dilation_w;
        scratch.offsets[static_cast<std::size_t>(kh * s.kernel_w + kw)] =
            (c % s.stride_w * rows + kh * s.dilation_h) * width + c / s.stride_w;
      }
    scratch.rows = rows;
    scratch.width = width;
    scratch.shape = s;
  }
  const DepthwisePhases p{.data = scratch.phases.data(),
                          .rows = scratch.rows,
                          .width = scratch.width,
                          .offsets = scratch.offsets.data(),
                          .first = scratch.first.data(),
                          .end = scratch.end.data()};
  switch (isa) {
    case Isa::generic:
      return generic::depthwise_padded(s, x, p, taps, bias, y, clamp);
#ifdef BITSIM_HAVE_X86_KERNELS
    case Isa::avx2:
      return avx2::depthwise_padded(s, x, p, taps, bias, y, clamp);
    case Isa::avx512:
      return avx512::depthwise_padded(s, x, p, taps, bias, y, clamp);
#else
    default:
      return generic::depthwise_padded(s, x, p, taps, bias, y, clamp);
#endif
  }
}

}  // namespace bitsim::alloc::kernels
