# Curves from NumPy arrays, every solver, the latency-aware one, and plans written and read back.
import itertools

import numpy as np
import pytest

import bitsim
from conftest import path


@pytest.fixture(scope="module")
def resnet():
    return bitsim.load_workload(path("workloads/resnet50.yaml")), bitsim.load_hardware("configs/tpu.yaml")


def arrays_of(curves):
    """The curves' columns, without those not given (NaN)."""
    out = {}
    for name, values in curves.to_arrays().items():
        if isinstance(values, np.ndarray) and values.dtype.kind == "f" and np.isnan(values).any():
            continue
        out[name] = values
    return out


def test_curves_round_trip_through_arrays(resnet):
    w, _ = resnet
    modelled = bitsim.modelled_curves(w, rate="fixed")
    again = bitsim.curves_from_arrays(arrays_of(modelled), rate="fixed")
    assert again.tensors == modelled.tensors and again.rate == "fixed" and again.source == "<arrays>"
    assert again.total_values == modelled.total_values
    for name, values in arrays_of(again).items():
        expected = arrays_of(modelled)[name]
        assert list(values) == list(expected), name


def test_exact_is_brute_force_on_a_nonconvex_example():
    # README "Solvers": A = {(0,10),(2,9),(4,0)}, B = {(0,4),(1,2),(2,1)}.
    curves = bitsim.curves_from_arrays({
        "tensor": ["a:w"] * 3 + ["b:w"] * 3,
        "option": ["a0", "a2", "a4", "b0", "b1", "b2"],
        "rate_bits": np.array([0, 2, 4, 0, 1, 2]),
        "distortion": np.array([10.0, 9, 0, 4, 2, 1]),
    })
    rates = {"a:w": [0, 2, 4], "b:w": [0, 1, 2]}
    dist = {"a:w": [10, 9, 0], "b:w": [4, 2, 1]}
    for budget in range(0, 7):
        best = min(dist["a:w"][i] + dist["b:w"][j] for i, j in itertools.product(range(3), range(3))
                   if rates["a:w"][i] + rates["b:w"][j] <= budget)
        exact = bitsim.allocate(curves, "exact", budget_bits=budget)
        assert exact["predicted_distortion"] == best and exact["proven_optimal"] is True
        assert exact["rate_bits"] <= budget
        lagrangian = bitsim.allocate(curves, "lagrangian", budget_bits=budget)
        assert lagrangian["predicted_distortion"] >= best and lagrangian["rate_bits"] <= budget
    assert bitsim.allocate(curves, "exact", budget_bits=3)["choices"]["option"] == ["a0", "b2"]


def test_bad_arrays_are_located():
    good = {"tensor": ["a:w", "a:w"], "option": ["x", "y"], "rate_bits": [1, 2], "distortion": [0.5, 0.25]}
    with pytest.raises(bitsim.Error) as e:
        bitsim.curves_from_arrays({**good, "distortion": [0.5, -1.0]})
    assert str(e.value).startswith("<arrays>:2:4: error: distortion")
    with pytest.raises(bitsim.Error, match="unknown column 'rate'"):
        bitsim.curves_from_arrays({**good, "rate": [1, 2]})
    with pytest.raises(bitsim.Error, match="option: expected 2 values"):
        bitsim.curves_from_arrays({**good, "option": ["x"]})
    with pytest.raises(bitsim.Error, match="# rate"):
        bitsim.curves_from_arrays(good, rate="huffman")


@pytest.mark.parametrize("solver", [s["name"] for s in bitsim.solvers() if s["kind"] == "size_budget"])
def test_every_solver_plan_round_trip(resnet, solver, tmp_path):
    w, hw = resnet
    curves = bitsim.curves_from_arrays(arrays_of(bitsim.modelled_curves(w, rate="coded")), rate="coded")
    result = bitsim.allocate(curves, solver, avg_bits=3, workload=w, hw=hw)
    assert result["solver"] == solver
    assert result["rate_bits"] <= result["budget_bits"]
    used = result["solved_curves"]
    chosen = used.to_arrays()
    rows = np.cumsum([0] + [list(chosen["tensor"]).count(t) for t in used.tensors])[:-1] + result["choice"]
    assert float(np.sum(chosen["rate_bits"][rows])) == result["rate_bits"]
    assert np.sum(chosen["distortion"][rows]) == pytest.approx(result["predicted_distortion"], rel=1e-12)
    plan_file = tmp_path / "plan.yaml"
    bitsim.write_plan(str(plan_file), w, result["plan"])
    back = bitsim.read_plan(str(plan_file), w)
    simulated = bitsim.simulate(w, hw, back)["totals"]
    assert simulated["inference_rate_per_s"] == result["inference_rate_per_s"]
    assert simulated["dram_bytes"] == result["dram_bytes"]


