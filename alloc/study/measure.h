// Measuring a plan on real data: the quantized network's output error against the float network
// (seed 004 eq. 3: mean squared difference of the outputs) and top-1 accuracy, on a data set; on data
// without labels, top-1 agreement with the float network.
// Activation quantizer steps are calibrated on separate images run through the float network.
#pragma once

#include <span>
#include <string>

#include "alloc/dataset.h"
#include "sim/bit_plan.h"
#include "sim/network.h"

namespace bitsim::study {

struct PlanMeasurement {
  std::string data;           // the data set's name
  int images = 0;             // images measured
  double output_mse = 0;      // quantized vs float outputs (0 for the float network)
  double accuracy = 0;        // top-1 of the quantized network (of the float one without a plan)
  double float_accuracy = 0;  // top-1 of the float network
  // Data without labels (random:N, an .npy file): no accuracy; how often the quantized network's
  // top-1 is the float network's instead (1 without a plan), and the output SQNR in dB.
  bool labelled = true;
  double agreement = 1;
  double output_sqnr_db = 0;  // +inf without a plan
};

// `plan` null: the float network alone. `calibration` holds `calibration_count` images of the
// network's input shape. InputError if the data's images are not the network's input shape.
PlanMeasurement measure_plan(const sim::Network& net, const sim::BitPlan* plan, const alloc::Dataset& test,
                             std::span<const float> calibration, int calibration_count);

}  // namespace bitsim::study
