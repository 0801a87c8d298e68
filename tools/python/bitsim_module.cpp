// The Python module `bitsim` (README "Python API"): a thin front end over the library, like the CLI.
// It converts arguments and results (dicts, NumPy arrays) and calls the library's functions; every
// InputError becomes bitsim.Error with the same file:line:col message.
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "alloc/curves.h"
#include "alloc/modelled_curves.h"
#include "alloc/solvers/solver.h"
#include "alloc/study/allocate.h"
#include "alloc/study/allocation_report.h"
#include "alloc/study/simulation_report.h"
#include "sim/analytical_model.h"
#include "sim/base/diagnostics.h"
#include "sim/base/files.h"
#include "sim/base/table.h"
#include "sim/base/text.h"
#include "sim/bit_plan.h"
#include "sim/detailed_model.h"
#include "sim/engine.h"
#include "sim/hw_config.h"
#include "sim/network.h"
#include "sim/workload.h"

namespace py = pybind11;
using namespace pybind11::literals;

// libsystemc's own main() references sc_main; the module drives SystemC from library calls instead.
// Exported, so that libsystemc (loaded with the module) finds it.
extern "C" __attribute__((visibility("default"))) int sc_main(int /*argc*/, char** /*argv*/) { return 0; }

namespace bitsim::python {

using alloc::RateDistortionCurves;
using sim::BitPlan;
using sim::HardwareConfig;
using sim::Network;

namespace {

// bitsim.Error, created once at import and kept for the life of the process.
PyObject* g_error = nullptr;

// One SystemC run at a time: its modules are elaborated once per process and reused.
std::mutex& systemc_mutex() {
  static std::mutex m;
  return m;
}

// A Table as columns: int64 columns as int64 arrays, numeric ones as float64 arrays, others as lists.
py::dict table_columns(const Table& t) {
  py::dict out;
  const auto& rows = t.rows();
  for (std::size_t c = 0; c < t.columns().size(); ++c) {
    bool all_int = true, all_number = true;
    for (const auto& row : rows) {
      const Cell& v = row[c];
      all_int = all_int && std::holds_alternative<std::int64_t>(v);
      all_number = all_number && !std::holds_alternative<std::string>(v);
    }
    if (all_int) {
      py::array_t<std::int64_t> a(static_cast<py::ssize_t>(rows.size()));
      auto m = a.mutable_unchecked<1>();
      for (std::size_t r = 0; r < rows.size(); ++r) m(static_cast<py::ssize_t>(r)) = std::get<std::int64_t>(rows[r][c]);
      out[py::str(t.columns()[c])] = a;
    } else if (all_number) {
      py::array_t<double> a(static_cast<py::ssize_t>(rows.size()));
      auto m = a.mutable_unchecked<1>();
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const Cell& v = rows[r][c];
        m(static_cast<py::ssize_t>(r)) =
            std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v));
      }
      out[py::str(t.columns()[c])] = a;
    } else {
      py::list l;
      for (const auto& row : rows) std::visit([&](const auto& x) { l.append(x); }, row[c]);
      out[py::str(t.columns()[c])] = l;
    }
  }
  return out;
}

// A Record as the CLI's JSON writes it (groups as nested dicts, flags as booleans), through json.loads.
py::dict record_dict(const Record& r) {
  std::ostringstream text;
  JsonWriter j(text);
  j.begin_object();
  j.fields_of(r);
  j.end_object();
  return py::module_::import("json").attr("loads")(text.str());
}

// The config as data, as the CLI's JSON has it (sim::config_data: numbers in base units).
py::dict config_data_dict(const HardwareConfig& hw) {
  py::dict d;
  d["source"] = hw.source;
  for (const auto& [k, v] : sim::config_data(hw)) std::visit([&, key = py::str(k)](const auto& x) { d[key] = x; }, v);
  return d;
}

py::dict config_dict(const HardwareConfig& hw) {
  py::dict d;
  d["source"] = hw.source;
  for (const auto& [k, v] : sim::describe_config(hw)) d[py::str(k)] = v;
  return d;
}

// ---- hardware from a dict: YAML text, read by the same parser as files ----

void emit_yaml(YAML::Emitter& out, const py::handle& value) {
  if (py::isinstance<py::dict>(value)) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : value.cast<py::dict>()) {
      out << YAML::Key << py::str(k).cast<std::string>() << YAML::Value;
      emit_yaml(out, v);
    }
    out << YAML::EndMap;
  } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : value) emit_yaml(out, v);
    out << YAML::EndSeq;
  } else if (value.is_none()) {
    out << YAML::Null;
  } else if (py::isinstance<py::bool_>(value)) {
    out << (value.cast<bool>() ? "true" : "false");
  } else if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value)) {
    out << py::repr(value).cast<std::string>();  // a number as Python writes it, unquoted
  } else {
    out << py::str(value).cast<std::string>();
  }
}

std::shared_ptr<HardwareConfig> hardware_from_dict(const py::dict& d, const std::string& source) {
  YAML::Emitter out;
  emit_yaml(out, d);
  const std::string text = out.c_str();
  py::gil_scoped_release release;
  return std::make_shared<HardwareConfig>(sim::read_hardware_yaml(text, source));
}

