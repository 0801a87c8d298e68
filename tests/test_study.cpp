// Study files and the study runner: parsing with located errors, the cross product of the varied
// parameters, thread-independent results, the Pareto front, and the bandwidth claim.
#include <gtest/gtest.h>

#include "alloc/plan_score.h"
#include "alloc/study/study.h"
#include "alloc/study/study_records.h"
#include "alloc/study/study_spec.h"
#include "test_util.h"

namespace bitsim::alloc {

using namespace bitsim::study;
namespace {

using testing::error_of;

const std::string kSmall = std::string(BITSIM_SOURCE_DIR) + "/tests/data/study/small.yaml";

TEST(StudySpec, RangesAndListsExpand) {
  const study::StudySpec s = study::load_study_spec(kSmall);
  ASSERT_EQ(s.vary.size(), 1u);
  EXPECT_EQ(s.vary[0].key, "dram.bandwidth");
  EXPECT_EQ(s.vary[0].values, (std::vector<std::string>{"2 GB/s", "16 GB/s", "128 GB/s"}));
  EXPECT_EQ(s.points(), 3u);
  EXPECT_EQ(s.avg_bits, (std::vector<double>{2, 4}));
}

std::string spec_error(const std::string& body) {
  // Paths must resolve: the file sits in the temp folder, so use absolute ones.
  const std::string text = "hardware: " + std::string(BITSIM_SOURCE_DIR) +
                           "/configs/tpu.yaml\nworkload: " + std::string(BITSIM_SOURCE_DIR) +
                           "/workloads/alexnet.yaml\n" + body;
  return error_of("study.yaml", text, [](const std::string& p) { study::load_study_spec(p); });
}

TEST(StudySpec, ErrorsNameTheLineAndWhatWasExpected) {
  // (The file's first two lines are hardware and workload.)
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  dram.bandwith: [\"1 GB/s\"]\n"),
            "F:5:19: error: vary: 'dram.bandwith' is not a hardware parameter (did you mean 'dram.bandwidth'?) (see "
            "`bitsim explain-config`)");
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  dram.bandwidth: [\"1 GB/s\", \"fast\"]\n"),
            "F:5:30: error: vary: dram.bandwidth: expected a quantity with a unit (B/s, KB/s, MB/s, GB/s, KiB/s, "
            "MiB/s, GiB/s) or 'unlimited', got 'fast'");
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  array.rows: {from: 8, to: 64}\n"),
            "F:5:15: error: vary.array.rows: a range needs exactly one of 'step' (linear) and 'factor' (geometric)");
  // A value its parameter parses but the config cannot take (the loader's own cross-field check).
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  clock: [\"1 GHz\", \"0 Hz\"]\n"),
            "F:5:20: error: vary: clock: expected a frequency of at least 1 Hz, got 0 Hz");
  EXPECT_EQ(spec_error("vary: {}\n"),
            "F:1:1: error: avg_bits: missing (bits per value on average, a number or a list)");
  EXPECT_EQ(spec_error("avg_bits: 2\nsolver: [exact]\n"),
            "F:4:1: error: solver: unknown key (did you mean 'solvers'?); expected one of: hardware, workload, "
            "input_shape, curves, rate, avg_bits, solvers, batch, vary, cost, objectives");
  // Solver names are checked where they are written, against the one solver table.
  EXPECT_EQ(spec_error("avg_bits: 2\nsolvers: [exact, lagrangain]\n"),
            "F:4:18: error: solvers[1]: unknown solver 'lagrangain' (did you mean 'lagrangian'?); expected one of: "
            "equal, lagrangian, exact, sqnr, sensitivity, latency");
  EXPECT_EQ(spec_error("avg_bits: 2\nrate: huffman\n"),
            "F:4:7: error: rate: expected one of fixed, entropy, coded, got 'huffman'");
  // Co-design objectives: names from the one table, no repeats, at least two.
  EXPECT_EQ(spec_error("avg_bits: 2\nobjectives: [inference_rate, energi]\n"),
            "F:4:30: error: objectives[1]: expected one of inference_rate, output_error, energy, area, hardware_cost, "
            "got 'energi' (did you mean 'energy'?)");
  EXPECT_EQ(spec_error("avg_bits: 2\nobjectives: [energy, area, energy]\n"),
            "F:4:28: error: objectives[2]: 'energy' is listed twice");
  EXPECT_EQ(spec_error("avg_bits: 2\nobjectives: energy\n"),
            "F:4:13: error: objectives: expected a list of at least two of inference_rate, output_error, energy, "
            "area or hardware_cost, got 'energy'");
}

