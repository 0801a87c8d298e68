# The training-time allocators on a very short run: the QBitOpt-style loop's plan meets the
# images/s target at every step (not only at the end), and BitPruning-style's rounded plan meets it.
# CTest (tests/CMakeLists.txt) runs this with PYTHONPATH=<build>/python; SKIPPED without PyTorch.
import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed (Debian: python3-torch)")
pytest.importorskip("onnx", reason="the onnx module not installed (Debian: python3-onnx)")
import bitsim  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "qat"))
import qat  # noqa: E402


@pytest.fixture(autouse=True)
def in_source_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def target(hw_path):
    """The equal 4-bit plan's simulated images/s: the rate the README table compares at."""
    w = bitsim.load_workload(str(ROOT / "workloads" / "fmnist_cnn.onnx"))
    hw = bitsim.load_hardware(hw_path)
    return float(bitsim.Model(w, hw).layer_timing(bitsim.Plan.uniform(w, 4))["inference_rate_per_s"])


def short_run(allocator, rate, steps=4):
    args = qat.parse(["--allocator", allocator, "--hw", "configs/tpu.yaml", "--min-rate", str(rate),
                      "--steps", str(steps), "--batch", "16", "--sens-batch", "16", "--update-every", "2"])
    tr = qat.Trainer(args)
    seen = []

    def check(step, state, sim_rate):
        # The plan the step trained under, timed again from scratch by bitsim.
        plan = state.plan(tr.workload, tr.bind)
        again = bitsim.layer_timing(tr.workload, tr.hw, plan)["inference_rate_per_s"]
        seen.append((step, sim_rate, again, dict(state.w), dict(state.a)))

    final = tr.run_qbitopt(check) if allocator == "qbitopt" else tr.run_bitpruning(check)
    return tr, final, seen


def test_qbitopt_meets_the_target_at_every_step():
    rate = target("configs/tpu.yaml")
    tr, final, seen = short_run("qbitopt", rate)
    assert [s[0] for s in seen] == [0, 1, 2, 3]
    for step, sim_rate, again, wbits, abits in seen:
        assert sim_rate == again
        assert again >= rate, f"step {step}: {again} images/s < {rate}"
        assert all(2 <= b <= 8 for b in wbits.values())
        assert all(b == 0 or 2 <= b <= 8 for b in abits.values())
    # Between updates (every 2 steps) the plan is kept.
    assert seen[0][3:] == seen[1][3:] and seen[2][3:] == seen[3][3:]
    assert tr.rate(final) >= rate


def test_bitpruning_rounded_plan_meets_the_target(tmp_path):
    rate = target("configs/tpu.yaml")
    tr, final, seen = short_run("bitpruning", rate, steps=2)
    assert len(seen) == 2
    assert tr.rate(final) >= rate
    plan_file = tmp_path / "plan.yaml"
    bitsim.write_plan(str(plan_file), tr.workload, final.plan(tr.workload, tr.bind))
    again = bitsim.read_plan(str(plan_file), tr.workload)
    assert np.array_equal(again.activation_bits, final.plan(tr.workload, tr.bind).activation_bits)


def test_exported_model_keeps_the_float_network(tmp_path):
    net = qat.FmnistNet()
    out = tmp_path / "fmnist_cnn.onnx"
    net.export(str(out))
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    again = qat.FmnistNet(str(out))
    with torch.no_grad():
        assert torch.equal(net(x), again(x))