// The resolved config as nested dicts (the YAML structure): integers and booleans as such, the rest
// as the text YAML would hold (quantities with their units).
py::dict hardware_to_dict(const HardwareConfig& hw) {
  // describe_config() rounds quantities for reading; these are written exactly, in base units.
  auto exact = [](double v, const char* unit) { return format_cell_exact(Cell(v)) + " " + unit; };
  const std::map<std::string, std::string> exact_text = {
      {"clock", exact(hw.clock_hz, "Hz")},
      {"sram.weights", exact(hw.sram_weight_bytes, "B")},
      {"sram.activations", exact(hw.sram_activation_bytes, "B")},
      {"dram.bandwidth",
       std::isinf(hw.dram_bytes_per_s) ? std::string("unlimited") : exact(hw.dram_bytes_per_s, "B/s")},
      {"dram.latency", exact(hw.dram_latency_s, "s")},
      {"decoder.symbols_per_cycle", format_cell_exact(Cell(hw.decoder_symbols_per_cycle))},
      {"row_stationary.zero_fraction", format_cell_exact(Cell(hw.rs_zero_fraction))},
      {"decoder.table", exact(hw.decoder_table_bytes, "B")},
      {"energy.dram_per_bit", exact(hw.energy.dram_per_bit, "J")},
      {"energy.sram_8kib", exact(hw.energy.sram_8kib, "J")},
      {"energy.sram_32kib", exact(hw.energy.sram_32kib, "J")},
      {"energy.sram_1mib", exact(hw.energy.sram_1mib, "J")},
      {"energy.mult_8bit", exact(hw.energy.mult_8bit, "J")},
      {"energy.add_8bit", exact(hw.energy.add_8bit, "J")},
      {"energy.register_per_bit", exact(hw.energy.register_per_bit, "J")},
      {"area.mult_8bit", exact(hw.area.mult_8bit, "m2")},
      {"area.add_8bit", exact(hw.area.add_8bit, "m2")},
      {"area.register_per_bit", exact(hw.area.register_per_bit, "m2")},
      {"area.sram_bit", exact(hw.area.sram_bit, "m2")}};
  py::dict out;
  for (auto [key, text] : sim::describe_config(hw)) {
    if (const auto it = exact_text.find(key); it != exact_text.end()) text = it->second;
    py::object value = py::str(text);
    if (key != "name") {
      if (const auto i = parse_integer(text)) value = py::int_(*i);
      if (text == "true" || text == "false") value = py::bool_(text == "true");
    }
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      out[py::str(key)] = value;
      continue;
    }
    const py::str section(key.substr(0, dot));
    if (!out.contains(section)) out[section] = py::dict();
    out[section].cast<py::dict>()[py::str(key.substr(dot + 1))] = value;
  }
  return out;
}

// ---- plans ----

BitPlan native_plan(const Network& net, const HardwareConfig& hw) {
  BitPlan plan = BitPlan::uniform(net, static_cast<int>(hw.native_bits), static_cast<int>(hw.native_bits));
  plan.label = fmt::format("native ({} bits)", hw.native_bits);
  return plan;
}

// Per-layer values of a plan argument: a scalar for every layer, or one value per layer.
template <typename T>
std::vector<T> per_layer(const py::object& value, std::size_t layers, const char* name) {
  const auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(value);
  if (a && a.ndim() == 0) return std::vector<T>(layers, *a.data());  // one number for every layer
  if (!a || a.ndim() != 1 || static_cast<std::size_t>(a.size()) != layers)
    throw InputError({}, fmt::format("{}: expected a number or one value per layer ({}, in the order of "
                                     "Workload.layer_names)",
                                     name, layers));
  return {a.data(), a.data() + a.size()};
}

std::shared_ptr<BitPlan> plan_from_arrays(const Network& net, const py::object& weight_bits,
                                          const py::object& activation_bits, const py::object& weight_coded_bits,
                                          const py::object& activation_coded_bits, const std::string& label) {
  const std::size_t n = net.layers().size();
  auto plan = std::make_shared<BitPlan>();
  plan->label = label.empty() ? "plan from arrays" : label;
  plan->weights.resize(n);
  plan->activations.resize(n);
  const auto wb = per_layer<double>(weight_bits, n, "weight_bits");
  const auto ab = per_layer<double>(activation_bits.is_none() ? weight_bits : activation_bits, n, "activation_bits");
  const auto wc = weight_coded_bits.is_none() ? std::vector<double>(n, -1)
                                              : per_layer<double>(weight_coded_bits, n, "weight_coded_bits");
  const auto ac = activation_coded_bits.is_none()
                      ? std::vector<double>(n, -1)
                      : per_layer<double>(activation_coded_bits, n, "activation_coded_bits");
  // The plan file's rules (sim/bit_plan.cpp): bits 1 to 32, an activation also 0 (`bits: none`, not
  // quantized, never coded); a coded size > 0. Weights of layers without weights are ignored.
  for (std::size_t i = 0; i < n; ++i) {
    const sim::Layer& l = net.layer(i);
    for (const auto& [bits, coded, c, values, kind] :
         {std::tuple{wb[i], wc[i], &plan->weights[i], l.weights, "weight"},
          std::tuple{ab[i], ac[i], &plan->activations[i], l.output.count(), "activation"}}) {
      const bool weights = c == &plan->weights[i];
      const double lowest = weights ? 1 : 0;
      const bool valid = bits >= lowest && bits <= 32 && std::floor(bits) == bits;
      if (weights && l.weights == 0 && !(valid && coded < 0)) continue;  // kept as given only when valid
      if (!valid)
        throw InputError({}, fmt::format("{}_bits of layer {} ({}): expected an integer from {} to 32{}, got {}", kind,
                                         i, l.name, lowest, weights ? "" : " (0: not quantized)", bits));
      if (!std::isfinite(coded) || coded == 0 || (bits == 0 && coded > 0))
        throw InputError({}, fmt::format("{}_coded_bits of layer {} ({}): expected a size > 0 in bits, or < 0 for "
                                         "fixed length{}, got {}",
                                         kind, i, l.name, bits == 0 ? " (bits is 0: only fixed length)" : "", coded));
      c->bits = static_cast<int>(bits);
      c->coded_bits = coded < 0 ? -1 : coded;
      c->symbols = coded < 0 ? 0 : values;
    }
  }
  return plan;
}

template <typename T, typename F>
py::array_t<T> plan_column(const BitPlan& plan, bool weights, F f) {
  const auto& v = weights ? plan.weights : plan.activations;
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  auto m = a.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < v.size(); ++i) m(static_cast<py::ssize_t>(i)) = static_cast<T>(f(v[i]));
  return a;
}

