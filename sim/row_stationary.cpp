// Row stationary: a layer as a 2-D convolution, the mapping search and its cost (see the header
// for the model and its sources).
#include "sim/row_stationary.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace bitsim::sim {

ConvShape conv_shape(const Network& net, std::size_t index) {
  const Layer& l = net.layer(index);
  BITSIM_CHECK(l.on_array() && !l.inputs.empty());
  const Shape& in = net.layer(static_cast<std::size_t>(l.inputs.front())).output;
  ConvShape s;
  if (l.op == LayerOp::FullyConnected) {  // 1 x 1 over 1 x 1, the flattened inputs as channels
    s.m = l.output.channels;
    s.c = in.count();
    s.h = s.w = s.e = s.f = 1;
    return s;
  }
  if (l.op == LayerOp::ConvTranspose) {  // its GEMM (network.h): 1 x 1 over the input, C_out x kernel filters
    s.groups = l.groups;
    s.c = in.channels / l.groups;
    s.m = l.output.channels / l.groups * l.window.kernel_h * l.window.kernel_w;
    s.h = s.e = in.height;
    s.w = s.f = in.width;
    return s;
  }
  const Window& w = l.window;
  s.groups = l.groups;
  s.m = l.output.channels / l.groups;
  s.c = in.channels / l.groups;
  s.h = in.height;
  s.w = in.width;
  s.pad_top = w.pad_h;
  s.pad_left = w.pad_w;
  s.r = w.kernel_h;
  s.s = w.kernel_w;
  s.stride_h = w.stride_h;
  s.stride_w = w.stride_w;
  s.dilation_h = w.dilation_h;
  s.dilation_w = w.dilation_w;
  s.e = l.output.height;
  s.f = l.output.width;
  return s;
}

double rlc_bits(double values, int bits, double zero_fraction) {
  const double pairs_per_word = std::floor(63.0 / (bits + 5));  // 5-bit run + level; 1 termination bit
  // A pair takes min(G, 32) values, G the position of the next nonzero value (geometric):
  // E = (1 - z^32) / (1 - z), so (1 - z) / (1 - z^32) pairs per value (1/32 when all are zero).
  const double z = zero_fraction;
  const double pairs_per_value = z >= 1 ? 1.0 / 32 : (1 - z) / (1 - std::pow(z, 32));
  return values * pairs_per_value * 64.0 / std::max(1.0, pairs_per_word);
}

