// Allocation -> BitPlan, and plan scoring.
#include "alloc/plan_score.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>

namespace bitsim::alloc {

sim::TensorCoding tensor_coding(RateKind rate, const CurveOption& o, std::int64_t values) {
  sim::TensorCoding coding;
  if (o.on_chip) return sim::TensorCoding{0};
  coding.bits = o.bits > 0
                    ? o.bits
                    : static_cast<int>(std::ceil(o.rate_bits / static_cast<double>(std::max<std::int64_t>(values, 1))));
  coding.bits = std::clamp(coding.bits, 1, 32);
  coding.levels = o.levels;
  coding.beta = o.beta;
  if (entropy_coded(rate, o)) {
    coding.coded_bits = std::ceil(o.rate_bits);
    coding.symbols = values;
  }
  return coding;
}

sim::BitPlan to_bit_plan(const sim::Network& net, const RateDistortionCurves& curves, const Allocation& allocation,
                         int default_bits, std::string label) {
  sim::BitPlan plan = sim::BitPlan::uniform(net, default_bits, default_bits);
  plan.label = std::move(label);
  const std::vector<std::string> names = net.layer_names();
  Diagnostics diag;
  std::map<std::pair<std::size_t, bool>, std::size_t> described;  // (layer, weights?) -> its curve
  for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
    const TensorCurve& t = curves.tensors[i];
    const auto layer = net.find(t.layer);
    const SourceLocation where = t.options.front().where;
    if (!layer) {
      std::string msg = fmt::format("curves tensor {}: workload '{}' has no layer '{}'", t.tensor, net.name(), t.layer);
      const std::string guess = did_you_mean(t.layer, names);
      if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
      diag.error(where, msg);
      continue;
    }
    const sim::Layer& l = net.layer(*layer);
    const bool weights = t.kind == CurveTensorKind::Weight;
    // One curve per tensor: two names for one layer's weights (or output) would each get a choice.
    if (const auto [it, added] = described.emplace(std::pair{*layer, weights}, i); !added) {
      const TensorCurve& first = curves.tensors[it->second];
      diag.error(where, fmt::format("curves tensor {}: layer '{}' already has a {} curve, {} (line {}); each "
                                    "tensor's options must share one name",
                                    t.tensor, t.layer, weights ? "weight" : "activation", first.tensor,
                                    first.options.front().where.line));
      continue;
    }
    const std::int64_t values = weights ? l.weights : l.output.count();
    if (weights && values == 0) {
      diag.error(where, fmt::format("curves tensor {}: layer '{}' has no weights", t.tensor, t.layer));
      continue;
    }
    if (t.count > 0 && t.count != values) {
      diag.error(where, fmt::format("curves tensor {}: count {} does not match the workload's {} values", t.tensor,
                                    t.count, values));
      continue;
    }
    const CurveOption& o = t.options[static_cast<std::size_t>(allocation.choice[i])];
    const sim::TensorCoding coding = tensor_coding(curves.rate, o, values);
    (weights ? plan.weights : plan.activations)[*layer] = coding;
  }
  diag.throw_if_any();
  return plan;
}

RateDistortionCurves with_storage_formats(RateDistortionCurves curves, bool decoder) {
  if (curves.rate == RateKind::Fixed) return curves;
  for (TensorCurve& t : curves.tensors) {
    std::vector<CurveOption> options;
    options.reserve(2 * t.options.size());
    for (CurveOption& o : t.options) {
      const double fixed = o.fixed_bits >= 0           ? o.fixed_bits
                           : o.bits > 0 && t.count > 0 ? static_cast<double>(o.bits) * static_cast<double>(t.count)
                                                       : -1;
      if (o.format != StorageFormat::ByRate || o.on_chip || fixed < 0) {
        options.push_back(std::move(o));
        continue;
      }
      CurveOption f = o;
      f.name = o.name + " fixed";
      f.rate_bits = fixed;
      f.format = StorageFormat::Fixed;
      options.push_back(f);
      if (decoder && o.rate_bits < fixed) {
        CurveOption c = o;
        c.name = o.name + " coded";
        c.format = StorageFormat::Coded;
        options.push_back(std::move(c));
      }
    }
    t.options = std::move(options);
  }
  return curves;
}

RateDistortionCurves curves_for_hardware(RateDistortionCurves curves, const sim::AnalyticalModel& model) {
  const bool decoder = model.hardware().decoder_lanes != 0;
  return pin_unquantized(with_storage_formats(std::move(curves), decoder), model);
}

RateDistortionCurves pin_unquantized(RateDistortionCurves curves, const sim::AnalyticalModel& model) {
  const sim::Network& net = model.network();
  const sim::ActivationTraffic& traffic = model.traffic();
  for (TensorCurve& t : curves.tensors) {
    if (t.kind != CurveTensorKind::Activation) continue;
    const auto layer = net.find(t.layer);
    if (!layer || traffic.quantized(*layer)) continue;  // to_bit_plan reports unknown layers
    CurveOption o;
    o.name = "on_chip";
    o.rate_bits = o.fixed_bits = o.entropy_bits = o.coded_bits = 0;
    o.on_chip = true;
    o.where = t.options.front().where;
    t.options.assign(1, o);
    t.count = 0;
  }
  return curves;
}

std::size_t on_chip_tensors(const RateDistortionCurves& curves) {
  return static_cast<std::size_t>(
      std::count_if(curves.tensors.begin(), curves.tensors.end(), [](const TensorCurve& t) { return t.on_chip(); }));
}

PlanScore score_plan(const RateDistortionCurves& curves, const Allocation& allocation,
                     const sim::AnalyticalModel* model, const sim::BitPlan* plan) {
  PlanScore s;
  s.rate_bits = allocation.rate_bits;
  s.predicted_distortion = allocation.distortion;
  s.fixed_bits = s.entropy_bits = s.coded_bits = 0;
  for (std::size_t i = 0; i < curves.tensors.size(); ++i) {
    const CurveOption& o = curves.tensors[i].options[static_cast<std::size_t>(allocation.choice[i])];
    auto add = [](double& sum, double v) { sum = (sum < 0 || v < 0) ? -1 : sum + v; };
    add(s.fixed_bits, o.fixed_bits);
    add(s.entropy_bits, o.entropy_bits);
    add(s.coded_bits, o.coded_bits);
  }
  if (model != nullptr && plan != nullptr) s.simulated = model->evaluate(*plan);
  return s;
}

}  // namespace bitsim::alloc
