// measure_plan: float and quantized forward passes on the same images.
#include "alloc/study/measure.h"

#include <fmt/format.h>
#include <limits>

#include "alloc/inference.h"
#include "alloc/quantized_model.h"
#include "sim/base/diagnostics.h"

namespace bitsim::study {

PlanMeasurement measure_plan(const sim::Network& net, const sim::BitPlan* plan, const alloc::Dataset& test,
                             std::span<const float> calibration, int calibration_count) {
  const sim::Shape& input = net.layer(0).output;
  alloc::check_input_shape(test, input);
  const alloc::InferenceEngine engine(net);
  PlanMeasurement m;
  m.data = test.name;
  m.images = test.count;
  const alloc::Activations reference = engine.forward(test.images, test.count);
  m.labelled = !test.labels.empty();
  m.float_accuracy = m.accuracy = alloc::top1_accuracy(reference, test.labels);
  m.output_sqnr_db = std::numeric_limits<double>::infinity();
  if (plan) {
    const alloc::QuantizedModel quantized(net, *plan, engine.forward_all(calibration, calibration_count));
    const alloc::Activations out = engine.forward(test.images, test.count, &quantized.hooks());
    m.output_mse = alloc::mean_squared_error(reference, out);
    m.accuracy = alloc::top1_accuracy(out, test.labels);
    m.agreement = alloc::top1_agreement(reference, out, test.count);
    m.output_sqnr_db = alloc::sqnr_db(reference, out);
  }
  return m;
}

}  // namespace bitsim::study
