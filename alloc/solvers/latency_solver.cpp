// Latency-aware allocation by dynamic programming over the layer graph; see the header.
#include "alloc/solvers/latency_solver.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <span>
#include <string_view>

#include "alloc/plan_score.h"

namespace bitsim::alloc {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Pos = std::int16_t;  // a position in a tensor's candidate list; -1 = no variable

// Sums over the layers so far: p the objective, c the constrained quantity, r the size.
struct Label {
  double p = 0, c = 0, r = 0;
  std::int32_t parent = -1;  // flat index in the previous stage
  Pos w = -1, out = -1;      // this stage's decisions
};

// One choice of a layer's weights for fixed activation options, with the layer's contribution.
struct Entry {
  double p = 0, c = 0, r = 0;
  Pos w = -1;
};

// Per combo of a stage, its entries: one contiguous array (combo b's are [begin[b], begin[b + 1])).
struct EntryTable {
  std::vector<Entry> all;
  std::vector<std::size_t> begin = {0};
  std::size_t size() const { return begin.size() - 1; }
  std::span<const Entry> operator[](std::size_t b) const { return {all.data() + begin[b], all.data() + begin[b + 1]}; }
  void add(const std::vector<Entry>& e) {
    all.insert(all.end(), e.begin(), e.end());
    begin.push_back(all.size());
  }
};

struct Stage {
  std::size_t layer = 0;
  int w_tensor = -1, out_tensor = -1;
  std::vector<int> in_slots;               // previous-frontier slots of the activation tensors the layer reads
  std::vector<int> carry;                  // per new-frontier slot: previous slot, or -1 for the output tensor
  std::vector<std::size_t> stride;         // combo index = sum of positions x stride (inputs..., output)
  EntryTable combos;                       // Pareto in (p, c, r)
  EntryTable combos_cp;                    // Pareto in (c, p): the runs when the size is free
  double min_p = 0, min_c = 0, min_r = 0;  // the least this layer can add (bounds)
  std::vector<std::size_t> key_stride;     // dense index of a frontier (after this stage) key
  std::vector<std::size_t> key_size;       // candidates per frontier slot
  std::size_t key_count = 1;
};

// a is no worse than b in every coordinate.
bool covers(const Entry& a, const Entry& b) { return a.p <= b.p && a.c <= b.c && a.r <= b.r; }

void prune_entries(std::vector<Entry>& e) {
  const auto less = [](const Entry& a, const Entry& b) { return std::tie(a.c, a.p, a.r) < std::tie(b.c, b.p, b.r); };
  if (e.size() <= 96) {  // insertion sort: stable, and no temporary buffer (std::stable_sort allocates one)
    for (std::size_t i = 1; i < e.size(); ++i) {
      const Entry x = e[i];
      std::size_t j = i;
      for (; j > 0 && less(x, e[j - 1]); --j) e[j] = e[j - 1];
      e[j] = x;
    }
  } else {
    std::stable_sort(e.begin(), e.end(), less);
  }
  std::size_t kept = 0;  // in place: e[0, kept) are the kept ones, in order
  for (std::size_t i = 0; i < e.size(); ++i)
    if (std::none_of(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(kept),
                     [&](const Entry& k) { return covers(k, e[i]); }))
      e[kept++] = e[i];
  e.resize(kept);
}

// The entries whose labels the (c, p) pruning could keep: none other has c and p no larger and is
// either strictly better in one or first in the order that breaks label ties (r, then w, then
// position).
// For `e` as prune_entries leaves it (sorted by (c, p, r), no two equal in all three), only an
// earlier entry can cover a later one (a later one with equal c and p has a larger r), and any
// earlier one with p no larger does: one pass keeps the entries whose p is below every earlier p.
void pareto_cp(const std::vector<Entry>& e, std::vector<Entry>& kept) {
  kept.clear();
  double least_p = kInf;
  for (const Entry& x : e)
    if (x.p < least_p) {
      kept.push_back(x);
      least_p = x.p;
    }
}

// Drops labels dominated within one state. Two coordinates (c, p) unless the size is constrained.
void prune_labels(std::vector<Label>& v, bool with_rate) {
  std::sort(v.begin(), v.end(), [](const Label& a, const Label& b) {
    return std::tie(a.c, a.p, a.r, a.parent, a.w, a.out) < std::tie(b.c, b.p, b.r, b.parent, b.w, b.out);
  });
  std::vector<Label> kept;
  kept.reserve(v.size());
  if (!with_rate) {
    double best_p = kInf;
    for (const Label& x : v)
      if (x.p < best_p) {
        kept.push_back(x);
        best_p = x.p;
      }
  } else {  // by increasing c; a staircase of the kept (r, p): r increasing, p decreasing
    std::map<double, double> stair;
    for (const Label& x : v) {
      auto it = stair.upper_bound(x.r);
      if (it != stair.begin() && std::prev(it)->second <= x.p) continue;  // a kept label has r, p <= x's
      kept.push_back(x);
      it = stair.insert_or_assign(x.r, x.p).first;
      for (auto next = std::next(it); next != stair.end() && next->second >= x.p;) next = stair.erase(next);
    }
  }
  v = std::move(kept);
}

// The labels of one source state, each plus one entry: sorted by c as the source's labels are
// (adding the same entry keeps the order), so the exact search merges such runs instead of sorting
// every candidate.
struct Run {
  const Label* from = nullptr;  // the source state's labels
  std::uint32_t size = 0, at = 0;
  std::int32_t parent = 0;  // flat index of from[0] in the previous stage
  const Entry* e = nullptr;
  Pos out = -1;
  Label label(std::uint32_t i) const {
    const Label& f = from[i];
    return Label{f.p + e->p, f.c + e->c, f.r + e->r, parent + static_cast<std::int32_t>(i), e->w, out};
  }
};

// The labels of the runs that pass the bounds, pruned to (c, p) exactly as prune_labels would (for
// each c, the least by (p, r, parent, w, out), kept if its p is below every kept p), by a k-way
// merge on c. A label passes unless `p_fails(x.p)` (true down to some p, false below: p falls along
// a run, so whole prefixes are skipped), `too_far(x)` (c over the limit: c rises along a run, so its
// rest fails too) or !`passes(x)` (the bounds monotone in neither).
template <typename PFails, typename Passes, typename TooFar>
std::vector<Label> merge_runs(std::vector<Run>& runs, const PFails& p_fails, const Passes& passes,
                              const TooFar& too_far) {
  double best_p = kInf;                 // the least p kept so far: labels at or above it are never kept
  const auto advance = [&](Run& run) {  // to the run's next label that passes; `at` = size if none
    // p falls along a run (a staircase plus a constant): skip the labels that cannot be kept.
    run.at = static_cast<std::uint32_t>(std::partition_point(run.from + run.at, run.from + run.size,
                                                             [&](const Label& f) {
                                                               const double p = f.p + run.e->p;
                                                               return p >= best_p || p_fails(p);
                                                             }) -
                                        run.from);
    for (; run.at < run.size; ++run.at) {
      const Label x = run.label(run.at);
      if (too_far(x)) {
        run.at = run.size;
        return;
      }
      if (passes(x)) return;
    }
  };
  using Head = std::pair<double, std::uint32_t>;  // (c of the run's label, run)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (std::uint32_t i = 0; i < runs.size(); ++i) {
    advance(runs[i]);
    if (runs[i].at < runs[i].size) heads.emplace(runs[i].label(runs[i].at).c, i);
  }
  std::vector<Label> kept;
  while (!heads.empty()) {
    const double c = heads.top().first;
    Label least;
    bool any = false;
    while (!heads.empty() && heads.top().first == c) {  // every label with this c
      Run& run = runs[heads.top().second];
      const std::uint32_t index = heads.top().second;
      heads.pop();
      const Label x = run.label(run.at);
      if (!any ||
          std::tie(x.p, x.r, x.parent, x.w, x.out) < std::tie(least.p, least.r, least.parent, least.w, least.out))
        least = x;
      any = true;
      ++run.at;
      advance(run);
      if (run.at < run.size) heads.emplace(run.label(run.at).c, index);
    }
    if (least.p < best_p) {
      kept.push_back(least);
      best_p = least.p;
    }
  }
  return kept;
}