std::string plan_yaml(const Network& net, const BitPlan& plan) {
  std::ostringstream out;
  sim::write_bit_plan(out, net, plan);
  return out.str();
}

// Writes whole or not at all; an existing file only with force (as `--out` and `--force`).
void write_new_file(const std::string& path, const std::string& text, bool force) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (std::filesystem::is_symlink(status))
    throw InputError({path, 0, 0}, "is a symbolic link: bitsim does not write through links");
  if (std::filesystem::is_directory(status)) throw InputError({path, 0, 0}, "is a folder, not a file");
  if (!force && std::filesystem::exists(status))
    throw InputError({path, 0, 0}, "exists (pass force=True to replace it)");
  write_file_atomically(path, text);
}

// ---- the analytical model, kept for repeated calls ----

class Model {
 public:
  Model(std::shared_ptr<Network> net, std::shared_ptr<HardwareConfig> hw, int batch)
      : m_net(std::move(net)), m_hw(std::move(hw)), m_model(*m_net, *m_hw, check_batch(batch)) {}

  // Per layer (aligned with Workload.layer_names, network inputs zero): the analytical model's
  // layer timing, the numbers `simulate` adds up.
  py::dict layer_timing(const BitPlan& plan) {
    check_plan(plan);
    m_model.evaluate(plan, m_result);
    if (!m_result.feasible) throw InputError({}, "the plan is infeasible on this hardware: " + m_result.reason);
    const auto n = static_cast<py::ssize_t>(m_result.layers.size());
    py::array_t<double> time(n), dram_time(n), decode_time(n), compute_time(n), dram_bytes(n);
    py::array_t<std::int64_t> cycles(n);
    py::array_t<std::int8_t> bottleneck(n);
    auto t = time.mutable_unchecked<1>();
    auto dt = dram_time.mutable_unchecked<1>();
    auto de = decode_time.mutable_unchecked<1>();
    auto ct = compute_time.mutable_unchecked<1>();
    auto db = dram_bytes.mutable_unchecked<1>();
    auto cc = cycles.mutable_unchecked<1>();
    auto bn = bottleneck.mutable_unchecked<1>();
    for (py::ssize_t i = 0; i < n; ++i) {
      const sim::LayerTiming& x = m_result.layers[static_cast<std::size_t>(i)];
      t(i) = x.time_s;
      dt(i) = x.dram_time_s;
      de(i) = x.decode_time_s;
      ct(i) = x.compute_time_s;
      db(i) = x.dram_bytes;
      cc(i) = x.compute_cycles;
      bn(i) = static_cast<std::int8_t>(x.bottleneck);
    }
    py::dict out;
    out["time_s"] = time;
    out["dram_time_s"] = dram_time;
    out["decode_time_s"] = decode_time;
    out["compute_time_s"] = compute_time;
    out["dram_bytes"] = dram_bytes;
    out["compute_cycles"] = cycles;
    out["bottleneck"] = bottleneck;
    out["batch_time_s"] = m_result.time_s;
    out["inference_rate_per_s"] = m_result.inference_rate_per_s;
    return out;
  }

  const sim::AnalyticalModel& model() const { return m_model; }
  const std::shared_ptr<Network>& network() const { return m_net; }
  const std::shared_ptr<HardwareConfig>& hardware() const { return m_hw; }

  void check_plan(const BitPlan& plan) const {
    const std::size_t n = m_net->layers().size();
    if (plan.weights.size() != n || plan.activations.size() != n)
      throw InputError(
          {}, fmt::format("the plan has {} layers, the workload {} has {}", plan.weights.size(), m_net->name(), n));
  }

 private:
  static int check_batch(int batch) {
    if (batch < 1) throw InputError({}, fmt::format("batch: expected a positive integer, got {}", batch));
    return batch;
  }
  std::shared_ptr<Network> m_net;
  std::shared_ptr<HardwareConfig> m_hw;
  sim::AnalyticalModel m_model;
  sim::SimResult m_result;  // reused: evaluate() then allocates nothing
};

// The model of the last (workload, hardware, batch) asked for, reused while they stay the same
// objects (Python cannot change them): building a model maps every layer onto the array, which
// takes milliseconds under row stationary, where timing a plan takes microseconds. Called with the
// GIL held; callers keep the shared_ptr while they use the model.
std::shared_ptr<Model> cached_model(const std::shared_ptr<Network>& net, const std::shared_ptr<HardwareConfig>& hw,
                                    int batch) {
  static std::shared_ptr<Model> last;
  if (!last || last->network() != net || last->hardware() != hw || last->model().batch() != batch)
    last = std::make_shared<Model>(net, hw, batch);
  return last;
}

// ---- simulate ----

py::dict simulate(const std::shared_ptr<Network>& net, const std::shared_ptr<HardwareConfig>& hw,
                  const std::shared_ptr<BitPlan>& plan_arg, int batch, const std::string& engine_name, bool prefetch,
                  bool unlimited_buffers) {
  const auto engine = sim::kEngineNames.find(engine_name);
  if (!engine)
    throw InputError({}, fmt::format("engine: expected {}, got '{}'", sim::kEngineNames.alternatives(), engine_name));
  const bool detailed = *engine == sim::Engine::SystemC;
  if (!detailed && (!prefetch || unlimited_buffers))
    throw InputError({}, "prefetch=False and unlimited_buffers=True need engine='systemc'");
  const std::shared_ptr<Model> cached = cached_model(net, hw, batch);
  const Model& model = *cached;
  const BitPlan plan = plan_arg ? *plan_arg : native_plan(*net, *hw);
  model.check_plan(plan);
  std::optional<sim::DetailedResult> detail;
  sim::SimResult r;
  {
    py::gil_scoped_release release;
    if (detailed) {
      sim::DetailedOptions options;
      options.prefetch = prefetch;
      options.unlimited_buffers = unlimited_buffers;
      const std::lock_guard<std::mutex> lock(systemc_mutex());
      detail = sim::simulate_detailed(*net, *hw, plan, batch, options);
      r = detail->result;
    } else {
      r = model.model().evaluate(plan);
      if (!r.feasible) throw InputError({}, "the plan is infeasible on this hardware: " + r.reason);
    }
  }
  const Table layers = study::simulation_layer_table(*net, model.model(), plan, r, detail ? &*detail : nullptr);
  const Table totals = study::simulation_totals_table(*net, model.model(), plan, r, detail ? &*detail : nullptr);
  py::dict out;
  out["workload"] = net->name();
  out["hardware"] = config_data_dict(*hw);
  out["plan"] = plan.label;
  out["engine"] = engine_name;
  out["batch"] = batch;
  out["weights_resident"] = r.weights_resident;
  out["layers"] = table_columns(layers);
  py::dict total;
  for (std::size_t c = 0; c < totals.columns().size(); ++c)
    std::visit([&](const auto& x) { total[py::str(totals.columns()[c])] = x; }, totals.rows()[0][c]);
  out["totals"] = total;
  return out;
}

