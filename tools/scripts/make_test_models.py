#!/usr/bin/python3
"""Writes the small ONNX test models under tests/data/onnx/ with PyTorch's reference outputs.

They exercise the importer paths the backend test cases do not: BatchNormalization nodes kept in
the graph (folded by bitsim), ReLU6 as Clip, input normalization as Sub/Div, Concat, MaxPool with
padding, Flatten + Gemm. Regenerate with:  /usr/bin/python3 tools/scripts/make_test_models.py tests/data/onnx
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from onnx import numpy_helper


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.b = nn.Sequential(nn.Conv2d(3, 4, 1, bias=True), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.head = nn.Sequential(nn.Conv2d(12, 6, 3, 2, 1), nn.BatchNorm2d(6), nn.ReLU())
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = (x - 0.5) / 0.25
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        y = self.head(self.pool(y))
        return self.fc(torch.flatten(y, 1))


class Acts(nn.Module):
    """HardSwish, HardSigmoid and Sigmoid after convolutions, and Softmax over the classes."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.c2 = nn.Conv2d(8, 8, 3, 2, 1)
        self.c3 = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8 * 6 * 6, 4)

    def forward(self, x):
        y = nn.functional.hardswish(self.c1(x))
        z = self.c2(y)
        s = torch.sigmoid(z)
        w = nn.functional.hardsigmoid(self.c3(s)) + s
        return torch.softmax(self.fc(torch.flatten(w, 1)), dim=1)


class SqueezeExcite(nn.Module):
    """A squeeze-excitation block: global average pool, 1x1 convs, sigmoid, and the gate multiplied
    into the feature map (Mul of two computed tensors, broadcast over the pixels)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)
        self.reduce = nn.Conv2d(8, 2, 1)
        self.expand = nn.Conv2d(2, 8, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        s = torch.sigmoid(self.expand(torch.relu(self.reduce(nn.functional.adaptive_avg_pool2d(y, 1)))))
        return y * s


def export(net, x, out, name, fold_constants=False):
    net.eval()
    with torch.no_grad():
        y = net(x)
    torch.onnx.export(net, x, f"{out}/{name}.onnx", input_names=["x"], output_names=["y"], opset_version=14,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=fold_constants)
    with open(f"{out}/{name}_input_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(x.numpy().astype(np.float32), "x").SerializeToString())
    with open(f"{out}/{name}_output_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(y.numpy().astype(np.float32), "y").SerializeToString())
    print(f"wrote {out}/{name}.onnx and its reference input/output")


def save(model, x, y, out, name):
    """Writes a model built with onnx.helper and its reference input and output."""
    with open(f"{out}/{name}.onnx", "wb") as f:
        f.write(model.SerializeToString())
    with open(f"{out}/{name}_input_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(x.numpy(), "x").SerializeToString())
    with open(f"{out}/{name}_output_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(y.numpy(), "y").SerializeToString())
    print(f"wrote {out}/{name}.onnx and its reference input/output")


def padconv(out):
    """An explicit asymmetric zero Pad before a Conv, written with onnx.helper (torch 1.13 exports
    F.pad as a graph of shape operators); the reference output is PyTorch's F.pad + conv2d."""
    from onnx import TensorProto, helper
    torch.manual_seed(3)
    x = torch.rand(2, 3, 7, 6)
    w = torch.randn(4, 3, 3, 3)
    b = torch.randn(4)
    y = nn.functional.conv2d(nn.functional.pad(x, (1, 0, 2, 1)), w, b, stride=2)  # left 1, right 0, top 2, bottom 1
    pads = numpy_helper.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 0], dtype=np.int64), "pads")
    graph = helper.make_graph(
        [helper.make_node("Pad", ["x", "pads"], ["xp"], name="pad"),
         helper.make_node("Conv", ["xp", "w", "b"], ["y"], name="conv", strides=[2, 2])],
        "padconv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
        [pads, numpy_helper.from_array(w.numpy(), "w"), numpy_helper.from_array(b.numpy(), "b")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), x, y, out, "padconv")