// How far (c, r) is over the limits, relative to them; 0 within.
double excess(double c, double r, double max_c, double max_r) {
  auto over = [](double v, double limit) {
    return std::isfinite(limit) && v > limit ? (v - limit) / std::max(std::abs(limit), 1e-300) : 0.0;
  };
  return over(c, max_c) + over(r, max_r);
}

class LatencyDp {
 public:
  LatencyDp(const RateDistortionCurves& curves, const sim::AnalyticalModel& model, int default_bits,
            const LatencyGoal& goal)
      : m_curves(curves),
        m_model(model),
        m_objective(goal.objective),
        m_max_states(goal.max_states),
        m_max_combos(goal.max_combos) {
    const sim::Network& net = model.network();
    const Allocation first = make_allocation(curves, std::vector<int>(curves.tensors.size(), 0));
    sim::BitPlan plan = to_bit_plan(net, curves, first, default_bits, "");  // validates the curves too
    const TensorsOfLayers of = index_tensors();
    check_quantization_points();
    candidates_();
    m_plan = plan;
    m_written.assign(net.layers().size(), false);
    for (std::size_t l = 0; l < net.layers().size(); ++l)
      if (const int w = model.traffic().layer(l).writes; w >= 0) m_written[static_cast<std::size_t>(w)] = true;
    index_touches(of);
    // Too many live activation tensors (U-Nets' long skips) make too many DP states: their options are
    // thinned, evenly along each one's sizes with the smallest and largest kept, until every stage
    // fits; the search is then exact over the thinned options only, and says so.
    for (auto [too_wide, limit] = build_stages(of, plan); !too_wide.empty();
         std::tie(too_wide, limit) = build_stages(of, plan)) {
      std::size_t keys = 1;
      for (const int t : too_wide) keys *= m_cand[static_cast<std::size_t>(t)].size();
      while (keys > limit) {
        const auto widest = *std::max_element(too_wide.begin(), too_wide.end(), [&](int a, int b) {
          return m_cand[static_cast<std::size_t>(a)].size() < m_cand[static_cast<std::size_t>(b)].size();
        });
        std::vector<int>& c = m_cand[static_cast<std::size_t>(widest)];
        if (c.size() <= 2)
          throw InputError({}, fmt::format("latency solver: {} activation tensors are live at once, or read by one "
                                           "layer; even with two options each the exact DP exceeds {} states",
                                           too_wide.size(), limit));
        keys /= c.size();
        thin(static_cast<std::size_t>(widest));
        keys *= c.size();
      }
      m_stages.clear();
      m_max_frontier = 0;
    }
    // Suffix sums: the least the layers from k on can add.
    m_rest_p.assign(m_stages.size() + 1, 0);
    m_rest_c.assign(m_stages.size() + 1, 0);
    m_rest_r.assign(m_stages.size() + 1, 0);
    for (std::size_t k = m_stages.size(); k-- > 0;) {
      m_rest_p[k] = m_rest_p[k + 1] + m_stages[k].min_p;
      m_rest_c[k] = m_rest_c[k + 1] + m_stages[k].min_c;
      m_rest_r[k] = m_rest_r[k + 1] + m_stages[k].min_r;
    }
  }

  // A plan's sums, or nothing (empty choice) when no label met the limits.
  struct Outcome {
    std::vector<int> choice;
    double p = kInf, c = kInf, r = kInf;
    bool aborted = false;  // exact search over max_labels
  };
  // The multipliers of a Lagrangian pass, which minimizes p + lambda c + mu r.
  struct Multipliers {
    double lambda = 0, mu = 0;
  };
  // The exact search keeps the labels that stay within max_c and max_r and can still end below
  // cutoff_p; it gives up (aborted) when a stage holds more than max_labels.
  struct Limits {
    double max_c = kInf, max_r = kInf, cutoff_p = kInf;
    std::size_t max_labels = 0;
  };

  // The Lagrangian pass: per state only the label least in p + lambda c + mu r (ties: least c). Its
  // plan may break any limit (it is a relaxation); the outcome holds that plan's sums.
  Outcome lagrangian(const Multipliers& m) {
    Search search(m_stages.size());
    std::vector<const Entry*> best_entry;  // per combo, the entry least in p + lambda c + mu r
    // One label per state: by dense key, flat (no vector per state); `has` marks the occupied keys.
    std::vector<Label> states{Label{}}, next_states;
    std::vector<char> has;
    for (std::size_t k = 0; k < m_stages.size(); ++k) {
      const Stage& s = m_stages[k];
      best_entries(s, m, best_entry);
      next_states.resize(s.key_count);
      has.assign(s.key_count, 0);
      std::size_t offset = 0;
      for (std::size_t key : search.live) {
        const Label& from = states[key];
        for_each_move(k, key, search.pos, [&](std::size_t combo, std::size_t next, std::size_t o) {
          const Entry* e = best_entry[combo];
          if (!e) return;
          const Label x = extend(from, *e, offset, s, o);
          if (!has[next]) {
            has[next] = 1;
            next_states[next] = x;
          } else if (relaxed_less(x, next_states[next], m)) {
            next_states[next] = x;
          }
        });
        ++offset;
      }
      // As advance() does: the occupied keys in order, their labels recorded in key order.
      search.live.clear();
      std::vector<Label>& record = search.flat[k];
      for (std::size_t key = 0; key < s.key_count; ++key)
        if (has[key]) {
          search.live.push_back(key);
          record.push_back(next_states[key]);
        }
      m_peak_labels = k == 0 ? record.size() : std::max(m_peak_labels, record.size());
      m_peak_states = std::max(m_peak_states, search.live.size());
      std::swap(states, next_states);
    }
    return finish(search, kInf, kInf, true);
  }