// ---- curves ----

// Curves from arrays: written as the CSV format and read by the same reader, so the checks and
// messages are the file's. Row R of the arrays is line R (1-based) of "<arrays>", and the column is
// the field's position in the row (1-based).
std::shared_ptr<RateDistortionCurves> curves_from_arrays(const py::dict& columns, const std::string& rate,
                                                         const std::string& provenance, const std::string& source) {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> cells;
  std::size_t rows = 0;
  for (const auto& [k, v] : columns) {
    names.push_back(py::str(k).cast<std::string>());
    std::vector<std::string> column;
    const py::object seq = py::module_::import("numpy").attr("asarray")(v).attr("tolist")();
    if (!py::isinstance<py::list>(seq))
      throw InputError({source, 0, 0}, fmt::format("{}: expected one value per row, got a single value", names.back()));
    for (const auto& x : seq) {
      if (py::isinstance<py::float_>(x)) {
        column.push_back(format_cell_exact(Cell(x.cast<double>())));  // shortest text that reads back exactly
      } else {
        column.push_back(py::str(x).cast<std::string>());
      }
    }
    if (!cells.empty() && column.size() != rows)
      throw InputError({source, 0, 0}, fmt::format("{}: expected {} values (as {}), got {}", names.back(), rows,
                                                   names.front(), column.size()));
    rows = column.size();
    cells.push_back(std::move(column));
  }
  // Fields with a comma or quote are quoted as CSV.
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  std::ostringstream csv;
  csv << "# rate: " << rate << "\n# provenance: " << provenance << '\n';
  std::vector<std::string> lines;
  for (std::size_t r = 0; r <= rows; ++r) {
    std::string line;
    for (std::size_t c = 0; c < names.size(); ++c) line += (c ? "," : "") + field(r == 0 ? names[c] : cells[c][r - 1]);
    lines.push_back(line);
    csv << line << '\n';
  }
  std::istringstream in(csv.str());
  try {
    return std::make_shared<RateDistortionCurves>(alloc::read_curves(in, source, -2));
  } catch (const InputError& e) {
    // Character columns of the generated text -> field positions.
    std::vector<Diagnostic> out = e.diagnostics();
    for (Diagnostic& d : out) {
      if (d.where.file != source || d.where.line < 0 || d.where.col <= 0) continue;
      const std::size_t at = static_cast<std::size_t>(d.where.line);  // line 0 is the header
      if (at >= lines.size()) continue;
      const std::string& line = lines[at];
      int field_no = 1;
      bool quoted = false;
      for (std::size_t i = 0; i + 1 < static_cast<std::size_t>(d.where.col) && i < line.size(); ++i) {
        if (line[i] == '"') quoted = !quoted;
        if (line[i] == ',' && !quoted) ++field_no;
      }
      d.where.col = field_no;
      if (at == 0) d.where.line = 0;  // the header is made of the dict's keys
    }
    throw InputError(std::move(out));
  }
}

py::dict curves_to_arrays(const RateDistortionCurves& c) {
  Table t({"tensor", "option", "rate_bits", "distortion", "kind", "layer", "bits", "levels", "beta", "count",
           "fixed_bits", "entropy_bits", "coded_bits"});
  for (const auto& tensor : c.tensors)
    for (const auto& o : tensor.options)
      t.add_row({tensor.tensor, o.name, o.rate_bits, o.distortion,
                 std::string(alloc::kCurveTensorKindNames.name(tensor.kind)), tensor.layer,
                 static_cast<std::int64_t>(o.bits), static_cast<std::int64_t>(o.levels),
                 o.beta < 0 ? std::numeric_limits<double>::quiet_NaN() : o.beta, tensor.count,
                 o.fixed_bits < 0 ? std::numeric_limits<double>::quiet_NaN() : o.fixed_bits,
                 o.entropy_bits < 0 ? std::numeric_limits<double>::quiet_NaN() : o.entropy_bits,
                 o.coded_bits < 0 ? std::numeric_limits<double>::quiet_NaN() : o.coded_bits});
  return table_columns(t);
}

std::string curves_csv(const RateDistortionCurves& c) {
  std::ostringstream out;
  alloc::write_curves(out, c);
  return out.str();
}

// ---- allocation ----

struct AllocateArgs {
  std::optional<std::string> solver;
  std::optional<double> budget_bits, avg_bits;
  std::shared_ptr<Network> net;
  std::shared_ptr<HardwareConfig> hw;
  int batch = 1;
  std::optional<double> min_rate, max_time_s, max_error;
  std::string engine = "analytical";
};