def padsub(out):
    """Standalone Pad layers (reflect, edge, and a zero pad read by a MaxPool as well as a Conv, so it
    cannot be folded), Sub of two computed tensors and a constant minus a tensor, written with
    onnx.helper; the reference output is PyTorch's F.pad / max_pool2d / conv2d."""
    from onnx import TensorProto, helper
    torch.manual_seed(5)
    x = torch.rand(2, 3, 7, 6)
    wa, wc, wb, we = torch.randn(4, 3, 3, 3), torch.randn(4, 3, 2, 2), torch.randn(4, 3, 1, 1), torch.randn(4, 3, 1, 3)
    f = nn.functional
    a = f.conv2d(f.pad(x, (1, 1, 1, 1), mode="reflect"), wa)            # 7 x 6
    xz = f.pad(x, (1, 0, 1, 0))                                           # zero: left 1, top 1 -> 8 x 7
    b = f.conv2d(f.max_pool2d(xz, 2, 1), wb)                              # 7 x 6
    c = f.conv2d(xz, wc)                                                  # 7 x 6
    e = f.conv2d(f.pad(x, (2, 0, 0, 0), mode="replicate"), we)            # edge: left 2 -> 7 x 8 -> 7 x 6
    y = 0.5 - ((a - b) + c - e)

    def pads(name, top, left, bottom, right):
        return numpy_helper.from_array(np.array([0, 0, top, left, 0, 0, bottom, right], dtype=np.int64), name)
    half = numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half")
    nodes = [
        helper.make_node("Pad", ["x", "pr"], ["xr"], name="pad_reflect", mode="reflect"),
        helper.make_node("Conv", ["xr", "wa"], ["a"], name="conv_a"),
        helper.make_node("Pad", ["x", "pz"], ["xz"], name="pad_zero"),
        helper.make_node("MaxPool", ["xz"], ["m"], name="pool", kernel_shape=[2, 2]),
        helper.make_node("Conv", ["m", "wb"], ["b"], name="conv_b"),
        helper.make_node("Conv", ["xz", "wc"], ["c"], name="conv_c"),
        helper.make_node("Pad", ["x", "pe"], ["xe"], name="pad_edge", mode="edge"),
        helper.make_node("Conv", ["xe", "we"], ["e"], name="conv_e"),
        helper.make_node("Sub", ["a", "b"], ["ab"], name="sub_ab"),
        helper.make_node("Add", ["ab", "c"], ["abc"], name="add_c"),
        helper.make_node("Sub", ["abc", "e"], ["t"], name="sub_e"),
        helper.make_node("Sub", ["half", "t"], ["y"], name="half_minus"),
    ]
    graph = helper.make_graph(
        nodes, "padsub",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
        [pads("pr", 1, 1, 1, 1), pads("pz", 1, 1, 0, 0), pads("pe", 0, 2, 0, 0), half,
         numpy_helper.from_array(wa.numpy(), "wa"), numpy_helper.from_array(wb.numpy(), "wb"),
         numpy_helper.from_array(wc.numpy(), "wc"), numpy_helper.from_array(we.numpy(), "we")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), x, y, out, "padsub")


