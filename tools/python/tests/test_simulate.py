# simulate and layer_timing against the CLI: the same figures, the same columns.
import math
import time

import numpy as np
import pytest

import bitsim
from conftest import path

CASES = [
    ("configs/tpu.yaml", "workloads/resnet50.yaml", "4", 1),
    ("configs/eyeriss.yaml", "workloads/mobilenet_v1.yaml", "native", 1),
    ("configs/tpu.yaml", "workloads/resnet50.yaml", "2/4", 4),
    ("tests/data/scalesim/google.cfg", "tests/data/scalesim/mlperf_Resnet50.csv", "native", 1),
]


def plan_for(w, hw, bits):
    if bits == "native":
        return bitsim.Plan.native(w, hw)
    wb, _, ab = bits.partition("/")
    return bitsim.Plan.uniform(w, int(wb), int(ab or wb))


def same_as_cli(result, expected):
    assert result["workload"] == expected["workload"]
    # JSON has no infinity (an unlimited bandwidth): the CLI writes null where Python holds inf.
    hardware = {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in result["hardware"].items()}
    assert hardware == expected["hardware"]
    assert result["plan"] == expected["plan"]
    assert result["batch"] == expected["batch"]
    assert result["weights_resident"] == expected["weights_resident"]
    assert result["totals"] == expected["totals"]
    rows = expected["layers"]
    assert list(result["layers"]) == list(rows[0])
    for column, values in result["layers"].items():
        want = [row[column] for row in rows]
        got = values.tolist() if isinstance(values, np.ndarray) else values
        assert got == want, column


@pytest.mark.parametrize("hw_file, workload_file, bits, batch", CASES)
def test_simulate_matches_cli(cli, hw_file, workload_file, bits, batch):
    w = bitsim.load_workload(path(workload_file))
    hw = bitsim.load_hardware(hw_file)  # relative, as the CLI is given it (the source is echoed)
    result = bitsim.simulate(w, hw, plan_for(w, hw, bits), batch=batch)
    expected = cli("simulate", "--hw", hw_file, "--workload", workload_file, "--bits", bits, "--batch", str(batch))
    same_as_cli(result, expected)


def test_plan_file_round_trip_simulates_the_same(cli, tmp_path):
    w = bitsim.load_workload(path("workloads/resnet50.yaml"))
    hw = bitsim.load_hardware("configs/tpu.yaml")
    n = len(w)
    bits = 2 + np.arange(n) % 7
    coded = np.where(np.arange(n) % 3 == 0, -1.0, 1000.0 + np.arange(n))
    plan = bitsim.Plan(w, bits, bits[::-1], weight_coded_bits=coded, label="mixed")
    plan_file = tmp_path / "plan.yaml"
    bitsim.write_plan(str(plan_file), w, plan)
    with pytest.raises(bitsim.Error, match="exists"):
        bitsim.write_plan(str(plan_file), w, plan)
    bitsim.write_plan(str(plan_file), w, plan, force=True)
    back = bitsim.read_plan(str(plan_file), w)
    for name in ("activation_bits", "activation_coded_bits"):
        assert (getattr(back, name) == getattr(plan, name)).all(), name
    has_weights = w.layers()["weights"] > 0  # (a plan file lists no weights for the others)
    for name in ("weight_bits", "weight_coded_bits"):
        assert (getattr(back, name)[has_weights] == getattr(plan, name)[has_weights]).all(), name
    result = bitsim.simulate(w, hw, back)
    expected = cli("simulate", "--hw", "configs/tpu.yaml", "--workload", "workloads/resnet50.yaml", "--plan",
                   str(plan_file))
    assert result["totals"] == expected["totals"]
    assert bitsim.simulate(w, hw, plan)["totals"] == expected["totals"]


def test_systemc_matches_cli(cli):
    w = bitsim.load_workload(path("workloads/mobilenet_v1.yaml"))
    hw = bitsim.load_hardware("configs/eyeriss.yaml")
    result = bitsim.simulate(w, hw, bitsim.Plan.uniform(w, 4), engine="systemc")
    expected = cli("simulate", "--engine", "systemc", "--hw", "configs/eyeriss.yaml", "--workload",
                   "workloads/mobilenet_v1.yaml", "--bits", "4")
    same_as_cli(result, expected)
    assert "stall_dram_s" in result["layers"] and "dram_busy_s" in result["totals"]
    # The SystemC model runs again in the same process, with the same result.
    again = bitsim.simulate(w, hw, bitsim.Plan.uniform(w, 4), engine="systemc")
    assert again["totals"] == result["totals"]
    with pytest.raises(bitsim.Error, match="^error: engine: expected analytical or systemc, got 'spice'$"):
        bitsim.simulate(w, hw, engine="spice")


@pytest.mark.parametrize("hw_file, workload_file, bits, batch", CASES)
def test_layer_timing_adds_up_to_simulate(hw_file, workload_file, bits, batch):
    w = bitsim.load_workload(path(workload_file))
    hw = bitsim.load_hardware(path(hw_file))
    plan = plan_for(w, hw, bits)
    t = bitsim.layer_timing(w, hw, plan, batch=batch)
    s = bitsim.simulate(w, hw, plan, batch=batch)
    assert t["time_s"].shape == (len(w),)
    latency = float(hw.to_dict()["dram"]["latency"].split()[0])
    assert t["time_s"].sum() + latency == pytest.approx(s["totals"]["time_s"], rel=1e-12)
    assert t["batch_time_s"] == s["totals"]["time_s"]
    assert t["inference_rate_per_s"] == s["totals"]["inference_rate_per_s"]
    # Per layer, the simulate table's figures (its rows leave the network inputs out).
    rows = [w.layer_names.index(name) for name in s["layers"]["layer"]]
    for column in ("time_s", "dram_time_s", "decode_time_s", "compute_time_s", "dram_bytes", "compute_cycles"):
        assert (t[column][rows] == s["layers"][column]).all(), column
    names = [bitsim.BOTTLENECKS[b] for b in t["bottleneck"][rows]]
    assert names == s["layers"]["bottleneck"]


def test_model_is_reusable_and_fast():
    w = bitsim.load_workload(path("workloads/resnet50.yaml"))
    hw = bitsim.load_hardware(path("configs/tpu.yaml"))
    model = bitsim.Model(w, hw)
    n = len(w)
    first = model.layer_timing(bitsim.Plan(w, 8))
    rates = []
    start = time.perf_counter()
    for bits in range(2, 9):
        rates.append(model.layer_timing(bitsim.Plan(w, np.full(n, bits)))["inference_rate_per_s"])
    elapsed = time.perf_counter() - start
    assert rates == sorted(rates, reverse=True)  # fewer bits, no slower
    assert model.layer_timing(bitsim.Plan(w, 8))["time_s"].tolist() == first["time_s"].tolist()
    assert elapsed < 1.0  # microseconds per call in fact (README "Python API")


def test_infeasible_plan_is_an_error():
    w = bitsim.load_workload(path("workloads/resnet50.yaml"))
    hw = bitsim.load_hardware(path("configs/tpu.yaml")).with_params({"decoder.lanes": 0})
    coded = bitsim.Plan(w, 4, weight_coded_bits=1000.0)
    with pytest.raises(bitsim.Error, match="infeasible"):
        bitsim.simulate(w, hw, coded)
    with pytest.raises(bitsim.Error, match="infeasible"):
        bitsim.layer_timing(w, hw, coded)