const alloc::SolverInfo& choose_solver(const AllocateArgs& a, bool latency, sim::Engine engine) {
  if (!latency && !a.solver)
    throw InputError({},
                     "give solver= (see bitsim.solvers()), or a latency target: min_rate=, max_time_s= or "
                     "max_error=");
  const alloc::SolverInfo* solver = a.solver ? alloc::solver_named(*a.solver) : &alloc::latency_solver();
  if (!solver) throw InputError({}, "solver: " + alloc::unknown_solver_message(*a.solver));
  if (latency && solver->kind != alloc::SolverKind::Latency)
    throw InputError({}, fmt::format("solver {} minimizes error under a size budget: a latency target (min_rate, "
                                     "max_time_s, max_error) is solved by the {} solver (omit solver=)",
                                     solver->name, alloc::latency_solver().name));
  if (!latency && solver->kind == alloc::SolverKind::Latency)
    throw InputError({},
                     fmt::format("solver {} needs a target: min_rate=R, max_time_s=T or max_error=E", solver->name));
  if (!latency && engine != sim::Engine::Analytical)
    throw InputError({}, "engine= applies to latency targets (min_rate, max_time_s, max_error)");
  return *solver;
}

template <typename F>
auto without_gil(F f) {
  py::gil_scoped_release release;
  return f();
}

// An allocation and what is reported about it.
struct Allocated {
  std::shared_ptr<RateDistortionCurves> curves;  // as the hardware sees them: what `choice` indexes
  alloc::Allocation allocation;
  std::shared_ptr<BitPlan> plan;  // with a workload
  Record record;
  Table choices{std::vector<std::string>{}};
};

// The work of allocate() below, without Python objects (it runs without the GIL).
Allocated solve(const RateDistortionCurves& given, const AllocateArgs& a, const Model* model,
                const alloc::SolverInfo& solver, bool latency, sim::Engine engine) {
  Allocated out;
  out.curves = std::make_shared<RateDistortionCurves>(study::curves_to_solve(given, model ? &model->model() : nullptr));
  const RateDistortionCurves& curves = *out.curves;
  study::AllocationGoal goal;
  goal.min_rate_per_s = a.min_rate;
  goal.max_time_per_image_s = a.max_time_s;
  goal.max_error = a.max_error;
  goal.engine = engine;
  goal.detailed = [&](const BitPlan& plan) {
    const std::lock_guard<std::mutex> lock(systemc_mutex());
    return sim::simulate_detailed(*a.net, *a.hw, plan, a.batch, {}).result;
  };
  if (!latency || a.budget_bits || a.avg_bits) {
    if (a.budget_bits.has_value() == a.avg_bits.has_value())
      throw InputError({}, "give exactly one of budget_bits and avg_bits");
    if (a.avg_bits && curves.total_values() <= 0)
      throw InputError({curves.source, 0, 0}, "avg_bits needs the 'count' column in the curves (values per tensor)");
    goal.budget_bits = a.budget_bits ? *a.budget_bits : *a.avg_bits * static_cast<double>(curves.total_values());
  }
  study::PlannedAllocation planned =
      study::allocate_plan(curves, solver, goal, a.net.get(), model ? &model->model() : nullptr);
  // The module is never built with sanitizers, whose false positives forbid a throw after a SystemC run.
  if (!planned.unmet.empty()) throw InputError({}, planned.unmet);
  if (planned.plan) out.plan = std::make_shared<BitPlan>(std::move(*planned.plan));
  out.record = study::allocation_record(planned.outcome);
  out.choices = study::choices_table(curves, planned.outcome.allocation);
  out.allocation = std::move(planned.outcome.allocation);
  return out;
}

// What `bitsim allocate` does, with the arguments as keywords.
py::dict allocate(const RateDistortionCurves& given, const AllocateArgs& a) {
  const auto engine = sim::kEngineNames.find(a.engine);
  if (!engine)
    throw InputError({}, fmt::format("engine: expected {}, got '{}'", sim::kEngineNames.alternatives(), a.engine));
  const bool latency = a.min_rate || a.max_time_s || a.max_error;
  if ((a.min_rate && *a.min_rate <= 0) || (a.max_time_s && *a.max_time_s <= 0) || (a.max_error && *a.max_error < 0))
    throw InputError({}, "min_rate and max_time_s: expected positive numbers; max_error: a number >= 0");
  if (static_cast<int>(a.min_rate.has_value()) + static_cast<int>(a.max_time_s.has_value()) +
          static_cast<int>(a.max_error.has_value()) >
      1)
    throw InputError({}, "give at most one of min_rate, max_time_s and max_error");
  const alloc::SolverInfo& solver = choose_solver(a, latency, *engine);
  if (latency && (!a.net || !a.hw)) throw InputError({}, "a latency target needs hw= and workload=");
  if (a.hw && !a.net) throw InputError({}, "hw= needs workload= (the network to simulate)");
  std::optional<Model> model;
  if (a.hw) model.emplace(a.net, a.hw, a.batch);
  const Allocated done =
      without_gil([&] { return solve(given, a, model ? &*model : nullptr, solver, latency, *engine); });
  py::dict out = record_dict(done.record);
  out["choices"] = table_columns(done.choices);
  py::array_t<std::int64_t> choice(static_cast<py::ssize_t>(done.allocation.choice.size()));
  for (std::size_t i = 0; i < done.allocation.choice.size(); ++i)
    choice.mutable_at(static_cast<py::ssize_t>(i)) = done.allocation.choice[i];
  out["choice"] = choice;
  out["plan"] = done.plan ? py::cast(done.plan) : py::none();
  out["solved_curves"] = py::cast(done.curves);
  return out;
}

}  // namespace

}  // namespace bitsim::python