def softmaxes(out):
    """Softmax over every value of a conv's 3 x 4 x 4 output, which bitsim must refuse rather than
    compute over channels: softmax11.onnx, opset 11's axis 1 (the input coerced to [N, C*H*W]), and
    flatsoftmax.onnx, axis 1 after a Flatten. poolsoftmax.onnx: the same after a global average
    pool, a softmax over channels (accepted). matmulmap.onnx: MatMul of a map; rankmul.onnx: a map
    times a row (both refused). samepads.onnx, padwrap.onnx: attributes bitsim refuses."""
    from onnx import TensorProto, helper
    w = numpy_helper.from_array(np.ones((3, 2, 1, 1), dtype=np.float32), "w")
    m = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "m")
    k = numpy_helper.from_array(np.ones((3, 4), dtype=np.float32), "k")
    p = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64), "pads")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="conv")
    cases = {
        "softmax11": (11, [conv, helper.make_node("Softmax", ["c"], ["y"], name="softmax", axis=1)], [1, 3, 4, 4]),
        "flatsoftmax": (13, [conv, helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
                             helper.make_node("Softmax", ["f"], ["y"], name="softmax", axis=1)], [1, 48]),
        "poolsoftmax": (13, [conv, helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool"),
                             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
                             helper.make_node("Softmax", ["f"], ["y"], name="softmax", axis=-1)], [1, 3]),
        # MatMul of a map: a product per row of every channel, not a fully connected layer (refused).
        "matmulmap": (13, [conv, helper.make_node("MatMul", ["c", "m"], ["y"], name="matmul")], [1, 3, 4, 2]),
        # A [1, 3, 4, 4] map times a [1, 4] row (pooled, flattened, resized by MatMul): ONNX aligns the
        # row with the last axis (W), not the channels (refused).
        "rankmul": (13, [conv, helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool"),
                         helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
                         helper.make_node("MatMul", ["f", "k"], ["g"], name="resize"),
                         helper.make_node("Mul", ["c", "g"], ["y"], name="mul")], [1, 3, 4, 4]),
        # Malformed or unsupported attributes (refused): explicit pads with auto_pad SAME; a Pad mode
        # bitsim does not have.
        "samepads": (13, [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", auto_pad="SAME_UPPER",
                                           pads=[1, 1, 1, 1])], [1, 3, 4, 4]),
        "padwrap": (19, [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad", mode="wrap")], [1, 2, 6, 6]),
    }
    for name, (opset, nodes, out_shape) in cases.items():
        used = {i for node in nodes for i in node.input}
        graph = helper.make_graph(nodes, name, [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                                  [t for t in (w, m, k, p) if t.name in used])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        with open(f"{out}/{name}.onnx", "wb") as fo:
            fo.write(model.SerializeToString())
        print(f"wrote {out}/{name}.onnx")


def layouts(out):
    """What tf2onnx and paddle2onnx write (issue 13): an N, H, W, C input transposed to N, C, H, W, a
    squeeze-excitation gate through ReduceMean / Squeeze / Unsqueeze, a transpose back to N, H, W, C
    before a flatten whose shape is computed by Shape -> Gather -> Unsqueeze -> Concat, then MatMul
    and Add. The reference output is PyTorch's, computed in N, C, H, W."""
    from onnx import TensorProto, helper
    torch.manual_seed(5)
    x = torch.rand(2, 8, 8, 3)  # N, H, W, C
    w1, b1 = torch.randn(6, 3, 3, 3) * 0.5, torch.randn(6) * 0.1
    fc_w, fc_b = torch.randn(8 * 8 * 6, 5) * 0.1, torch.randn(5) * 0.1
    r1 = torch.relu(nn.functional.conv2d(x.permute(0, 3, 1, 2), w1, b1, padding=1))
    gated = r1 * r1.mean(dim=(2, 3), keepdim=True)
    y = gated.permute(0, 2, 3, 1).reshape(2, -1) @ fc_w + fc_b
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t0"], name="to_nchw", perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t0", "w1", "b1"], ["c1"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("ReduceMean", ["r1"], ["gm"], name="mean", axes=[2, 3], keepdims=1),
        helper.make_node("Squeeze", ["gm", "hw_axes"], ["sq"], name="squeeze"),
        helper.make_node("Unsqueeze", ["sq", "hw_axes"], ["us"], name="unsqueeze"),
        helper.make_node("Mul", ["r1", "us"], ["m"], name="gate"),
        helper.make_node("Transpose", ["m"], ["t1"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Shape", ["t1"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["n", "axis0"], ["n1"], name="batch_1d"),
        helper.make_node("Concat", ["n1", "minus_one"], ["flat_shape"], name="flat_shape", axis=0),
        helper.make_node("Reshape", ["t1", "flat_shape"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "fc_w"], ["mm"], name="fc"),
        helper.make_node("Add", ["mm", "fc_b"], ["y"], name="fc_bias"),
    ]
    graph = helper.make_graph(
        nodes, "layouts",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8, 8, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])],
        [numpy_helper.from_array(w1.numpy(), "w1"), numpy_helper.from_array(b1.numpy(), "b1"),
         numpy_helper.from_array(fc_w.numpy(), "fc_w"), numpy_helper.from_array(fc_b.numpy(), "fc_b"),
         i64("hw_axes", [2, 3]), i64("zero", 0), i64("axis0", [0]), i64("minus_one", [-1])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), x, y, out, "layouts")


def clamps(out):
    """tf2onnx's clamps (issue 13): Max and Min of a tensor and a scalar constant, a Clip whose upper
    bound is +inf, LeakyRelu, and a Concat of one input (PyTorch writes it for DenseNet)."""
    from onnx import TensorProto, helper
    torch.manual_seed(6)
    x = torch.rand(2, 3, 6, 6) * 4 - 2
    w, b = torch.randn(4, 3, 3, 3), torch.randn(4)
    c = nn.functional.conv2d(x, w, b, padding=1)
    y = nn.functional.leaky_relu(torch.clamp(torch.clamp(c, min=-0.5), max=2.0), 0.2)
    y = torch.clamp(y, min=-0.05)
    f32 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Max", ["c", "lo"], ["m1"], name="max"),
        helper.make_node("Min", ["hi", "m1"], ["m2"], name="min"),
        helper.make_node("LeakyRelu", ["m2"], ["l"], name="leaky", alpha=0.2),
        helper.make_node("Concat", ["l"], ["one"], name="concat_one", axis=1),
        helper.make_node("Clip", ["one", "clip_lo", "clip_hi"], ["y"], name="clip"),
    ]
    graph = helper.make_graph(
        nodes, "clamps",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
        [numpy_helper.from_array(w.numpy(), "w"), numpy_helper.from_array(b.numpy(), "b"), f32("lo", -0.5),
         f32("hi", 2.0), f32("clip_lo", -0.05), f32("clip_hi", np.inf)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), x, y, out, "clamps")


