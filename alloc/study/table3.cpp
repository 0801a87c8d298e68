// Seed 004, Table 3 (images/s; TPU native 8 bits, Eyeriss 16): equal and "ours" at 2 and 4 bits.
#include "alloc/study/table3.h"

#include <array>

namespace bitsim::study {

namespace {

constexpr std::array kTable3 = {
    Table3Cell{"tpu", "resnet50", 2, 833, 1250},      Table3Cell{"tpu", "resnet50", 4, 625, 666},
    Table3Cell{"tpu", "mobilenet_v1", 2, 892, 1175},  Table3Cell{"tpu", "mobilenet_v1", 4, 979, 979},
    Table3Cell{"eyeriss", "resnet50", 2, 8, 8},       Table3Cell{"eyeriss", "resnet50", 4, 8, 8},
    Table3Cell{"eyeriss", "mobilenet_v1", 2, 12, 12}, Table3Cell{"eyeriss", "mobilenet_v1", 4, 12, 12},
};

constexpr std::array<std::string_view, 4> kNotes = {
    "paper_*: seed 004 Table 3 (SCALE-Sim, Tensorpack ResNet-50 and MobileNet-v1, their measured curves). bitsim: "
    "analytical model on configs/tpu.yaml and configs/eyeriss.yaml, modelled curves (synthetic values, not the "
    "paper's trained networks), the study's rate (coded unless --rate says otherwise).",
    "Traffic: both configs use seed 004's model (datapath.fusion: elementwise_pool, datapath.shortcut: "
    "on_chip_if_fits): each stored activation is written once and read once, pooling, adds and ReLU run in their "
    "producer's output path and are neither stored nor quantized. ResNet-50 stores 8.9 M activations per image "
    "(the paper lists 9.6 M).",
    "The paper's 'ours' is its Lagrangian allocation at the same average bits. bitsim's lagrangian row minimizes "
    "predicted error at the same size, and with modelled curves (no error propagation) error-optimal plans move "
    "bits to activations, which DRAM carries twice: at the same size they can be slower than equal. bitsim's "
    "latency row (most images/s at equal's predicted error) is the plan that trades error for traffic.",
    "MobileNet-v1 on the TPU: depthwise layers run as the block-diagonal GEMM without its all-zero folds "
    "(array.grouped_mapping: diagonal_tiles), 0.42 ms of compute per image; the paper's 2-bit equal cell (892) is "
    "below its 4-bit one (979), which no model where bits only change traffic can give. Eyeriss-like is compute "
    "bound at 1 GB/s in both: no speedup from allocation, as the paper says."};

}  // namespace

std::span<const Table3Cell> seed004_table3() { return kTable3; }

const Table3Cell* find_table3_cell(std::string_view hardware, std::string_view workload, double avg_bits) {
  for (const Table3Cell& c : kTable3)
    if (c.hardware == hardware && c.workload == workload && c.avg_bits == avg_bits) return &c;
  return nullptr;
}

std::span<const std::string_view> table3_notes() { return kNotes; }

}  // namespace bitsim::study
