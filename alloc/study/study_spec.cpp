// Reading sweep and co-design study files.
#include "alloc/study/study_spec.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

#include "sim/base/checked.h"
#include "sim/base/yaml_fields.h"
#include "sim/hw_config.h"

namespace bitsim::study {

namespace {

constexpr std::size_t kMaxAxisValues = 100000;
constexpr std::int64_t kMaxBatch = 1000000;  // as simulate --batch
// Limits of a whole study (README "Study files"), checked before anything runs.
constexpr std::size_t kMaxPointBudgets = 10'000'000;  // points x budgets
// A study keeps its rows for its outputs: 10 KiB per point measured on codesign.yaml (README
// "Bandwidth sweeps"), whose points have 10 rows each (5 budgets x equal, lagrangian).
constexpr std::size_t kBytesPerRow = 1024;
constexpr std::size_t kMaxStudyBytes = std::size_t{4} << 30;

// hardware x workloads x batches x the size of every axis; empty when the product does not fit in size_t.
std::optional<std::size_t> point_count(const StudySpec& s) {
  std::optional<std::size_t> n = checked_mul(checked_mul(s.hardware.size(), s.workloads.size()), s.batches.size());
  for (const StudyAxis& a : s.vary) n = checked_mul(n, a.values.size());
  return n;
}

// The factors of point_count, for messages: "1 x 1 x 65536 x 65536".
std::string point_factors(const StudySpec& s) {
  std::vector<std::size_t> f{s.hardware.size(), s.workloads.size(), s.batches.size()};
  for (const StudyAxis& a : s.vary) f.push_back(a.values.size());
  return fmt::format("{}", fmt::join(f, " x "));
}

// Rows per point and budget: equal, then every other solver listed (study.cpp's RowSolvers).
std::size_t solvers_per_budget(const StudySpec& s) {
  return 1 + static_cast<std::size_t>(std::count_if(s.solvers.begin(), s.solvers.end(), [](const auto* solver) {
           return solver != &alloc::equal_solver();
         }));
}

// Refuses, before anything runs, a study too large to run or to hold in memory.
void check_study_size(const StudySpec& s, const SourceLocation& at) {
  const std::size_t budgets = s.avg_bits.size();
  const std::optional<std::size_t> points = point_count(s);
  const std::optional<std::size_t> runs = checked_mul(points, budgets);
  if (!runs || *runs > kMaxPointBudgets)
    throw InputError(at,
                     fmt::format("the study has {} points ({}: hardware x workloads x batches x varied values) x {} "
                                 "budgets: more than 10 million",
                                 points ? fmt::format("{}", *points) : "more than 2^64", point_factors(s), budgets));
  const std::size_t rows = *runs * solvers_per_budget(s);  // <= 10 million x a handful of solvers
  const std::size_t bytes = rows * kBytesPerRow;
  if (bytes > kMaxStudyBytes)
    throw InputError(at, fmt::format("the study would need about {:.1f} GiB of memory ({} rows of about 1 KiB: "
                                     "{} points x {} budgets x {} solvers); the limit is 4 GiB",
                                     static_cast<double>(bytes) / static_cast<double>(std::size_t{1} << 30), rows,
                                     *points, budgets, solvers_per_budget(s)));
}

std::string number_text(double v) { return fmt::format("{:.10g}", v); }

// A path in the study file, relative to the file's folder; it must exist.
std::string resolve(const yaml::Reader& r, const YAML::Node& node, const std::string& key) {
  const auto text = r.text(node, key);
  if (!text) return {};
  const std::filesystem::path p = std::filesystem::path(r.file).parent_path() / *text;
  if (!std::ifstream(p)) {
    r.diag.error(yaml::where(r.file, node),
                 fmt::format("{}: cannot open '{}' (relative to the study file)", key, *text));
    return {};
  }
  return p.lexically_normal().string();
}

std::vector<std::string> paths(const yaml::Reader& r, const YAML::Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (!node) {
    r.diag.error(yaml::where(r.file, node), fmt::format("{}: missing (a path or a list of paths)", key));
    return out;
  }
  if (node.IsSequence()) {
    if (node.size() == 0) r.diag.expected(yaml::where(r.file, node), key, "at least one path", "an empty list");
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(resolve(r, node[i], fmt::format("{}[{}]", key, i)));
  } else {
    out.push_back(resolve(r, node, key));
  }
  return out;
}

// A list of values, or a range {from, to, step | factor, unit}.
StudyAxis axis(const yaml::Reader& r, const std::string& key, const YAML::Node& node) {
  StudyAxis a;
  a.key = key;
  a.where = yaml::where(r.file, node);
  const std::string path = "vary." + key;
  if (node.IsSequence()) {
    if (node.size() == 0) r.diag.expected(a.where, path, "at least one value", "an empty list");
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto v = r.text(node[i], fmt::format("{}[{}]", path, i));
      if (v) a.values.push_back(*v);
    }
    return a;
  }
  if (!node.IsMap()) {
    r.diag.expected(a.where, path, "a list of values or a range {from, to, step | factor, unit}", yaml::describe(node));
    return a;
  }
  r.reject_unknown_keys(node, path, {"from", "to", "step", "factor", "unit"});
  for (const char* bound : {"from", "to"})
    if (!node[bound]) {
      r.diag.error(a.where,
                   fmt::format("{}.{}: missing (a range needs from, to and one of step or factor)", path, bound));
      return a;
    }
  const auto from = r.number(node["from"], path + ".from", -1e300);
  const auto to = r.number(node["to"], path + ".to", -1e300);
  std::string unit;
  if (node["unit"]) unit = r.text(node["unit"], path + ".unit").value_or("");
  const bool step = static_cast<bool>(node["step"]), factor = static_cast<bool>(node["factor"]);
  if (step == factor) {
    r.diag.error(a.where,
                 fmt::format("{}: a range needs exactly one of 'step' (linear) and 'factor' (geometric)", path));
    return a;
  }
  const auto by = step ? r.number(node["step"], path + ".step", 0) : r.number(node["factor"], path + ".factor", 0);
  if (!from || !to || !by) return a;
  if (*to < *from || (step && *by <= 0) || (factor && (*by <= 1 || *from <= 0))) {
    r.diag.error(a.where,
                 fmt::format("{}: expected from <= to and {}", path, step ? "step > 0" : "factor > 1 with from > 0"));
    return a;
  }
  for (std::size_t k = 0;; ++k) {
    const double v = step ? *from + static_cast<double>(k) * *by : *from * std::pow(*by, static_cast<double>(k));
    if (v > *to * (1 + 1e-12)) break;
    if (a.values.size() >= kMaxAxisValues) {
      r.diag.error(a.where, fmt::format("{}: more than {} values", path, kMaxAxisValues));
      break;
    }
    a.values.push_back(number_text(v) + (unit.empty() ? "" : " " + unit));
  }
  return a;
}

}  // namespace

