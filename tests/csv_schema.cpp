// Every CSV bitsim writes against its schema in the README ("CSV files"): each command that writes
// one is run through the `bitsim` program, and each column it writes must be in that file's table,
// in the table's order, and each column of the table must be written by one of the runs. So the
// documented schema cannot drift from the code in either direction.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/hw_config.h"
#include "tests/test_util.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = BITSIM_SOURCE_DIR;

using testing::read_file;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The README's tables, by the name in the `<!-- csv-schema: NAME -->` line above each: the first
// cell of every row, without its backticks.
std::map<std::string, std::vector<std::string>> readme_schemas() {
  std::map<std::string, std::vector<std::string>> out;
  const std::vector<std::string> lines = lines_of(read_file(kRoot / "README.md"));
  const std::string marker = "<!-- csv-schema: ";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(marker, 0) != 0) continue;
    const std::string name = lines[i].substr(marker.size(), lines[i].find(" -->") - marker.size());
    std::vector<std::string>& columns = out[name];
    // The header row and the rule follow the marker; then the rows, up to the first non-table line.
    for (std::size_t k = i + 3; k < lines.size() && lines[k].rfind("| ", 0) == 0; ++k) {
      std::string cell = lines[k].substr(2, lines[k].find(" |", 2) - 2);
      cell.erase(std::remove(cell.begin(), cell.end(), '`'), cell.end());
      columns.push_back(cell);
    }
  }
  return out;
}

// Runs bitsim in the source folder with `args` (each shell-quoted); stdout to `out`. Returns the
// exit code.
int run_bitsim(const std::vector<std::string>& args, const fs::path& out) {
  std::string cmd = "cd '" + kRoot.string() + "' && '" + std::string(BITSIM_PROGRAM) + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " > '" + out.string() + "' 2> '" + out.string() + ".err'";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The first line that is not a `#` comment, split at commas (no header needs quoting).
std::vector<std::string> csv_header(const std::string& text) {
  for (const std::string& line : lines_of(text)) {
    if (line.rfind('#', 0) == 0) continue;
    std::vector<std::string> cols;
    std::istringstream in(line);
    for (std::string c; std::getline(in, c, ',');) cols.push_back(c);
    return cols;
  }
  return {};
}

// The keys of the `# key: value` lines above a table (allocate's record).
std::vector<std::string> comment_keys(const std::string& text) {
  std::vector<std::string> keys;
  for (const std::string& line : lines_of(text))
    if (line.rfind("# ", 0) == 0) keys.push_back(line.substr(2, line.find(": ") - 2));
  return keys;
}

// A documented entry matches a written column: itself; `{varied}` any hardware parameter's data
// column (sim::parameter_column); `group.*` any `group.key`.
bool matches(const std::string& entry, const std::string& column) {
  if (entry == "{varied}") {
    for (const sim::ParamInfo& p : sim::hardware_parameters())
      if (sim::parameter_column(p.key) == column) return true;
    return false;
  }
  if (entry.size() > 2 && entry.substr(entry.size() - 2) == ".*")
    return column.rfind(entry.substr(0, entry.size() - 1), 0) == 0;
  return entry == column;
}

bool is_pattern(const std::string& entry) {
  return entry == "{varied}" || (entry.size() > 2 && entry.substr(entry.size() - 2) == ".*");
}

// Each written header against the schema (every column documented, in order), then every entry
// of the schema written by some run. Returns the problems, one per line.
std::string check_schema(const std::string& name, const std::vector<std::string>& schema,
                         const std::vector<std::pair<std::string, std::vector<std::string>>>& runs) {
  std::string problems;
  if (schema.empty()) return "README has no table for " + name + "\n";
  std::vector<bool> used(schema.size(), false);
  for (const auto& [run, header] : runs) {
    if (header.empty()) problems += run + ": wrote no header\n";
    std::size_t at = 0;  // the schema entry the previous column matched
    for (const std::string& column : header) {
      std::size_t k = at;
      while (k < schema.size() && !matches(schema[k], column)) ++k;
      if (k == schema.size()) {
        const bool anywhere =
            std::any_of(schema.begin(), schema.end(), [&](const auto& e) { return matches(e, column); });
        problems += fmt::format("{}: column '{}' {} ({})\n", run, column,
                                anywhere ? "is out of the README's order" : "is not in the README's table", name);
        continue;
      }
      used[k] = true;
      at = is_pattern(schema[k]) ? k : k + 1;  // a pattern may match several columns in a row
    }
  }
  for (std::size_t k = 0; k < schema.size(); ++k)
    if (!used[k]) problems += fmt::format("README's table {} lists '{}', which no run wrote\n", name, schema[k]);
  return problems;
}

class CsvSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::path(BITSIM_TEST_TMP) / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    m_schemas = readme_schemas();
  }

  // Runs bitsim; returns what it wrote to stdout (fails the test on a non-zero exit).
  std::string run(const std::vector<std::string>& args) {
    const fs::path out = m_dir / ("stdout-" + std::to_string(m_runs++) + ".txt");
    const int code = run_bitsim(args, out);
    EXPECT_EQ(code, 0) << "bitsim exited with " << code << ": " << read_file(out.string() + ".err");
    return read_file(out);
  }

  void expect_schema(const std::string& name,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& runs) {
    EXPECT_EQ(check_schema(name, m_schemas[name], runs), "");
  }

  fs::path m_dir;
  std::map<std::string, std::vector<std::string>> m_schemas;
  int m_runs = 0;
};

