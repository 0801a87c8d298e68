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

// Measures every setting of every tensor against the float network's outputs on the calibration
// images: the settings, the measurement of one, and the curves assembled from the results.
class CurveMeasurer {
 public:
  CurveMeasurer(const InferenceEngine& engine, const Dataset& calibration, const MeasureOptions& options)
      : m_engine(engine),
        m_net(engine.network()),
        m_images(calibration.count),
        m_options(options),
        m_reference(engine.forward_all(calibration.images, calibration.count)),
        m_single(engine.network(), 1, engine.isa()),
        m_nonnegative(m_net.layers().size()),
        m_fit_values(m_net.layers().size()) {
    const Activations out = m_engine.outputs_of(m_reference, m_images);
    if (std::any_of(out.begin(), out.end(), [](float v) { return !std::isfinite(v); }))
      throw InputError({}, fmt::format("the float network '{}' gives non-finite outputs on {}: no error can be "
                                       "measured against them",
                                       m_net.name(), calibration.name));
    make_jobs();
  }

  const std::vector<Job>& jobs() const { return m_jobs; }

  // A worker's scratch: its own copy of the activations, and the first layer whose activations may
  // differ from the reference. Workers take settings in curve order, so the layers before a
  // setting's tensor only need restoring from the reference between its previous setting's layer
  // and this one (prefix reuse).
  struct Scratch {
    std::vector<Activations> work;
    std::size_t dirty_from = 0;
  };
  Scratch scratch() const { return {m_reference, m_reference.size()}; }

  // Setting j, run as one single-threaded forward pass (results do not depend on the split: images
  // are computed one by one).
  CurveOption measure(std::size_t j, Scratch& s) const {
    const Job& job = m_jobs[j];
    for (std::size_t k = s.dirty_from; k < job.layer; ++k) s.work[k] = m_reference[k];
    s.dirty_from = job.layer;
    CurveOption o;
    o.levels = job.levels;
    o.beta = job.beta;
    o.bits = bits_for(job.levels);
    if (job.weights)
      quantize_weights_of(job, s.work, o);
    else
      quantize_activations_of(job, s.work, o);
    o.distortion = m_engine.output_mse(m_reference, s.work);
    if (!std::isfinite(o.distortion))  // a curve must never carry nan (solvers and the curves file refuse it)
      throw InputError({}, fmt::format("measuring {}{} with {} levels: the output error is not a finite number (the "
                                       "quantized network's outputs overflow float32)",
                                       m_net.layer(job.layer).name, job.weights ? ":w" : ":a", job.levels));
    return o;
  }

  // The curves, tensor by tensor in job order, from each job's option.
  RateDistortionCurves curves(const Dataset& calibration, std::vector<CurveOption> results) const {
    RateDistortionCurves curves;
    curves.rate = m_options.rate;
    curves.source = fmt::format("measured on '{}'", m_net.name());
    curves.provenance = fmt::format("measured: output MSE vs float on {} images of {}, each tensor quantized alone",
                                    m_images, calibration.name);
    for (std::size_t j = 0; j < m_jobs.size();) {
      const sim::Layer& l = m_net.layer(m_jobs[j].layer);
      const bool weights = m_jobs[j].weights;
      TensorCurve t;
      t.layer = l.name;
      t.kind = weights ? CurveTensorKind::Weight : CurveTensorKind::Activation;
      t.tensor = l.name + (weights ? ":w" : ":a");
      t.count = weights ? l.weights : l.output.count();
      for (const std::size_t layer = m_jobs[j].layer;
           j < m_jobs.size() && m_jobs[j].layer == layer && m_jobs[j].weights == weights; ++j)
        t.options.push_back(std::move(results[j]));
      curves.tensors.push_back(std::move(t));
    }
    return curves;
  }

 private:
  // Every setting, in curve order; per layer, whether its output is >= 0 and the values the
  // activation quantizers are fitted on (the same values QuantizedModel fits on).
  void make_jobs() {
    for (std::size_t i = 0; i < m_net.layers().size(); ++i) {
      const sim::Layer& l = m_net.layer(i);
      if (l.weights > 0 && l.values)
        for (int levels : kSignedLevels)
          for (double beta : kBetas) m_jobs.push_back({i, true, levels, beta});
      const Activations& act = m_reference[i];
      m_nonnegative[i] = std::all_of(act.begin(), act.end(), [](float v) { return v >= 0; });
      m_fit_values[i] = calibration_sample(act);
      if (m_nonnegative[i])
        for (int levels : kReluLevels) m_jobs.push_back({i, false, levels, -1});
      else
        for (int levels : kSignedLevels) m_jobs.push_back({i, false, levels, 0});
    }
  }

