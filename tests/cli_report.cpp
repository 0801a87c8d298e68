// Study and compare reports as a researcher opens them (issue 14), through the `bitsim` program:
// a multi-parameter study's index.html holds facets, a heatmap and summary tables but not every
// row; every legend fits in its SVG; series get distinct palette colours; too many series split
// into panels; compare's Table 3 plot is linear with the paper's figures beside bitsim's.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace bitsim {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = BITSIM_SOURCE_DIR;
const fs::path kWork = BITSIM_REPORT_TEST_DIR;

using testing::read_file;

// Runs bitsim with `args` (stdout and stderr to TAG.stdout and TAG.stderr in the work folder: CTest
// runs the tests in parallel); its exit code.
int bitsim(const std::string& args, const std::string& tag) {
  fs::create_directories(kWork);
  const std::string cmd = "cd '" + kRoot.string() + "' && '" + std::string(BITSIM_PROGRAM) + "' " + args + " > '" +
                          (kWork / (tag + ".stdout")).string() + "' 2> '" + (kWork / (tag + ".stderr")).string() + "'";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A report folder written by `command` (sweep, codesign) for `study`.
fs::path report(const std::string& command, const fs::path& study, const std::string& name) {
  fs::path out = kWork / name;
  fs::remove_all(out);
  EXPECT_EQ(bitsim(command + " '" + study.string() + "' --out '" + out.string() + "'", name), 0)
      << read_file(kWork / (name + ".stderr"));
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) s.replace(at, 4, to);
  }
  return s;
}

// The text of attribute `name` in the tag that starts at `tag` (empty if the tag has none).
std::string attribute(const std::string& svg, std::size_t tag, const std::string& name) {
  const std::size_t end = svg.find('>', tag);
  const std::size_t at = svg.find(" " + name + "=\"", tag);
  if (at == std::string::npos || at > end) return {};
  const std::size_t begin = at + name.size() + 3;
  return svg.substr(begin, svg.find('"', begin) - begin);
}

double svg_width(const std::string& svg) {
  const std::string width = attribute(svg, svg.find("<svg"), "width");
  EXPECT_FALSE(width.empty()) << "no <svg width=...>";
  return width.empty() ? 0 : std::stod(width);
}

// The legend: the text between <g class="legend"> and its </g>.
std::string legend_of(const std::string& svg) {
  const std::size_t begin = svg.find("<g class=\"legend\">");
  if (begin == std::string::npos) return {};
  return svg.substr(begin, svg.find("</g>", begin) - begin);
}

// The legend's text lines: (x, text).
std::vector<std::pair<double, std::string>> legend_texts(const std::string& svg) {
  std::vector<std::pair<double, std::string>> out;
  const std::string legend = legend_of(svg);
  for (std::size_t at = legend.find("<text "); at != std::string::npos; at = legend.find("<text ", at + 1)) {
    const std::string x = attribute(legend, at, "x");
    const std::size_t open = legend.find('>', at) + 1;
    if (x.empty() || legend.compare(at, 9, "<text x=\"") != 0) continue;
    out.emplace_back(std::stod(x), unescape(legend.substr(open, legend.find("</text>", open) - open)));
  }
  return out;
}

// Every legend line ends inside the picture, at 0.6 em per glyph (wider than DejaVu Sans's average).
void expect_legend_fits(const fs::path& file) {
  const std::string svg = read_file(file);
  const double width = svg_width(svg);
  for (const auto& [x, text] : legend_texts(svg))
    EXPECT_LE(x + 0.6 * 12 * static_cast<double>(text.size()), width) << file << ": legend entry '" << text << "'";
}

// The #rrggbb colours of the legend's fill and stroke attributes.
std::set<std::string> legend_colours(const std::string& svg) {
  std::set<std::string> out;
  const std::string legend = legend_of(svg);
  for (const char* name : {"fill=\"#", "stroke=\"#"})
    for (std::size_t at = legend.find(name); at != std::string::npos; at = legend.find(name, at + 1)) {
      const std::size_t begin = at + std::string(name).size() - 1;
      const std::string colour = legend.substr(begin, 7);
      if (colour.size() == 7 && legend.compare(begin + 7, 1, "\"") == 0 &&
          colour.find_first_not_of("0123456789abcdefABCDEF", 1) == std::string::npos)
        out.insert(colour);
    }
  return out;
}