  // The exact search: per state every label not dominated in (p, c, r), within the limits.
  Outcome exact(const Limits& lim) {
    // Without a size limit a state's labels form a (c, p) staircase: candidates are kept as sorted
    // runs per destination state and merged, not collected and sorted.
    const bool merge = !std::isfinite(lim.max_r);
    const double finite_r = merge ? 0 : lim.max_r;
    Search search(m_stages.size());
    for (std::size_t k = 0; k < m_stages.size(); ++k) {
      const Stage& s = m_stages[k];
      std::vector<std::vector<Label>> next_states(s.key_count);
      std::vector<std::vector<Run>> runs(merge ? s.key_count : 0);
      std::size_t offset = 0;
      for (std::size_t key : search.live) {
        const std::vector<Label>& from_labels = search.states[key];
        for_each_move(k, key, search.pos, [&](std::size_t combo, std::size_t next, std::size_t o) {
          if (merge) {
            for (const Entry& e : s.combos_cp[combo])
              runs[next].push_back(Run{from_labels.data(), static_cast<std::uint32_t>(from_labels.size()), 0,
                                       static_cast<std::int32_t>(offset), &e,
                                       s.out_tensor >= 0 ? static_cast<Pos>(o) : Pos{-1}});
            return;
          }
          // The dual bound's part for this state: H - lambda max_c - mu max_r.
          const double dual = !m_h.empty() ? m_h[k + 1][next] - m_lambda * lim.max_c - m_mu * finite_r : -kInf;
          std::vector<Label>& dest = next_states[next];
          for (std::size_t li = 0; li < from_labels.size(); ++li)
            for (const Entry& e : s.combos[combo]) {
              const Label x = extend(from_labels[li], e, offset + li, s, o);
              if (x.c + m_rest_c[k + 1] > lim.max_c || x.r + m_rest_r[k + 1] > lim.max_r ||
                  x.p + m_rest_p[k + 1] >= lim.cutoff_p || x.p + m_lambda * x.c + m_mu * x.r + dual >= lim.cutoff_p)
                continue;
              dest.push_back(x);
            }
        });
        offset += from_labels.size();
      }
      for (std::size_t next = 0; next < runs.size(); ++next) {
        if (runs[next].empty()) continue;
        const double dual = !m_h.empty() ? m_h[k + 1][next] - m_lambda * lim.max_c : -kInf;
        next_states[next] = merge_runs(
            runs[next], [&](double p) { return p + m_rest_p[k + 1] >= lim.cutoff_p; },
            [&](const Label& x) { return x.p + m_lambda * x.c + m_mu * x.r + dual < lim.cutoff_p; },
            [&](const Label& x) { return x.c + m_rest_c[k + 1] > lim.max_c; });
      }
      if (!merge)
        for (auto& labels : next_states)
          if (!labels.empty()) prune_labels(labels, true);
      if (advance(search, k, std::move(next_states)) > lim.max_labels) return Outcome{{}, kInf, kInf, kInf, true};
    }
    return finish(search, lim.max_c, lim.max_r, false);
  }

  // For the exact search: per stage and frontier key, the least (p + lambda c + mu r) the remaining
  // layers can add. A label (p, c, r) that ends within max_c and max_r then ends at
  // p_final >= p + lambda c + mu r + H - lambda max_c - mu max_r.
  void dual_bound(double lambda, double mu) {
    m_lambda = lambda;
    m_mu = mu;
    m_h.assign(m_stages.size() + 1, {});
    m_h[m_stages.size()].assign(1, 0.0);
    std::vector<std::size_t> pos;
    for (std::size_t k = m_stages.size(); k-- > 0;) {
      const Stage& s = m_stages[k];
      std::vector<double>& h = m_h[k];
      h.assign(k > 0 ? m_stages[k - 1].key_count : 1, kInf);
      for (std::size_t key = 0; key < h.size(); ++key)
        for_each_move(k, key, pos, [&](std::size_t combo, std::size_t next, std::size_t) {
          const double rest = m_h[k + 1][next];
          for (const Entry& e : s.combos[combo]) h[key] = std::min(h[key], e.p + lambda * e.c + mu * e.r + rest);
        });
    }
  }

  // Local search: move one tensor at a time to the option that lowers p the most while c and r stay
  // within the limits, until no move helps. Gives the exact search a tighter incumbent than the
  // Lagrangian plan (which leaves slack). From a plan over a limit, moves first reduce the excess.
  Outcome polish(Outcome o, double max_c, double max_r) const {
    if (o.choice.empty()) return o;
    const sim::Network& net = m_model.network();
    const std::size_t n = net.layers().size();
    sim::BitPlan plan = m_plan;
    std::vector<std::size_t> pos(m_curves.tensors.size());
    for (std::size_t t = 0; t < pos.size(); ++t) {
      pos[t] = static_cast<std::size_t>(std::find(m_cand[t].begin(), m_cand[t].end(), o.choice[t]) - m_cand[t].begin());
      code_(plan, static_cast<int>(t), pos[t]);
    }
    std::vector<double> time(n);
    for (std::size_t l = 0; l < n; ++l) time[l] = m_model.layer_timing(l, plan, false).time_s;
    const bool min_error = m_objective == LatencyObjective::MinError;
    // Exact sums (time in layer order, as the model adds it), so that no rounding drifts across moves.
    auto resum = [&] {
      const Allocation a = make_allocation(m_curves, o.choice);
      double t = 0;
      for (double x : time) t += x;
      o.p = min_error ? a.distortion : t;
      o.c = min_error ? t : a.distortion;
      o.r = a.rate_bits;
    };
    for (int sweep = 0; sweep < 100; ++sweep) {
      bool moved = false;
      for (std::size_t t = 0; t < pos.size(); ++t) {
        const std::vector<std::size_t>& touched = m_touches[t];
        const CurveOption& now = option_(static_cast<int>(t), pos[t]);
        double before = 0;
        for (std::size_t l : touched) before += time[l];
        std::size_t best = pos[t];
        const double ex_now = excess(o.c, o.r, max_c, max_r);
        double best_dp = ex_now > 0 ? kInf : 0, best_ex = ex_now;
        for (std::size_t q = 0; q < m_cand[t].size(); ++q) {
          if (q == pos[t]) continue;
          code_(plan, static_cast<int>(t), q);
          double after = 0;
          for (std::size_t l : touched) after += m_model.layer_timing(l, plan, false).time_s;
          const CurveOption& alt = option_(static_cast<int>(t), q);
          const double dd = alt.distortion - now.distortion, dt = after - before;
          const double dp = min_error ? dd : dt, dc = min_error ? dt : dd, dr = alt.rate_bits - now.rate_bits;
          if (ex_now > 0) {  // repair: the least excess, then the least p
            const double ex = excess(o.c + dc, o.r + dr, max_c, max_r);
            if (ex < best_ex || (best != pos[t] && ex == best_ex && dp < best_dp)) {
              best = q;
              best_ex = ex;
              best_dp = dp;
            }
          } else if (dp < best_dp && o.c + dc <= max_c && o.r + dr <= max_r) {
            best = q;
            best_dp = dp;
          }
        }
        code_(plan, static_cast<int>(t), best);
        if (best == pos[t]) continue;
        for (std::size_t l : touched) time[l] = m_model.layer_timing(l, plan, false).time_s;
        o.choice[t] = m_cand[t][best];
        const Outcome before_move = o;
        resum();
        if (ex_now == 0 && (o.c > max_c || o.r > max_r)) {  // rounding put it over: undo
          o = before_move;
          o.choice[t] = m_cand[t][pos[t]];
          code_(plan, static_cast<int>(t), pos[t]);
          for (std::size_t l : touched) time[l] = m_model.layer_timing(l, plan, false).time_s;
          continue;
        }
        pos[t] = best;
        moved = true;
      }
      if (!moved) break;
    }
    return o;
  }

