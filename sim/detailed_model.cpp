// The SystemC modules of the detailed model (see detailed_model.h for what each assumes), in the
// shape of the Accellera simple_perf example: small interfaces, channels implementing them, ports
// bound in one top module. The modules are elaborated once per process and serve one job
// (network + plan) per call of simulate_detailed().
#include "sim/detailed_model.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <ostream>
#include <systemc>

#include "sim/base/diagnostics.h"
#include "sim/base/table.h"

namespace bitsim::sim {
namespace {

using sc_core::sc_event;
using sc_core::sc_module;
using sc_core::sc_module_name;
using sc_core::sc_time;

// Times are measured from the start of the current job, in SystemC's integer time (so that
// repeated runs in one process give bit-identical results).
sc_time g_job_start = sc_core::SC_ZERO_TIME;
double now_s() { return (sc_core::sc_time_stamp() - g_job_start).to_seconds(); }

void wait_for(double seconds) {
  if (seconds > 0) sc_core::wait(sc_time(seconds, sc_core::SC_SEC));
}

struct Tile {
  int layer = 0;
  int index = 0;
  int seq = 0;  // position in issue order: older tiles have priority on the DRAM channel
  double weight_bytes = 0, input_bytes = 0, output_bytes = 0;  // DRAM traffic
  // On-chip space at the decoded size, in whole bytes (integers, so that releases return the
  // buffer exactly to empty).
  std::int64_t weight_reserve = 0, activation_reserve = 0;
  std::int64_t input_reserve = 0;  // the part of activation_reserve freed at compute end
  double symbols = 0;
  double compute_s = 0;
  bool weights_fetched = false, inputs_fetched = false, decoded = false, computed = false, written = false;
  double fetch_end_s = 0;
  double buffer_wait_s = 0;
  double first_activity_s = std::numeric_limits<double>::infinity();
};

struct Job {
  const Network* net = nullptr;
  std::vector<Tile> tiles;                  // in issue order
  std::vector<std::vector<int>> producers;  // per layer: producer layers
  std::vector<int> previous;                // per layer: the layer before it in topological order (-1: none)
  std::vector<int> tiles_left;              // per layer: tiles not yet done
  std::vector<bool> done;                   // per layer
  std::vector<bool> output_offchip;         // per layer
  std::vector<LayerDetail> detail;
  double start_s = 0;
  double array_free_s = 0;  // when the array finished its last tile
  double decode_rate = 0;   // symbols per second
  bool prefetch = true;
  bool record_trace = false;
  std::vector<TraceSpan> trace;
  double dram_busy_s = 0, decoder_busy_s = 0, array_busy_s = 0;
};

// --- interfaces -------------------------------------------------------------------------------

enum class RequestKind { WeightRead, InputRead, Write };

struct Request {
  Tile* tile;
  RequestKind kind;
  double bytes;
};

struct dram_if : virtual sc_core::sc_interface {
  virtual void submit(const Request& r) = 0;
};

struct buffer_if : virtual sc_core::sc_interface {
  // Blocks until `bytes` (at most the capacity) are free, reserves them; returns the bytes reserved.
  virtual std::int64_t reserve(std::int64_t bytes) = 0;
  virtual void release(std::int64_t bytes) = 0;
};

// Notified (immediately) whenever any tile changes state or buffer space is freed; every waiting
// thread re-checks its own condition.
struct Progress {
  sc_event changed;
  Job* job = nullptr;
  std::uint64_t generation = 0;  // one per job: the threads start over when it changes
  void notify() { changed.notify(); }
  template <typename Condition>
  void wait_until(Condition c) {
    while (!c()) sc_core::wait(changed);
  }
  // The body of every module thread: for each job, `per_tile(job, tile)` for its tiles in order.
  template <typename PerTile>
  [[noreturn]] void serve_jobs(PerTile per_tile);
};

template <typename PerTile>
[[noreturn]] void Progress::serve_jobs(PerTile per_tile) {
  std::uint64_t seen = 0;
  while (true) {
    wait_until([&] { return generation != seen; });
    seen = generation;
    for (Tile& t : job->tiles) per_tile(*job, t);
  }
}

// --- channels ---------------------------------------------------------------------------------

class DramChannel : public sc_module, public dram_if {
 public:
  SC_HAS_PROCESS(DramChannel);
  DramChannel(sc_module_name name, Progress& progress) : sc_module(name), m_progress(progress) {
    SC_THREAD(serve);
    SC_THREAD(complete);
  }
  void configure(double bytes_per_s, double latency_s) {
    m_bytes_per_s = bytes_per_s;
    m_latency_s = latency_s;
  }
  void submit(const Request& r) override {
    m_queues[static_cast<int>(r.kind)].push_back(r);
    m_work.notify();
  }

