// The record and the choices table of one allocation.
#include "alloc/study/allocation_report.h"

#include <fmt/format.h>
#include <cmath>

#include "alloc/plan_score.h"

#include "sim/analytical_model.h"

namespace bitsim::study {

using namespace bitsim::alloc;

namespace {

// A size in bits: whole numbers (every rate is rounded up to whole bits) print exactly in text too.
Cell bits_cell(double v) {
  if (v < 0) return missing();  // a size the coder could not give
  return v == std::floor(v) && v < 0x1p53 ? Cell(static_cast<std::int64_t>(v)) : Cell(v);
}

}  // namespace

Record allocation_record(const AllocationOutcome& o) {
  Record r;
  const RateDistortionCurves& curves = *o.curves;
  const Allocation& alloc = o.allocation;
  const double values = static_cast<double>(curves.total_values());
  r.add("solver", std::string(o.solver->name));
  r.add("goal", o.goal);
  if (std::isfinite(o.budget)) r.add("budget_bits", bits_cell(o.budget));
  r.add("rate_kind", std::string(rate_kind_name(curves.rate)));
  r.add("curves", curves.source);
  r.add("provenance", curves.provenance);
  r.add("rate_bits", bits_cell(alloc.rate_bits));
  if (std::isfinite(o.budget)) r.add("unused_bits", bits_cell(o.budget - alloc.rate_bits));
  if (values > 0) r.add("avg_bits_per_value", alloc.rate_bits / values);
  if (const std::size_t on_chip = on_chip_tensors(curves); on_chip > 0)
    r.add("unquantized_tensors",
          fmt::format("{} activation tensors stay inside the fused datapath (datapath.fusion): not quantized, "
                      "not in the budget",
                      on_chip));
  r.add("predicted_distortion", alloc.distortion);
  r.add("distortion_kind", std::string("predicted: sum of per-tensor contributions (seed 004 eq. 4)"));
  if (o.measured) {
    r.add("eval_data", o.eval_data);
    r.add("eval_images", static_cast<std::int64_t>(o.measured->images));
    r.add("measured_output_mse", o.measured->output_mse);
    if (o.measured->labelled) {
      r.add("accuracy", o.measured->accuracy);
      r.add("float_accuracy", o.measured->float_accuracy);
    } else {  // no labels: how often the plan's top-1 is the float model's
      r.add("top1_agreement", o.measured->agreement);
      r.add("measured_output_sqnr_db", o.measured->output_sqnr_db);
    }
  }
  r.add_flag("proven_optimal", alloc.proven_optimal);
  r.add("sizes", "fixed_bits", bits_cell(o.score.fixed_bits));
  r.add("sizes", "entropy_bits", bits_cell(o.score.entropy_bits));
  r.add("sizes", "coded_bits", bits_cell(o.score.coded_bits));
  for (const auto& [k, v] : alloc.details) r.add("details", k, v);
  if (o.score.simulated) {
    const sim::SimResult& simulated = *o.score.simulated;
    r.add("hardware", "source", o.hw->source);
    for (const auto& [k, v] : sim::config_data(*o.hw)) r.add("hardware", k, v);
    r.add("batch", static_cast<std::int64_t>(o.batch));
    r.add("engine", o.engine);
    r.add("inference_rate_per_s", simulated.inference_rate_per_s);
    r.add("time_per_image_s", simulated.time_per_image_s);
    r.add("dram_bytes", simulated.dram_bytes);
    const sim::BottleneckCounts b = sim::count_bottlenecks(simulated);
    r.add("bottleneck_layers", "compute", b.compute);
    r.add("bottleneck_layers", "dram", b.dram);
    r.add("bottleneck_layers", "decode", b.decode);
    const double per_image = 1.0 / o.batch;
    r.add("energy_per_image_j", o.energy.total_j() * per_image);
    r.add("energy_per_image", "dram_j", o.energy.dram_j * per_image);
    r.add("energy_per_image", "sram_j", o.energy.sram_j * per_image);
    r.add("energy_per_image", "pe_j", o.energy.pe_j * per_image);
    r.add("energy_per_image", "mac_j", o.energy.mac_j * per_image);
    r.add("energy_per_image", "decoder_j", o.energy.decoder_j * per_image);
    r.add("area_mm2", o.area.total_m2() * 1e6);
    r.add("area", "pe_mm2", o.area.pe_m2 * 1e6);
    r.add("area", "sram_mm2", o.area.sram_m2 * 1e6);
    r.add("area", "decoder_mm2", o.area.decoder_m2 * 1e6);
  }
  if (!o.plan_path.empty()) r.add("plan_file", o.plan_path);
  return r;
}

Table choices_table(const RateDistortionCurves& curves, const Allocation& allocation) {
  Table t({"tensor", "option", "bits", "rate_bits", "distortion"});
  for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
    const CurveOption& o = curves.tensors[i].options[static_cast<std::size_t>(allocation.choice[i])];
    t.add_row({curves.tensors[i].tensor, o.name, static_cast<std::int64_t>(o.bits), o.rate_bits, o.distortion});
  }
  return t;
}

}  // namespace bitsim::study
