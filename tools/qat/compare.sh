#!/usr/bin/env bash
# The README table "Training-time allocation": at the equal 4-bit plan's simulated images/s on each
# shipped config, equal 4-bit vs post-training exact (latency solver, measured curves) vs QBitOpt-style
# vs BitPruning-style, each measured by `bitsim eval` on the 10,000 Fashion-MNIST test images.
#   tools/qat/compare.sh [OUT_DIR] [STEPS]      (default /tmp/bitsim-qat, 60 steps of 64 images)
# About 25 minutes on 2 busy cores (README "Training-time allocation").
# Needs the build (program and Python module: ./tools/bitsim) and Debian's python3-torch, python3-onnx.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${1:-/tmp/bitsim-qat}"
STEPS="${2:-60}"
SEED=0
PY=/usr/bin/python3
BITSIM="$ROOT/build/bitsim"
export PYTHONPATH="$ROOT/build/python"
# Measured curves are cached by bitsim; a fresh cache under OUT makes the times include measuring them.
export BITSIM_CACHE_DIR="$OUT/cache"
MODEL=workloads/fmnist_cnn.onnx
mkdir -p "$OUT"

timed() {  # timed FILE CMD...: runs CMD, writes its wall time in seconds to FILE
  local file="$1"; shift
  local t0; t0=$(date +%s.%N)
  "$@"
  echo "$(date +%s.%N) - $t0" | bc -l | xargs printf '%.1f s\n' > "$file"
}

for cfg in tpu eyeriss; do
  HW="configs/$cfg.yaml"
  D="$OUT/$cfg"
  mkdir -p "$D"/{equal,exact_ptq,exact_ptq_fixed,qbitopt,bitpruning}
  # The target: the equal 4-bit plan's simulated images/s on this config.
  R=$($PY -c "
import bitsim
w = bitsim.load_workload('$MODEL'); hw = bitsim.load_hardware('$HW')
print(bitsim.Model(w, hw).layer_timing(bitsim.Plan.uniform(w, 4))['inference_rate_per_s'])")
  echo "$R" > "$D/target.txt"
  echo "== $cfg: target $R images/s" >&2

  # Post-training exact: the latency solver on measured curves of the shipped model.
  rm -f "$D/exact_ptq/plan.yaml"
  timed "$D/exact_ptq/time.txt" "$BITSIM" allocate --model $MODEL --hw "$HW" --min-rate "$R" \
      --out "$D/exact_ptq/plan.yaml" --json > "$D/exact_ptq/allocate.json"
  "$BITSIM" eval --model $MODEL --plan "$D/exact_ptq/plan.yaml" --data fashion-mnist --json > "$D/exact_ptq/eval.json"
  # The same with fixed-length storage only (no entropy-coded tensors), the QAT allocators' option space.
  rm -f "$D/exact_ptq_fixed/plan.yaml"
  timed "$D/exact_ptq_fixed/time.txt" "$BITSIM" allocate --model $MODEL --hw "$HW" --min-rate "$R" --rate fixed \
      --out "$D/exact_ptq_fixed/plan.yaml" --json > "$D/exact_ptq_fixed/allocate.json"
  "$BITSIM" eval --model $MODEL --plan "$D/exact_ptq_fixed/plan.yaml" --data fashion-mnist --json \
      > "$D/exact_ptq_fixed/eval.json"

  # Equal: 4 bits on every tensor the hardware stores (fused tensors stay on chip, `bits: none`, as
  # in the post-training plan).
  $PY -c "
import bitsim, numpy as np
w = bitsim.load_workload('$MODEL')
ptq = bitsim.read_plan('$D/exact_ptq/plan.yaml', w)
a = np.where(np.asarray(ptq.activation_bits) == 0, 0, 4)
bitsim.write_plan('$D/equal/plan.yaml', w, bitsim.Plan(w, 4, a, label='equal 4 bits'), force=True)"
  timed "$D/equal/time.txt" sh -c "'$BITSIM' eval --model $MODEL --plan '$D/equal/plan.yaml' --data fashion-mnist --json > '$D/equal/eval.json'"

  # The training-time allocators: fine-tune, then measure the fine-tuned model with its plan.
  for alloc in qbitopt bitpruning; do
    timed "$D/$alloc/time.txt" nice -n 5 $PY tools/qat/qat.py --allocator $alloc --hw "$HW" --min-rate "$R" \
        --steps "$STEPS" --seed $SEED --out "$D/$alloc/plan.yaml" --out-model "$D/$alloc/model/fmnist_cnn.onnx" \
        --log "$D/$alloc/log.json"
    "$BITSIM" eval --model "$D/$alloc/model/fmnist_cnn.onnx" --plan "$D/$alloc/plan.yaml" --data fashion-mnist \
        --json > "$D/$alloc/eval.json"
  done
done
$PY tools/qat/table.py "$OUT"