  std::size_t peak_labels() const { return m_peak_labels; }
  std::size_t peak_states() const { return m_peak_states; }
  std::size_t max_frontier() const { return m_max_frontier; }
  std::size_t thinned() const { return m_thinned; }
  std::size_t candidate_options() const {
    std::size_t total = 0;
    for (const auto& c : m_cand) total += c.size();
    return total;
  }

 private:
  // Per layer, the curves index of its weight tensor and of its output tensor (-1: none).
  struct TensorsOfLayers {
    std::vector<int> weights, output;
  };

  // Each tensor's layer and value count; each layer's tensors.
  TensorsOfLayers index_tensors() {
    const sim::Network& net = m_model.network();
    TensorsOfLayers of{std::vector<int>(net.layers().size(), -1), std::vector<int>(net.layers().size(), -1)};
    m_values.resize(m_curves.tensors.size());
    m_layer_of.resize(m_curves.tensors.size());
    for (std::size_t t = 0; t < m_curves.tensors.size(); ++t) {
      const TensorCurve& tc = m_curves.tensors[t];
      const std::size_t l = m_layer_of[t] = *net.find(tc.layer);
      const bool weights = tc.kind == CurveTensorKind::Weight;
      (weights ? of.weights : of.output)[l] = static_cast<int>(t);
      m_values[t] = weights ? net.layer(l).weights : net.layer(l).output.count();
    }
    return of;
  }

  // Every activation tensor with a choice must be one the datapath stores or holds: a fused layer's
  // input has no stage that would choose it (curves_for_hardware gives it its one option).
  void check_quantization_points() const {
    const sim::ActivationTraffic& traffic = m_model.traffic();
    for (std::size_t t = 0; t < m_curves.tensors.size(); ++t) {
      const TensorCurve& tc = m_curves.tensors[t];
      if (tc.kind != CurveTensorKind::Activation || traffic.quantized(m_layer_of[t])) continue;
      if (tc.on_chip()) continue;
      throw InputError(
          tc.options.front().where,
          fmt::format("curves tensor {}: on hardware '{}' this tensor stays inside the fused datapath "
                      "(datapath.fusion: {}) and is not quantized; the curves must give it only the "
                      "on-chip option (alloc::curves_for_hardware)",
                      tc.tensor, m_model.hardware().name, sim::kFusionNames.name(m_model.hardware().fusion)));
    }
  }