 private:
  void serve() {
    int next = 0;
    while (true) {
      while (m_queues[0].empty() && m_queues[1].empty() && m_queues[2].empty()) sc_core::wait(m_work);
      // The oldest tile first, so that prefetching never delays the layer being computed; among
      // requests of the same tile, round-robin over the queues.
      int pick = -1;
      for (int k = 0; k < 3; ++k) {
        const int q = (next + k) % 3;
        if (!m_queues[q].empty() && (pick < 0 || m_queues[q].front().tile->seq < m_queues[pick].front().tile->seq))
          pick = q;
      }
      const Request r = m_queues[pick].front();
      m_queues[pick].pop_front();
      next = (pick + 1) % 3;
      const double begin = now_s();
      r.tile->first_activity_s = std::min(r.tile->first_activity_s, begin);
      wait_for(std::isinf(m_bytes_per_s) ? 0.0 : r.bytes / m_bytes_per_s);
      Job& job = *m_progress.job;
      job.dram_busy_s += now_s() - begin;
      if (job.record_trace && now_s() > begin) {
        const char* what = r.kind == RequestKind::WeightRead  ? "weights"
                           : r.kind == RequestKind::InputRead ? "inputs"
                                                              : "write";
        job.trace.push_back({TraceSpan::Track::Dram,
                             fmt::format("{} {} tile {}", job.net->layer(static_cast<std::size_t>(r.tile->layer)).name,
                                         what, r.tile->index),
                             begin - job.start_s, now_s() - job.start_s});
      }
      m_pending.emplace_back(r, now_s() + m_latency_s);
      m_pending_added.notify();
    }
  }

  // Latency is pipelined: a request completes dram.latency after it leaves the channel.
  void complete() {
    while (true) {
      while (m_pending.empty()) sc_core::wait(m_pending_added);
      const auto [r, at] = m_pending.front();
      wait_for(at - now_s());
      m_pending.pop_front();
      switch (r.kind) {
        case RequestKind::WeightRead:
          r.tile->weights_fetched = true;
          break;
        case RequestKind::InputRead:
          r.tile->inputs_fetched = true;
          break;
        case RequestKind::Write:
          r.tile->written = true;
          break;
      }
      if (r.kind != RequestKind::Write) r.tile->fetch_end_s = std::max(r.tile->fetch_end_s, now_s());
      m_progress.notify();
    }
  }

  Progress& m_progress;
  double m_bytes_per_s = 1;
  double m_latency_s = 0;
  std::deque<Request> m_queues[3];
  std::deque<std::pair<Request, double>> m_pending;
  sc_event m_work, m_pending_added;
};

class Buffer : public sc_module, public buffer_if {
 public:
  Buffer(sc_module_name name, Progress& progress) : sc_module(name), m_progress(progress) {}
  void configure(std::int64_t capacity) {
    m_capacity = capacity;
    m_used = 0;
    m_peak = 0;
  }
  std::int64_t reserve(std::int64_t bytes) override {
    const std::int64_t need = std::min(bytes, m_capacity);
    m_progress.wait_until([&] { return m_used + need <= m_capacity; });
    m_used += need;
    m_peak = std::max(m_peak, m_used);
    return need;
  }
  void release(std::int64_t bytes) override {
    m_used -= bytes;
    BITSIM_CHECK(m_used >= 0);
    m_progress.notify();
  }
  std::int64_t peak() const { return m_peak; }

 private:
  Progress& m_progress;
  std::int64_t m_capacity = 0;
  std::int64_t m_used = 0;
  std::int64_t m_peak = 0;
};

// --- modules ----------------------------------------------------------------------------------

// Issues fetches in tile order: weights as early as the weight buffer allows (or from the start
// of their layer without prefetch), inputs once the producer layers are done.
class Controller : public sc_module {
 public:
  sc_core::sc_port<dram_if> dram;
  sc_core::sc_port<buffer_if> weight_buffer;
  sc_core::sc_port<buffer_if> activation_buffer;

