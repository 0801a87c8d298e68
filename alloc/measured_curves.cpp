// Measuring each tensor's curve by quantizing it alone.
#include "alloc/measured_curves.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <random>

#include "alloc/huffman.h"
#include "alloc/quantized_model.h"
#include "alloc/quantizer.h"

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

RateDistortionCurves measured_curves(const InferenceEngine& engine, const Dataset& calibration,
                                     const MeasureOptions& options) {
  const sim::Network& net = engine.network();
  const int n = calibration.count;
  const std::vector<Activations> reference = engine.forward_all(calibration.images, n);
  const Activations& ref_out = reference[engine.output_layer()];
  // One working copy: a setting of layer i rewrites only layers >= i, so the prefix stays valid.
  std::vector<Activations> work = reference;

  RateDistortionCurves curves;
  curves.rate = options.rate;
  curves.source = fmt::format("measured on '{}'", net.name());
  curves.provenance =
      fmt::format("measured: output MSE vs float on {} images of {}, each tensor quantized alone", n, calibration.name);

  std::size_t total = 0, done = 0;
  for (const sim::Layer& l : net.layers()) {
    if (l.weights > 0) total += std::size(kSignedLevels) * std::size(kBetas);
    total += std::size(kReluLevels);
  }
  auto tick = [&] {
    ++done;
    if (options.progress) options.progress(done, total);
  };

  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const sim::Layer& l = net.layer(i);
    if (l.weights > 0 && l.values) {
      TensorCurve t;
      t.tensor = l.name + ":w";
      t.layer = l.name;
      t.kind = CurveTensorKind::Weights;
      t.count = l.weights;
      for (int levels : kSignedLevels)
        for (double beta : kBetas) {
          std::vector<float> q = l.values->weights;
          const std::vector<std::uint32_t> symbols = quantize_weights(q, levels, beta);
          std::vector<std::uint64_t> hist(static_cast<std::size_t>(levels), 0);
          for (auto s : symbols) ++hist[s];
          // The bias (if any) is not quantized; its bits are charged at 32 per value.
          const double bias_bits = 32.0 * static_cast<double>(l.values->bias.size());
          const Sizes sz = sizes(hist, 1.0);
          ForwardHooks hooks;
          hooks.weights.assign(net.layers().size(), nullptr);
          hooks.weights[i] = &q;
          engine.forward_from(work, i, n, &hooks);
          CurveOption o;
          o.name = fmt::format("t{}_beta{}", levels, beta);
          o.bits = bits_for(levels);
          o.levels = levels;
          o.beta = beta;
          o.fixed_bits = o.bits * static_cast<double>(symbols.size()) + bias_bits;
          o.entropy_bits = sz.entropy_bits + bias_bits;
          o.coded_bits = sz.coded_bits + bias_bits;
          o.rate_bits = pick(options.rate, o.fixed_bits, {o.entropy_bits, o.coded_bits});
          o.distortion = mean_squared_error(ref_out, work[engine.output_layer()]);
          t.options.push_back(o);
          tick();
        }
      curves.tensors.push_back(std::move(t));
    }
    // The layer's output (the network input too).
    const Activations& act = reference[i];
    const bool nonnegative = std::all_of(act.begin(), act.end(), [](float v) { return v >= 0; });
    TensorCurve t;
    t.tensor = l.name + ":a";
    t.layer = l.name;
    t.kind = CurveTensorKind::Activations;
    t.count = l.output.count();
    const std::vector<double> values = calibration_sample(act);  // the same values QuantizedModel fits on
    for (std::size_t k = 0; k < std::size(kReluLevels); ++k) {
      const int levels =
          nonnegative ? kReluLevels[k] : kSignedLevels[k < std::size(kSignedLevels) ? k : std::size(kSignedLevels) - 1];
      if (!nonnegative && k >= std::size(kSignedLevels)) {  // the signed list is one shorter
        tick();
        continue;
      }
      Activations& outs_i = work[i];
      outs_i = reference[i];
      std::vector<std::uint64_t> hist(static_cast<std::size_t>(levels), 0);
      if (nonnegative) {
        const ReluQuantizer q = best_relu_quantizer(values, levels);
        for (float& v : outs_i) {
          const int idx = q.index(v);
          ++hist[static_cast<std::size_t>(q.symbol(idx))];
          v = static_cast<float>(q.reconstruct(idx));
        }
      } else {
        const DeadZoneQuantizer q = best_dead_zone_quantizer(values, levels, 0.0);
        for (float& v : outs_i) {
          const int idx = q.index(v);
          ++hist[static_cast<std::size_t>(q.symbol(idx))];
          v = static_cast<float>(q.reconstruct(idx));
        }
      }
      engine.forward_from(work, i + 1, n);
      const Sizes sz = sizes(hist, static_cast<double>(n));
      CurveOption o;
      o.name = nonnegative ? fmt::format("t{}", levels) : fmt::format("t{}_beta0", levels);
      o.bits = bits_for(levels);
      o.levels = levels;
      o.beta = nonnegative ? -1 : 0;
      o.fixed_bits = o.bits * static_cast<double>(t.count);
      o.entropy_bits = sz.entropy_bits;
      o.coded_bits = sz.coded_bits;
      o.rate_bits = pick(options.rate, o.fixed_bits, sz);
      o.distortion = mean_squared_error(ref_out, work[engine.output_layer()]);
      t.options.push_back(o);
      tick();
    }
    work[i] = reference[i];
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
      if (t.kind == CurveTensorKind::Weights) {
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