  // The activation tensors (producer layers) whose options layer l's timing reads, each once: the
  // stored tensors it fetches (the datapath model, sim/activation_traffic.h), and those it reads on
  // chip only where their bits set its compute cycles (precision_scaling: packed, on the array).
  std::vector<int> timing_reads(std::size_t l) const {
    const sim::LayerTraffic& t = m_model.traffic().layer(l);
    const bool packed =
        m_model.hardware().precision_scaling == sim::PrecisionScaling::Packed && m_model.network().layer(l).on_array();
    std::vector<int> out;
    for (const auto* list : {&t.dram_reads, &t.chip_reads}) {
      if (list == &t.chip_reads && !packed) continue;
      for (const int p : *list)
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
  }

  // The layer whose output tensor is chosen at layer l's stage: the one l's timing writes (under
  // fusion, the last layer of the chain l anchors), else l's own output when it is a tensor nobody
  // writes (a network input, or one held on chip for fused readers); -1: none.
  int chosen_output(std::size_t l) const {
    const sim::ActivationTraffic& traffic = m_model.traffic();
    if (const int w = traffic.layer(l).writes; w >= 0) return w;
    return traffic.quantized(l) && !m_written[l] ? static_cast<int>(l) : -1;
  }

  // The layers whose time each tensor changes: for weights its own; for an activation the layer
  // that writes it and those that read it.
  void index_touches(const TensorsOfLayers& of) {
    const sim::Network& net = m_model.network();
    m_touches.resize(m_curves.tensors.size());
    auto touch = [&](std::size_t t, std::size_t l) {
      if (std::find(m_touches[t].begin(), m_touches[t].end(), l) == m_touches[t].end()) m_touches[t].push_back(l);
    };
    for (std::size_t t = 0; t < m_curves.tensors.size(); ++t)
      if (m_curves.tensors[t].kind == CurveTensorKind::Weight) touch(t, m_layer_of[t]);
    for (std::size_t l = 0; l < net.layers().size(); ++l) {
      for (const int p : timing_reads(l))
        if (const int t = of.output[static_cast<std::size_t>(p)]; t >= 0) touch(static_cast<std::size_t>(t), l);
      if (const int w = chosen_output(l); w >= 0)
        if (const int t = of.output[static_cast<std::size_t>(w)]; t >= 0) touch(static_cast<std::size_t>(t), l);
    }
  }

  // One stage per layer: the activation tensors its timing reads (their slots in the frontier
  // before it), the frontier after it (tensors still to be read), its dense state keys, and its entries.
  // Returns the tensors of the first stage with more than m_max_states states or m_max_combos option
  // combinations, and that limit (nothing built past it), or no tensors when every stage was built.
  std::pair<std::vector<int>, std::size_t> build_stages(const TensorsOfLayers& of, sim::BitPlan& plan) {
    const sim::Network& net = m_model.network();
    const std::size_t n = net.layers().size();
    std::vector<std::size_t> last_use(n);  // the last layer whose timing reads each layer's output
    for (std::size_t l = 0; l < n; ++l) last_use[l] = l;
    for (std::size_t l = 0; l < n; ++l)
      for (const int p : timing_reads(l))
        last_use[static_cast<std::size_t>(p)] = std::max(last_use[static_cast<std::size_t>(p)], l);
    std::vector<int> frontier;  // tensor indices
    for (std::size_t l = 0; l < n; ++l) {
      Stage s;
      s.layer = l;
      s.w_tensor = of.weights[l];
      const int written = chosen_output(l);
      s.out_tensor = written >= 0 ? of.output[static_cast<std::size_t>(written)] : -1;
      std::vector<int> in_tensors;
      for (int p : timing_reads(l)) {
        const int t = of.output[static_cast<std::size_t>(p)];
        if (t < 0 || std::find(in_tensors.begin(), in_tensors.end(), t) != in_tensors.end()) continue;
        in_tensors.push_back(t);
        s.in_slots.push_back(static_cast<int>(std::find(frontier.begin(), frontier.end(), t) - frontier.begin()));
        BITSIM_CHECK(static_cast<std::size_t>(s.in_slots.back()) < frontier.size());
      }
      std::vector<int> next;
      for (std::size_t k = 0; k < frontier.size(); ++k) {
        const std::size_t producer = m_layer_of[static_cast<std::size_t>(frontier[k])];
        if (last_use[producer] > l) {
          next.push_back(frontier[k]);
          s.carry.push_back(static_cast<int>(k));
        }
      }
      if (s.out_tensor >= 0 && last_use[static_cast<std::size_t>(written)] > l) {
        next.push_back(s.out_tensor);
        s.carry.push_back(-1);
      }
      frontier = std::move(next);
      m_max_frontier = std::max(m_max_frontier, frontier.size());
      for (int t : frontier) {
        s.key_stride.push_back(s.key_count);
        s.key_size.push_back(m_cand[static_cast<std::size_t>(t)].size());
        s.key_count *= s.key_size.back();
        if (s.key_count > m_max_states) return {frontier, m_max_states};
      }
      if (!tabulate_(s, in_tensors, plan)) {
        std::vector<int> coupled = in_tensors;
        if (s.out_tensor >= 0) coupled.push_back(s.out_tensor);
        return {coupled, m_max_combos};
      }
      m_stages.push_back(std::move(s));
    }
    return {{}, 0};
  }

  // Halves tensor t's candidates: evenly spaced in size order, the smallest and largest kept.
  void thin(std::size_t t) {
    std::vector<int>& c = m_cand[t];
    const auto& opts = m_curves.tensors[t].options;
    std::sort(c.begin(), c.end(), [&](int a, int b) {
      const auto& x = opts[static_cast<std::size_t>(a)];
      const auto& y = opts[static_cast<std::size_t>(b)];
      return std::tie(x.rate_bits, x.bits, a) < std::tie(y.rate_bits, y.bits, b);
    });
    const std::size_t keep = (c.size() + 1) / 2;
    std::vector<int> kept;
    for (std::size_t i = 0; i < keep; ++i) kept.push_back(c[i * (c.size() - 1) / (keep - 1)]);
    std::sort(kept.begin(), kept.end());
    c = std::move(kept);
    ++m_thinned;
  }

  // A search's state between stages.
  struct Search {
    std::vector<std::vector<Label>> flat;                  // per stage, its labels in key order (the parents)
    std::vector<std::vector<Label>> states = {{Label{}}};  // by dense frontier key (Stage::key_stride)
    std::vector<std::size_t> live = {0};                   // the occupied keys, in order
    std::vector<std::size_t> pos;                          // scratch: a key's positions per frontier slot
    explicit Search(std::size_t stages) : flat(stages) {}
  };

  // For frontier `key` before stage k, calls visit(combo, next, o) for each option o of the layer's
  // output (once when it has none): the stage's combo index, and the frontier key after the stage.
  template <typename Visit>
  void for_each_move(std::size_t k, std::size_t key, std::vector<std::size_t>& pos, Visit&& visit) const {
    const Stage& s = m_stages[k];
    const Stage* prev = k > 0 ? &m_stages[k - 1] : nullptr;
    pos.assign(prev ? prev->key_size.size() : 0, 0);
    for (std::size_t j = 0; j < pos.size(); ++j) pos[j] = key / prev->key_stride[j] % prev->key_size[j];
    std::size_t base = 0;
    for (std::size_t j = 0; j < s.in_slots.size(); ++j)
      base += pos[static_cast<std::size_t>(s.in_slots[j])] * s.stride[j];
    const std::size_t outs = s.out_tensor >= 0 ? m_cand[static_cast<std::size_t>(s.out_tensor)].size() : 1;
    for (std::size_t o = 0; o < outs; ++o) {
      std::size_t next = 0;
      for (std::size_t j = 0; j < s.carry.size(); ++j)
        next += (s.carry[j] < 0 ? o : pos[static_cast<std::size_t>(s.carry[j])]) * s.key_stride[j];
      visit(base + o * s.stride.back(), next, o);
    }
  }

  static Label extend(const Label& from, const Entry& e, std::size_t parent, const Stage& s, std::size_t o) {
    return Label{from.p + e.p, from.c + e.c,
                 from.r + e.r, static_cast<std::int32_t>(parent),
                 e.w,          s.out_tensor >= 0 ? static_cast<Pos>(o) : Pos{-1}};
  }

  static bool relaxed_less(const Label& x, const Label& y, const Multipliers& m) {
    const double vx = x.p + m.lambda * x.c + m.mu * x.r, vy = y.p + m.lambda * y.c + m.mu * y.r;
    return vx < vy || (vx == vy && x.c < y.c);
  }

  // Per combo of stage s, its entry least in p + lambda c + mu r (ties: least c).
  // With mu = 0 the winner is in combos_cp (a subsequence of combos, in its order): an entry another
  // covers in (c, p) has v no smaller (rounding is monotone), and on a tie in v and c the coverer
  // comes first in combos (sorted by (c, p, r), no two equal), so the same entry wins either way.
  static void best_entries(const Stage& s, const Multipliers& m, std::vector<const Entry*>& best_entry) {
    const EntryTable& table = m.mu == 0 ? s.combos_cp : s.combos;
    best_entry.assign(table.size(), nullptr);
    for (std::size_t b = 0; b < table.size(); ++b) {
      double best = kInf;
      for (const Entry& e : table[b])
        if (const double v = e.p + m.lambda * e.c + m.mu * e.r;
            !best_entry[b] || v < best || (v == best && e.c < best_entry[b]->c)) {
          best = v;
          best_entry[b] = &e;
        }
    }
  }

  // Records stage k's labels (in key order) and makes them the states; returns how many there are.
  std::size_t advance(Search& search, std::size_t k, std::vector<std::vector<Label>>&& next_states) {
    search.live.clear();
    std::size_t alive = 0;
    std::vector<Label>& record = search.flat[k];
    for (std::size_t key = 0; key < next_states.size(); ++key) {
      if (next_states[key].empty()) continue;
      search.live.push_back(key);
      alive += next_states[key].size();
      record.insert(record.end(), next_states[key].begin(), next_states[key].end());
    }
    m_peak_labels = k == 0 ? alive : std::max(m_peak_labels, alive);
    m_peak_states = std::max(m_peak_states, search.live.size());
    search.states = std::move(next_states);
    return alive;
  }

  // One state is left after the last layer (nothing is read after it): its best label within the
  // limits (a relaxation's single label in any case), traced back to a plan.
  Outcome finish(const Search& search, double max_c, double max_r, bool relaxed) const {
    Outcome best;
    const std::vector<Label>& last = search.flat.back();
    std::int32_t at = -1;
    for (std::size_t li = 0; li < last.size(); ++li) {
      const Label& l = last[li];
      if (l.c > max_c || l.r > max_r) continue;
      if (l.p < best.p || (l.p == best.p && l.c < best.c)) {
        best.p = l.p;
        best.c = l.c;
        best.r = l.r;
        at = static_cast<std::int32_t>(li);
      }
    }
    if (relaxed && at < 0) {
      at = 0;
      best.p = last[0].p;
      best.c = last[0].c;
      best.r = last[0].r;
    }
    if (at < 0) return best;
    best.choice.assign(m_curves.tensors.size(), 0);
    for (std::size_t k = m_stages.size(); k-- > 0;) {
      const Label& l = search.flat[k][static_cast<std::size_t>(at)];
      const Stage& s = m_stages[k];
      if (s.w_tensor >= 0) set_(best.choice, s.w_tensor, l.w);
      if (s.out_tensor >= 0) set_(best.choice, s.out_tensor, l.out);
      at = l.parent;
    }
    return best;
  }

  void set_(std::vector<int>& choice, int tensor, Pos pos) const {
    const auto t = static_cast<std::size_t>(tensor);
    choice[t] = m_cand[t][static_cast<std::size_t>(pos)];
  }

  // Options no other option of the tensor beats on size, error and bits together.
  void candidates_() {
    m_cand.resize(m_curves.tensors.size());
    for (std::size_t t = 0; t < m_curves.tensors.size(); ++t) {
      const auto& opts = m_curves.tensors[t].options;
      for (std::size_t a = 0; a < opts.size(); ++a) {
        bool beaten = false;
        for (std::size_t b = 0; b < opts.size() && !beaten; ++b) {
          if (a == b) continue;
          // A fixed-length option needs no decoding: a coded one never beats it on time.
          const bool coded_a = entropy_coded(m_curves.rate, opts[a]), coded_b = entropy_coded(m_curves.rate, opts[b]);
          const bool no_worse = opts[b].rate_bits <= opts[a].rate_bits && opts[b].distortion <= opts[a].distortion &&
                                opts[b].bits <= opts[a].bits && (!coded_b || coded_a);
          const bool same = opts[b].rate_bits == opts[a].rate_bits && opts[b].distortion == opts[a].distortion &&
                            opts[b].bits == opts[a].bits && coded_a == coded_b;
          beaten = no_worse && (!same || b < a);
        }
        if (!beaten) m_cand[t].push_back(static_cast<int>(a));
      }
      if (m_cand[t].size() > 32000)
        throw InputError(opts.front().where, fmt::format("curves tensor {}: too many options for the latency solver",
                                                         m_curves.tensors[t].tensor));
    }
  }

  sim::TensorCoding coding_(int tensor, std::size_t pos) const {
    const auto t = static_cast<std::size_t>(tensor);
    return tensor_coding(m_curves.rate, m_curves.tensors[t].options[static_cast<std::size_t>(m_cand[t][pos])],
                         m_values[t]);
  }

  void code_(sim::BitPlan& plan, int tensor, std::size_t pos) const {
    const auto t = static_cast<std::size_t>(tensor);
    (m_curves.tensors[t].kind == CurveTensorKind::Weight ? plan.weights : plan.activations)[m_layer_of[t]] =
        coding_(tensor, pos);
  }

  const CurveOption& option_(int tensor, std::size_t pos) const {
    const auto t = static_cast<std::size_t>(tensor);
    return m_curves.tensors[t].options[static_cast<std::size_t>(m_cand[t][pos])];
  }

  // Every combination of the options of the activation tensors the layer reads and writes, with the
  // weight choices that are not dominated for it.
  // Returns false, tabulating nothing, when the combinations exceed m_max_combos.
  bool tabulate_(Stage& s, const std::vector<int>& in_tensors, sim::BitPlan& plan) {
    std::vector<int> vars = in_tensors;
    vars.push_back(s.out_tensor);  // may be -1
    std::vector<std::size_t> sizes;
    std::size_t total = 1;
    for (int v : vars) {
      sizes.push_back(v >= 0 ? m_cand[static_cast<std::size_t>(v)].size() : 1);
      s.stride.push_back(total);
      total *= sizes.back();
      if (total > m_max_combos) return false;
    }
    const std::size_t w_count = s.w_tensor >= 0 ? m_cand[static_cast<std::size_t>(s.w_tensor)].size() : 1;
    s.combos.begin.reserve(total + 1);
    s.combos_cp.begin.reserve(total + 1);
    std::vector<Entry> entries, cp;  // scratch, reused across combos
    entries.reserve(w_count);
    // The layer's time for every weight option at once (the activation part computed once per combo).
    std::vector<sim::TensorCoding> w_codings;
    if (s.w_tensor >= 0)
      for (std::size_t w = 0; w < w_count; ++w) w_codings.push_back(coding_(s.w_tensor, w));
    else
      w_codings.push_back(plan.weights[s.layer]);
    std::vector<double> times;
    s.min_p = s.min_c = s.min_r = kInf;
    std::vector<std::size_t> pos(vars.size(), 0);
    for (std::size_t combo = 0; combo < total; ++combo) {
      double d = 0, r = 0;
      for (std::size_t j = 0; j < vars.size(); ++j) {
        if (vars[j] < 0) continue;
        code_(plan, vars[j], pos[j]);
        if (j + 1 == vars.size()) {  // the output tensor is chosen here: its error and size count here
          d += option_(vars[j], pos[j]).distortion;
          r += option_(vars[j], pos[j]).rate_bits;
        }
      }
      entries.clear();
      m_model.layer_times(s.layer, plan, w_codings, times);
      for (std::size_t w = 0; w < w_count; ++w) {
        double dw = d, rw = r;
        if (s.w_tensor >= 0) {
          dw += option_(s.w_tensor, w).distortion;
          rw += option_(s.w_tensor, w).rate_bits;
        }
        const double t = times[w];
        Entry e;
        e.p = m_objective == LatencyObjective::MinError ? dw : t;
        e.c = m_objective == LatencyObjective::MinError ? t : dw;
        e.r = rw;
        e.w = s.w_tensor >= 0 ? static_cast<Pos>(w) : Pos{-1};
        entries.push_back(e);
        s.min_p = std::min(s.min_p, e.p);
        s.min_c = std::min(s.min_c, e.c);
        s.min_r = std::min(s.min_r, e.r);
      }
      prune_entries(entries);
      pareto_cp(entries, cp);
      s.combos.add(entries);
      s.combos_cp.add(cp);
      for (std::size_t j = 0; j < pos.size(); ++j) {  // next combination, first variable fastest
        if (++pos[j] < sizes[j]) break;
        pos[j] = 0;
      }
    }
    return true;
  }

  const RateDistortionCurves& m_curves;
  const sim::AnalyticalModel& m_model;
  LatencyObjective m_objective;
  std::vector<std::int64_t> m_values;
  std::vector<std::size_t> m_layer_of;   // per curves tensor: its layer index
  std::vector<std::vector<int>> m_cand;  // per tensor: candidate option indices
  std::vector<Stage> m_stages;
  std::vector<double> m_rest_p, m_rest_c, m_rest_r;
  std::vector<std::vector<double>> m_h;             // dual_bound(): per stage, per frontier key
  sim::BitPlan m_plan;                              // every tensor without a curve coded as to_bit_plan does
  std::vector<std::vector<std::size_t>> m_touches;  // per tensor: the layers whose time it changes
  std::vector<bool> m_written;                      // per layer: some layer's timing writes its output
  double m_lambda = 0, m_mu = 0;
  std::size_t m_max_frontier = 0, m_peak_labels = 0, m_peak_states = 0;
  std::size_t m_thinned = 0;  // halvings of candidate lists (thin())
  std::size_t m_max_states, m_max_combos;
};

// The least multiplier v (to a relative 1e-6) at which `meets(v)` holds, for a `meets` that is false
// below a threshold and true above it: v = 0 if it holds there, else grow from `start` by 16x (up
// to `cap`), then bisect geometrically. Returns the smallest v found to meet (or the last tried).
template <typename Meets>
double least_multiplier(double start, double cap, Meets&& meets) {
  if (meets(0.0)) return 0.0;
  double lo = 0, hi = start;
  while (!meets(hi) && hi < cap) {
    lo = hi;
    hi *= 16;
  }
  for (int it = 0; it < 30 && hi > lo * (1 + 1e-4); ++it) {
    const double mid = lo > 0 ? std::sqrt(lo * hi) : hi / 16;
    (meets(mid) ? hi : lo) = mid;
  }
  return hi;
}

// One solve's limits on the DP's sums: the constrained quantity c (time without the fixed
// dram.latency, or predicted error) and the size r.
struct SolveLimits {
  double max_c = kInf, max_r = kInf;
  bool with_rate() const { return std::isfinite(max_r); }
  double finite_r() const { return with_rate() ? max_r : 0; }
};

// The weight that makes c (or r) decide a Lagrangian pass while p + 1e250 c stays finite (1e300
// overflowed for r ~ 2e8 bits).
constexpr double kDominant = 1e250;

// What the Lagrangian passes found: the best plan within the limits (incumbent), the plan least
// over them (closest), the lower bound on p, and the multipliers of c and r.
struct LagrangianResult {
  LatencyDp::Outcome incumbent, closest;
  double lower = -kInf, lambda = 0, mu = 0;
};

// Passes minimizing p + lambda c + mu r: each multiplier in turn is set (by bisection, the other
// fixed) to the least value that meets its limit. `fastest` is the least-c plan.
LagrangianResult lagrangian_passes(LatencyDp& dp, const SolveLimits& lim, const LatencyDp::Outcome& fastest) {
  LagrangianResult out;
  double closest_excess = kInf;
  // The bisections revisit multipliers (each starts with 0 and the same growth from `start`; the
  // size rounds repeat them): a pass is deterministic, so a repeat reuses its outcome. The updates
  // below are idempotent for an outcome already seen (max, and strict improvements).
  std::map<std::pair<double, double>, LatencyDp::Outcome> seen;
  auto pass = [&](double l, double m) {
    auto it = seen.find({l, m});
    if (it == seen.end()) it = seen.emplace(std::pair{l, m}, dp.lagrangian({l, m})).first;
    const LatencyDp::Outcome& o = it->second;
    out.lower = std::max(out.lower, o.p + l * (o.c - lim.max_c) + m * (o.r - lim.finite_r()));
    if (o.c <= lim.max_c && o.r <= lim.max_r && o.p < out.incumbent.p) out.incumbent = o;
    if (const double ex = excess(o.c, o.r, lim.max_c, lim.max_r); ex < closest_excess) {
      out.closest = o;
      closest_excess = ex;
    }
    return o;
  };
  const auto free = pass(0, 0);
  const double p_scale = std::max(std::abs(fastest.p - free.p), std::abs(free.p)) + 1e-300;
  // The least multiplier (of c: which = 0, of r: 1) at which the Lagrangian plan meets its limit.
  auto bisect = [&](int which) {
    const double scale = which == 0 ? std::abs(lim.max_c) : std::abs(lim.finite_r());
    return least_multiplier(p_scale / std::max(scale, 1e-300), 1e280, [&](double v) {
      const auto o = which == 0 ? pass(v, out.mu) : pass(out.lambda, v);
      return which == 0 ? o.c <= lim.max_c : o.r <= lim.max_r;
    });
  };
  if (fastest.r <= lim.max_r) out.incumbent = fastest;  // feasible; not a bound
  for (int round = 0; round < (lim.with_rate() ? 4 : 1); ++round) {
    out.lambda = bisect(0);
    if (lim.with_rate()) out.mu = bisect(1);
  }
  return out;
}

// An incumbent within both limits when the passes found none: phase one (ignore p, trade c against
// r alone: min c + nu r, nu by bisection), then repairing the plan least over the limits; then
// the local search polishes it.
void complete_incumbent(LatencyDp& dp, const SolveLimits& lim, const LatencyDp::Outcome& fastest,
                        LagrangianResult& lr) {
  LatencyDp::Outcome& incumbent = lr.incumbent;
  if (incumbent.choice.empty() && lim.with_rate()) {
    const double big = 1e200 / std::max({std::abs(lim.max_c), std::abs(fastest.c), 1e-300});
    least_multiplier(std::abs(lim.max_c) / std::max(std::abs(lim.finite_r()), 1e-300), 1e250, [&](double nu) {
      const auto o = dp.lagrangian({big, big * nu});
      if (o.c <= lim.max_c && o.r <= lim.max_r && o.p < incumbent.p) incumbent = o;
      return o.r <= lim.max_r;
    });
  }
  if (incumbent.choice.empty() && !lr.closest.choice.empty()) {
    const auto repaired = dp.polish(lr.closest, lim.max_c, lim.max_r);
    if (repaired.c <= lim.max_c && repaired.r <= lim.max_r) incumbent = repaired;
  }
  if (!incumbent.choice.empty()) incumbent = dp.polish(incumbent, lim.max_c, lim.max_r);
}

// Exact search with a cut-off U between the lower bound and the incumbent: labels whose bound
// reaches U are dropped. A plan found below U is optimal (nothing better was dropped); if none is
// found, U widens (x4 the gap) until it reaches the incumbent, which is then optimal.
LatencyDp::Outcome exact_search(LatencyDp& dp, const SolveLimits& lim, const LagrangianResult& lr,
                                std::size_t max_labels) {
  dp.dual_bound(lr.lambda, lr.mu);
  LatencyDp::Outcome exact;
  const double floor = std::max(lr.lower, 0.0);
  const double gap = lr.incumbent.p - floor;
  for (double frac = 1.0 / 256;; frac *= 4) {
    const bool last = frac >= 1 || !std::isfinite(lr.incumbent.p);
    const double cutoff = last ? lr.incumbent.p : floor + gap * frac;
    exact = dp.exact({lim.max_c, lim.max_r, cutoff, max_labels});
    if (exact.aborted || !exact.choice.empty() || last) return exact;
  }
}

// The largest sum of layer times s with s + latency <= max_time in floating point, as the model adds
// them (evaluate() adds dram.latency last): a plan exactly at the target is within it.
double layer_time_limit(double max_time, double latency) {
  if (!std::isfinite(max_time)) return max_time;
  double s = max_time - latency;
  while (s + latency > max_time) s = std::nextafter(s, -kInf);
  while (std::nextafter(s, kInf) + latency <= max_time) s = std::nextafter(s, kInf);
  return s;
}

// The solver; a goal no plan meets is reported in `error` rather than thrown, so that the outer loop
// throws nothing after a SystemC run (see simulate_detailed in sim/detailed_model.h).
std::optional<LatencyAllocation> solve_within(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                              int default_bits, const LatencyGoal& goal, std::string& error);

// A size budget makes the exact search track three quantities (and can take seconds where two take
// milliseconds). The optimum without the budget, when proven and within it, is the optimum with it
// (the budget only removes plans): that is tried first.
std::optional<LatencyAllocation> solve(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                       int default_bits, const LatencyGoal& goal, std::string& error) {
  if (std::isfinite(goal.budget_bits)) {
    LatencyGoal free = goal;
    free.budget_bits = kInf;
    std::string ignored;
    auto r = solve_within(curves, model, default_bits, free, ignored);
    if (r && r->allocation.proven_optimal && r->allocation.rate_bits <= goal.budget_bits) {
      r->allocation.details.emplace_back("size_budget", "not binding (the optimum without it fits)");
      return r;
    }
  }
  return solve_within(curves, model, default_bits, goal, error);
}

std::optional<LatencyAllocation> solve_within(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                              int default_bits, const LatencyGoal& goal, std::string& error) {
  if (curves.tensors.empty()) throw InputError({curves.source, 0, 0}, "the curves have no tensors");
  const bool min_error = goal.objective == LatencyObjective::MinError;
  const double latency = model.hardware().dram_latency_s;
  // The constrained sum, as the DP accumulates it (time excludes the fixed dram.latency).
  const SolveLimits lim{min_error ? layer_time_limit(goal.max_time_s, latency) : goal.max_error * (1 + 1e-12),
                        std::isfinite(goal.budget_bits) ? goal.budget_bits * (1 + 1e-12) : kInf};
  LatencyDp dp(curves, model, default_bits, goal);
  // A rate is printed rounded down, so that a user who asks for the printed rate gets it.
  auto c_text = [&](double c) {
    const double rate = model.batch() / (c + latency);
    const double scale = std::pow(10.0, 5 - std::floor(std::log10(rate)));
    return min_error
               ? fmt::format("{:.6g} s per batch ({:.6g} images/s)", c + latency, std::floor(rate * scale) / scale)
               : fmt::format("predicted error {:.6g}", c);
  };
  // Feasibility: the least constrained quantity and the least size any plan reaches.
  const auto fastest = dp.lagrangian({kDominant, 0});
  if (fastest.c > lim.max_c) {
    error = fmt::format("no plan meets the target: the best any plan reaches is {}", c_text(fastest.c));
    return std::nullopt;
  }
  if (lim.with_rate()) {
    const auto smallest = dp.lagrangian({0, kDominant});
    if (smallest.r > lim.max_r) {
      error = fmt::format("no plan fits the size budget of {} bits: the smallest takes {} bits", goal.budget_bits,
                          smallest.r);
      return std::nullopt;
    }
  }
  LagrangianResult lr = lagrangian_passes(dp, lim, fastest);
  complete_incumbent(dp, lim, fastest, lr);
  const LatencyDp::Outcome exact = exact_search(dp, lim, lr, goal.max_labels);
  const bool finished = !exact.aborted;
  const LatencyDp::Outcome& best = (finished && exact.p < lr.incumbent.p) ? exact : lr.incumbent;
  if (best.choice.empty()) {
    error = finished ? fmt::format("no plan meets both the target ({}) and the size budget of {} bits",
                                   c_text(lim.max_c), goal.budget_bits)
                     : fmt::format(
                           "latency solver: the exact search outgrew {} labels and the Lagrangian pass found "
                           "no plan within the size budget; loosen the budget or the target",
                           goal.max_labels);
    return std::nullopt;
  }
  LatencyAllocation result;
  Allocation& a = result.allocation;
  a = make_allocation(curves, best.choice);
  a.proven_optimal = finished && dp.thinned() == 0;
  result.time_s = (min_error ? best.c : best.p) + latency;
  a.details.emplace_back("objective", min_error ? "min predicted error s.t. time" : "min time s.t. predicted error");
  a.details.emplace_back("dp_time_s", result.time_s);
  a.details.emplace_back("lagrange_multiplier", lr.lambda);
  if (lim.with_rate()) a.details.emplace_back("size_multiplier", lr.mu);
  a.details.emplace_back("lower_bound", finished ? best.p : std::max(lr.lower, 0.0));
  a.details.emplace_back("frontier_tensors_max", static_cast<std::int64_t>(dp.max_frontier()));
  a.details.emplace_back("candidate_options", static_cast<std::int64_t>(dp.candidate_options()));
  a.details.emplace_back("labels_peak", static_cast<std::int64_t>(dp.peak_labels()));
  const bool resident = model.hardware().dram_policy == sim::DramPolicy::Resident;
  if (resident) a.details.emplace_back("note", "resident weights: the DP charges every weight fetch (an upper bound)");
  if (!finished)
    a.details.emplace_back(
        "status",
        fmt::format("exact search outgrew {} labels: best Lagrangian plan, not proven optimal", goal.max_labels));
  if (dp.thinned() > 0)
    a.details.emplace_back(
        "thinned", fmt::format("{} halvings of activation tensors' options (more than {} DP states or {} option "
                               "combinations in a layer): optimal over the thinned options only",
                               dp.thinned(), goal.max_states, goal.max_combos));
  if (resident) a.proven_optimal = false;
  return result;
}

}  // namespace