def test_allocate_matches_cli(cli, resnet):
    w, hw = resnet
    expected = cli("allocate", "--workload", "workloads/resnet50.yaml", "--hw", "configs/tpu.yaml", "--avg-bits", "2",
                   "--solver", "exact")
    result = bitsim.allocate(bitsim.modelled_curves(w), "exact", avg_bits=2, workload=w, hw=hw)
    for key, value in expected.items():
        if key == "choices":
            for column in value[0]:
                got = result["choices"][column]
                got = got.tolist() if isinstance(got, np.ndarray) else got
                assert got == [row[column] for row in value], column
        else:
            assert result[key] == value, key


def test_latency_solver_meets_its_target(cli, resnet):
    w, hw = resnet
    curves = bitsim.modelled_curves(w)
    result = bitsim.allocate(curves, min_rate=500, workload=w, hw=hw)
    assert result["solver"] == "latency" and result["proven_optimal"] is True
    assert result["inference_rate_per_s"] >= 500
    assert bitsim.simulate(w, hw, result["plan"])["totals"]["inference_rate_per_s"] >= 500
    expected = cli("allocate", "--workload", "workloads/resnet50.yaml", "--hw", "configs/tpu.yaml", "--min-rate", "500")
    assert result["predicted_distortion"] == expected["predicted_distortion"]
    assert result["choices"]["option"] == [row["option"] for row in expected["choices"]]
    # Per image time, and the other objective.
    timed = bitsim.allocate(curves, max_time_s=0.002, workload=w, hw=hw)
    assert timed["time_per_image_s"] <= 0.002
    fastest = bitsim.allocate(curves, max_error=result["predicted_distortion"], workload=w, hw=hw)
    assert fastest["predicted_distortion"] <= result["predicted_distortion"]
    assert fastest["inference_rate_per_s"] >= result["inference_rate_per_s"]
    with pytest.raises(bitsim.Error, match="no plan|fastest"):
        bitsim.allocate(curves, min_rate=1e6, workload=w, hw=hw)


def test_allocate_argument_errors(resnet):
    w, hw = resnet
    curves = bitsim.modelled_curves(w)
    with pytest.raises(bitsim.Error, match="unknown solver 'exakt' \\(did you mean 'exact'\\?\\)"):
        bitsim.allocate(curves, "exakt", avg_bits=2)
    with pytest.raises(bitsim.Error, match="exactly one of budget_bits and avg_bits"):
        bitsim.allocate(curves, "exact")
    with pytest.raises(bitsim.Error, match="needs hw= and workload="):
        bitsim.allocate(curves, min_rate=100)
    with pytest.raises(bitsim.Error, match="needs a target"):
        bitsim.allocate(curves, "latency", avg_bits=2)
    with pytest.raises(bitsim.Error, match="cheapest"):
        bitsim.allocate(curves, "exact", budget_bits=1)


def test_curves_file_round_trip(resnet, tmp_path):
    w, _ = resnet
    curves = bitsim.modelled_curves(w, rate="entropy")
    f = tmp_path / "curves.csv"
    curves.write(str(f))
    back = bitsim.load_curves(str(f))
    assert back.to_csv() == curves.to_csv()


def test_latency_solver_under_systemc(resnet):
    w, hw = resnet
    curves = bitsim.modelled_curves(w)
    result = bitsim.allocate(curves, min_rate=400, workload=w, hw=hw, engine="systemc")
    assert result["engine"] == "systemc" and result["inference_rate_per_s"] >= 400
    assert bitsim.simulate(w, hw, result["plan"], engine="systemc")["totals"]["inference_rate_per_s"] >= 400
    with pytest.raises(bitsim.Error, match="no plan met the target under the SystemC engine"):
        bitsim.allocate(curves, min_rate=1250, workload=w, hw=hw, engine="systemc")