TEST(StudySpec, MalformedRangesAndKeysAreLocatedErrors) {
  // Both used to escape as yaml-cpp exceptions (exit 3).
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  array.rows: {to: 64, step: 8}\n"),
            "F:5:15: error: vary.array.rows.from: missing (a range needs from, to and one of step or factor)");
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  array.rows: {from: 8, step: 8}\n"),
            "F:5:15: error: vary.array.rows.to: missing (a range needs from, to and one of step or factor)");
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  [array.rows, array.cols]: [8]\n"),
            "F:5:3: error: vary: expected a hardware parameter key (e.g. dram.bandwidth), got a list");
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  array.rows: [8]\n  array.rows: [16]\n"),
            "F:6:3: error: vary.array.rows: duplicate key (first at line 5)");
}

TEST(StudySpec, PointCountCannotWrapAndMemoryIsBoundedUpFront) {
  // 8 axes of 256 values: 256^8 = 2^64 points, which wrapped to 0 and passed the 10-million check.
  std::string vary = "avg_bits: [2]\nvary:\n";
  for (const char* axis :
       {"array.rows: {from: 1, to: 256, step: 1}", "array.cols: {from: 1, to: 256, step: 1}",
        "decoder.lanes: {from: 1, to: 256, step: 1}", "decoder.symbols_per_cycle: {from: 1, to: 256, step: 1}",
        "clock: {from: 1, to: 256, step: 1, unit: MHz}", "sram.weights: {from: 1, to: 256, step: 1, unit: KiB}",
        "sram.activations: {from: 1, to: 256, step: 1, unit: KiB}",
        "dram.bandwidth: {from: 1, to: 256, step: 1, unit: GB/s}"})
    vary += std::string("  ") + axis + "\n";
  EXPECT_EQ(spec_error(vary),
            "F:5:3: error: the study has more than 2^64 points (1 x 1 x 1 x 256 x 256 x 256 x 256 x 256 x 256 x 256 x "
            "256: hardware x workloads x batches x varied values) x 1 budgets: more than 10 million");
  // 3 million points x 1 budget x (equal, lagrangian): 6 million rows of about 1 KiB.
  EXPECT_EQ(spec_error("avg_bits: [2]\nvary:\n  array.rows: {from: 1, to: 2000, step: 1}\n"
                       "  array.cols: {from: 1, to: 1500, step: 1}\n"),
            "F:5:3: error: the study would need about 5.7 GiB of memory (6000000 rows of about 1 KiB: 3000000 points "
            "x 1 budgets x 2 solvers); the limit is 4 GiB");
}

TEST(StudySpec, WrittenSpecReadsBackTheSame) {
  const study::StudySpec s = study::load_study_spec(kSmall);
  const std::string yaml = study::study_spec_yaml(s, "a comment");
  EXPECT_EQ(yaml.rfind("# a comment\n", 0), 0u) << yaml;
  const study::StudySpec r = study::load_study_spec(testing::write_temp("study_rt.yaml", yaml));
  EXPECT_EQ(r.hardware, s.hardware);
  EXPECT_EQ(r.workloads, s.workloads);
  EXPECT_EQ(r.curves_path, s.curves_path);
  EXPECT_EQ(r.rate, s.rate);
  EXPECT_EQ(r.avg_bits, s.avg_bits);
  EXPECT_EQ(r.solvers, s.solvers);
  EXPECT_EQ(r.batches, s.batches);
  ASSERT_EQ(r.vary.size(), s.vary.size());
  EXPECT_EQ(r.vary[0].key, s.vary[0].key);
  EXPECT_EQ(r.vary[0].values, s.vary[0].values);
  EXPECT_EQ(r.cost.dram_gb_per_s, s.cost.dram_gb_per_s);
  EXPECT_EQ(r.objectives, s.objectives);
  // The same file again, byte for byte.
  EXPECT_EQ(study::study_spec_yaml(r, "a comment"), yaml);
}

