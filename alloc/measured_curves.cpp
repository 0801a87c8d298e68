// Measuring each tensor's curve by quantizing it alone.
#include "alloc/measured_curves.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "alloc/huffman.h"
#include "alloc/quantized_model.h"
#include "alloc/quantizer.h"
#include "sim/base/parallel.h"

namespace bitsim::alloc {
namespace {

const int kSignedLevels[] = {3, 5, 7, 9, 15, 17, 31, 63, 127, 255};
const int kReluLevels[] = {2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256};
const double kBetas[] = {0.0, 0.5, 1.0};

int bits_for(int levels) { return static_cast<int>(std::ceil(std::log2(static_cast<double>(levels)))); }

struct Sizes {
  double entropy_bits, coded_bits;
};

Sizes sizes(const std::vector<std::uint64_t>& hist, double per) {
  const HuffmanCode code = HuffmanCode::build(hist);
  return {std::ceil(entropy_bits(hist) / per),
          std::ceil(static_cast<double>(code.payload_bits(hist)) / per) + static_cast<double>(code.table_bits())};
}

double pick(RateKind k, double fixed, const Sizes& s) {
  return k == RateKind::Fixed ? fixed : k == RateKind::Entropy ? s.entropy_bits : s.coded_bits;
}

}  // namespace

namespace {

// One setting to measure: a tensor of layer `layer` quantized alone.
struct Job {
  std::size_t layer = 0;
  bool weights = false;
  int levels = 0;
  double beta = 0;
};

}  // namespace

RateDistortionCurves measured_curves(const InferenceEngine& engine, const Dataset& calibration,
                                     const MeasureOptions& options) {
  const sim::Network& net = engine.network();
  const int n = calibration.count;
  const std::vector<Activations> reference = engine.forward_all(calibration.images, n);
  const Activations& ref_out = reference[engine.output_layer()];
  const std::size_t layers = net.layers().size();

  // Every setting, in curve order; per layer, whether its output is >= 0 and the values the
  // activation quantizers are fitted on (the same values QuantizedModel fits on).
  std::vector<Job> jobs;
  std::vector<bool> nonnegative(layers);
  std::vector<std::vector<double>> fit_values(layers);
  for (std::size_t i = 0; i < layers; ++i) {
    const sim::Layer& l = net.layer(i);
    if (l.weights > 0 && l.values)
      for (int levels : kSignedLevels)
        for (double beta : kBetas) jobs.push_back({i, true, levels, beta});
    const Activations& act = reference[i];
    nonnegative[i] = std::all_of(act.begin(), act.end(), [](float v) { return v >= 0; });
    fit_values[i] = calibration_sample(act);
    if (nonnegative[i])
      for (int levels : kReluLevels) jobs.push_back({i, false, levels, -1});
    else
      for (int levels : kSignedLevels) jobs.push_back({i, false, levels, 0});
  }

  // Settings run in parallel, one single-threaded forward pass each (results do not depend on the
  // split: images are computed one by one). Each worker keeps its own copy of the activations and
  // takes settings in curve order, so the layers before a setting's tensor only need restoring
  // from the reference between its previous setting's layer and this one (prefix reuse).
  const InferenceEngine single(net, 1);
  std::vector<CurveOption> results(jobs.size());
  auto worker = [&] {
    auto state = std::make_shared<std::pair<std::vector<Activations>, std::size_t>>(reference, layers);
    return [&, state](std::size_t j) {
      std::vector<Activations>& work = state->first;
      std::size_t& dirty_from = state->second;  // work[k] may differ from reference[k] for k >= dirty_from
      const Job& job = jobs[j];
      const std::size_t i = job.layer;
      for (std::size_t k = dirty_from; k < i; ++k) work[k] = reference[k];
      dirty_from = i;
      const sim::Layer& l = net.layer(i);
      CurveOption& o = results[j];
      o.levels = job.levels;
      o.beta = job.beta;
      o.bits = bits_for(job.levels);
      if (job.weights) {
        std::vector<float> q = l.values->weights;
        const std::vector<std::uint32_t> symbols = quantize_weights(q, job.levels, job.beta);
        std::vector<std::uint64_t> hist(static_cast<std::size_t>(job.levels), 0);
        for (auto sym : symbols) ++hist[sym];
        // The bias (if any) is not quantized; its bits are charged at 32 per value.
        const double bias_bits = 32.0 * static_cast<double>(l.values->bias.size());
        const Sizes sz = sizes(hist, 1.0);
        ForwardHooks hooks;
        hooks.weights.assign(layers, nullptr);
        hooks.weights[i] = &q;
        single.forward_from(work, i, n, &hooks);
        o.name = fmt::format("t{}_beta{}", job.levels, job.beta);
        o.fixed_bits = o.bits * static_cast<double>(symbols.size()) + bias_bits;
        o.entropy_bits = sz.entropy_bits + bias_bits;
        o.coded_bits = sz.coded_bits + bias_bits;
        o.rate_bits = pick(options.rate, o.fixed_bits, {o.entropy_bits, o.coded_bits});
      } else {
        Activations& outs_i = work[i];
        outs_i = reference[i];
        std::vector<std::uint64_t> hist(static_cast<std::size_t>(job.levels), 0);
        auto apply = [&](const auto& q) {
          for (float& v : outs_i) {
            const int idx = q.index(v);
            ++hist[static_cast<std::size_t>(q.symbol(idx))];
            v = static_cast<float>(q.reconstruct(idx));
          }
        };
        if (nonnegative[i])
          apply(best_relu_quantizer(fit_values[i], job.levels));
        else
          apply(best_dead_zone_quantizer(fit_values[i], job.levels, 0.0));
        single.forward_from(work, i + 1, n);
        const Sizes sz = sizes(hist, static_cast<double>(n));
        o.name = nonnegative[i] ? fmt::format("t{}", job.levels) : fmt::format("t{}_beta0", job.levels);
        o.fixed_bits = o.bits * static_cast<double>(l.output.count());
        o.entropy_bits = sz.entropy_bits;
        o.coded_bits = sz.coded_bits;
        o.rate_bits = pick(options.rate, o.fixed_bits, sz);
      }
      o.distortion = mean_squared_error(ref_out, work[engine.output_layer()]);
    };
  };
  parallel_for(jobs.size(), engine.threads(), worker, options.progress);

  RateDistortionCurves curves;
  curves.rate = options.rate;
  curves.source = fmt::format("measured on '{}'", net.name());
  curves.provenance =
      fmt::format("measured: output MSE vs float on {} images of {}, each tensor quantized alone", n, calibration.name);
  for (std::size_t j = 0; j < jobs.size();) {
    const sim::Layer& l = net.layer(jobs[j].layer);
    TensorCurve t;
    t.layer = l.name;
    t.kind = jobs[j].weights ? CurveTensorKind::Weight : CurveTensorKind::Activation;
    t.tensor = l.name + (jobs[j].weights ? ":w" : ":a");
    t.count = jobs[j].weights ? l.weights : l.output.count();
    const std::size_t layer = jobs[j].layer;
    const bool weights = jobs[j].weights;
    for (; j < jobs.size() && jobs[j].layer == layer && jobs[j].weights == weights; ++j)
      t.options.push_back(results[j]);
    curves.tensors.push_back(std::move(t));
  }
  return curves;
}

std::vector<AdditivityPoint> measure_additivity(const InferenceEngine& engine, const Dataset& calibration,
                                                const RateDistortionCurves& curves, int samples, std::uint64_t seed) {
  const sim::Network& net = engine.network();
  const int n = calibration.count;
  const std::vector<Activations> reference = engine.forward_all(calibration.images, n);
  const Activations& ref_out = reference[engine.output_layer()];
  std::mt19937_64 rng(seed);
  std::vector<AdditivityPoint> points;
  for (int s = 0; s < samples; ++s) {
    ForwardHooks hooks;
    hooks.weights.assign(net.layers().size(), nullptr);
    hooks.outputs.resize(net.layers().size());
    std::vector<std::vector<float>> weights(net.layers().size());
    AdditivityPoint p;
    for (const TensorCurve& t : curves.tensors) {
      if (rng() % 2 == 0) continue;  // each tensor in the subset with probability 1/2
      const CurveOption& o = t.options[rng() % t.options.size()];
      const auto layer = net.find(t.layer);
      if (!layer)
        throw InputError(o.where, fmt::format("curves tensor {}: no layer '{}' in the model", t.tensor, t.layer));
      const auto i = *layer;
      ++p.tensors;
      p.predicted += o.distortion;
      if (t.kind == CurveTensorKind::Weight) {
        weights[i] = net.layer(i).values->weights;
        quantize_weights(weights[i], o.levels, std::max(0.0, o.beta));
        hooks.weights[i] = &weights[i];
      } else {
        const std::vector<double> cal = calibration_sample(reference[i]);
        if (o.beta < 0) {
          const ReluQuantizer q = best_relu_quantizer(cal, o.levels);
          hooks.outputs[i] = [q](std::span<float> v) {
            for (float& x : v) x = static_cast<float>(q.reconstruct(q.index(x)));
          };
        } else {
          const DeadZoneQuantizer q = best_dead_zone_quantizer(cal, o.levels, o.beta);
          hooks.outputs[i] = [q](std::span<float> v) {
            for (float& x : v) x = static_cast<float>(q.reconstruct(q.index(x)));
          };
        }
      }
    }
    p.measured = mean_squared_error(ref_out, engine.forward(calibration.images, n, &hooks));
    points.push_back(p);
  }
  return points;
}

}  // namespace bitsim::alloc