TEST(CliReport, MultiParameterSweepHasFacetsHeatmapAndSummariesNotRows) {
  const fs::path out = report("sweep", kRoot / "tests/data/study/multi.yaml", "multi_sweep");
  const std::string page = read_file(out / "index.html");
  // One faceted figure per (hardware, workload), a heatmap, the summary tables, the CSV linked.
  for (const char* f : {"rate-tpu-alexnet.svg", "rate-tpu-mobilenet_v1.svg", "rate-eyeriss_ws-alexnet.svg",
                        "rate-eyeriss_ws-mobilenet_v1.svg", "speedup-tpu-alexnet.svg", "heatmap.svg"}) {
    EXPECT_NE(page.find(std::string("<img src=\"") + f + "\""), std::string::npos) << f;
    expect_legend_fits(out / f);
  }
  EXPECT_NE(page.find("Most images/s per dram.bandwidth (each workload and budget)"), std::string::npos);
  EXPECT_NE(page.find("Least chip area reaching a target"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"sweep.csv\">"), std::string::npos);
  // Not every row: 2 x 2 x 36 points x 4 rows = 576 rows in the CSV, far fewer table rows on the page.
  const std::size_t csv_rows = count(read_file(out / "sweep.csv"), "\n") - 1;
  EXPECT_EQ(csv_rows, 576U);
  EXPECT_LT(count(page, "<tr>"), 150U);
  // Panels: one per (array.rows, array.cols, decoder.lanes) = 12, titled by their values.
  const std::string rate = read_file(out / "rate-tpu-alexnet.svg");
  EXPECT_EQ(count(rate, ">array.rows=16, array.cols=256, decoder.lanes=64</text>"), 1U);
  EXPECT_EQ(count(rate, "fill=\"none\" stroke=\"#333\""), 12U);
  // Four series (2 budgets x equal and lagrangian): four distinct colours of the palette.
  EXPECT_EQ(legend_texts(rate).size(), 4U);
  const std::set<std::string> colours = legend_colours(rate);
  EXPECT_EQ(colours.size(), 4U);
  for (const std::string& c : colours)
    EXPECT_NE(std::string("#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000 #F0E442").find(c), std::string::npos)
        << c;
  // The heatmap: dram.bandwidth x array.rows per (hardware, workload), every cell with a value.
  const std::string heat = read_file(out / "heatmap.svg");
  EXPECT_NE(heat.find("Simulated images/s over dram.bandwidth and array.rows"), std::string::npos);
  EXPECT_EQ(count(heat, "<title>dram.bandwidth = "), 4U * 3U * 2U);
}

TEST(CliReport, ManySeriesSplitIntoPanelsAndPinnedParametersAreNamed) {
  // Four budgets x (equal, lagrangian, exact) = 12 lines: more than 8, so the budget becomes a panel
  // dimension; with array.rows that makes 8 panels, and array.cols and decoder.lanes are pinned.
  const fs::path study = kWork / "many.yaml";
  fs::create_directories(kWork);
  std::ofstream(study) << "hardware: " << (kRoot / "configs/tpu.yaml").string()
                       << "\nworkload: " << (kRoot / "workloads/alexnet.yaml").string()
                       << "\navg_bits: [2, 3, 4, 5]\nsolvers: [lagrangian, exact]\nvary:\n"
                          "  dram.bandwidth: [\"2 GB/s\", \"8 GB/s\"]\n  array.rows: [32, 128]\n"
                          "  array.cols: [32, 128]\n  decoder.lanes: [16, 64]\n";
  const fs::path out = report("sweep", study, "many_sweep");
  const std::string rate = read_file(out / "rate-tpu-alexnet.svg");
  EXPECT_EQ(count(rate, "fill=\"none\" stroke=\"#333\""), 8U);
  EXPECT_NE(rate.find(">2 bits, array.rows=32</text>"), std::string::npos);
  EXPECT_NE(rate.find("array.cols = 128 (its 1 other value: in the CSV); decoder.lanes = 64 (its 1 other value: in "
                      "the CSV)"),
            std::string::npos);
  EXPECT_EQ(legend_texts(rate).size(), 3U);  // equal, lagrangian, exact
  expect_legend_fits(out / "rate-tpu-alexnet.svg");
}

TEST(CliReport, CodesignFrontsPerWorkloadKeepTheirBitWidth) {
  const fs::path out = report("codesign", kRoot / "tests/data/study/multi.yaml", "multi_codesign");
  const std::string page = read_file(out / "index.html");
  EXPECT_NE(page.find("Pareto fronts (per workload)"), std::string::npos);
  for (const char* f : {"pareto-energy.svg", "pareto-area.svg", "pareto-error.svg", "pareto-cost.svg"}) {
    const std::string svg = read_file(out / f);
    EXPECT_NE(svg.find(">alexnet</text>"), std::string::npos) << f;
    EXPECT_NE(svg.find(">mobilenet_v1</text>"), std::string::npos) << f;
    const auto legend = legend_texts(svg);
    ASSERT_EQ(legend.size(), 3U) << f;
    EXPECT_EQ(legend[1].second, "front, 2 bits");
    EXPECT_EQ(legend[2].second, "front, 4 bits");
    expect_legend_fits(out / f);
  }
  EXPECT_LT(count(page, "<tr>"), 400U);
}

TEST(CliReport, CompareTable3IsLinearWithThePapersFigures) {
  const fs::path out = kWork / "table3";
  fs::remove_all(out);
  ASSERT_EQ(bitsim("compare --table3 --solvers equal,lagrangian --report '" + out.string() + "'", "table3"), 0)
      << read_file(kWork / "table3.stderr");
  const std::string svg = read_file(out / "rates.svg");
  // Two panels (their rates differ 100-fold), each from 0 on a linear axis.
  EXPECT_NE(svg.find(">tpu</text>"), std::string::npos);
  EXPECT_NE(svg.find(">eyeriss</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "text-anchor=\"end\">0</text>"), 2U);
  // The paper's eight cells twice (equal and ours), outlined, with their values.
  EXPECT_EQ(count(svg, ", seed 004: "), 16U);
  EXPECT_EQ(count(svg, "fill=\"white\" stroke=\"#"), 16U + 2U);  // and the two legend swatches
  EXPECT_NE(svg.find("<title>resnet50, 2 bits equal, seed 004: 833</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>resnet50, 2 bits ours (lagrangian), seed 004: 1250</title>"), std::string::npos);
  expect_legend_fits(out / "rates.svg");
}

}  // namespace
}  // namespace bitsim
