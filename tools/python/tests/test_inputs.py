# Workloads and hardware configs from files and dicts: every kind loads, a dict is read like a file,
# and mistakes become bitsim.Error with the file:line:col message.
import numpy as np
import pytest

import bitsim
from conftest import path


@pytest.mark.parametrize(
    "relative, layers, macs",
    [
        ("workloads/resnet50.yaml", 73, 4_089_184_256),  # README "Workloads": 4.089 G MACs
        ("workloads/mobilenet_v1.yaml", None, 568_740_352),
        ("workloads/fmnist_cnn.onnx", None, None),
        ("tests/data/scalesim/alexnet.csv", None, None),
        ("tests/data/scalesim/test_mnk_input.csv", None, None),
    ],
)
def test_every_workload_kind_loads(relative, layers, macs):
    w = bitsim.load_workload(path(relative))
    assert len(w) == len(w.layer_names) > 1
    if layers is not None:
        assert len(w) == layers
    if macs is not None:
        assert w.total_macs == macs
    cols = w.layers()
    assert cols["layer"] == w.layer_names
    assert int(cols["macs"].sum()) == w.total_macs
    assert int(cols["weights"].sum()) == w.total_weights


def test_format_names_and_input_shape():
    names = [f["name"] for f in bitsim.workload_formats()]
    assert {"yaml", "onnx", "scalesim"} <= set(names)
    w = bitsim.load_workload(path("workloads/fmnist_cnn.onnx"), format="onnx", input_shape=(1, 28, 28))
    assert w.layers()["channels"][0] == 1
    with pytest.raises(bitsim.Error, match="input_shape"):
        bitsim.load_workload(path("workloads/fmnist_cnn.onnx"), input_shape=(1, 28))


def test_workload_error_is_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninput: {name: input, shape: [3, 8, 8]}\nlayers:\n  - {name: c, op: conv, kernal: 3}\n")
    with pytest.raises(bitsim.Error) as e:
        bitsim.load_workload(str(bad))
    assert isinstance(e.value, ValueError)
    assert f"{bad}:4:" in str(e.value)
    assert "did you mean 'kernel'" in str(e.value)
    assert e.value.diagnostics[0]["file"] == str(bad) and e.value.diagnostics[0]["line"] == 4


TPU = {
    "name": "tpu",
    "array": {"rows": 256, "cols": 256, "dataflow": "ws", "grouped_mapping": "diagonal_tiles"},
    "clock": "732.421875 MHz",
    "sram": {"weights": "4 MiB", "activations": "24 MiB"},
    "dram": {"bandwidth": "13 GB/s", "latency": "0 ns", "policy": "stream"},
    "decoder": {"lanes": 64, "symbols_per_cycle": 1},
    "datapath": {
        "native_bits": 8,
        "precision_scaling": "none",
        "fusion": "elementwise_pool",
        "shortcut": "on_chip_if_fits",
    },
}


def test_hardware_from_dict_equals_from_file():
    from_file = bitsim.load_hardware(path("configs/tpu.yaml"))
    from_dict = bitsim.hardware_from_dict(TPU)
    assert from_dict == from_file
    assert from_dict.source == "<dict>"
    assert {k: v for k, v in from_dict.config.items() if k != "source"} == {
        k: v for k, v in from_file.config.items() if k != "source"
    }


@pytest.mark.parametrize("relative", ["configs/tpu.yaml", "configs/eyeriss.yaml", "tests/data/scalesim/google.cfg"])
def test_to_dict_reads_back_exactly(relative):
    hw = bitsim.load_hardware(path(relative))
    assert bitsim.hardware_from_dict(hw.to_dict()) == hw


