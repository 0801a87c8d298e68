// Commands on the hardware side: simulate, demo, inspect, explain-config, list formats.
#include <fmt/format.h>
#include <algorithm>
#include <iostream>
#include <optional>
#include <sstream>

#include "alloc/study/simulation_report.h"
#include "sim/analytical_model.h"
#include "sim/detailed_model.h"
#include "sim/energy.h"
#include "sim/hw_config.h"
#include "sim/workload.h"
#include "tools/cli/commands.h"

namespace bitsim::tools {

using namespace bitsim::sim;

int run_simulate(const SimulateArgs& a) {
  const HardwareConfig hw = load_hardware(a.hw_path, a.hw_settings);
  const Network net = load_workload(a.workload_path, a.workload_format, workload_options(a.input_shape));
  const BitPlan plan =
      !a.plan_path.empty() ? load_bit_plan(a.plan_path, net) : parse_bits(a.bits.empty() ? "native" : a.bits, net, hw);
  const bool detailed = parse_engine(a.engine) == sim::Engine::SystemC;
  if (!detailed && (!a.trace_path.empty() || a.no_prefetch || a.unlimited_buffers))
    throw InputError({}, "--trace, --no-prefetch and --unlimited-buffers need --engine systemc");
  if (!a.trace_path.empty()) check_new_file(a.trace_path, a.force, "--trace");  // before simulating
  std::optional<DetailedResult> detail;
  SimResult r;
  if (detailed) {
    DetailedOptions options;
    options.prefetch = !a.no_prefetch;
    options.unlimited_buffers = a.unlimited_buffers;
    options.record_trace = !a.trace_path.empty();
    detail = simulate_detailed(net, hw, plan, a.batch, options);
    r = detail->result;
    if (!a.trace_path.empty()) {
      std::ostringstream trace;
      write_chrome_trace(trace, *detail);
      write_new_file(a.trace_path, trace.str(), a.force, "--trace");
    }
  } else {
    r = AnalyticalModel(net, hw, a.batch).evaluate(plan);
    if (!r.feasible) throw InputError({}, "the plan is infeasible on this hardware: " + r.reason);
  }
  const AnalyticalModel model(net, hw, a.batch);  // the mappings and traffic the results came from
  const Table layers = study::simulation_layer_table(net, model, plan, r, detail ? &*detail : nullptr);
  const Table totals = study::simulation_totals_table(net, model, plan, r, detail ? &*detail : nullptr);
  switch (a.out.format()) {
    case Format::Json: {
      JsonWriter j(std::cout);
      j.begin_object();
      j.field("workload", Cell(net.name()));
      j.field("workload_file", Cell(a.workload_path));
      json_config(j, hw);
      j.field("plan", Cell(plan.label));
      j.field("engine", Cell(a.engine));
      j.field("batch", Cell(static_cast<std::int64_t>(a.batch)));
      j.flag("weights_resident", r.weights_resident);
      j.key("layers");
      j.rows_of(layers);
      j.key("totals");
      j.begin_object();
      for (std::size_t c = 0; c < totals.columns().size(); ++c) {
        j.field(totals.columns()[c], totals.rows()[0][c]);
      }
      j.end_object();
      j.end_object();
      break;
    }
    case Format::Csv: {
      Table with_total = layers;
      with_total.add_row(
          study::simulation_total_row(net, model, plan, r, a.batch));  // (its SystemC columns stay empty: add_row pads)
      with_total.write_csv(std::cout);
      break;
    }
    case Format::Text:
      std::cout << fmt::format("workload {} ({}), plan {}, batch {}, engine {}{}\n", net.name(), a.workload_path,
                               plan.label, a.batch, a.engine,
                               detailed ? (a.no_prefetch ? " (no prefetch)" : " (prefetch)") : "");
      print_config(hw, std::cout);
      std::cout << '\n';
      layers.write_text(std::cout);
      std::cout << '\n';
      totals.write_text(std::cout);
      break;
  }
  return 0;
}

int run_demo(const DemoArgs& a) {
  Table t({"hardware", "workload", "bits", "native", "dram_bytes", "compute_time_s", "time_s", "inference_rate_per_s",
           "speedup_vs_native", "dram_bound_layers", "compute_bound_layers", "energy_per_image_j", "area_mm2"});
  for (const char* hw_name : {"tpu", "eyeriss"}) {
    const HardwareConfig hw = load_hardware_config(fmt::format("{}/configs/{}.yaml", a.data_dir, hw_name));
    for (const char* wl : {"resnet50", "mobilenet_v1"}) {
      const Network net = load_workload(fmt::format("{}/workloads/{}.yaml", a.data_dir, wl));
      const AnalyticalModel model(net, hw);
      const SimResult native = model.evaluate(parse_bits("native", net, hw));
      for (const char* bits : {"native", "8", "4", "2"}) {
        if (std::string(bits) == std::to_string(hw.native_bits)) continue;  // same as native
        const BitPlan plan = parse_bits(bits, net, hw);
        const SimResult r = model.evaluate(plan);
        const BottleneckCounts bound = count_bottlenecks(r);
        double compute_s = 0;
        for (const auto& l : r.layers) compute_s += l.compute_time_s;
        const bool is_native = std::string(bits) == "native";
        t.add_row({hw.name, net.name(), is_native ? hw.native_bits : std::int64_t{std::stoi(bits)},
                   std::string(is_native ? "yes" : "no"), r.dram_bytes, compute_s, r.time_s, r.inference_rate_per_s,
                   r.inference_rate_per_s / native.inference_rate_per_s, bound.dram, bound.compute,
                   inference_energy(model, plan, r).total_j() / r.batch, chip_area(hw).total_m2() * 1e6});
      }
    }
  }
  if (a.out.format() == Format::Text)
    std::cout << "bitsim demo: equal (fixed-length) allocation on seed 004's platforms, batch 1, analytical model\n"
                 "(configs/tpu.yaml, configs/eyeriss.yaml; workloads/resnet50.yaml, workloads/mobilenet_v1.yaml)\n\n";
  print_rows(t, a.out.format());
  if (a.out.format() == Format::Text)
    std::cout << "\nMore: bitsim simulate --hw configs/tpu.yaml --workload workloads/resnet50.yaml --bits 4\n";
  return 0;
}

int run_explain_config() {
  Table t({"key", "type", "default", "description"});
  for (const auto& p : hardware_parameters())
    t.add_row({std::string(p.key), std::string(p.type),
               p.default_text.empty() ? std::string("(required)") : std::string(p.default_text),
               std::string(p.description)});
  std::cout << "Hardware YAML parameters (sizes: B, KB = 1000 B, KiB = 1024 B, MB, MiB, GB, GiB; bandwidths the\n"
               "same per second; frequencies Hz, kHz, MHz, GHz; times s, ms, us, ns; energies fJ, pJ, nJ, uJ, mJ, J;\n"
               "areas um2, mm2). Sources of the energy and area defaults: sim/energy_table.h.\n\n";
  t.write_text(std::cout);
  return 0;
}

int run_list_formats() {
  Table t({"format", "description"});
  for (const auto& f : workload_formats()) t.add_row({std::string(f.name), std::string(f.description)});
  t.write_text(std::cout);
  return 0;
}

int run_inspect(const InspectArgs& a) {
  const Network net = load_workload(a.workload_path, a.workload_format, workload_options(a.input_shape));
  const Table t = study::workload_layer_table(net);
  switch (a.out.format()) {
    case Format::Json: {
      JsonWriter j(std::cout);
      j.begin_object();
      j.field("workload", Cell(net.name()));
      j.key("layers");
      j.rows_of(t);
      j.key("totals");
      j.begin_object();
      j.field("parameters", Cell(net.total_parameters()));
      j.field("weights", Cell(net.total_weights()));
      j.field("activations", Cell(net.total_activations()));
      j.field("macs", Cell(net.total_macs()));
      j.end_object();
      j.key("import_notes");  // what the ONNX import stages did (sim/onnx_prepare.h)
      j.begin_array();
      for (const auto& note : net.notes()) j.value(Cell(note));
      j.end_array();
      j.end_object();
      break;
    }
    case Format::Csv:
    case Format::Text:
      print_rows(t, a.out.format());
  }
  if (a.out.format() == Format::Text) {
    std::cout << fmt::format("\n{}: {} parameters, {} weights, {} activations, {} MACs per image\n", net.name(),
                             net.total_parameters(), net.total_weights(), net.total_activations(), net.total_macs());
    for (const auto& note : net.notes()) std::cout << "import: " << note << '\n';
  }
  return 0;
}

}  // namespace bitsim::tools
