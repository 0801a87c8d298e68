// Bit plans: uniform construction and the plan YAML format.
#include "sim/bit_plan.h"

#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <optional>
#include <ostream>

#include "sim/base/yaml_fields.h"

namespace bitsim::sim {

int bits_for_levels(std::int64_t levels) {
  int bits = 0;
  while ((std::int64_t{1} << bits) < levels) ++bits;
  return bits;
}

LevelsProblem levels_problem(std::int64_t levels, std::optional<int> bits, bool activation) {
  if (!activation && (levels < 3 || levels % 2 == 0)) return LevelsProblem::WeightLevels;
  if (activation && levels < 2) return LevelsProblem::ActivationLevels;
  if (bits && bits_for_levels(levels) > *bits) return LevelsProblem::TooFewBits;
  return LevelsProblem::None;
}

std::string tensor_name(const Layer& layer, TensorKind kind) {
  return layer.name + (kind == TensorKind::Weights ? ":w" : ":a");
}

BitPlan BitPlan::uniform(const Network& net, int weight_bits, int activation_bits) {
  BitPlan plan;
  plan.label = weight_bits == activation_bits ? fmt::format("{} bits", weight_bits)
                                              : fmt::format("{}/{} bits", weight_bits, activation_bits);
  plan.weights.assign(net.layers().size(), TensorCoding{weight_bits});
  plan.activations.assign(net.layers().size(), TensorCoding{activation_bits});
  return plan;
}

namespace {

// A plan's defaults: bits for tensors the file does not list.
struct PlanDefaults {
  std::optional<int> weight_bits, activation_bits;
};

PlanDefaults read_defaults(const yaml::Reader& r, const YAML::Node& root) {
  PlanDefaults out;
  const auto d = root["default"];
  if (!d || !r.require_map(d, "default")) return out;
  r.reject_unknown_keys(d, "default", {"weight_bits", "activation_bits"});
  if (d["weight_bits"])
    if (const auto v = r.integer(d["weight_bits"], "default.weight_bits", 1, 32))
      out.weight_bits = static_cast<int>(*v);
  if (d["activation_bits"])
    if (const auto v = r.integer(d["activation_bits"], "default.activation_bits", 1, 32))
      out.activation_bits = static_cast<int>(*v);
  return out;
}

// A tensor of the network, as a plan file sets it.
struct Slot {
  TensorCoding* coding = nullptr;
  std::int64_t values = 0;
  bool activation = false;  // may be `bits: none`
  bool set = false;
};

// A tensor's fields against each other, with the rules of the quantizers the plan's levels feed
// (alloc/quantizer.h, alloc/quantized_model.cpp): weights use seed 004 eq. 1, t = 2k + 1 levels
// (odd, at least 3); activations eq. 2, t >= 2 levels (eq. 1 when they are signed); either way the
// symbols 0 .. t-1 must fit in `bits`. `bits` is empty when it could not be read.
void check_tensor(const yaml::Reader& r, const YAML::Node& t, const std::string& path_key, const Slot& slot,
                  std::optional<int> bits) {
  const TensorCoding& c = *slot.coding;
  if (bits == 0) {  // bits: none
    for (const char* key : {"levels", "beta", "coded_bits"})
      if (t[key])
        r.diag.error(yaml::where(r.file, t[key]),
                     fmt::format("{}.{}: only meaningful for a stored tensor, but bits is none (the value stays "
                                 "inside the datapath)",
                                 path_key, key));
    return;
  }
  if (t["levels"] && c.levels > 0) {
    const YAML::Node levels = t["levels"];
    const LevelsProblem problem = levels_problem(c.levels, bits, slot.activation);
    if (problem == LevelsProblem::WeightLevels)
      r.diag.expected(yaml::where(r.file, levels), path_key + ".levels",
                      "an odd number >= 3 (weights use seed 004 eq. 1: t = 2k + 1 levels)", yaml::describe(levels));
    else if (problem == LevelsProblem::ActivationLevels)
      r.diag.expected(yaml::where(r.file, levels), path_key + ".levels", "a number >= 2 (one level stores nothing)",
                      yaml::describe(levels));
    else if (problem == LevelsProblem::TooFewBits)
      r.diag.error(yaml::where(r.file, levels),
                   fmt::format("{}.levels: {} levels need {} bits (symbols 0 to t-1 take ceil(log2 t) bits), but "
                               "bits is {}",
                               path_key, c.levels, bits_for_levels(c.levels), *bits));
  }
  if (t["coded_bits"] && c.coded_bits == 0 && slot.values > 0)
    r.diag.expected(yaml::where(r.file, t["coded_bits"]), path_key + ".coded_bits",
                    fmt::format("a number > 0 (the coded size of {} values)", slot.values),
                    yaml::describe(t["coded_bits"]));
}

// One `tensors:` entry into its slot: every field, then the fields against each other.
void read_tensor(const yaml::Reader& r, const YAML::Node& t, const std::string& path_key, Slot& slot) {
  if (!r.require_map(t, path_key)) return;
  r.reject_unknown_keys(t, path_key, {"bits", "coded_bits", "symbols", "levels", "beta"});
  slot.set = true;
  std::optional<int> bits;
  if (!t["bits"])
    r.diag.error(yaml::where(r.file, t), path_key + ".bits: missing (bits per value, 1 to 32)");
  else if (t["bits"].IsScalar() && t["bits"].Scalar() == "none" && slot.activation)
    bits = 0;  // not quantized: a value inside a fused datapath
  else if (const auto v = r.integer(t["bits"], path_key + ".bits", 1, 32))
    bits = static_cast<int>(*v);
  if (bits) slot.coding->bits = *bits;
  if (t["levels"])
    if (const auto v = r.integer(t["levels"], path_key + ".levels", 1, 1 << 24))
      slot.coding->levels = static_cast<int>(*v);
  if (t["beta"])
    if (const auto v = r.number(t["beta"], path_key + ".beta", 0)) slot.coding->beta = *v;
  if (t["coded_bits"]) {
    if (const auto v = r.number(t["coded_bits"], path_key + ".coded_bits", 0)) slot.coding->coded_bits = *v;
    slot.coding->symbols = slot.values;  // one symbol per value unless stated
    if (t["symbols"])
      if (const auto v = r.integer(t["symbols"], path_key + ".symbols", 0, INT64_MAX)) slot.coding->symbols = *v;
  } else if (t["symbols"]) {
    r.diag.error(yaml::where(r.file, t["symbols"]), path_key + ".symbols: only meaningful with coded_bits");
  }
  check_tensor(r, t, path_key, slot, bits);
}

// Tensors the file does not set take the defaults; without one they are reported, all at once.
void apply_defaults(std::map<std::string, Slot>& slots, const PlanDefaults& defaults, const yaml::Reader& r,
                    const YAML::Node& root) {
  std::vector<std::string> missing;
  for (auto& [name, slot] : slots) {
    if (slot.set) continue;
    const auto& def = name.back() == 'w' ? defaults.weight_bits : defaults.activation_bits;
    if (def)
      slot.coding->bits = *def;
    else
      missing.push_back(name);
  }
  if (missing.empty()) return;
  const std::size_t shown = std::min<std::size_t>(missing.size(), 5);
  r.diag.error(
      yaml::where(r.file, root),
      fmt::format("tensors: {} tensor(s) have no setting and there is no default (e.g. {}); add them or "
                  "'default: {{weight_bits: B, activation_bits: B}}'",
                  missing.size(), fmt::join(missing.begin(), missing.begin() + static_cast<long>(shown), ", ")));
}

}  // namespace

BitPlan load_bit_plan(const std::string& path, const Network& net) {
  const YAML::Node root = yaml::load_file(path);
  Diagnostics diag;
  const yaml::Reader r{path, diag};
  if (!r.require_map(root, "(top level)")) diag.throw_if_any();
  r.reject_unknown_keys(root, "", {"workload", "default", "tensors"});
  if (const auto w = root["workload"])
    if (const auto name = r.text(w, "workload"); name && *name != net.name())
      diag.error(yaml::where(path, w),
                 fmt::format("workload: this plan is for '{}', but the workload is '{}'", *name, net.name()));
  const PlanDefaults defaults = read_defaults(r, root);

  // Every tensor of the network, by name.
  BitPlan plan;
  plan.label = path.substr(path.find_last_of('/') + 1);
  plan.weights.resize(net.layers().size());
  plan.activations.resize(net.layers().size());
  std::map<std::string, Slot> slots;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.weights > 0) {
      slots[tensor_name(l, TensorKind::Weights)] = {&plan.weights[i], l.weights};
      names.push_back(tensor_name(l, TensorKind::Weights));
    }
    slots[tensor_name(l, TensorKind::Activations)] = {&plan.activations[i], l.output.count(), true};
    names.push_back(tensor_name(l, TensorKind::Activations));
  }

  if (const auto tensors = root["tensors"]; tensors && r.require_map(tensors, "tensors")) {
    for (const auto& kv : tensors) {
      const std::string name = kv.first.Scalar();
      const auto it = slots.find(name);
      if (it != slots.end()) {
        read_tensor(r, kv.second, "tensors." + name, it->second);
        continue;
      }
      std::string msg = fmt::format("tensors.{}: no such tensor in workload '{}'", name, net.name());
      const std::string guess = did_you_mean(name, names);
      if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
      diag.error(yaml::where(path, kv.first), msg + "; tensors are named <layer>:w and <layer>:a");
    }
  }
  apply_defaults(slots, defaults, r, root);
  diag.throw_if_any();
  return plan;
}