  SC_HAS_PROCESS(Controller);
  Controller(sc_module_name name, Progress& progress) : sc_module(name), m_progress(progress) {
    SC_THREAD(issue_weights);
    SC_THREAD(issue_inputs);
  }

 private:
  bool may_start(const Job& job, const Tile& t) const {
    if (job.prefetch) return true;
    const int prev = job.previous[static_cast<std::size_t>(t.layer)];
    return prev < 0 || job.done[static_cast<std::size_t>(prev)];
  }

  void issue_weights() {
    m_progress.serve_jobs([&](Job& job, Tile& t) {
      m_progress.wait_until([&] { return may_start(job, t); });
      const double asked = now_s();
      t.weight_reserve = weight_buffer->reserve(t.weight_reserve);
      t.buffer_wait_s += now_s() - asked;
      if (t.weight_bytes > 0) {
        dram->submit({&t, RequestKind::WeightRead, t.weight_bytes});
      } else {
        t.weights_fetched = true;
        m_progress.notify();
      }
    });
  }

  void issue_inputs() {
    m_progress.serve_jobs([&](Job& job, Tile& t) {
      m_progress.wait_until([&] {
        if (!may_start(job, t)) return false;
        for (int p : job.producers[static_cast<std::size_t>(t.layer)])
          if (!job.done[static_cast<std::size_t>(p)]) return false;
        return true;
      });
      const double asked = now_s();
      const std::int64_t reserved = activation_buffer->reserve(t.activation_reserve);
      t.input_reserve = std::min(t.input_reserve, reserved);
      t.activation_reserve = reserved;
      t.buffer_wait_s += now_s() - asked;
      if (t.input_bytes > 0) {
        dram->submit({&t, RequestKind::InputRead, t.input_bytes});
      } else {
        t.inputs_fetched = true;
        t.first_activity_s = std::min(t.first_activity_s, now_s());
        m_progress.notify();
      }
    });
  }

  Progress& m_progress;
};

class Decoder : public sc_module {
 public:
  SC_HAS_PROCESS(Decoder);
  Decoder(sc_module_name name, Progress& progress) : sc_module(name), m_progress(progress) { SC_THREAD(run); }

 private:
  void run() {
    m_progress.serve_jobs([&](Job& job, Tile& t) {
      m_progress.wait_until([&] { return t.weights_fetched && t.inputs_fetched; });
      const double begin = now_s();
      if (t.symbols > 0) wait_for(t.symbols / job.decode_rate);
      job.decoder_busy_s += now_s() - begin;
      if (job.record_trace && now_s() > begin)
        job.trace.push_back({TraceSpan::Track::Decoder,
                             fmt::format("{} tile {}", job.net->layer(static_cast<std::size_t>(t.layer)).name, t.index),
                             begin - job.start_s, now_s() - job.start_s});
      t.decoded = true;
      m_progress.notify();
    });
  }
  Progress& m_progress;
};

class Array : public sc_module {
 public:
  sc_core::sc_port<dram_if> dram;
  sc_core::sc_port<buffer_if> weight_buffer;
  sc_core::sc_port<buffer_if> activation_buffer;

  SC_HAS_PROCESS(Array);
  Array(sc_module_name name, Progress& progress) : sc_module(name), m_progress(progress) {
    SC_THREAD(compute);
    SC_THREAD(retire);
  }