def twoheads(out):
    """Several graph outputs, as detectors have (issue 13): a class head and a per-pixel head on one
    trunk, and a dead node no output depends on. Writes twoheads_output_0.pb and _output_1.pb."""
    from onnx import TensorProto, helper
    torch.manual_seed(7)
    x = torch.rand(2, 3, 6, 6)
    w1, b1 = torch.randn(4, 3, 3, 3), torch.randn(4)
    w2, b2 = torch.randn(2, 4, 1, 1), torch.randn(2)
    fc_w, fc_b = torch.randn(5, 4), torch.randn(5)
    t = torch.relu(nn.functional.conv2d(x, w1, b1, padding=1))
    y1 = t.mean(dim=(2, 3)) @ fc_w.T + fc_b
    y2 = torch.sigmoid(nn.functional.conv2d(t, w2, b2))
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="trunk", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["t"], name="relu"),
        helper.make_node("GlobalAveragePool", ["t"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y1"], name="classes", transB=1),
        helper.make_node("Conv", ["t", "w2", "b2"], ["c2"], name="pixels"),
        helper.make_node("Sigmoid", ["c2"], ["y2"], name="sigmoid"),
        helper.make_node("Relu", ["c2"], ["unused"], name="dead"),
    ]
    graph = helper.make_graph(
        nodes, "twoheads",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y1", TensorProto.FLOAT, list(y1.shape)),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, list(y2.shape))],
        [numpy_helper.from_array(a.numpy(), n) for a, n in
         [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (fc_w, "fc_w"), (fc_b, "fc_b")]])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), x, y1, out, "twoheads")
    with open(f"{out}/twoheads_output_1.pb", "wb") as f:
        f.write(numpy_helper.from_array(y2.numpy(), "y2").SerializeToString())


class ShuffleBlock(nn.Module):
    """A ShuffleNet-v2 unit and a space-to-depth stem (issue 13): torch.chunk (Split on channels),
    Concat, the channel shuffle (Reshape to 5-D, Transpose, Reshape), strided Slices of height and
    width (YOLO's focus), a reshape to another C x H x W view, and exp."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(12, 8, 1)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, 1, 1, groups=4), nn.Conv2d(4, 4, 1))
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = torch.cat([x[:, :, ::2, ::2], x[:, :, 1::2, ::2], x[:, :, ::2, 1::2], x[:, :, 1::2, 1::2]], dim=1)
        x = torch.relu(self.stem(x))
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, self.branch(b)], dim=1)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        y = self.head(x)
        return torch.exp(y.reshape(n, 8, h // 2, w) * 0.1)


class DetectorHeads(nn.Module):
    """Detector heads (issue 13) on a two-level trunk, exported at opset 11 like the npm detectors:
    an SSD-style head (each level's class and box maps transposed N, C, H, W -> N, H, W, C mid-graph,
    reshaped to [N, -1, K] with the batch size computed by Shape -> Gather, concatenated along the
    boxes axis; Softmax over the last axis; the boxes decoded against prior boxes: Slices of the last
    axis, Mul/Add with a [1, boxes, 2] constant, Exp, Sub/Add of computed tensors, Concat along the
    last axis) and a YOLOX-style head (each level reshaped to [N, K, H*W], concatenated along axis 2,
    transposed to [N, boxes, K] at the graph output)."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Conv2d(3, 8, 3, 1, 1)
        self.down = nn.Conv2d(8, 8, 3, 2, 1)
        self.cls = nn.ModuleList([nn.Conv2d(8, 2 * 2, 1), nn.Conv2d(8, 2 * 2, 1)])  # 2 anchors x 2 classes
        self.box = nn.ModuleList([nn.Conv2d(8, 2 * 4, 1), nn.Conv2d(8, 2 * 4, 1)])
        self.yolo = nn.ModuleList([nn.Conv2d(8, 6, 1), nn.Conv2d(8, 6, 1)])
        boxes = 2 * 8 * 8 + 2 * 4 * 4
        self.register_buffer("priors", torch.cat([torch.rand(1, boxes, 2), torch.rand(1, boxes, 2) * 0.5 + 0.1], 2))

    def forward(self, x):
        a = torch.relu(self.trunk(x))
        levels = [a, torch.relu(self.down(a))]
        n = x.shape[0]
        scores = torch.cat([c(f).permute(0, 2, 3, 1).reshape(n, -1, 2) for c, f in zip(self.cls, levels)], 1)
        boxes = torch.cat([b(f).permute(0, 2, 3, 1).reshape(n, -1, 4) for b, f in zip(self.box, levels)], 1)
        centers = boxes[:, :, :2] * 0.1 * self.priors[:, :, 2:] + self.priors[:, :, :2]
        sizes = torch.exp(boxes[:, :, 2:] * 0.2) * self.priors[:, :, 2:]
        corners = torch.cat([centers - sizes / 2, centers + sizes / 2], 2)
        yolo = torch.cat([y(f).reshape(n, 6, -1) for y, f in zip(self.yolo, levels)], 2).permute(0, 2, 1)
        return torch.softmax(scores, dim=2), corners, yolo