// `input_shape` gives ONNX workloads with symbolic input dimensions their shape, as --input-shape
// does (issue 13); it is checked where it is written, and written back.
TEST(StudySpec, InputShapeForOnnxWorkloads) {
  EXPECT_EQ(spec_error("avg_bits: 2\ninput_shape: [3, 8]\n"),
            "F:4:14: error: input_shape: expected [C, H, W] (three integers), got a list");
  EXPECT_EQ(spec_error("avg_bits: 2\ninput_shape: [3, 0, 8]\n"),
            "F:4:18: error: input_shape[1]: expected an integer from 1 to 16777216, got '0'");
  const std::string text =
      "hardware: " + std::string(BITSIM_SOURCE_DIR) + "/configs/tpu.yaml\nworkload: " + std::string(BITSIM_SOURCE_DIR) +
      "/tests/data/onnx/layouts.onnx\n" + "input_shape: [3, 8, 8]\navg_bits: [4]\nsolvers: [lagrangian]\n";
  const study::StudySpec s = study::load_study_spec(testing::write_temp("study_shape.yaml", text));
  ASSERT_TRUE(s.input_shape.has_value());
  EXPECT_EQ(*s.input_shape, (sim::Shape{3, 8, 8}));
  const std::string yaml = study::study_spec_yaml(s, "c");
  EXPECT_NE(yaml.find("input_shape: [3, 8, 8]"), std::string::npos) << yaml;
  const StudyResult r = run_study(s);
  EXPECT_EQ(r.rows.size(), 2u);  // equal and lagrangian at 4 bits
}

TEST(Study, SameRowsWithOneOrTwoThreads) {
  const study::StudySpec s = study::load_study_spec(kSmall);
  StudyOptions one, two;
  one.threads = 1;
  two.threads = 2;
  std::vector<std::size_t> reported;  // progress from two workers still arrives in order
  two.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 3u);
    reported.push_back(done);
  };
  const StudyResult a = run_study(s, one), b = run_study(s, two);
  EXPECT_EQ(reported, (std::vector<std::size_t>{1, 2, 3}));
  ASSERT_EQ(a.rows.size(), 3u * 2u * 3u);  // points x budgets x (equal, lagrangian, latency)
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].solver, b.rows[i].solver);
    EXPECT_EQ(a.rows[i].inference_rate_per_s, b.rows[i].inference_rate_per_s);
    EXPECT_EQ(a.rows[i].output_error, b.rows[i].output_error);
  }
}

TEST(Study, LatencyAwareSpeedupShrinksAsBandwidthGrows) {
  const StudyResult r = run_study(study::load_study_spec(kSmall));
  // Per budget, the latency rows at 2, 16 and 128 GB/s.
  for (double bits : {2.0, 4.0}) {
    std::vector<double> speedup;
    for (const StudyRow& row : r.rows)
      if (row.solver == "latency" && row.avg_bits == bits) {
        ASSERT_TRUE(row.feasible) << row.status;
        speedup.push_back(row.speedup_vs_equal);
        EXPECT_GE(row.speedup_vs_equal, 1 - 1e-9);  // never slower than equal at equal's error
      }
    ASSERT_EQ(speedup.size(), 3u);
    EXPECT_GT(speedup[0], 1.05) << bits;  // bandwidth-bound: a real gain
    EXPECT_LT(speedup[2], speedup[0]) << bits;
  }
  // Equal's error bounds the latency-aware plan's.
  for (std::size_t i = 0; i + 2 < r.rows.size(); i += 3) {
    ASSERT_EQ(r.rows[i].solver, "equal");
    EXPECT_LE(r.rows[i + 2].output_error, r.rows[i].output_error * (1 + 1e-12));
  }
}

