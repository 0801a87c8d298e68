#!/usr/bin/env bash
# Wall time of one study run three ways on this machine (README "Long runs"): one process with
# --threads 2; two shards with --threads 1 each at the same time, then bitsim merge; and
# mpirun -n 2 with --threads 1. Three runs of each, on two studies (written into a temporary folder):
# 256 points with latency-aware rows, and 4096 points with size-budget rows only.
#   tools/scripts/study_scaling.sh [path/to/bitsim]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bitsim=${1:-$root/build/bitsim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > slow.yaml <<YAML
hardware: $root/configs/tpu.yaml
workload: $root/workloads/alexnet.yaml
avg_bits: [2, 4]
solvers: [lagrangian, latency]
vary:
  dram.bandwidth: {from: 1, to: 128, factor: 2, unit: "GB/s"}
  decoder.lanes: [16, 32, 64, 128]
  array.rows: [32, 64, 128, 256]
  array.cols: [64, 128]
YAML
cat > fast.yaml <<YAML
hardware: $root/configs/tpu.yaml
workload: $root/workloads/resnet50.yaml
avg_bits: [2, 3, 4, 6, 8]
solvers: [lagrangian]
vary:
  array.rows: [32, 64, 128, 256]
  array.cols: [32, 64, 128, 256]
  dram.bandwidth: {from: 1, to: 128, factor: 2, unit: "GB/s"}
  decoder.lanes: [16, 32, 64, 128]
  sram.weights: ["64 KiB", "256 KiB", "1 MiB", "4 MiB", "8 MiB", "16 MiB", "24 MiB", "32 MiB"]
YAML
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for spec in slow.yaml fast.yaml; do
  for i in 1 2 3; do
    rm -rf o1 o2 o3 s1 s2
    one=$(seconds "$bitsim" sweep $spec --out o1 --threads 2)
    shards=$(seconds bash -c "'$bitsim' sweep $spec --out s1 --shard 1/2 --threads 1 &
                              '$bitsim' sweep $spec --out s2 --shard 2/2 --threads 1 & wait; '$bitsim' merge o2 s1 s2")
    mpi=$(seconds mpirun --allow-run-as-root -n 2 "$bitsim" sweep $spec --out o3 --threads 1)
    cmp -s o1/sweep.csv o2/sweep.csv && cmp -s o1/sweep.csv o3/sweep.csv || echo "$spec: the three sweep.csv differ" >&2
    echo "$spec run $i: one process ${one} s, 2 shards + merge ${shards} s, mpirun -n 2 ${mpi} s"
  done
done