namespace {

std::vector<double> read_avg_bits(const yaml::Reader& r, const YAML::Node& root) {
  std::vector<double> out;
  const YAML::Node bits = root["avg_bits"];
  if (!bits) {
    r.diag.error(yaml::where(r.file, root), "avg_bits: missing (bits per value on average, a number or a list)");
  } else if (bits.IsSequence()) {
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (const auto v = r.number(bits[i], fmt::format("avg_bits[{}]", i), 0)) out.push_back(*v);
  } else if (const auto v = r.number(bits, "avg_bits", 0)) {
    out.push_back(*v);
  }
  for (double b : out)
    if (b <= 0) r.diag.expected(yaml::where(r.file, bits), "avg_bits", "numbers > 0", "0");
  return out;
}

// Solver names, checked where they are written, without repeats; lagrangian when none are given.
std::vector<const alloc::SolverInfo*> read_solvers(const yaml::Reader& r, const YAML::Node& root) {
  const YAML::Node sv = root["solvers"];
  if (!sv) return {&alloc::lagrangian_solver()};
  std::vector<const alloc::SolverInfo*> out;
  auto add = [&](const YAML::Node& node, const std::string& key) {
    const auto name = r.text(node, key);
    if (!name) return;
    const alloc::SolverInfo* solver = alloc::solver_named(*name);
    if (!solver)
      r.diag.error(yaml::where(r.file, node), key + ": " + alloc::unknown_solver_message(*name));
    else if (std::find(out.begin(), out.end(), solver) == out.end())
      out.push_back(solver);
  };
  if (sv.IsSequence()) {
    for (std::size_t i = 0; i < sv.size(); ++i) add(sv[i], fmt::format("solvers[{}]", i));
  } else {
    add(sv, "solvers");
  }
  return out;
}

// The varied parameters. Every value must be valid for its key (checked on a scratch config;
// cross-field checks against the base config happen when the point is built).
std::vector<StudyAxis> read_vary(const yaml::Reader& r, const YAML::Node& vary) {
  std::vector<StudyAxis> out;
  if (!r.require_map(vary, "vary")) return out;
  for (const auto& kv : vary) {
    if (!kv.first.IsScalar()) {
      r.diag.expected(yaml::where(r.file, kv.first), "vary", "a hardware parameter key (e.g. dram.bandwidth)",
                      yaml::describe(kv.first));
      continue;
    }
    const std::string key = kv.first.Scalar();
    StudyAxis a = axis(r, key, kv.second);
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      try {
        sim::HardwareConfig scratch;
        scratch.clock_hz = scratch.dram_bytes_per_s = 1;
        scratch.native_bits = 8;
        sim::set_hardware_parameter(scratch, key, a.values[i],
                                    kv.second.IsSequence() ? yaml::where(r.file, kv.second[i]) : a.where);
      } catch (const InputError& e) {
        for (const Diagnostic& d : e.diagnostics()) r.diag.error(d.where, "vary: " + d.message);
        break;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

// Images per batch: a number or a list of them, without repeats.
std::vector<int> read_batches(const yaml::Reader& r, const YAML::Node& node) {
  std::vector<int> out;
  auto add = [&](const YAML::Node& n, const std::string& key) {
    const auto v = r.integer(n, key, 1, kMaxBatch);
    if (!v) return;
    if (std::find(out.begin(), out.end(), *v) != out.end())
      r.diag.error(yaml::where(r.file, n), fmt::format("{}: batch {} is listed twice", key, *v));
    else
      out.push_back(static_cast<int>(*v));
  };
  if (node.IsSequence()) {
    if (node.size() == 0)
      r.diag.expected(yaml::where(r.file, node), "batch", "at least one batch size", "an empty list");
    for (std::size_t i = 0; i < node.size(); ++i) add(node[i], fmt::format("batch[{}]", i));
  } else {
    add(node, "batch");
  }
  return out.empty() ? std::vector<int>{1} : out;
}

void read_cost(const yaml::Reader& r, const YAML::Node& cost, CostWeights& out) {
  if (!r.require_map(cost, "cost")) return;
  r.reject_unknown_keys(cost, "cost", {"pe", "sram_kib", "dram_gb_per_s", "decoder_lane"});
  auto weight = [&](const char* key, double& field) {
    if (cost[key]) field = r.number(cost[key], fmt::format("cost.{}", key), 0).value_or(field);
  };
  weight("pe", out.pe);
  weight("sram_kib", out.sram_kib);
  weight("dram_gb_per_s", out.dram_gb_per_s);
  weight("decoder_lane", out.decoder_lane);
}

// A list of objective names, without repeats, at least two.
std::vector<Objective> read_objectives(const yaml::Reader& r, const YAML::Node& node) {
  std::vector<Objective> out;
  if (!node.IsSequence() || node.size() < 2) {
    r.diag.expected(yaml::where(r.file, node), "objectives",
                    fmt::format("a list of at least two of {}", kObjectiveNames.alternatives()), yaml::describe(node));
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto v = r.choice(node[i], fmt::format("objectives[{}]", i), kObjectiveNames.names());
    if (!v) continue;
    const Objective o = *kObjectiveNames.find(*v);
    if (std::find(out.begin(), out.end(), o) != out.end())
      r.diag.error(yaml::where(r.file, node[i]), fmt::format("objectives[{}]: '{}' is listed twice", i, *v));
    else
      out.push_back(o);
  }
  return out;
}

}  // namespace

StudySpec load_study_spec(const std::string& path) {
  const YAML::Node root = yaml::load_file(path);
  Diagnostics diag;
  const yaml::Reader r{path, diag};
  if (!r.require_map(root, "(top level)")) diag.throw_if_any();
  r.reject_unknown_keys(root, "",
                        {"hardware", "workload", "input_shape", "curves", "rate", "avg_bits", "solvers", "batch",
                         "vary", "cost", "objectives"});
  StudySpec s;
  s.path = path;
  s.hardware = paths(r, root["hardware"], "hardware");
  s.workloads = paths(r, root["workload"], "workload");
  if (const YAML::Node shape = root["input_shape"]) {  // [C, H, W], as --input-shape
    if (!shape.IsSequence() || shape.size() != 3) {
      r.diag.expected(yaml::where(path, shape), "input_shape", "[C, H, W] (three integers)", yaml::describe(shape));
    } else {
      std::array<std::int64_t, 3> v{};
      bool ok = true;
      for (std::size_t i = 0; i < 3; ++i) {
        const auto d = r.integer(shape[i], fmt::format("input_shape[{}]", i), 1, sim::kMaxDimension);
        ok = ok && d.has_value();
        v[i] = d.value_or(1);
      }
      if (ok) s.input_shape = sim::Shape{v[0], v[1], v[2]};
    }
  }
  if (root["curves"]) {
    const auto c = r.text(root["curves"], "curves");
    if (c && *c != "modelled") s.curves_path = resolve(r, root["curves"], "curves");
  }
  if (root["rate"])
    if (const auto v = r.choice(root["rate"], "rate", alloc::kRateKindNames.names()))
      s.rate = *alloc::kRateKindNames.find(*v);
  s.avg_bits = read_avg_bits(r, root);
  s.solvers = read_solvers(r, root);
  if (root["batch"]) s.batches = read_batches(r, root["batch"]);
  if (root["vary"]) s.vary = read_vary(r, root["vary"]);
  if (root["cost"]) read_cost(r, root["cost"], s.cost);
  if (root["objectives"]) s.objectives = read_objectives(r, root["objectives"]);
  diag.throw_if_any();
  check_study_size(s, yaml::where(path, root["vary"] ? root["vary"] : root));
  return s;
}

std::size_t StudySpec::points() const {
  const std::optional<std::size_t> n = point_count(*this);
  BITSIM_CHECK(n.has_value());  // load_study_spec refuses a study whose count does not fit
  return *n;
}

std::string study_spec_yaml(const StudySpec& spec, const std::string& comment) {
  // Numbers as their shortest round-trip text (the emitter's own would print 0.1 as 0.10000000000000001).
  auto number = [](double v) { return fmt::format("{}", v); };
  YAML::Emitter e;
  e << YAML::Comment(comment) << YAML::BeginMap;
  e << YAML::Key << "hardware" << YAML::Value << spec.hardware;
  e << YAML::Key << "workload" << YAML::Value << spec.workloads;
  if (spec.input_shape)
    e << YAML::Key << "input_shape" << YAML::Value << YAML::Flow << YAML::BeginSeq << spec.input_shape->channels
      << spec.input_shape->height << spec.input_shape->width << YAML::EndSeq;
  e << YAML::Key << "curves" << YAML::Value << (spec.curves_path.empty() ? "modelled" : spec.curves_path);
  e << YAML::Key << "rate" << YAML::Value << std::string(alloc::rate_kind_name(spec.rate));
  e << YAML::Key << "avg_bits" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (double b : spec.avg_bits) e << number(b);
  e << YAML::EndSeq;
  e << YAML::Key << "solvers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const alloc::SolverInfo* s : spec.solvers) e << std::string(s->name);
  e << YAML::EndSeq;
  e << YAML::Key << "batch" << YAML::Value;
  if (spec.batches.size() == 1)
    e << spec.batches.front();
  else
    e << YAML::Flow << spec.batches;
  if (!spec.vary.empty()) {
    e << YAML::Key << "vary" << YAML::Value << YAML::BeginMap;
    for (const StudyAxis& a : spec.vary) {
      e << YAML::Key << a.key << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const std::string& v : a.values) e << YAML::DoubleQuoted << v;
      e << YAML::EndSeq;
    }
    e << YAML::EndMap;
  }
  const CostWeights& c = spec.cost;
  e << YAML::Key << "cost" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "pe" << YAML::Value << number(c.pe) << YAML::Key << "sram_kib" << YAML::Value << number(c.sram_kib);
  e << YAML::Key << "dram_gb_per_s" << YAML::Value << number(c.dram_gb_per_s) << YAML::Key << "decoder_lane"
    << YAML::Value << number(c.decoder_lane);
  e << YAML::EndMap;
  e << YAML::Key << "objectives" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const Objective o : spec.objectives) e << std::string(kObjectiveNames.name(o));
  e << YAML::EndSeq << YAML::EndMap;
  BITSIM_CHECK(e.good());
  return std::string(e.c_str()) + "\n";
}

}  // namespace bitsim::study