def test_bad_dict_names_the_field():
    bad = {**TPU, "dram": {**TPU["dram"], "bandwidth": 13}}
    with pytest.raises(bitsim.Error) as e:
        bitsim.hardware_from_dict(bad)
    message = str(e.value)
    assert message.startswith("<dict>:") and "error: dram.bandwidth: expected" in message and "got '13'" in message
    # Every problem at once, an unknown key with a did-you-mean.
    worse = {**bad, "array": {**TPU["array"], "rowz": 2}}
    with pytest.raises(bitsim.Error) as e:
        bitsim.hardware_from_dict(worse, source="my-config")
    assert len(e.value.diagnostics) == 2
    assert "did you mean 'rows'" in str(e.value) and "my-config:" in str(e.value)


def test_bad_file_gives_its_location(tmp_path):
    bad = tmp_path / "hw.yaml"
    bad.write_text(open(path("configs/tpu.yaml")).read().replace('"13 GB/s"', '"13 GB"'))
    with pytest.raises(bitsim.Error, match=rf"^{bad}:\d+:\d+: error: dram.bandwidth: expected"):
        bitsim.load_hardware(str(bad))


def test_to_yaml_reads_back_equal(tmp_path):
    hw = bitsim.load_hardware(path("configs/tpu.yaml")).with_params({"dram.bandwidth": "1.2345678901 GB/s"})
    text = hw.to_yaml("a point")
    assert text.startswith("# a point\n") and "bandwidth: 1.2345678901 GB/s" in text
    f = tmp_path / "hw.yaml"
    f.write_text(text)
    assert bitsim.load_hardware(str(f)) == hw


def test_with_params():
    hw = bitsim.load_hardware(path("configs/tpu.yaml"))
    slow = hw.with_params({"dram.bandwidth": "1 GB/s", "decoder.lanes": 8})
    assert slow.config["dram.bandwidth"] == "1 GB/s" and slow.config["decoder.lanes"] == "8"
    assert hw.config["dram.bandwidth"] == "13 GB/s"  # a copy
    with pytest.raises(bitsim.Error, match="did you mean 'dram.bandwidth'"):
        hw.with_params({"dram.bandwith": "1 GB/s"})
    keys = [p["key"] for p in bitsim.hardware_parameters()]
    assert "dram.bandwidth" in keys and "array.rows" in keys
    # Applied together, then checked against each other (as a study's vary and --set): raising the
    # 8 KiB SRAM energy above the 32 KiB one's old value is fine when both are raised.
    dear = hw.with_params({"energy.sram_8kib": "30 pJ", "energy.sram_32kib": "60 pJ"})
    assert dear.config["energy.sram_32kib"] == "60 pJ"
    with pytest.raises(bitsim.Error, match="energy.sram_32kib: expected from energy.sram_8kib"):
        hw.with_params({"energy.sram_8kib": "30 pJ"})


def test_plan_arrays():
    w = bitsim.load_workload(path("workloads/resnet50.yaml"))
    n = len(w)
    p = bitsim.Plan(w, np.full(n, 4), np.full(n, 8), label="4/8")
    u = bitsim.Plan.uniform(w, 4, 8)
    assert (p.weight_bits == u.weight_bits).all() and (p.activation_bits == u.activation_bits).all()
    assert (p.weight_coded_bits == -1).all()
    with pytest.raises(bitsim.Error, match="one value per layer"):
        bitsim.Plan(w, np.full(n - 1, 4))
    with pytest.raises(bitsim.Error, match=r"weight_bits of layer 1 \(conv1\): expected an integer from 1 to 32, got 33"):
        bitsim.Plan(w, 33, 8)
    with pytest.raises(bitsim.Error, match="expected an integer from 1 to 32, got 4.5"):
        bitsim.Plan(w, np.full(n, 4.5), 8)
    with pytest.raises(bitsim.Error, match="activation_coded_bits .* only fixed length"):
        bitsim.Plan(w, 4, 0, activation_coded_bits=100.0)
    none = bitsim.Plan(w, np.full(n, 4.0), 0)  # integral floats are fine; activations not quantized
    assert (none.activation_bits == 0).all() and none.weight_bits[1] == 4