TEST_F(CsvSchema, Simulate) {
  expect_schema("simulate", {{"simulate", csv_header(run({"simulate", "--hw", "configs/tpu.yaml", "--workload",
                                                          "workloads/alexnet.yaml", "--csv"}))},
                             {"simulate --engine systemc",
                              csv_header(run({"simulate", "--engine", "systemc", "--hw", "configs/eyeriss.yaml",
                                              "--workload", "workloads/alexnet.yaml", "--bits", "4", "--csv"}))}});
}

TEST_F(CsvSchema, DemoAndInspect) {
  expect_schema("demo", {{"demo", csv_header(run({"demo", "--csv"}))}});
  expect_schema("inspect",
                {{"inspect", csv_header(run({"inspect", "--workload", "workloads/mobilenet_v1.yaml", "--csv"}))}});
}

TEST_F(CsvSchema, Allocate) {
  const std::string report = (m_dir / "report").string();
  const std::string hw =
      run({"allocate", "--workload", "workloads/alexnet.yaml", "--hw", "configs/tpu.yaml", "--avg-bits", "4",
           "--solver", "exact", "--out", (m_dir / "plan.yaml").string(), "--report", report, "--csv"});
  // Measured on a model: labelled evaluation data, then data without labels (the curves are cached
  // by the first run).
  const std::vector<std::string> model = {"allocate",
                                          "--model",
                                          "workloads/fmnist_cnn.onnx",
                                          "--data",
                                          "tests/data/numpy/fmnist16.npz:4",
                                          "--avg-bits",
                                          "4",
                                          "--solver",
                                          "lagrangian",
                                          "--csv"};
  std::vector<std::string> labelled = model, unlabelled = model;
  labelled.insert(labelled.end(), {"--eval-data", "tests/data/numpy/fmnist16.npz:4"});
  unlabelled.insert(unlabelled.end(), {"--eval-data", "random:4:1"});
  const std::string a = run(labelled), b = run(unlabelled);
  expect_schema("allocate-record", {{"allocate --hw", comment_keys(hw)},
                                    {"allocate --model", comment_keys(a)},
                                    {"allocate --model (no labels)", comment_keys(b)}});
  expect_schema("allocate-choices", {{"allocate --hw", csv_header(hw)}, {"allocate --model", csv_header(a)}});
  expect_schema("layers.csv", {{"layers.csv", csv_header(read_file(fs::path(report) / "layers.csv"))}});
}