// Points that fuse pooling into the convolutions solve on curves without the pooled convs'
// outputs: those tensors are not quantized and no budget counts them; equal runs faster there.
TEST(Study, FusedPointsSolveOnTheirOwnQuantizationPoints) {
  study::StudySpec s = study::load_study_spec(kSmall);
  s.vary[0].key = "datapath.fusion";
  s.vary[0].values = {"none", "elementwise_pool"};
  const StudyResult r = run_study(s);
  ASSERT_EQ(r.datapath_curves.size(), 2u);
  EXPECT_EQ(r.point_curves, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(alloc::on_chip_tensors(r.datapath_curves[0]), 0u);
  const std::size_t fused = alloc::on_chip_tensors(r.datapath_curves[1]);
  EXPECT_EQ(fused, 3u);  // AlexNet: conv1, conv2 and conv5 each feed a max pool
  EXPECT_LT(r.datapath_curves[1].total_values(), r.datapath_curves[0].total_values());
  const std::size_t per_point = r.rows.size() / 2;
  for (std::size_t i = 0; i < per_point; ++i) {
    const StudyRow &plain = r.rows[i], &fusing = r.rows[per_point + i];
    ASSERT_TRUE(plain.feasible && fusing.feasible) << plain.status << fusing.status;
    // Equal at the same width moves less (the latency row's target, equal's error, differs).
    if (fusing.solver == "equal") {
      EXPECT_GT(fusing.inference_rate_per_s, plain.inference_rate_per_s);
    }
    // Every plan of the fusing point leaves the fused tensors unquantized, whatever its solver.
    const Allocation a = row_allocation(r, per_point + i);
    const RateDistortionCurves& curves = row_curves(r, per_point + i);
    for (std::size_t t = 0; t < curves.tensors.size(); ++t)
      if (curves.tensors[t].on_chip()) {
        EXPECT_EQ(a.choice[t], 0);
      }
    if (fusing.solver == "equal") {
      EXPECT_LE(fusing.rate_bits, fusing.avg_bits * static_cast<double>(curves.total_values()));
    }
  }
}

// Like for like: equal stores fixed length (the study's rate is coded: every other solver may code
// a tensor, where that is smaller) and every other solver, the latency-aware one included, gets
// equal's real size.
TEST(Study, SolversAreBudgetedAtEqualsFixedLengthSize) {
  study::StudySpec s = study::load_study_spec(kSmall);
  s.avg_bits = {2.5, 4};  // 2.5: equal takes 2 bits, and the others its size, not 2.5 x values
  const StudyResult r = run_study(s);
  double equal_size = -1;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const StudyRow& row = r.rows[i];
    ASSERT_TRUE(row.feasible) << row.solver << ": " << row.status;
    const RateDistortionCurves& curves = row_curves(r, i);
    const Allocation a = row_allocation(r, i);
    if (row.solver == "equal") {
      equal_size = row.rate_bits;
      double fixed = 0;
      for (std::size_t t = 0; t < curves.tensors.size(); ++t) {
        const CurveOption& o = curves.tensors[t].options[static_cast<std::size_t>(a.choice[t])];
        EXPECT_NE(o.format, StorageFormat::Coded) << curves.tensors[t].tensor;
        fixed += o.rate_bits;
      }
      EXPECT_EQ(row.rate_bits, fixed);
      EXPECT_LE(row.rate_bits, row.avg_bits * static_cast<double>(curves.total_values()));
      if (row.avg_bits == 2.5) {
        EXPECT_EQ(row.rate_bits, 2.0 * static_cast<double>(curves.total_values()));
      }
    } else {  // the latency row too: most images/s at equal's error and within its size
      EXPECT_LE(row.rate_bits, equal_size) << row.solver;
    }
  }
}