namespace {

using i64 = std::int64_t;

i64 cdiv(i64 a, i64 b) { return (a + b - 1) / b; }
i64 floor_div(i64 a, i64 b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Padded input rows (or columns) that `count` consecutive outputs touch with windows of `span`
// every `step`: overlapping windows make one run, disjoint ones add up.
i64 touched(i64 count, i64 step, i64 span) { return count <= 0 ? 0 : (count - 1) * std::min(step, span) + span; }

// Stored input rows (without padding) that outputs first..last touch: window y is
// [y step - pad, y step - pad + span - 1], clipped to [0, size).
i64 stored_rows(i64 first, i64 last, i64 step, i64 span, i64 pad, i64 size) {
  if (last < first) return 0;
  if (step < span) {  // overlapping windows: one interval
    const i64 lo = std::max<i64>(0, first * step - pad);
    const i64 hi = std::min(size - 1, last * step - pad + span - 1);
    return std::max<i64>(0, hi - lo + 1);
  }
  auto clipped = [&](i64 y) {
    const i64 lo = y * step - pad;
    return std::max<i64>(0, std::min(size, lo + span) - std::max<i64>(0, lo));
  };
  // Disjoint windows: those fully inside are y0..y1; at most one crosses each edge, and all
  // windows that reach [0, size) are y_lo..y_hi.
  const i64 y0 = cdiv(pad, step), y1 = floor_div(size - span + pad, step);
  const i64 y_lo = floor_div(pad - span, step) + 1, y_hi = floor_div(size - 1 + pad, step);
  i64 total = 0;
  const i64 a = std::max(first, y0), b = std::min(last, y1);
  if (a <= b) total += (b - a + 1) * span;
  for (i64 y = std::max(first, y_lo); y <= std::min(last, y_hi); ++y) {
    if (y >= y0 && y <= y1) {
      y = y1;  // skip the full ones, counted above
      continue;
    }
    total += clipped(y);
  }
  return total;
}

// The distinct values of ceil(x / k) for k = 1..x that are at most `cap`, largest first, and `cap`
// itself when it is below x: the block sizes worth trying for x items in blocks.
std::vector<i64> block_sizes(i64 x, i64 cap) {
  std::vector<i64> out;
  if (cap < x && cap >= 1) out.push_back(cap);
  for (i64 k = 1; k <= x;) {
    const i64 v = cdiv(x, k);
    if (v <= cap && (out.empty() || out.back() != v)) out.push_back(v);
    if (v == 1) break;
    k = (x - 1) / (v - 1) + 1;
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Per-PE counts worth trying for x items, at most `cap`: every count up to 32 (Eyeriss's
// scratchpads allow at most 12 channels and 24 filters, all tried), beyond that the block sizes.
std::vector<i64> per_pe_counts(i64 x, i64 cap) {
  std::vector<i64> out = block_sizes(x, cap);
  for (i64 v = std::min<i64>(cap, 32); v >= 1; --v) out.push_back(v);
  std::sort(out.begin(), out.end(), std::greater<>());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// At most this many mappings are costed per layer and column tiling (Eyeriss's largest layers need
// a few thousand); a search that reaches it keeps the best found, large sets and many filters and
// channels per PE being tried first.
constexpr i64 kMaxEvaluations = 1 << 20;

// Blocks of `block` items over `total`: the full ones and the last.
struct Kind {
  i64 size = 0, count = 0;
};
std::array<Kind, 2> split(i64 total, i64 block) {
  const i64 blocks = cdiv(total, block);
  return {Kind{block, blocks - 1}, Kind{total - (blocks - 1) * block, 1}};
}

struct Params {
  i64 rows, cols, ifmap_spad, filter_spad, psum_spad;
  i64 bus, ifmap_bus;            // values per cycle: the filter and psum buses, the ifmap bus
  double glb;                    // values
  double dram_cycles_per_value;  // native-precision values over dram.bandwidth, in clock cycles (0: unlimited)
  bool serial_fmaps;             // dram.overlap: weights (ifmap and ofmap transfers add to the cycles)
};

// A layer's per-group quantities the search needs.
struct Layer2d {
  i64 n, m, c, h, w, pad_top, pad_left, r, s, uh, uw, dh, dw, e, f;
  i64 r_part, s_part, parts, cp;  // filter parts; cp = channels x parts
  i64 span_h, span_w;             // full window (global buffer and DRAM)
  i64 span_h_part, span_w_part;   // one part's window (delivery to the array)
};

struct Candidate {
  RsMapping map;
  i64 passes = 0, cycles = 0, ramp = 0;
  double active_sum = 0;  // active PEs summed over passes
  double glb_ifmap = 0, glb_filter = 0, glb_psum_reads = 0, glb_psum_writes = 0;
  double dram_ifmap = 0, dram_filter = 0, dram_ofmap = 0;
  double dram_total() const { return dram_ifmap + dram_filter + dram_ofmap; }
};

// Cycles and traffic of one group under mapping `mp`; `dram_rows` and `dram_cols` are the stored
// input rows summed over strips and columns summed over tiles.
Candidate evaluate(const Params& hw, const Layer2d& L, const RsMapping& mp, i64 dram_rows, i64 dram_cols) {
  Candidate out;
  out.map = mp;
  const i64 qr = mp.q * mp.r, pt = mp.p * mp.t;
  const i64 filter_blocks = cdiv(L.m, pt), channel_blocks = cdiv(L.cp, qr);
  const bool spad_resident = filter_blocks == 1 && channel_blocks == 1;
  // Channel blocks: the first reads no psums back.
  struct ChannelKind {
    i64 size, count;
    bool first;
  };
  std::array<ChannelKind, 3> channels{};
  if (channel_blocks == 1) {
    channels = {ChannelKind{L.cp, 1, true}, ChannelKind{0, 0, false}, ChannelKind{0, 0, false}};
  } else {
    channels = {ChannelKind{qr, 1, true}, ChannelKind{qr, channel_blocks - 2, false},
                ChannelKind{L.cp - (channel_blocks - 1) * qr, 1, false}};
  }
  const i64 image_blocks = cdiv(L.n, mp.n), strips = cdiv(L.e, mp.e), tiles = cdiv(L.f, mp.f);
  const i64 pes = hw.rows * hw.cols;
  bool first_pass = true;
  for (const Kind& img : split(L.n, mp.n)) {
    if (img.count == 0) continue;
    for (const Kind& st : split(L.e, mp.e)) {
      if (st.count == 0) continue;
      for (const Kind& tile : split(L.f, mp.f)) {
        if (tile.count == 0) continue;
        const i64 ifmap_rows = touched(st.size, L.uh, L.span_h_part);
        const i64 ifmap_cols = touched(tile.size, L.uw, L.span_w_part);
        for (const Kind& fb : split(L.m, pt)) {
          if (fb.count == 0) continue;
          const i64 p_b = cdiv(fb.size, mp.t), busy_t = cdiv(fb.size, p_b);
          for (const ChannelKind& cb : channels) {
            if (cb.count == 0) continue;
            const i64 q_b = cdiv(cb.size, mp.r), busy_r = cdiv(cb.size, q_b);
            const i64 count = img.count * st.count * tile.count * fb.count * cb.count;
            const i64 compute = p_b * q_b * L.s_part * tile.size * img.size;
            const double ifmap_words = static_cast<double>(img.size) * static_cast<double>(cb.size) *
                                       static_cast<double>(ifmap_rows) * static_cast<double>(ifmap_cols);
            const double psum_words = static_cast<double>(img.size) * static_cast<double>(fb.size) *
                                      static_cast<double>(st.size) * static_cast<double>(tile.size);
            const double filter_words =
                static_cast<double>(fb.size * cb.size) * static_cast<double>(L.r_part * L.s_part);
            const double bus = static_cast<double>(hw.bus);
            const auto bus_cycles = [&](double words) { return static_cast<i64>(std::ceil(words / bus)); };
            const i64 ifmap_cycles = static_cast<i64>(std::ceil(ifmap_words / static_cast<double>(hw.ifmap_bus)));
            const i64 busy =
                std::max({compute, ifmap_cycles, bus_cycles(psum_words), cb.first ? i64{0} : bus_cycles(psum_words)});
            // Ramp-up: the filter refill (once per group when the scratchpads hold every filter),
            // then the psum drain up the set.
            i64 refills = count;
            if (spad_resident) refills = first_pass ? 1 : 0;
            first_pass = false;
            const i64 ramp = refills * bus_cycles(filter_words) + count * (L.r_part - 1);
            out.passes += count;
            out.cycles += count * busy + ramp;
            out.ramp += ramp;
            out.active_sum += static_cast<double>(count) * static_cast<double>(L.r_part * st.size * busy_t * busy_r) /
                              static_cast<double>(pes);
            const double n = static_cast<double>(count);
            out.glb_ifmap += n * ifmap_words;
            out.glb_filter += static_cast<double>(refills) * filter_words;
            out.glb_psum_writes += n * psum_words;
            if (!cb.first) out.glb_psum_reads += n * psum_words;
          }
        }
      }
    }
  }
  const double weights = static_cast<double>(L.m) * static_cast<double>(L.c) * static_cast<double>(L.r * L.s);
  const double refetch = mp.ifmap_resident ? 1.0 : static_cast<double>(cdiv(L.m, mp.m));
  out.dram_ifmap = static_cast<double>(L.n) * static_cast<double>(L.c) * static_cast<double>(dram_rows) *
                   static_cast<double>(dram_cols) * refetch;
  out.dram_filter = spad_resident ? weights : weights * static_cast<double>(image_blocks * strips * tiles);
  out.dram_ofmap = static_cast<double>(L.n) * static_cast<double>(L.m) * static_cast<double>(L.e * L.f);
  return out;
}

// A mapping's time in cycles at native precision, as the layer-time model combines them: the longer
// of compute and DRAM transfer, or with dram.overlap: weights compute plus the feature-map transfers.
double mapping_time(const Candidate& c, const Params& hw) {
  const double cycles = static_cast<double>(c.cycles);
  const double dram = c.dram_total() * hw.dram_cycles_per_value;
  if (hw.serial_fmaps) return std::max(cycles + (c.dram_ifmap + c.dram_ofmap) * hw.dram_cycles_per_value, dram);
  return std::max(cycles, dram);
}

// The faster mapping (mapping_time), then less DRAM traffic, then fewer cycles.
bool better(const Candidate& a, const Candidate& b, const Params& hw) {
  const double time_a = mapping_time(a, hw);
  const double time_b = mapping_time(b, hw);
  if (time_a != time_b) return time_a < time_b;
  if (a.dram_total() != b.dram_total()) return a.dram_total() < b.dram_total();
  return a.cycles < b.cycles;
}

// The best mapping with ofmap tiles of f columns, if any fits the global buffer.
bool search(const Params& hw, const Layer2d& L, i64 f, Candidate& best) {
  bool found = false;
  i64 evaluations = 0;
  // No mapping beats its PEs' share of the work (MACs, r_part x s_part per filter part, over at most
  // r_part e r t active PEs): prune candidates whose bound is already slower than the best.
  const double work = static_cast<double>(L.m) * static_cast<double>(L.cp) * static_cast<double>(L.s_part) *
                      static_cast<double>(L.e) * static_cast<double>(L.f) * static_cast<double>(L.n);
  double best_time = std::numeric_limits<double>::infinity();
  // A lower bound on a mapping's cycles: the work over its PEs, or the psums every channel block
  // writes over the psum bus, whichever is longer; plus the filter refills before passes unless
  // the scratchpads can hold every filter (each pass refills its block).
  const double bus = static_cast<double>(hw.bus);
  const double refill_words =
      static_cast<double>(L.m) * static_cast<double>(L.cp) * static_cast<double>(L.r_part * L.s_part) / bus;
  const double psum_words =
      static_cast<double>(L.n) * static_cast<double>(L.m) * static_cast<double>(L.e) * static_cast<double>(L.f) / bus;
  const auto bound = [&](i64 e, i64 n, i64 q, i64 r, i64 p, i64 t) {
    const double busy =
        std::max(work / static_cast<double>(e * r * t), psum_words * static_cast<double>(cdiv(L.cp, q * r)));
    if (p * t >= L.m && q * r >= L.cp) return busy;
    return busy + refill_words * static_cast<double>(cdiv(L.n, n) * cdiv(L.e, e) * cdiv(L.f, f));
  };
  const i64 tiles = cdiv(L.f, f);
  i64 dram_cols = 0;
  for (i64 k = 0; k < tiles; ++k)
    dram_cols += stored_rows(k * f, std::min(L.f, (k + 1) * f) - 1, L.uw, L.span_w, L.pad_left, L.w);
  const double cols_glb = static_cast<double>(touched(f, L.uw, L.span_w));
  const i64 e_max = std::min(L.e, hw.cols * (hw.rows / L.r_part));
  const i64 q_max = std::min(hw.ifmap_spad / L.s_part, L.cp);
  for (const i64 e : block_sizes(L.e, e_max)) {
    const i64 segments = cdiv(e, hw.cols);
    if (L.r_part * segments > hw.rows) continue;
    const i64 places = (hw.rows / (L.r_part * segments)) * (hw.cols / std::min(e, hw.cols));
    i64 dram_rows = 0;
    for (i64 first = 0; first < L.e; first += e)
      dram_rows += stored_rows(first, std::min(L.e, first + e) - 1, L.uh, L.span_h, L.pad_top, L.h);
    const double rows_glb = static_cast<double>(touched(e, L.uh, L.span_h));
    // Filters per PE worth trying, and for each the set copies on different filters (at most `places`).
    const i64 p_top = std::min({hw.psum_spad, hw.filter_spad / L.s_part, L.m});
    const std::vector<i64> p_options = p_top >= 1 ? per_pe_counts(L.m, p_top) : std::vector<i64>{};
    std::vector<std::vector<i64>> t_options;
    t_options.reserve(p_options.size());
    for (const i64 p : p_options) t_options.push_back(block_sizes(cdiv(L.m, p), places));
    for (const i64 n : block_sizes(L.n, L.n)) {
      const double ifmap_all = static_cast<double>(n) * static_cast<double>(L.c) * rows_glb * cols_glb;
      for (const i64 q : q_max >= 1 ? per_pe_counts(L.cp, q_max) : std::vector<i64>{}) {
        const i64 p_max = std::min({hw.psum_spad, hw.filter_spad / (q * L.s_part), L.m});
        if (p_max < 1) continue;
        for (const i64 r : block_sizes(cdiv(L.cp, q), places)) {
          if (q * r > L.cp && cdiv(L.cp, r) < q) continue;                 // the same mapping as q = ceil(C' / r)
          if (bound(e, n, q, r, p_max, places / r) > best_time) continue;  // the most optimistic p and t
          const double ifmap_block =
              static_cast<double>(n) * static_cast<double>(std::min(q * r, L.c)) * rows_glb * cols_glb;
          for (std::size_t pi = 0; pi < p_options.size(); ++pi) {
            const i64 p = p_options[pi];
            if (p > p_max) continue;
            if (evaluations >= kMaxEvaluations) return found;
            // block_sizes(ceil(M / p), places / r): the listed sizes within the cap, and the cap.
            const i64 cap = places / r, filter_groups = cdiv(L.m, p);
            const auto& listed = t_options[pi];
            for (std::size_t k = 0; k <= listed.size(); ++k) {
              i64 t = 0;
              if (k == 0) {
                if (cap >= filter_groups || std::find(listed.begin(), listed.end(), cap) != listed.end()) continue;
                t = cap;
              } else {
                t = listed[k - 1];
                if (t > cap) continue;
              }
              // A p larger than the filters give each set repeats the mapping with p = ceil(M / t).
              if (p * t > L.m && cdiv(L.m, t) < p) continue;
              if (bound(e, n, q, r, p, t) > best_time) continue;
              const i64 pt = p * t;
              const double psum_block =
                  static_cast<double>(n) * static_cast<double>(pt) * static_cast<double>(e) * static_cast<double>(f);
              RsMapping mp{L.r_part, L.s_part, L.parts, e, f, segments, p, q, r, t, n, pt, true};
              if (psum_block + ifmap_all > hw.glb) {
                if (psum_block + ifmap_block > hw.glb) continue;
                // Only the channel block fits: keep as many filters' psums as the rest holds.
                mp.ifmap_resident = false;
                const double room = std::floor((hw.glb - ifmap_block) / psum_block);
                mp.m = pt * static_cast<i64>(std::min(room, static_cast<double>(cdiv(L.m, pt))));
              }
              ++evaluations;
              const Candidate c = evaluate(hw, L, mp, dram_rows, dram_cols);
              if (!found || better(c, best, hw)) {
                best = c;
                best_time = mapping_time(c, hw);
                found = true;
              }
            }
          }
        }
      }
    }
  }
  return found;
}

}  // namespace

RsCost row_stationary_cost(const HardwareConfig& hw, const ConvShape& shape, int batch) {
  RsCost out;
  const ConvShape& s = shape;
  if (s.groups == 0 || s.m == 0 || s.c == 0 || s.e == 0 || s.f == 0) return out;
  const double native = static_cast<double>(std::max<i64>(1, hw.native_bits));
  const Params params{hw.array_rows,
                      hw.array_cols,
                      hw.rs_ifmap_spad,
                      hw.rs_filter_spad,
                      hw.rs_psum_spad,
                      std::max<i64>(1, hw.rs_bus_bits / std::max<i64>(1, hw.native_bits)),
                      std::max<i64>(1, hw.rs_ifmap_bus_bits / std::max<i64>(1, hw.native_bits)),
                      std::min(std::floor(hw.sram_activation_bytes * 8.0 / native), 0x1p62),
                      std::isinf(hw.dram_bytes_per_s) ? 0.0 : native / 8.0 / hw.dram_bytes_per_s * hw.clock_hz,
                      hw.dram_overlap == DramOverlap::Weights};
  Layer2d L{};
  L.n = batch;
  L.m = s.m;
  L.c = s.c;
  L.h = s.h;
  L.w = s.w;
  L.pad_top = s.pad_top;
  L.pad_left = s.pad_left;
  L.r = s.r;
  L.s = s.s;
  L.uh = s.stride_h;
  L.uw = s.stride_w;
  L.dh = s.dilation_h;
  L.dw = s.dilation_w;
  L.e = s.e;
  L.f = s.f;
  // Filters larger than the hardware: row parts of at most `rows`, column parts that fit both the
  // ifmap and the filter scratchpad with p = q = 1.
  const i64 row_parts = cdiv(s.r, params.rows);
  const i64 col_parts = cdiv(s.s, std::min(params.ifmap_spad, params.filter_spad));
  L.r_part = cdiv(s.r, row_parts);
  L.s_part = cdiv(s.s, col_parts);
  L.parts = row_parts * col_parts;
  L.cp = s.c * L.parts;
  L.span_h = (s.r - 1) * s.dilation_h + 1;
  L.span_w = (s.s - 1) * s.dilation_w + 1;
  L.span_h_part = (L.r_part - 1) * s.dilation_h + 1;
  L.span_w_part = (L.s_part - 1) * s.dilation_w + 1;

  Candidate best;
  bool found = search(params, L, s.f, best);
  // Rows too long for the global buffer: ofmap columns in tiles, widest first.
  for (const i64 f : block_sizes(s.f, s.f - 1)) {
    if (found) break;
    found = search(params, L, f, best);
  }
  if (!found) {
    out.feasible = false;
    out.reason = fmt::format(
        "no row-stationary mapping fits the global buffer (sram.activations, {} values of {} bits): one filter's "
        "psums and one channel's ifmap window for a single ofmap value do not fit",
        params.glb, hw.native_bits);
    return out;
  }
  const double groups = static_cast<double>(s.groups);
  out.mapping = best.map;
  out.passes = best.passes * s.groups;
  out.cycles = best.cycles * s.groups;
  out.ramp_cycles = best.ramp * s.groups;
  out.mapping_efficiency = best.passes > 0 ? best.active_sum / static_cast<double>(best.passes) : 0.0;
  out.glb_ifmap_reads = best.glb_ifmap * groups;
  out.glb_filter_reads = best.glb_filter * groups;
  out.glb_psum_reads = best.glb_psum_reads * groups;
  out.glb_psum_writes = best.glb_psum_writes * groups;
  out.dram_ifmap_reads = best.dram_ifmap * groups;
  out.dram_filter_reads = best.dram_filter * groups;
  out.dram_ofmap_writes = best.dram_ofmap * groups;
  return out;
}

}  // namespace bitsim::sim
