#!/usr/bin/python3
"""The README table of tools/qat/compare.sh: one row per (config, method) from the runs' files.

    table.py OUT_DIR   (reads OUT_DIR/<config>/<method>/{plan.yaml,eval.json,time.txt[,model/fmnist_cnn.onnx]})
"""
import json
import pathlib
import sys

import numpy as np

import bitsim

METHODS = ["equal", "exact_ptq", "exact_ptq_fixed", "qbitopt", "bitpruning"]


def bits_per_value(w, plan):
    """Stored bits per quantized value: coded size where the plan gives one, else bits x values."""
    layers = w.layers()
    counts_w = np.asarray(layers["weights"], dtype=np.float64)
    counts_a = (np.asarray(layers["channels"]) * np.asarray(layers["height"]) * np.asarray(layers["width"])).astype(np.float64)
    total = values = 0.0
    for bits, coded, counts in ((plan.weight_bits, plan.weight_coded_bits, counts_w),
                                (plan.activation_bits, plan.activation_coded_bits, counts_a)):
        bits, coded = np.asarray(bits, dtype=np.float64), np.asarray(coded, dtype=np.float64)
        use = (counts > 0) & (bits > 0)
        total += np.where(coded > 0, coded, bits * counts)[use].sum()
        values += counts[use].sum()
    return total / values


def main(out):
    out = pathlib.Path(out)
    w = bitsim.load_workload("workloads/fmnist_cnn.onnx")
    print("| config | target images/s | method | model measured | accuracy | measured_output_mse | bits/value | simulated images/s | wall time |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for cfg_dir in sorted(p for p in out.iterdir() if (p / "target.txt").exists()):
        hw = bitsim.load_hardware(f"configs/{cfg_dir.name}.yaml")
        target = float((cfg_dir / "target.txt").read_text())
        model = bitsim.Model(w, hw)
        for m in METHODS:
            d = cfg_dir / m
            if not (d / "eval.json").exists():
                continue
            plan = bitsim.read_plan(str(d / "plan.yaml"), w)
            ev = json.loads((d / "eval.json").read_text())
            rate = float(model.layer_timing(plan)["inference_rate_per_s"])
            t = (d / "time.txt").read_text().strip() if (d / "time.txt").exists() else ""
            measured = "fine-tuned" if (d / "model").exists() else "shipped"
            print(f"| {cfg_dir.name} | {target:.1f} | {m} | {measured} | {ev['accuracy']:.4f} | {ev['measured_output_mse']:.4g} | "
                  f"{bits_per_value(w, plan):.3f} | {rate:.1f} | {t} |")


if __name__ == "__main__":
    main(sys.argv[1])