 private:
  void compute() {
    m_progress.serve_jobs([&](Job& job, Tile& t) {
      m_progress.wait_until([&] { return t.decoded; });
      // Why was the array idle? Decoder after the fetch ended, then buffer waits, then DRAM.
      const double idle = now_s() - job.array_free_s;
      LayerDetail& d = job.detail[static_cast<std::size_t>(t.layer)];
      if (idle > 0) {
        const double decode_part = std::clamp(now_s() - std::max(t.fetch_end_s, job.array_free_s), 0.0, idle);
        const double buffer_part = std::min(idle - decode_part, t.buffer_wait_s);
        d.stall_decode_s += decode_part;
        d.stall_buffer_s += buffer_part;
        d.stall_dram_s += idle - decode_part - buffer_part;
      }
      const double begin = now_s();
      t.first_activity_s = std::min(t.first_activity_s, begin);
      wait_for(t.compute_s);
      job.array_busy_s += now_s() - begin;
      job.array_free_s = now_s();
      if (job.record_trace && now_s() > begin)
        job.trace.push_back({TraceSpan::Track::Array,
                             fmt::format("{} tile {}", job.net->layer(static_cast<std::size_t>(t.layer)).name, t.index),
                             begin - job.start_s, now_s() - job.start_s});
      weight_buffer->release(t.weight_reserve);
      activation_buffer->release(t.input_reserve);
      t.computed = true;
      if (t.output_bytes > 0)
        dram->submit({&t, RequestKind::Write, t.output_bytes});
      else
        t.written = true;
      m_progress.notify();
    });
  }

  // Frees output space after write-back and marks layers done, in tile order.
  void retire() {
    m_progress.serve_jobs([&](Job& job, Tile& t) {
      m_progress.wait_until([&] { return t.computed && t.written; });
      activation_buffer->release(t.activation_reserve - t.input_reserve);
      const auto l = static_cast<std::size_t>(t.layer);
      LayerDetail& d = job.detail[l];
      d.start_s = std::min(d.start_s, t.first_activity_s - job.start_s);
      if (--job.tiles_left[l] == 0) {
        job.done[l] = true;
        d.end_s = now_s() - job.start_s;
        if (job.record_trace && d.end_s > d.start_s)  // a fused layer with nothing of its own to do has no span
          job.trace.push_back({TraceSpan::Track::Layers, job.net->layer(l).name, d.start_s, d.end_s});
      }
      m_progress.notify();
    });
  }

  Progress& m_progress;
};

class Top : public sc_module {
 public:
  Progress progress;
  DramChannel dram;
  Buffer weight_buffer;
  Buffer activation_buffer;
  Controller controller;
  Decoder decoder;
  Array array;

  explicit Top(sc_module_name name)
      : sc_module(name),
        dram("dram", progress),
        weight_buffer("weight_buffer", progress),
        activation_buffer("activation_buffer", progress),
        controller("controller", progress),
        decoder("decoder", progress),
        array("array", progress) {
    controller.dram(dram);
    controller.weight_buffer(weight_buffer);
    controller.activation_buffer(activation_buffer);
    array.dram(dram);
    array.weight_buffer(weight_buffer);
    array.activation_buffer(activation_buffer);
  }