TEST(Study, ParetoFrontKeepsOnlyUndominatedRows) {
  auto row = [](double rate, double error, double cost) {
    StudyRow r;
    r.inference_rate_per_s = rate;
    r.output_error = error;
    r.cost = cost;
    return r;
  };
  std::vector<StudyRow> rows = {row(10, 1, 5),  row(10, 1, 6), row(12, 2, 5),
                                row(9, 0.5, 9), row(8, 2, 5),  row(10, 1, 5)};
  rows.push_back(row(100, 0, 0));
  rows.back().feasible = false;  // never on the front
  const std::vector<bool> front = pareto_rows(
      rows, {study::Objective::InferenceRate, study::Objective::OutputError, study::Objective::HardwareCost});
  EXPECT_EQ(front, (std::vector<bool>{true, false, true, true, false, false, false}));
  // Energy and area as objectives: the same rows, cost ignored, energy and area deciding.
  for (StudyRow& r : rows) {
    r.energy_per_image_j = r.cost;  // as before for energy
    r.area_mm2 = 1;
  }
  rows[1].energy_per_image_j = 5;  // now equal to row 0 in everything: dominated (a repeat)
  rows[4].area_mm2 = 0.5;          // the smallest chip: on the front
  EXPECT_EQ(pareto_rows(rows, {study::Objective::InferenceRate, study::Objective::OutputError, study::Objective::Energy,
                               study::Objective::Area}),
            (std::vector<bool>{true, false, true, true, true, false, false}));
}

