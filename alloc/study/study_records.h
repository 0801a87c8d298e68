// A study's rows as exact text, so that rows computed in another run, process or rank can stand for
// rows computed here: `--resume` reads the rows an interrupted run wrote, `merge` and MPI mode the
// rows of shards. Every StudyRow field is kept; numbers as their shortest round-trip decimal, so a
// restored row is bit for bit the row that was written and every output made from it is the same.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alloc/study/study.h"

namespace bitsim::study {

// The first line of a records text (ends in '\n'): the column names below.
std::string_view point_records_header();

// Appends point `point`'s rows (complete) to `out`, one line per row, '\n'-terminated:
//   point, hardware, workload, axis_values (';'-separated indices), avg_bits, solver, plan (index in
//   StudyResult::plans, empty for a latency row), rate_bits, output_error, inference_rate_per_s,
//   speedup_vs_equal, speedup_vs_native, hardware_cost, energy_per_image_j, area_mm2,
//   compute_bound, dram_bound, decode_bound, proven_optimal (0/1), feasible (0/1),
//   native_rate_per_s (the point's), choice (';'-separated), status (the rest of the line, with
//   '\', newline and carriage return escaped as \\, \n, \r).
void append_point_records(const StudyResult& result, std::size_t point, std::string& out);

struct RestoredPoints {
  std::vector<std::size_t> points;  // in the order read
  std::size_t valid_bytes = 0;      // the text up to the end of the last complete point
};

// Reads a records text (header first) into `result` (from run_study of the same study), marking
// the points done. A last point with fewer lines than rows_per_point, or a last line without its
// '\n' (a run cut off while writing), is left out and valid_bytes ends before it. Anything else
// malformed, a point out of range, or a point given twice is an InputError naming `file` and line.
RestoredPoints restore_point_records(StudyResult& result, std::string_view text, const std::string& file);

}  // namespace bitsim::study
