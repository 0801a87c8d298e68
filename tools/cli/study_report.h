// The report of a sweep or co-design study (README "Reports and plots"): summaries and plots that read
// at any size, with every row left to the CSV it links. Small multiples (one figure per hardware
// config and workload, one panel per combination of the other varied parameters, at most
// kMaxPanels), a heatmap over two numeric parameters, "best configuration per X" tables and, for
// co-design, the Pareto fronts per workload with each front point's bit width.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "alloc/study/study.h"
#include "alloc/study/study_spec.h"
#include "sim/base/table.h"
#include "tools/cli/html_report.h"

namespace bitsim::tools {

inline constexpr std::size_t kMaxPanels = 12;      // per figure; further combinations are pinned
inline constexpr std::size_t kMaxFigures = 8;      // (hardware, workload) figures per plot kind
inline constexpr std::size_t kMaxSeries = 8;       // lines per panel before the budget becomes a panel
inline constexpr std::size_t kMaxFrontRows = 100;  // front rows on the page (all in pareto.csv)

enum class StudyKind { Sweep, Codesign };

struct StudyReportInfo {
  StudyKind kind = StudyKind::Sweep;
  std::string spec_path, out_dir;
  std::string rows_csv;                 // every row: "sweep.csv" or "codesign.csv"
  std::vector<std::string> paragraphs;  // the command's own notes (cost proxy, objectives)
  std::vector<std::string> links;       // other files in the folder (inputs, pareto.csv)
  const Table* front = nullptr;         // codesign: the front's rows (its first kMaxFrontRows shown)
};

// The files write_study_report writes for `spec` (plots, summary CSVs, index.html), known before the
// run so that the output folder is checked before any work.
std::vector<std::string> study_report_files(const study::StudySpec& spec, StudyKind kind);

// Writes the plots, the summary tables as CSV and index.html into `out`. `front`: codesign's Pareto
// rows (pareto_rows), else null.
void write_study_report(const OutputDir& out, const study::StudySpec& spec, const study::StudyResult& result,
                        const std::vector<bool>* front, const StudyReportInfo& info);

}  // namespace bitsim::tools
