#!/usr/bin/python3
"""Writes the damaged and hostile ONNX models under tests/data/onnx/ that the importer must refuse
with a located message (issue 12): each is a 2-channel 4 x 4 input into one Conv (or Clip) whose
initializer or attributes are broken: dims whose product wraps int64 (to 0, with no data; or past
it), raw_data shorter than its dims or with trailing bytes, external data, a NaN weight, a node
without outputs, group 0, strides 0, a Clip whose min is an empty constant, and finite weights
whose products overflow float32 (hostile_overflow, on Fashion-MNIST's shape). Needs only
python3-onnx and python3-numpy. Regenerate with:
    /usr/bin/python3 tools/scripts/make_hostile_models.py tests/data/onnx
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def weights(dims=(3, 2, 1, 1), raw=None, values=None):
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    else:
        t.raw_data = np.asarray(values if values is not None else np.ones(dims), dtype=np.float32).tobytes()
    return t


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/onnx"
    os.makedirs(out, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
    external = weights()
    external.ClearField("raw_data")
    external.data_location = TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    nan = np.ones((3, 2, 1, 1), dtype=np.float32)
    nan[1, 0, 0, 0] = np.nan
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    cases = {
        "hostile_dims_wrap": ([conv], [weights((1 << 32, 1 << 32, 1, 1), raw=b"")]),
        "hostile_dims_huge": ([conv], [weights((1 << 31, 1 << 31, 3, 3), raw=b"\0" * 4)]),
        "hostile_raw_short": ([conv], [weights(raw=b"\0\0")]),
        "hostile_raw_trailing": ([conv], [weights(raw=np.ones(6, dtype=np.float32).tobytes() + b"\0\0\0")]),
        "hostile_external": ([conv], [external]),
        "hostile_nan": ([conv], [weights(values=nan)]),
        "hostile_no_output": ([helper.make_node("Conv", ["x", "w"], [], name="conv")], [weights()]),
        "hostile_group0": ([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", group=0)], [weights()]),
        "hostile_strides0": ([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", strides=[0, 0])], [weights()]),
        "hostile_empty_clip": ([helper.make_node("Clip", ["x", "lo"], ["y"], name="clip")],
                               [numpy_helper.from_array(np.zeros((0,), dtype=np.float32), "lo")]),
    }
    for name, (nodes, inits) in cases.items():
        graph = helper.make_graph(nodes, name, [x], [y], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        with open(f"{out}/{name}.onnx", "wb") as fo:
            fo.write(model.SerializeToString())
        print(f"wrote {out}/{name}.onnx")
    # Finite weights whose products overflow float32: a Fashion-MNIST-shaped input through two 1x1
    # convs of weight 1e30 gives inf outputs, so no error can be measured against them.
    big = numpy_helper.from_array(np.full((1, 1, 1, 1), 1e30, dtype=np.float32), "big")
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])
    nodes = [helper.make_node("Conv", ["x", "big"], ["h"], name="a"),
             helper.make_node("Conv", ["h", "big"], ["y"], name="b")]
    cases = {"hostile_overflow": (nodes, [big])}
    for name, (nodes, inits) in cases.items():
        graph = helper.make_graph(nodes, name, [image], [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                        [1, 1, 28, 28])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        with open(f"{out}/{name}.onnx", "wb") as fo:
            fo.write(model.SerializeToString())
        print(f"wrote {out}/{name}.onnx")


if __name__ == "__main__":
    main()