  // Before the first sc_start the threads find the new generation when they first run; later,
  // they are waiting and a delta notification wakes them.
  void start(Job& job) {
    progress.job = &job;
    ++progress.generation;
    if (sc_core::sc_get_status() == sc_core::SC_PAUSED) progress.changed.notify(sc_core::SC_ZERO_TIME);
  }
};

Top& top() {
  static Top* instance = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // keep stdout to bitsim's own output
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    return new Top("bitsim_detailed");
  }();
  return *instance;
}

double fixed_bytes(const TensorCoding& c, std::int64_t values) {
  return static_cast<double>(c.bits) * static_cast<double>(values) / 8.0;
}

// A layer's tiles, cut from its analytical timing: traffic, symbols and cycles split evenly, the
// buffer space each reserves at the decoded size (nothing with unlimited buffers).
void add_tiles(Job& job, std::size_t i, const AnalyticalModel& model, const BitPlan& plan, const SimResult& analytical,
               const DetailedOptions& options) {
  const Network& net = model.network();
  const HardwareConfig& hw = model.hardware();
  const int batch = model.batch();
  const Layer& l = net.layer(i);
  const LayerTiming& t = analytical.layers[i];
  const std::int64_t folds = model.array_cost(i).folds;  // SCALE-Sim folds, or row-stationary passes
  const int tiles = static_cast<int>(std::clamp<std::int64_t>(folds, 1, options.max_tiles_per_layer));
  const LayerTraffic& traffic = model.traffic().layer(i);
  double input_decoded = 0;
  for (int p : traffic.dram_reads)
    input_decoded += fixed_bytes(plan.activations[static_cast<std::size_t>(p)],
                                 net.layer(static_cast<std::size_t>(p)).output.count()) *
                     batch;
  const double weight_decoded = analytical.weights_resident ? 0.0 : fixed_bytes(plan.weights[i], l.weights);
  const auto written = static_cast<std::size_t>(std::max(traffic.writes, 0));
  const double output_decoded = t.output_write_bytes > 0
                                    ? fixed_bytes(plan.activations[written], net.layer(written).output.count()) * batch
                                    : 0.0;
  if (t.input_read_bytes == 0) input_decoded = 0;
  job.tiles_left[i] = tiles;
  job.detail[i].tiles = tiles;
  job.detail[i].start_s = std::numeric_limits<double>::infinity();
  auto whole = [&](double bytes) {
    return options.unlimited_buffers ? std::int64_t{0} : static_cast<std::int64_t>(std::ceil(bytes / tiles));
  };
  for (int k = 0; k < tiles; ++k) {
    Tile tile;
    tile.layer = static_cast<int>(i);
    tile.index = k;
    tile.seq = static_cast<int>(job.tiles.size());
    tile.weight_bytes = t.weight_read_bytes / tiles;
    tile.input_bytes = t.input_read_bytes / tiles;
    tile.output_bytes = t.output_write_bytes / tiles;
    tile.weight_reserve = whole(weight_decoded);
    tile.input_reserve = whole(input_decoded);
    tile.activation_reserve = tile.input_reserve + whole(output_decoded);
    tile.symbols = static_cast<double>(t.decode_symbols) / tiles;
    // The layer's cycles, split as evenly as whole cycles allow.
    const std::int64_t cycles = t.compute_cycles / tiles + (k < t.compute_cycles % tiles ? 1 : 0);
    tile.compute_s = static_cast<double>(cycles) / hw.clock_hz;
    job.tiles.push_back(tile);
  }
}

// The job of one run: per layer its producers, the layer issued before it, and its tiles.
Job make_job(const AnalyticalModel& model, const BitPlan& plan, const SimResult& analytical,
             const DetailedOptions& options) {
  const Network& net = model.network();
  const HardwareConfig& hw = model.hardware();
  Job job;
  job.net = &net;
  job.prefetch = options.prefetch;
  job.record_trace = options.record_trace;
  job.decode_rate = static_cast<double>(hw.decoder_lanes) * hw.decoder_symbols_per_cycle * hw.clock_hz;
  const std::size_t n = net.layers().size();
  job.producers.resize(n);
  job.previous.assign(n, -1);
  job.tiles_left.assign(n, 0);
  job.done.assign(n, false);
  job.detail.assign(n, LayerDetail{});
  int last = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& l = net.layer(i);
    if (l.op == LayerOp::Input) {
      job.done[i] = true;
      continue;
    }
    for (int p : l.inputs)
      if (net.layer(static_cast<std::size_t>(p)).op != LayerOp::Input) job.producers[i].push_back(p);
    job.previous[i] = last;
    last = static_cast<int>(i);
    add_tiles(job, i, model, plan, analytical, options);
  }
  return job;
}

// SystemC counts time in 1 ps steps up to 2^64 ps (~1.8e7 s, shared by every run in a process).
// Everything done one after another bounds the run: refuse (before starting: nothing may throw
// after a SystemC run) a job that could pass the end of time rather than report a wrapped time.
void check_end_of_time(const Job& job, const HardwareConfig& hw) {
  double serial_s = 0;
  for (const Tile& tile : job.tiles) {
    const double bytes = tile.weight_bytes + tile.input_bytes + tile.output_bytes;
    serial_s += tile.compute_s + 3 * hw.dram_latency_s;
    if (!std::isinf(hw.dram_bytes_per_s)) serial_s += bytes / hw.dram_bytes_per_s;
    if (tile.symbols > 0) serial_s += tile.symbols / job.decode_rate;
  }
  const double time_left_s = (sc_core::sc_max_time() - sc_core::sc_time_stamp()).to_seconds();
  if (!(serial_s < time_left_s / 2))
    throw InputError({}, fmt::format("the SystemC model counts time in 1 ps steps, up to {:.3g} s in this process; "
                                     "this run could need up to {:.3g} s of simulated time (hardware '{}'): "
                                     "use the analytical engine",
                                     time_left_s, serial_s, hw.name));
}