LatencyAllocation allocate_for_latency(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                       int default_bits, const LatencyGoal& goal) {
  std::string error;
  auto r = solve(curves, model, default_bits, goal, error);
  if (!r) throw InputError({}, error);
  return std::move(*r);
}

RefinedAllocation refine_for_latency(const RateDistortionCurves& curves, const sim::AnalyticalModel& model,
                                     int default_bits, const LatencyGoal& goal, const PlanTimer& timer,
                                     int max_rounds) {
  const sim::Network& net = model.network();
  RefinedAllocation best, fastest;  // the best plan that meets the goal; the fastest one tried
  LatencyGoal g = goal;
  // The DP's targets: `tightest` is the fastest plan's additive time (no target below it can be
  // met); `fails` the tightest target whose plan missed, `meets` the loosest whose plan met.
  double tightest = 0, fails = kInf, meets_at = 0;
  for (int round = 1; round <= max_rounds; ++round) {
    std::string error;
    auto solved = round == 1 ? std::optional(allocate_for_latency(curves, model, default_bits, g))
                             : solve(curves, model, default_bits, g, error);
    if (!solved) break;  // the size budget or the error target leaves nothing at this time
    const double timed = timer(to_bit_plan(net, curves, solved->allocation, default_bits, ""));
    const bool meets = goal.objective == LatencyObjective::MinTime || timed <= goal.max_time_s;
    const bool better = !best.met || (goal.objective == LatencyObjective::MinError
                                          ? solved->allocation.distortion < best.result.allocation.distortion
                                          : timed < best.timed_s);
    if (meets && better) best = {*solved, timed, round, true};
    if (round == 1 || timed < fastest.timed_s) fastest = {*solved, timed, round, false};
    best.rounds = fastest.rounds = round;
    if (goal.objective == LatencyObjective::MinTime || (meets && round == 1)) break;
    if (meets)
      meets_at = std::max(meets_at, g.max_time_s);
    else
      fails = std::min(fails, g.max_time_s);
    if (round == 1) {  // the fastest any plan is in the additive model: the floor of every target
      LatencyGoal f = goal;
      f.objective = LatencyObjective::MinTime;
      f.max_error = kInf;
      std::string none;
      const auto quickest = solve(curves, model, default_bits, f, none);
      if (!quickest) break;
      tightest = quickest->time_s;
    }
    // Tighten by the ratio missed, at most to the floor, and bisect once a target has met: the
    // loosest target that meets gives the least error.
    const double next =
        meets_at > 0 ? 0.5 * (meets_at + fails) : std::max(tightest, g.max_time_s * goal.max_time_s / timed);
    if (next >= fails || (meets_at > 0 && fails - meets_at <= 1e-6 * fails) || (!meets && g.max_time_s <= tightest))
      break;
    g.max_time_s = next;
  }
  RefinedAllocation& out = best.met ? best : fastest;
  // Optimal for the DP's (tightened) target, not proven so for the timer's.
  out.result.allocation.proven_optimal = false;
  out.result.allocation.details.emplace_back("timed_s", out.timed_s);
  out.result.allocation.details.emplace_back("refine_rounds", static_cast<std::int64_t>(out.rounds));
  return out;
}

}  // namespace bitsim::alloc