  // The layer's weights quantized (seed 004 eq. 1), the network run from that layer on.
  void quantize_weights_of(const Job& job, std::vector<Activations>& work, CurveOption& o) const {
    const sim::Layer& l = m_net.layer(job.layer);
    std::vector<float> q = l.values->weights;
    const std::vector<std::uint32_t> symbols = quantize_weights(q, job.levels, job.beta);
    std::vector<std::uint64_t> hist(static_cast<std::size_t>(job.levels), 0);
    for (auto sym : symbols) ++hist[sym];
    // The bias (if any) is not quantized; its bits are charged at 32 per value.
    const double bias_bits = 32.0 * static_cast<double>(l.values->bias.size());
    const Sizes sz = sizes(hist, 1.0);
    ForwardHooks hooks;
    hooks.weights.assign(m_net.layers().size(), nullptr);
    hooks.weights[job.layer] = &q;
    m_single.forward_from(work, job.layer, m_images, &hooks);
    o.name = fmt::format("t{}_beta{}", job.levels, job.beta);
    o.fixed_bits = o.bits * static_cast<double>(symbols.size()) + bias_bits;
    o.entropy_bits = sz.entropy_bits + bias_bits;
    o.coded_bits = sz.coded_bits + bias_bits;
    o.rate_bits = pick(m_options.rate, o.fixed_bits, {o.entropy_bits, o.coded_bits});
  }

  // The layer's output quantized (seed 004 eq. 2 for ReLU outputs, a dead-zone quantizer with
  // beta 0 otherwise), the network run from the next layer on.
  void quantize_activations_of(const Job& job, std::vector<Activations>& work, CurveOption& o) const {
    const std::size_t i = job.layer;
    Activations& outs = work[i];
    outs = m_reference[i];
    std::vector<std::uint64_t> hist(static_cast<std::size_t>(job.levels), 0);
    auto apply = [&](const auto& q) {
      for (float& v : outs) {
        const int idx = q.index(v);
        ++hist[static_cast<std::size_t>(q.symbol(idx))];
        v = static_cast<float>(q.reconstruct(idx));
      }
    };
    if (m_nonnegative[i])
      apply(best_relu_quantizer(m_fit_values[i], job.levels));
    else
      apply(best_dead_zone_quantizer(m_fit_values[i], job.levels, 0.0));
    m_single.forward_from(work, i + 1, m_images);
    const Sizes sz = sizes(hist, static_cast<double>(m_images));
    o.name = m_nonnegative[i] ? fmt::format("t{}", job.levels) : fmt::format("t{}_beta0", job.levels);
    o.fixed_bits = o.bits * static_cast<double>(m_net.layer(i).output.count());
    o.entropy_bits = sz.entropy_bits;
    o.coded_bits = sz.coded_bits;
    o.rate_bits = pick(m_options.rate, o.fixed_bits, sz);
  }

  const InferenceEngine& m_engine;
  const sim::Network& m_net;
  int m_images;
  const MeasureOptions& m_options;
  std::vector<Activations> m_reference;  // the float network's activations, per layer
  InferenceEngine m_single;              // single-threaded: the settings run in parallel instead
  std::vector<bool> m_nonnegative;
  std::vector<std::vector<double>> m_fit_values;
  std::vector<Job> m_jobs;
};

}  // namespace

RateDistortionCurves measured_curves(const InferenceEngine& engine, const Dataset& calibration,
                                     const MeasureOptions& options) {
  const CurveMeasurer measurer(engine, calibration, options);
  std::vector<CurveOption> results(measurer.jobs().size());
  auto worker = [&] {
    auto scratch = std::make_shared<CurveMeasurer::Scratch>(measurer.scratch());
    return [&, scratch](std::size_t j) { results[j] = measurer.measure(j, *scratch); };
  };
  parallel_for(results.size(), engine.threads(), worker, options.progress);
  return measurer.curves(calibration, std::move(results));
}

std::vector<AdditivityPoint> measure_additivity(const InferenceEngine& engine, const Dataset& calibration,
                                                const RateDistortionCurves& curves, int samples, std::uint64_t seed) {
  const sim::Network& net = engine.network();
  const int n = calibration.count;
  const std::vector<Activations> reference = engine.forward_all(calibration.images, n);
  const Activations ref_out = engine.outputs_of(reference, n);
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