void write_bit_plan(std::ostream& out, const Network& net, const BitPlan& plan) {
  // Numbers as their shortest round-trip text (the emitter's own would print 0.1 as 0.10000000000000001).
  auto number = [](double v) { return fmt::format("{}", v); };
  YAML::Emitter e;
  e << YAML::Comment("bitsim plan: bits per value and, for entropy-coded tensors, the coded size in bits and the")
    << YAML::Newline << YAML::Comment("symbol count (per image for activations).");
  if (std::any_of(plan.activations.begin(), plan.activations.end(),
                  [](const TensorCoding& c) { return !c.quantized(); }))
    e << YAML::Newline
      << YAML::Comment("bits: none = not quantized: the value stays inside a fused datapath (datapath.fusion).");
  e << YAML::BeginMap << YAML::Key << "workload" << YAML::Value << net.name();
  e << YAML::Key << "tensors" << YAML::Value << YAML::BeginMap;
  auto entry = [&](const std::string& name, const TensorCoding& c) {
    e << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
    if (c.quantized())
      e << YAML::Key << "bits" << YAML::Value << c.bits;
    else
      e << YAML::Key << "bits" << YAML::Value << "none";
    if (c.levels > 0) e << YAML::Key << "levels" << YAML::Value << c.levels;
    if (c.beta >= 0) e << YAML::Key << "beta" << YAML::Value << number(c.beta);
    if (c.entropy_coded())
      e << YAML::Key << "coded_bits" << YAML::Value << number(c.coded_bits) << YAML::Key << "symbols" << YAML::Value
        << c.symbols;
    e << YAML::EndMap;
  };
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layer(i);
    if (l.weights > 0) entry(tensor_name(l, TensorKind::Weights), plan.weights.at(i));
    entry(tensor_name(l, TensorKind::Activations), plan.activations.at(i));
  }
  e << YAML::EndMap << YAML::EndMap;
  BITSIM_CHECK(e.good());
  out << e.c_str() << '\n';
}

}  // namespace bitsim::sim