def detector_heads(out):
    """dethead.onnx and its reference input and outputs (dethead_output_0.pb to _2.pb)."""
    torch.manual_seed(9)
    net = DetectorHeads().eval()
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        ys = net(x)
    names = ["scores", "boxes", "yolo"]
    torch.onnx.export(net, x, f"{out}/dethead.onnx", input_names=["x"], output_names=names, opset_version=11,
                      do_constant_folding=False)
    with open(f"{out}/dethead_input_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(x.numpy(), "x").SerializeToString())
    for k, (y, name) in enumerate(zip(ys, names)):
        with open(f"{out}/dethead_output_{k}.pb", "wb") as f:
            f.write(numpy_helper.from_array(y.numpy(), name).SerializeToString())
    print(f"wrote {out}/dethead.onnx and its reference input/outputs")


def head_refusals(out):
    """Axis operations bitsim must refuse rather than compute otherwise than ONNX: a Transpose that
    moves the batch axis (transposebatch.onnx), a Concat along the batch axis (concatbatch.onnx),
    and a Slice of a flattened map's rows (flatslice.onnx: [N, C*H*W] is not the C x H x W map)."""
    from onnx import TensorProto, helper
    torch.manual_seed(10)
    w = numpy_helper.from_array(torch.randn(3, 3, 1, 1).numpy(), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="conv")
    cases = {
        "transposebatch": ([helper.make_node("Transpose", ["c"], ["y"], name="transpose", perm=[1, 0, 2, 3])],
                           [3, 2, 4, 4], []),
        "concatbatch": ([helper.make_node("Relu", ["c"], ["r"], name="relu"),
                         helper.make_node("Concat", ["c", "r"], ["y"], name="concat", axis=0)], [4, 3, 4, 4], []),
        "flatslice": ([helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
                       helper.make_node("Slice", ["f", "starts", "ends", "axes"], ["y"], name="slice")], [2, 5],
                      [numpy_helper.from_array(np.array(v, dtype=np.int64), k) for k, v in
                       [("starts", [0]), ("ends", [5]), ("axes", [1])]]),
    }
    for name, (nodes, shape, consts) in cases.items():
        graph = helper.make_graph([conv] + nodes, name, [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
                                  [w] + consts)
        with open(f"{out}/{name}.onnx", "wb") as f:
            f.write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
        print(f"wrote {out}/{name}.onnx")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/onnx"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    net = Branchy()
    for m in net.modules():  # non-trivial BatchNorm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    export(net, torch.rand(2, 3, 12, 12), out, "branchy")
    torch.manual_seed(2)
    export(Acts(), torch.rand(2, 3, 12, 12) * 4 - 2, out, "acts")
    torch.manual_seed(4)
    export(SqueezeExcite(), torch.rand(2, 3, 8, 8), out, "se")
    padconv(out)
    padsub(out)
    softmaxes(out)
    layouts(out)
    clamps(out)
    twoheads(out)
    torch.manual_seed(8)
    export(ShuffleBlock(), torch.rand(2, 3, 8, 8), out, "shuffle", fold_constants=True)
    detector_heads(out)
    head_refusals(out)


if __name__ == "__main__":
    main()
