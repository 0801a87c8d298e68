// The shipped Fashion-MNIST model end to end: ONNX import, float accuracy as PyTorch measured it
// when training (tools/scripts/train_fmnist.py), and quantized inference through a bit plan.
#include <gtest/gtest.h>
#include <filesystem>

#include "alloc/dataset.h"
#include "alloc/inference.h"
#include "alloc/measured_curves.h"
#include "alloc/plan_score.h"
#include "alloc/quantized_model.h"
#include "alloc/solvers/solver.h"
#include "sim/workload.h"

namespace bitsim::alloc {
namespace {

const std::string kModel = std::string(BITSIM_SOURCE_DIR) + "/workloads/fmnist_cnn.onnx";
// What tools/scripts/train_fmnist.py printed for the exported model: "wrote workloads/fmnist_cnn.onnx: test
// accuracy 0.9161" (PyTorch, 10,000 test images).
constexpr double kTrainingAccuracy = 0.9161;

bool have_data() { return std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); }

TEST(Dataset, FashionMnistTestImages) {
  if (!have_data()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const Dataset d = load_dataset("fashion-mnist:100");
  EXPECT_EQ(d.count, 100);
  EXPECT_EQ(d.shape, (sim::Shape{1, 28, 28}));
  EXPECT_EQ(d.images.size(), 100u * 28 * 28);
  EXPECT_EQ(d.labels[0], 9);  // the first test image is an ankle boot
  EXPECT_EQ(d.labels[1], 2);  // a pullover
  for (float v : d.images) ASSERT_TRUE(v >= 0 && v <= 1);
  EXPECT_EQ(load_dataset("fashion-mnist-train:5").count, 5);
}

TEST(Dataset, BadSpecsAreNamed) {
  try {
    load_dataset("mnist");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(
        e.what(),
        "error: --data: unknown data set 'mnist'; expected fashion-mnist or fashion-mnist-train (optionally :N "
        "for the first N images)");
  }
  EXPECT_THROW(load_dataset("fashion-mnist:0"), InputError);
  EXPECT_THROW(load_dataset("fashion-mnist:x"), InputError);
}

TEST(ShippedModel, ImportsWithFoldedBatchNormAndMatchesTrainingAccuracy) {
  if (!have_data()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const sim::Network net = sim::load_workload(kModel);
  EXPECT_TRUE(net.has_values());
  const Dataset d = load_dataset("fashion-mnist");
  const InferenceEngine engine(net);
  const double accuracy = top1_accuracy(engine.forward(d.images, d.count), d.labels);
  // tools/scripts/train_fmnist.py printed the PyTorch test accuracy of the exported weights (see README).
  EXPECT_NEAR(accuracy, kTrainingAccuracy, 0.002);
  EXPECT_GE(accuracy, 0.90);
}

TEST(ShippedModel, QuantizedInferenceDegradesWithFewerBits) {
  if (!have_data()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const sim::Network net = sim::load_workload(kModel);
  const Dataset d = load_dataset("fashion-mnist:1000");
  const InferenceEngine engine(net);
  const Activations reference = engine.forward(d.images, d.count);
  const auto calibration = engine.forward_all(std::span<const float>(d.images.data(), 256 * 784), 256);
  double previous_mse = 0;
  for (int bits : {8, 4, 2}) {
    const QuantizedModel q(net, sim::BitPlan::uniform(net, bits, bits), calibration);
    const Activations out = engine.forward(d.images, d.count, &q.hooks());
    const double mse = mean_squared_error(reference, out);
    EXPECT_GT(mse, previous_mse) << bits;
    previous_mse = mse;
    if (bits == 8) {
      EXPECT_NEAR(top1_accuracy(out, d.labels), top1_accuracy(reference, d.labels), 0.01);
    }
  }
}

}  // namespace
}  // namespace bitsim::alloc

namespace bitsim::alloc {
namespace {

TEST(MeasuredCurves, EveryTensorMeasuredOnRealImages) {
  if (!have_data()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const sim::Network net = sim::load_workload(kModel);
  const InferenceEngine engine(net);
  std::size_t last_done = 0, last_total = 0;
  MeasureOptions options;
  options.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(done, last_done + 1);
    last_done = done;
    last_total = total;
  };
  const RateDistortionCurves c = measured_curves(engine, load_dataset("fashion-mnist-train:4"), options);
  EXPECT_EQ(last_done, last_total);
  EXPECT_EQ(c.provenance.rfind("measured", 0), 0u);
  std::size_t weight_tensors = 0;
  for (const sim::Layer& l : net.layers()) weight_tensors += l.weights > 0;
  EXPECT_EQ(c.tensors.size(), weight_tensors + net.layers().size());  // + every layer's output, the input too
  for (const TensorCurve& t : c.tensors) {
    ASSERT_FALSE(t.options.empty());
    // The finest setting disturbs the output less than the coarsest.
    EXPECT_LT(t.options.back().distortion, t.options.front().distortion) << t.tensor;
    for (const CurveOption& o : t.options) {
      EXPECT_GE(o.coded_bits, o.entropy_bits) << t.tensor << " " << o.name;
      EXPECT_EQ(o.rate_bits, o.coded_bits);
      EXPECT_GT(o.levels, 0);
    }
  }
  // A plan allocated on them carries each tensor's quantizer to evaluation.
  const Allocation a = allocate(c, 4.0 * static_cast<double>(c.total_values()), find_solver("exact"));
  const sim::BitPlan plan = to_bit_plan(net, c, a, 8, "exact");
  const CurveOption& chosen = c.tensors[0].options[static_cast<std::size_t>(a.choice[0])];
  const auto layer = *net.find(c.tensors[0].layer);
  const sim::TensorCoding& coding =
      c.tensors[0].kind == CurveTensorKind::Weights ? plan.weights[layer] : plan.activations[layer];
  EXPECT_EQ(coding.levels, chosen.levels);

  // Additivity: seeded (the same points twice), and the joint error tracks the sum of single errors.
  const Dataset calibration = load_dataset("fashion-mnist-train:4");
  const auto points = measure_additivity(engine, calibration, c, 6, 7);
  const auto again = measure_additivity(engine, calibration, c, 6, 7);
  ASSERT_EQ(points.size(), 6u);
  for (std::size_t k = 0; k < points.size(); ++k) {
    EXPECT_EQ(points[k].measured, again[k].measured);
    EXPECT_GT(points[k].tensors, 0);
    EXPECT_GT(points[k].measured, 0);
    EXPECT_GT(points[k].measured, 0.1 * points[k].predicted);
    EXPECT_LT(points[k].measured, 10 * points[k].predicted);
  }
}

}  // namespace
}  // namespace bitsim::alloc
