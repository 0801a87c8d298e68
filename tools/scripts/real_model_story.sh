#!/usr/bin/env bash
# Equal vs optimized bit plans for one ONNX model on real images, as a user runs them: measured curves
# on calibration images, then per budget and solver a plan, its predicted and measured output error,
# accuracy (top-1 agreement on unlabelled data) and simulated images/s; prints a Markdown table.
#
# Usage: tools/scripts/real_model_story.sh MODEL.onnx CALIB_DATA EVAL_DATA [C,H,W]
#   CALIB_DATA, EVAL_DATA: anything --data takes (a folder DIR[:N], PATH.npz, fashion-mnist[-train][:N])
#   C,H,W: --input-shape, for a model whose input has symbolic dimensions
# Variables: BITS (default "2 3 4 6"), SOLVERS ("equal lagrangian exact"),
#   HW ("configs/tpu.yaml configs/eyeriss.yaml"), BITSIM (build/bitsim), OUT (a new temporary folder),
#   ADDITIVITY (random subsets for `bitsim additivity` on the calibration images, seed 1; default 0: none),
#   LOGITS (1: pass --logits, so that errors are measured before a softmax that computes an output).
# Every command is deterministic; the curves are measured afresh (an empty cache under OUT), timed.
# A row's plan is allocated once per config (storage formats depend on the hardware's decoder): where
# the configs' sizes or errors differ, the cell shows each, in HW's order.
set -euo pipefail

if [[ $# -lt 3 || $# -gt 4 ]]; then
  sed -n "6,11p" "$0" >&2
  exit 2
fi
model=$1 calib=$2 eval_data=$3
shape_args=()
[[ $# -eq 4 ]] && shape_args=(--input-shape "$4")
[[ ${LOGITS:-0} == 1 ]] && shape_args+=(--logits)
root=$(cd "$(dirname "$0")/../.." && pwd)
bitsim=${BITSIM:-$root/build/bitsim}
bits_list=${BITS:-2 3 4 6}
solvers=${SOLVERS:-equal lagrangian exact}
hws=${HW:-$root/configs/tpu.yaml $root/configs/eyeriss.yaml}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
export BITSIM_CACHE_DIR=$out/cache
rm -rf "$BITSIM_CACHE_DIR"

log() { echo "$*" >&2; }
log "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . 2>/dev/null || echo ' (modified)'), output in $out"

start=$(date +%s.%N)
"$bitsim" curves --model "$model" --data "$calib" "${shape_args[@]}" --out "$out/curves.csv" --force 2>"$out/curves.log"
end=$(date +%s.%N)
settings=$(grep -vc '^#' "$out/curves.csv" || true)
log "curves: $((settings - 1)) settings in $(printf '%.1f' "$(echo "$end - $start" | bc)") s"

"$bitsim" eval --model "$model" --data "$eval_data" "${shape_args[@]}" --json >"$out/float.json" 2>"$out/float.log"

# one cell: the values of a JSON field across the configs, once if they agree
cell() {  # field, format, files...
  local field=$1 format=$2
  shift 2
  local values=()
  for f in "$@"; do values+=("$(jq -r ".$field // empty" "$f" | xargs -r printf "$format")"); done
  printf '%s\n' "${values[@]}" | awk '!seen[$0]++' | paste -sd/ | sed 's|/| / |g'
}

header="| avg bits | solver | size (bits/value) | predicted MSE | measured MSE |"
rule="| --- | --- | --- | --- | --- |"
if jq -e '.accuracy' "$out/float.json" >/dev/null; then
  header+=" top-1 accuracy |"
  quality=accuracy
else
  header+=" top-1 agreement |"
  quality=top1_agreement
fi
rule+=" --- |"
for hw in $hws; do
  header+=" $(basename "$hw") images/s |"
  rule+=" --- |"
done
echo "$header"
echo "$rule"
for b in $bits_list; do
  for s in $solvers; do
    files=() failed=
    for hw in $hws; do
      f=$out/$(basename "$hw" .yaml)_${b}_$s.json
      if ! "$bitsim" allocate --curves "$out/curves.csv" --model "$model" --data "$calib" --eval-data "$eval_data" \
        "${shape_args[@]}" --avg-bits "$b" --solver "$s" --hw "$hw" --json >"$f" 2>"$f.log"; then
        failed=$(grep -i 'error' "$f.log" | tail -1 | sed 's/^error: //')
        failed=${failed:-allocate failed, see $f.log}
        break
      fi
      files+=("$f")
    done
    if [[ -n $failed ]]; then  # e.g. equal allocation when even its narrowest setting exceeds the budget
      echo "| $b | $s | $failed |"
      continue
    fi
    row="| $b | $s | $(cell avg_bits_per_value %.3f "${files[@]}") | $(cell predicted_distortion %.4g "${files[@]}")"
    row+=" | $(cell measured_output_mse %.4g "${files[@]}") | $(cell $quality %.4f "${files[@]}") |"
    for f in "${files[@]}"; do row+=" $(jq -r .inference_rate_per_s "$f" | awk '{printf($1 >= 1000 ? "%.0f" : "%.4g", $1)}') |"; done
    echo "$row"
  done
done
echo
if [[ $quality == accuracy ]]; then
  echo "(float: $(jq -r .float_accuracy "$out/float.json" | xargs printf %.4f) on $(jq -r .images "$out/float.json") images of $eval_data)"
else
  echo "(float: $(jq -r .images "$out/float.json") images of $eval_data, no labels)"
fi
if [[ ${ADDITIVITY:-0} -gt 0 ]]; then
  "$bitsim" additivity --model "$model" --curves "$out/curves.csv" --data "$calib" "${shape_args[@]}" \
    --samples "$ADDITIVITY" --seed 1 --json >"$out/additivity.json" 2>"$out/additivity.log"
  echo "(additivity: $ADDITIVITY random subsets of tensors, each at a random setting, quantized together on $calib:" \
    "measured / predicted MSE $(jq -r .mean_ratio "$out/additivity.json" | xargs printf %.3f) on average," \
    "correlation $(jq -r .correlation "$out/additivity.json" | xargs printf %.3f))"
fi
log "total $(printf '%.0f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