template <typename Call>
std::string error_text(Call&& call) {
  try {
    call();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// Rows written as exact text and read into a run that evaluated none: every field the same, bit for
// bit (resume, shards and MPI rely on it); a text cut off mid-point restores only whole points.
TEST(StudyRecords, RowsRoundTripExactly) {
  const study::StudySpec s = study::load_study_spec(kSmall);
  StudyOptions order;
  std::vector<std::size_t> finished;
  order.point_finished = [&](const StudyResult&, std::size_t p) { finished.push_back(p); };
  const StudyResult a = run_study(s, order);
  EXPECT_EQ(finished, (std::vector<std::size_t>{0, 1, 2}));
  std::string text(study::point_records_header());
  for (std::size_t p = 0; p < 3; ++p) study::append_point_records(a, p, text);
  StudyOptions none;
  none.selected.assign(3, 0);
  StudyResult b = run_study(s, none);
  EXPECT_EQ(b.point_done, (std::vector<char>{0, 0, 0}));
  const study::RestoredPoints restored = study::restore_point_records(b, text, "rows.csv");
  EXPECT_EQ(restored.points, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(restored.valid_bytes, text.size());
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    const StudyRow &x = a.rows[i], &y = b.rows[i];
    EXPECT_EQ(std::tie(x.point, x.hardware, x.workload, x.batch, x.axis_value, x.avg_bits, x.solver, x.rate_bits,
                       x.output_error, x.inference_rate_per_s, x.speedup_vs_equal, x.speedup_vs_native, x.cost,
                       x.energy_per_image_j, x.area_mm2, x.compute_bound, x.dram_bound, x.decode_bound, x.choice,
                       x.proven_optimal, x.feasible, x.status),
              std::tie(y.point, y.hardware, y.workload, y.batch, y.axis_value, y.avg_bits, y.solver, y.rate_bits,
                       y.output_error, y.inference_rate_per_s, y.speedup_vs_equal, y.speedup_vs_native, y.cost,
                       y.energy_per_image_j, y.area_mm2, y.compute_bound, y.dram_bound, y.decode_bound, y.choice,
                       y.proven_optimal, y.feasible, y.status))
        << i;
    EXPECT_EQ(a.row_plan[i], b.row_plan[i]);
  }
  EXPECT_EQ(a.native_rate_per_s, b.native_rate_per_s);
  EXPECT_FALSE(a.rows.back().choice.empty());  // a latency row: its own plan travels with it

  // Cut in the middle of point 1: point 0 only; the rest runs again.
  StudyResult c = run_study(s, none);
  const std::string cut = text.substr(0, text.find("\n1,") + 30);
  const study::RestoredPoints part = study::restore_point_records(c, cut, "rows.csv");
  EXPECT_EQ(part.points, (std::vector<std::size_t>{0}));
  EXPECT_EQ(part.valid_bytes, text.find("\n1,") + 1);
  EXPECT_EQ(c.point_done, (std::vector<char>{1, 0, 0}));

  // Malformed: named with its line.
  StudyResult d = run_study(s, none);
  std::string bad = text;
  bad.replace(bad.find(",equal,"), 7, ",equal,x");
  EXPECT_EQ(error_text([&] { study::restore_point_records(d, bad, "rows.csv"); }),
            "rows.csv:2: error: plan: expected a number, got 'x0'");
  StudyResult e = run_study(s, none);
  EXPECT_EQ(error_text([&] { study::restore_point_records(e, text + text.substr(text.find('\n') + 1), "r"); }),
            "r:20: error: point 0 is given twice");
}

// Only the selected points run, in point order whatever the threads; a stop ends the run between
// points with a prefix of them done.
TEST(Study, SelectedPointsAndStop) {
  const study::StudySpec s = study::load_study_spec(kSmall);
  StudyOptions o;
  o.selected = {1, 0, 1};
  std::vector<std::size_t> finished;
  o.point_finished = [&](const StudyResult&, std::size_t p) { finished.push_back(p); };
  const StudyResult r = run_study(s, o);
  EXPECT_EQ(finished, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(r.point_done, (std::vector<char>{1, 0, 1}));
  std::atomic<bool> stop{false};
  StudyOptions st;
  st.threads = 1;
  st.stop = &stop;
  st.point_finished = [&](const StudyResult&, std::size_t) { stop = true; };
  EXPECT_EQ(run_study(s, st).point_done, (std::vector<char>{1, 0, 0}));
}

// Issue 14: images/s and error of different networks, or at different batches, are not comparable;
// a mixed study's front per (workload, batch) must be the front of that workload and batch alone.
TEST(Study, MixedStudyFrontsEqualEachWorkloadAndBatchAlone) {
  const StudySpec mixed = load_study_spec(std::string(BITSIM_SOURCE_DIR) + "/tests/data/study/fronts.yaml");
  ASSERT_EQ(mixed.workloads.size(), 2u);
  ASSERT_EQ(mixed.batches, (std::vector<int>{1, 4}));
  const StudyResult all = run_study(mixed);
  const std::vector<bool> front = pareto_rows(all.rows, mixed.objectives);
  for (std::size_t w = 0; w < mixed.workloads.size(); ++w)
    for (const int batch : mixed.batches) {
      StudySpec alone = mixed;
      alone.workloads = {mixed.workloads[w]};
      alone.batches = {batch};
      const StudyResult one = run_study(alone);
      const std::vector<bool> one_front = pareto_rows(one.rows, alone.objectives);
      std::vector<bool> in_mixed;  // the group's rows keep their order in the mixed study
      for (std::size_t i = 0; i < all.rows.size(); ++i)
        if (front_group(all.rows[i]) == FrontGroup{w, batch}) {
          in_mixed.push_back(front[i]);
          const StudyRow& r = all.rows[i];
          const StudyRow& o = one.rows[in_mixed.size() - 1];
          EXPECT_EQ(r.inference_rate_per_s, o.inference_rate_per_s);
          EXPECT_EQ(o.batch, batch);
        }
      EXPECT_EQ(in_mixed, one_front) << mixed.workloads[w] << " batch " << batch;
      const auto on = std::count(one_front.begin(), one_front.end(), true);
      EXPECT_GT(on, 0);
      EXPECT_LT(on, static_cast<std::ptrdiff_t>(one_front.size()));
    }
  EXPECT_EQ(front_group_name(all, front_group(all.rows.back())), "mobilenet_v1, batch 4");
}

TEST(StudySpec, BatchIsANumberOrAListWithoutRepeats) {
  EXPECT_EQ(spec_error("avg_bits: 2\nbatch: [1, 4, 1]\n"), "F:4:15: error: batch[2]: batch 1 is listed twice");
  EXPECT_EQ(spec_error("avg_bits: 2\nbatch: [1, 0]\n"),
            "F:4:12: error: batch[1]: expected an integer from 1 to 1000000, got '0'");
  EXPECT_EQ(spec_error("avg_bits: 2\nbatch: []\n"),
            "F:4:8: error: batch: expected at least one batch size, got an empty list");
  const std::string text = "hardware: " + std::string(BITSIM_SOURCE_DIR) +
                           "/configs/tpu.yaml\nworkload: " + std::string(BITSIM_SOURCE_DIR) +
                           "/workloads/alexnet.yaml\navg_bits: 2\nbatch: [1, 8]\n";
  const StudySpec s = load_study_spec(testing::write_temp("batches.yaml", text));
  EXPECT_EQ(s.batches, (std::vector<int>{1, 8}));
  EXPECT_EQ(s.points(), 2u);
  const StudySpec back = load_study_spec(testing::write_temp("batches_rt.yaml", study_spec_yaml(s, "c")));
  EXPECT_EQ(back.batches, s.batches);
  // Every row carries its batch; batch 8 shares each weight fetch among 8 images.
  const StudyResult r = run_study(s);
  ASSERT_EQ(r.rows.size(), 4u);  // 2 points x (equal, lagrangian)
  EXPECT_EQ(r.rows[0].batch, 1);
  EXPECT_EQ(r.rows[2].batch, 8);
  EXPECT_GT(r.rows[2].inference_rate_per_s, r.rows[0].inference_rate_per_s);
}

// Issue 14's example: the weight SRAM varied under dram.policy stream changes no row's images/s;
// a parameter that changes nothing at all is reported as such, one that only prices the design is
// not reported when it prices it, and the batch and the bandwidth, which change rows, are not.
TEST(Study, AxesThatChangeNoRowAreFound) {
  StudyOptions options;
  std::vector<std::string> before;  // what the model foresees, before the run
  options.warning = [&](const std::string& text) { before.push_back(text); };
  const StudyResult r =
      run_study(load_study_spec(std::string(BITSIM_SOURCE_DIR) + "/tests/data/study/noop_sram.yaml"), options);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0],
            "sram.weights can change no row's images/s, error or bottlenecks (under dram.policy stream every layer "
            "fetches its weights from DRAM: the weight SRAM's size is not used): its 3 values multiply the run time");
  ASSERT_EQ(r.no_op_axes.size(), 1u);
  EXPECT_EQ(r.no_op_axes[0].key, "sram.weights");
  EXPECT_EQ(r.no_op_axes[0].text,
            "sram.weights changed no row's images/s, error or bottlenecks, only its energy, area and hardware cost "
            "(under dram.policy stream every layer fetches its weights from DRAM: the weight SRAM's size is not "
            "used)");
  const std::string text = "hardware: " + std::string(BITSIM_SOURCE_DIR) +
                           "/configs/tpu.yaml\nworkload: " + std::string(BITSIM_SOURCE_DIR) +
                           "/workloads/alexnet.yaml\navg_bits: 2\nbatch: [1, 2]\nvary:\n  "
                           "row_stationary.psum_spad: [8, 24]\n  energy.dram_per_bit: [\"10 pJ\", \"20 pJ\"]\n  "
                           "dram.bandwidth: [\"2 GB/s\", \"4 GB/s\"]\n";
  const StudyResult s = run_study(load_study_spec(testing::write_temp("noop.yaml", text)));
  ASSERT_EQ(s.no_op_axes.size(), 1u);
  EXPECT_EQ(s.no_op_axes[0].text,
            "row_stationary.psum_spad changed no row: its 2 values give the same rows (array.dataflow is ws: the "
            "row_stationary keys apply to rs only)");
}

}  // namespace
}  // namespace bitsim::alloc