PYBIND11_MODULE(bitsim, m) {
  using namespace bitsim;
  using namespace bitsim::python;
  m.doc() =
      "bitsim: CNN inference on systolic-array accelerators and per-tensor bit allocation (README \"Python API\").";
  m.attr("__version__") = "0.1.0";

  g_error = PyErr_NewExceptionWithDoc(
      "bitsim.Error",
      "Bad input (a file, a dict, a value): the message is bitsim's `file:line:col: error: key: expected X, got "
      "Y`, one line per problem; `diagnostics` lists them as dicts (file, line, col, message).",
      PyExc_ValueError, nullptr);
  m.attr("Error") = py::handle(g_error);
  py::register_exception_translator(
      [](std::exception_ptr p) {  // NOLINT(performance-unnecessary-value-param): the signature pybind11 takes
        try {
          if (p) std::rethrow_exception(p);
        } catch (const InputError& e) {
          py::list diagnostics;
          for (const Diagnostic& d : e.diagnostics())
            diagnostics.append(py::dict("file"_a = d.where.file, "line"_a = d.where.line, "col"_a = d.where.col,
                                        "message"_a = d.message));
          py::object error = py::reinterpret_borrow<py::object>(g_error)(e.what());
          error.attr("diagnostics") = diagnostics;
          PyErr_SetObject(g_error, error.ptr());
        }
      });
  m.attr("BOTTLENECKS") = py::make_tuple("none", "compute", "dram", "decode");

  // ---- workloads ----
  py::class_<Network, std::shared_ptr<Network>>(m, "Workload", "A network: layers in topological order, shapes, MACs.")
      .def_property_readonly("name", &Network::name)
      .def_property_readonly("layer_names", &Network::layer_names, "every layer, network inputs included")
      .def_property_readonly("notes", &Network::notes, "what an importer did (ONNX)")
      .def_property_readonly("total_macs", &Network::total_macs, "per image")
      .def_property_readonly("total_weights", &Network::total_weights)
      .def_property_readonly("total_parameters", &Network::total_parameters)
      .def_property_readonly("total_activations", &Network::total_activations, "per image")
      .def("__len__", [](const Network& n) { return n.layers().size(); })
      .def(
          "layers",
          [](const Network& net) {
            const Table t = study::workload_layer_table(net);
            return table_columns(t);
          },
          "every layer as columns (as `bitsim inspect`): layer, op, inputs, output channels/height/width, weights, "
          "parameters, macs, gemm_m/k/n, groups")
      .def("__repr__", [](const Network& n) {
        return fmt::format("<bitsim.Workload {}: {} layers, {} MACs>", n.name(), n.layers().size(), n.total_macs());
      });

  m.def(
      "load_workload",
      [](const std::string& path, const std::string& format, std::optional<std::vector<std::int64_t>> input_shape) {
        sim::WorkloadOptions options;
        if (input_shape) {
          if (input_shape->size() != 3 || (*input_shape)[0] < 1 || (*input_shape)[1] < 1 || (*input_shape)[2] < 1)
            throw InputError({}, "input_shape: expected (C, H, W), three positive integers");
          options.input_shape = sim::Shape{(*input_shape)[0], (*input_shape)[1], (*input_shape)[2]};
        }
        return without_gil([&] { return std::make_shared<Network>(sim::load_workload(path, format, options)); });
      },
      "path"_a, "format"_a = "auto", "input_shape"_a = py::none(),
      "A workload file: bitsim YAML, ONNX or a SCALE-Sim topology CSV (format 'auto' chooses by extension and "
      "header; see workload_formats()). input_shape (C, H, W) for ONNX models with symbolic dimensions.");
  m.def("workload_formats", [] {
    py::list out;
    for (const auto& f : sim::workload_formats())
      out.append(py::dict("name"_a = std::string(f.name), "description"_a = std::string(f.description)));
    return out;
  });

  // ---- hardware ----
  py::class_<HardwareConfig, std::shared_ptr<HardwareConfig>>(m, "Hardware", "An accelerator configuration.")
      .def_readonly("name", &HardwareConfig::name)
      .def_readonly("source", &HardwareConfig::source)
      .def_property_readonly(
          "config", [](const HardwareConfig& hw) { return config_dict(hw); },
          "every parameter, resolved, as `simulate` echoes it: {'source': ..., 'array.rows': '256', ...}")
      .def("to_dict", &hardware_to_dict, "the resolved config as nested dicts, which hardware_from_dict() reads back")
      .def(
          "to_yaml",
          [](const HardwareConfig& hw, const std::string& comment) { return sim::hardware_yaml(hw, comment); },
          "comment"_a = "written by bitsim",
          "the resolved config as a bitsim YAML file's text, every parameter exact (as codesign's "
          "plans/pareto-K.hw.yaml): load_hardware() of it gives an equal config")
      .def(
          "with_params",
          [](const HardwareConfig& hw, const py::dict& params) {
            auto out = std::make_shared<HardwareConfig>(hw);
            std::vector<sim::HardwareSetting> settings;  // applied together, as a study's vary and --set
            for (const auto& [k, v] : params) {
              const std::string key = py::str(k).cast<std::string>();
              const std::string value =
                  py::isinstance<py::bool_>(v) ? (v.cast<bool>() ? "true" : "false") : py::str(v).cast<std::string>();
              settings.push_back({key, value, {"<params>", 0, 0}});
            }
            sim::set_hardware_parameters(*out, settings);
            return out;
          },
          "params"_a,
          "A copy with parameters replaced, by key: {'dram.bandwidth': '4 GB/s'} (as study files vary them and "
          "`--set key=value` sets them; checked against each other once all are set)")
      .def(
          "__eq__",
          [](const HardwareConfig& a, HardwareConfig b) {
            b.source = a.source;
            return a == b;
          },
          "every parameter equal (where each was read from aside)")
      .def("__repr__",
           [](const HardwareConfig& hw) { return fmt::format("<bitsim.Hardware {} ({})>", hw.name, hw.source); });
  m.def(
      "load_hardware",
      [](const std::string& path) {
        return without_gil([&] { return std::make_shared<HardwareConfig>(sim::load_hardware_config(path)); });
      },
      "path"_a, "A hardware config: bitsim YAML (.yaml, .yml) or a SCALE-Sim .cfg.");
  m.def("hardware_from_dict", &hardware_from_dict, "config"_a, "source"_a = "<dict>",
        "A hardware config from a dict with the YAML file's structure ({'name': 'tpu', 'array': {'rows': 256, ...}, "
        "...}): read by the same parser, so the checks and messages are a file's, naming `source` as the file.");
  m.def("hardware_parameters", [] {
    py::list out;
    for (const auto& p : sim::hardware_parameters())
      out.append(py::dict("key"_a = std::string(p.key), "type"_a = std::string(p.type),
                          "default"_a = p.default_text.empty() ? py::object(py::none()) : py::str(p.default_text),
                          "description"_a = std::string(p.description)));
    return out;
  });

  // ---- plans ----
  py::class_<BitPlan, std::shared_ptr<BitPlan>>(
      m, "Plan", "A bit plan: per layer, how its weights and its output activations are stored off chip.")
      .def(py::init([](const Network& net, const py::object& weight_bits, const py::object& activation_bits,
                       const py::object& weight_coded_bits, const py::object& activation_coded_bits,
                       const std::string& label) {
             return plan_from_arrays(net, weight_bits, activation_bits, weight_coded_bits, activation_coded_bits,
                                     label);
           }),
           "workload"_a, "weight_bits"_a, "activation_bits"_a = py::none(), "weight_coded_bits"_a = py::none(),
           "activation_coded_bits"_a = py::none(), "label"_a = "",
           "Per layer (in the order of Workload.layer_names; or one number for all): bits per value (1-32; an "
           "activation also 0: not quantized, inside a fused datapath; ignored for layers without weights), and "
           "optionally the entropy-coded size in bits (per image for "
           "activations; < 0: fixed length). activation_bits defaults to weight_bits.")
      .def_static(
          "uniform",
          [](const Network& net, int weight_bits, std::optional<int> activation_bits) {
            for (int b : {weight_bits, activation_bits.value_or(weight_bits)})
              if (b < 1 || b > 32) throw InputError({}, fmt::format("bits: expected 1 to 32, got {}", b));
            return std::make_shared<BitPlan>(BitPlan::uniform(net, weight_bits, activation_bits.value_or(weight_bits)));
          },
          "workload"_a, "weight_bits"_a, "activation_bits"_a = py::none(),
          "Fixed length, the same bits for every weight tensor and every activation tensor (`--bits W/A`).")
      .def_static(
          "native",
          [](const Network& net, const HardwareConfig& hw) { return std::make_shared<BitPlan>(native_plan(net, hw)); },
          "workload"_a, "hw"_a, "The hardware's native precision, fixed length (`--bits native`).")
      .def_readwrite("label", &BitPlan::label)
      .def_property_readonly(
          "weight_bits",
          [](const BitPlan& p) { return plan_column<std::int32_t>(p, true, [](const auto& c) { return c.bits; }); })
      .def_property_readonly(
          "activation_bits",
          [](const BitPlan& p) { return plan_column<std::int32_t>(p, false, [](const auto& c) { return c.bits; }); })
      .def_property_readonly(
          "weight_coded_bits",
          [](const BitPlan& p) { return plan_column<double>(p, true, [](const auto& c) { return c.coded_bits; }); },
          "entropy-coded size in bits; -1: fixed length")
      .def_property_readonly(
          "activation_coded_bits",
          [](const BitPlan& p) { return plan_column<double>(p, false, [](const auto& c) { return c.coded_bits; }); },
          "entropy-coded size in bits per image; -1: fixed length")
      .def(
          "to_yaml", [](const BitPlan& p, const Network& net) { return plan_yaml(net, p); }, "workload"_a,
          "The plan file's text (the format `simulate --plan` reads).")
      .def("__repr__", [](const BitPlan& p) { return fmt::format("<bitsim.Plan {}>", p.label); });
  m.def(
      "read_plan",
      [](const std::string& path, const Network& net) {
        return without_gil([&] { return std::make_shared<BitPlan>(sim::load_bit_plan(path, net)); });
      },
      "path"_a, "workload"_a, "A plan file for `workload` (README \"Plans\"), checked as `simulate --plan` checks it.");
  m.def(
      "write_plan",
      [](const std::string& path, const Network& net, const BitPlan& plan, bool force) {
        if (plan.weights.size() != net.layers().size() || plan.activations.size() != net.layers().size())
          throw InputError(
              {}, fmt::format("the plan does not have the {} layers of workload {}", net.layers().size(), net.name()));
        write_new_file(path, plan_yaml(net, plan), force);
      },
      "path"_a, "workload"_a, "plan"_a, "force"_a = false,
      "Writes the plan file (every tensor listed); an existing file only with force=True.");

  // ---- simulation ----
  py::class_<Model>(m, "Model",
                    "The analytical model of one workload on one hardware config, kept for repeated calls "
                    "(layer_timing every training step).")
      .def(py::init<std::shared_ptr<Network>, std::shared_ptr<HardwareConfig>, int>(), "workload"_a, "hw"_a,
           "batch"_a = 1)
      .def("layer_timing", &Model::layer_timing, "plan"_a,
           "Per layer, aligned with Workload.layer_names (network inputs 0): time_s, dram_time_s, decode_time_s, "
           "compute_time_s, dram_bytes (float64 arrays), compute_cycles (int64), bottleneck (int8, an index into "
           "bitsim.BOTTLENECKS); and batch_time_s (the sum of time_s plus dram.latency) and inference_rate_per_s.");
  m.def(
      "layer_timing",
      [](const std::shared_ptr<Network>& net, const std::shared_ptr<HardwareConfig>& hw, const BitPlan& plan,
         int batch) { return cached_model(net, hw, batch)->layer_timing(plan); },
      "workload"_a, "hw"_a, "plan"_a, "batch"_a = 1,
      "Model(workload, hw, batch).layer_timing(plan), the model kept while the same workload, hw and batch "
      "objects come again (a Model of one's own keeps it for good).");
  m.def("simulate", &simulate, "workload"_a, "hw"_a, "plan"_a = py::none(), py::kw_only(), "batch"_a = 1,
        "engine"_a = "analytical", "prefetch"_a = true, "unlimited_buffers"_a = false,
        "`bitsim simulate --json` as a dict: workload, hardware (every parameter), plan, engine, batch, "
        "weights_resident, layers (columns: NumPy arrays for numbers, lists for text; network inputs left out) "
        "and totals. plan None: native precision. engine 'systemc' runs the SystemC model (prefetch, "
        "unlimited_buffers as --no-prefetch and --unlimited-buffers).");

  // ---- curves ----
  py::class_<RateDistortionCurves, std::shared_ptr<RateDistortionCurves>>(
      m, "Curves", "Rate-distortion curves: per tensor, the options a solver chooses from.")
      .def_readonly("source", &RateDistortionCurves::source)
      .def_readonly("provenance", &RateDistortionCurves::provenance)
      .def_property_readonly("rate",
                             [](const RateDistortionCurves& c) { return std::string(alloc::rate_kind_name(c.rate)); })
      .def_property_readonly("tensors",
                             [](const RateDistortionCurves& c) {
                               std::vector<std::string> out;
                               for (const auto& t : c.tensors) out.push_back(t.tensor);
                               return out;
                             })
      .def_property_readonly("total_values", &RateDistortionCurves::total_values)
      .def("__len__", [](const RateDistortionCurves& c) { return c.tensors.size(); })
      .def("to_arrays", &curves_to_arrays,
           "one row per (tensor, option), the CSV's columns: tensor, option, rate_bits, distortion, kind, layer, bits, "
           "levels, beta, count, fixed_bits, entropy_bits, coded_bits (NaN or 0 where not given)")
      .def("to_csv", &curves_csv, "the curves file's text")
      .def(
          "write",
          [](const RateDistortionCurves& c, const std::string& path, bool force) {
            write_new_file(path, curves_csv(c), force);
          },
          "path"_a, "force"_a = false)
      .def("__repr__", [](const RateDistortionCurves& c) {
        return fmt::format("<bitsim.Curves {} tensors, rate {}, {}>", c.tensors.size(), alloc::rate_kind_name(c.rate),
                           c.provenance);
      });
  m.def(
      "load_curves",
      [](const std::string& path) {
        return without_gil([&] { return std::make_shared<RateDistortionCurves>(alloc::load_curves(path)); });
      },
      "path"_a, "A curves CSV (README \"Curves\").");
  m.def("curves_from_arrays", &curves_from_arrays, "columns"_a, py::kw_only(), "rate"_a = "fixed",
        "provenance"_a = "given as arrays", "source"_a = "<arrays>",
        "Curves from a dict of one array (or list) per CSV column, one row per (tensor, option): tensor, option, "
        "rate_bits, distortion required; kind, layer, bits, levels, beta, count, fixed_bits, entropy_bits, coded_bits "
        "optional (leave a column out where it is not given). Read by the curves file reader: the same checks and "
        "messages, row R at line R of "
        "`source`, the column the field's position.");
  m.def(
      "modelled_curves",
      [](const Network& net, const std::string& rate, const std::string& error_model) {
        alloc::ModelOptions options;
        const auto kind = alloc::kRateKindNames.find(rate);
        if (!kind)
          throw InputError({}, fmt::format("rate: expected {}, got '{}'", alloc::kRateKindNames.alternatives(), rate));
        const auto error = alloc::kErrorModelNames.find(error_model);
        if (!error)
          throw InputError({}, fmt::format("error_model: expected {}, got '{}'", alloc::kErrorModelNames.alternatives(),
                                           error_model));
        options.rate = *kind;
        options.error = *error;
        return without_gil(
            [&] { return std::make_shared<RateDistortionCurves>(alloc::modelled_curves(net, options)); });
      },
      "workload"_a, "rate"_a = "coded", "error_model"_a = "propagated",
      "Modelled curves (synthetic values, not measured), as `bitsim curves --workload`.");

  // ---- solvers ----
  m.def("solvers", [] {
    py::list out;
    for (const auto& s : alloc::solvers())
      out.append(py::dict("name"_a = std::string(s.name), "description"_a = std::string(s.description),
                          "needs"_a = std::string(alloc::kSolverNeedsNames.name(s.needs)),
                          "kind"_a = s.kind == alloc::SolverKind::Latency ? "latency" : "size_budget"));
    return out;
  });
  m.def(
      "allocate",
      [](const RateDistortionCurves& curves, std::optional<std::string> solver, std::optional<double> budget_bits,
         std::optional<double> avg_bits, std::shared_ptr<Network> workload, std::shared_ptr<HardwareConfig> hw,
         int batch, std::optional<double> min_rate, std::optional<double> max_time_s, std::optional<double> max_error,
         const std::string& engine) {
        AllocateArgs a;
        a.solver = std::move(solver);
        a.budget_bits = budget_bits;
        a.avg_bits = avg_bits;
        a.net = std::move(workload);
        a.hw = std::move(hw);
        a.batch = batch;
        a.min_rate = min_rate;
        a.max_time_s = max_time_s;
        a.max_error = max_error;
        a.engine = engine;
        return allocate(curves, a);
      },
      "curves"_a, "solver"_a = py::none(), py::kw_only(), "budget_bits"_a = py::none(), "avg_bits"_a = py::none(),
      "workload"_a = py::none(), "hw"_a = py::none(), "batch"_a = 1, "min_rate"_a = py::none(),
      "max_time_s"_a = py::none(), "max_error"_a = py::none(), "engine"_a = "analytical",
      "`bitsim allocate` as a dict: the fields of `allocate --json` (solver, goal, total_rate_bits, "
      "predicted_distortion, proven_optimal, sizes, details, and with hw the hardware and simulated rate), "
      "choices (columns), choice (option index per tensor of solved_curves), plan (a Plan, with "
      "workload) and solved_curves (the curves solved: as the hardware sees them, with storage formats and fused "
      "tensors on_chip). A size budget "
      "(budget_bits or avg_bits) with a size-budget solver, or a latency target (min_rate images/s, "
      "max_time_s per image, or max_error) with hw and workload for the latency solver.");
}
