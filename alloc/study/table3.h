// Seed 004's Table 3 as data: images/s of ResNet-50 and MobileNet-v1 on its TPU-like and
// Eyeriss-like platforms (its Table 2), with equal allocation and with the paper's own ("ours",
// its Lagrangian allocation) at 2 and 4 bits on average, and what bitsim says about the difference.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitsim::study {

struct Table3Cell {
  std::string_view hardware;  // the shipped config's name: configs/<hardware>.yaml
  std::string_view workload;  // the shipped workload's name: workloads/<workload>.yaml
  double avg_bits;
  double equal_rate_per_s;  // images/s, equal allocation
  double ours_rate_per_s;   // images/s, the paper's allocation
  // What bitsim reproduces of this cell, what it does not, and why (the figures derived from the
  // paper's are shared/notes/seed004-table3.md's).
  std::string_view note;
};

// The eight cells, hardware-major (tpu, eyeriss), then workload (resnet50, mobilenet_v1), then bits.
std::span<const Table3Cell> seed004_table3();
// The cell of (hardware, workload, avg_bits), or nullptr.
const Table3Cell* find_table3_cell(std::string_view hardware, std::string_view workload, double avg_bits);

// The bitsim solver the paper's "ours" column stands for: alloc::lagrangian_solver().

// What holds for every cell (sources, traffic model, curves), one paragraph each; each cell's own
// note is Table3Cell::note.
std::span<const std::string_view> table3_notes();
// The general notes, then "<hardware> <workload> <bits> bits: <note>" for each cell.
std::vector<std::string> table3_note_lines();

}  // namespace bitsim::study