// Runs the job on the (once elaborated) modules until every tile is done.
void run_job(Top& sim, Job& job, const HardwareConfig& hw, const DetailedOptions& options) {
  sim.dram.configure(hw.dram_bytes_per_s, hw.dram_latency_s);
  auto capacity = [&](double bytes) {  // beyond 2^62 bytes a buffer never fills: unlimited
    constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max() / 2;
    return options.unlimited_buffers || bytes >= 0x1p62 ? kUnlimited : static_cast<std::int64_t>(std::floor(bytes));
  };
  sim.weight_buffer.configure(capacity(hw.sram_weight_bytes));
  sim.activation_buffer.configure(capacity(hw.sram_activation_bytes));
  g_job_start = sc_core::sc_time_stamp();
  job.start_s = 0;
  sim.start(job);
  sc_core::sc_start(sc_core::sc_max_time() - sc_core::sc_time_stamp(), sc_core::SC_EXIT_ON_STARVATION);
  for (const bool done : job.done) BITSIM_CHECK(done);  // every layer finished: no deadlock
}

// The analytical fields with the simulated times, and what the run measured.
void collect_results(DetailedResult& out, Job& job, Top& sim, const Network& net, int batch) {
  double previous_end = 0, total = 0;
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    if (net.layer(i).op == LayerOp::Input) continue;
    LayerDetail& d = job.detail[i];
    if (std::isinf(d.start_s)) d.start_s = d.end_s;
    out.result.layers[i].time_s = std::max(0.0, d.end_s - previous_end);
    previous_end = std::max(previous_end, d.end_s);
    total = std::max(total, d.end_s);
  }
  out.result.time_s = total;
  out.result.time_per_image_s = total / batch;
  out.result.inference_rate_per_s = total > 0 ? batch / total : 0.0;
  out.layers = std::move(job.detail);
  out.peak_weight_buffer_bytes = static_cast<double>(sim.weight_buffer.peak());
  out.peak_activation_buffer_bytes = static_cast<double>(sim.activation_buffer.peak());
  out.achieved_dram_bytes_per_s = total > 0 ? out.result.dram_bytes / total : 0.0;
  out.dram_busy_s = job.dram_busy_s;
  out.decoder_busy_s = job.decoder_busy_s;
  out.array_busy_s = job.array_busy_s;
  out.trace = std::move(job.trace);
}

}  // namespace

DetailedResult simulate_detailed(const Network& net, const HardwareConfig& hw, const BitPlan& plan, int batch,
                                 const DetailedOptions& options) {
  DetailedResult out;
  if (hw.dram_overlap != DramOverlap::All)
    throw InputError({}, fmt::format("dram.overlap: {} is modelled by the analytical engine only (the SystemC model "
                                     "overlaps every transfer with compute): use --engine analytical",
                                     dram_overlap_name(hw.dram_overlap)));
  const AnalyticalModel model(net, hw, batch);
  out.result = model.evaluate(plan);
  if (!out.result.feasible) throw InputError({}, "the plan is infeasible on this hardware: " + out.result.reason);
  Job job = make_job(model, plan, out.result, options);
  check_end_of_time(job, hw);
  Top& sim = top();
  run_job(sim, job, hw, options);
  collect_results(out, job, sim, net, batch);
  sim.progress.job = nullptr;
  return out;
}

void write_chrome_trace(std::ostream& out, const DetailedResult& result) {
  // Times in microseconds, one thread per track of process 1.
  static const char* kTrackNames[] = {"layers", "dram", "decoder", "array"};
  JsonWriter j(out);
  j.begin_object();
  j.field("displayTimeUnit", std::string("ns"));
  j.key("traceEvents");
  j.begin_array();
  auto event = [&](const char* phase, int track, const std::string& name) {
    j.begin_object();
    j.field("ph", std::string(phase));
    j.field("pid", std::int64_t{1});
    j.field("tid", std::int64_t{track});
    j.field("name", name);
  };
  for (int t = 0; t < 4; ++t) {
    event("M", t, "thread_name");
    j.key("args");
    j.begin_object();
    j.field("name", std::string(kTrackNames[t]));
    j.end_object();
    j.end_object();
  }
  for (const TraceSpan& s : result.trace) {
    event("X", static_cast<int>(s.track), s.name);
    j.field("ts", s.start_s * 1e6);
    j.field("dur", (s.end_s - s.start_s) * 1e6);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace bitsim::sim