TEST_F(CsvSchema, Compare) {
  const std::string report = (m_dir / "report").string();
  run({"compare", "--hw", "configs/tpu.yaml", "--workload", "workloads/alexnet.yaml", "--avg-bits", "4", "--report",
       report});
  expect_schema("compare", {{"compare.csv", csv_header(read_file(fs::path(report) / "compare.csv"))},
                            // `compare --table3 --csv` as its golden test checks it (9 s to run again)
                            {"compare --table3", csv_header(read_file(kRoot / "tests/golden/compare_table3.txt"))}});
}

TEST_F(CsvSchema, Studies) {
  const fs::path sweep = m_dir / "sweep", codesign = m_dir / "codesign";
  const std::string printed = run({"sweep", "tests/data/study/small.yaml", "--out", sweep.string(), "--csv"});
  run({"codesign", "tests/data/study/small.yaml", "--out", codesign.string()});
  expect_schema("study", {{"sweep --csv", csv_header(printed)},
                          {"sweep.csv", csv_header(read_file(sweep / "sweep.csv"))},
                          {"codesign.csv", csv_header(read_file(codesign / "codesign.csv"))},
                          {"pareto.csv", csv_header(read_file(codesign / "pareto.csv"))}});
  expect_schema("best", {{"sweep best.csv", csv_header(read_file(sweep / "best.csv"))},
                         {"codesign best.csv", csv_header(read_file(codesign / "best.csv"))}});
  expect_schema("cheapest", {{"sweep cheapest.csv", csv_header(read_file(sweep / "cheapest.csv"))}});
  // The varied parameter is a number in base units: "2 GB/s" is 2e9 B/s.
  const std::vector<std::string> rows = lines_of(read_file(sweep / "sweep.csv"));
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(csv_header(rows[0])[2], "batch");
  EXPECT_EQ(csv_header(rows[0])[3], "dram_bandwidth_bytes_per_s");
  EXPECT_EQ(rows[1].substr(0, rows[1].find(",2,")), "tpu,alexnet,1,2000000000");  // (then avg_bits 2)
}

TEST_F(CsvSchema, CurvesAndAdditivity) {
  const fs::path curves = m_dir / "curves.csv";
  run({"curves", "--workload", "workloads/alexnet.yaml", "--out", curves.string()});
  expect_schema("curves", {{"curves --out", csv_header(read_file(curves))}});
  expect_schema("additivity",
                {{"additivity", csv_header(run({"additivity", "--model", "workloads/fmnist_cnn.onnx", "--data",
                                                "tests/data/numpy/fmnist16.npz:4", "--samples", "2", "--csv"}))}});
}

// The checker itself: a column missing from the README, one out of its order, a documented column
// nobody writes, and the two patterns.
TEST(CsvSchemaCheck, FindsEveryKindOfDrift) {
  const std::vector<std::string> schema = {"a", "{varied}", "b", "group.*", "c"};
  EXPECT_EQ(check_schema("t", schema, {{"r", {"a", "dram_bandwidth_bytes_per_s", "clock_hz", "b", "group.x", "c"}}}),
            "");
  EXPECT_EQ(check_schema("t", schema, {{"r", {"a", "b", "group.x", "group.y", "c", "d"}}}),
            "r: column 'd' is not in the README's table (t)\nREADME's table t lists '{varied}', which no run wrote\n");
  EXPECT_EQ(check_schema("t", schema, {{"r", {"a", "clock_hz", "group.x", "c", "b"}}}),
            "r: column 'b' is out of the README's order (t)\nREADME's table t lists 'b', which no run wrote\n");
  EXPECT_EQ(check_schema("t", schema, {{"r", {"a", "dram.bandwidth", "b", "group.x", "c"}}}),
            "r: column 'dram.bandwidth' is not in the README's table (t)\nREADME's table t lists '{varied}', which no "
            "run wrote\n");
  EXPECT_EQ(check_schema("t", {}, {}), "README has no table for t\n");
}

}  // namespace
}  // namespace bitsim
