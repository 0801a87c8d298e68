#!/usr/bin/python3
"""How long bitsim.layer_timing takes per call (README "Python API"): ResNet-50 on the TPU config,
a new mixed-precision plan per call as a training loop would build it. Run from the source root:
PYTHONPATH=build/python /usr/bin/python3 tools/python/bench_layer_timing.py"""
import statistics
import sys
import time

import numpy as np

import bitsim

workload = bitsim.load_workload(sys.argv[1] if len(sys.argv) > 1 else "workloads/resnet50.yaml")
hw = bitsim.load_hardware(sys.argv[2] if len(sys.argv) > 2 else "configs/tpu.yaml")
n = len(workload)
rng = np.random.default_rng(2026)
plans = [(rng.integers(2, 9, n), rng.integers(2, 9, n)) for _ in range(64)]
model = bitsim.Model(workload, hw)


def median_us(call, calls=5000):
    times = []
    for k in range(calls):
        start = time.perf_counter()
        call(k)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


fixed = bitsim.Plan.uniform(workload, 4)
print(f"{workload.name} ({n} layers) on {hw.name}, medians of 5000 calls:")
print(f"  Model.layer_timing(plan), plan built once:     {median_us(lambda k: model.layer_timing(fixed)):7.2f} us")
print(f"  Model.layer_timing(Plan(workload, w, a)):      "
      f"{median_us(lambda k: model.layer_timing(bitsim.Plan(workload, *plans[k % 64]))):7.2f} us")
print(f"  bitsim.layer_timing(workload, hw, plan):       "
      f"{median_us(lambda k: bitsim.layer_timing(workload, hw, fixed)):7.2f} us")
print(f"  bitsim.simulate(workload, hw, plan) (a dict):  "
      f"{median_us(lambda k: bitsim.simulate(workload, hw, fixed), 500):7.2f} us")
