#!/usr/bin/python3
"""Training-time bit allocation for the shipped Fashion-MNIST model (issue 16, items 2 and 3).

A short quantization-aware fine-tune of workloads/fmnist_cnn.onnx with seed 004's quantizers
(eq. 1 for weights and signed tensors, eq. 2 after ReLU; straight-through estimator), and two
allocators inside the loop, both driven by bitsim's Python module:

- qbitopt (seed 001 style): every K steps the sensitivities measured in PyTorch on the current weights
  (output MSE with one tensor quantized at each width, seed 004's additive curves) become
  rate-distortion curves, and bitsim's latency-aware
  solver (--min-rate, images/s on --hw) or exact solver (--avg-bits) picks the bits. Between updates
  the last plan is kept, so every step trains under a plan that meets the constraint.
- bitpruning (seed 002 style): learnable continuous bits per tensor (interpolation between the
  quantizers of floor(b) and ceil(b) bits), a regularizer weighting each tensor's bits by bitsim's
  simulated marginal time per bit on --hw, its multiplier adapted towards --min-rate; rounded at the
  end (then lowered greedily, fastest time saving first, until the plan meets --min-rate).

Writes a bitsim plan (--out) and the fine-tuned float model as ONNX (--out-model, the shipped graph
with the new initializers), which `bitsim eval --model M --plan P` measures.

    PYTHONPATH=build/python /usr/bin/python3 tools/qat/qat.py --allocator qbitopt \\
        --hw configs/tpu.yaml --min-rate R --steps 60 --seed 0 --out plan.yaml --out-model dir/fmnist_cnn.onnx
"""
import argparse
import gzip
import json
import math
import pathlib
import struct
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

import bitsim

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = "/usr/share/datasets/fashion-mnist"
MODEL = str(ROOT / "workloads" / "fmnist_cnn.onnx")
BIT_OPTIONS = np.arange(2, 9)  # fixed-length widths the allocators choose from (eq. 1 needs >= 2)
SAMPLE = 4096                   # values a step is fitted on (evenly spaced), as bitsim's calibration_sample


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = struct.unpack(">I", data[:4])[0] & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(split):
    prefix = "train" if split == "train" else "t10k"
    x = torch.tensor(read_idx(f"{DATA}/{prefix}-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(read_idx(f"{DATA}/{prefix}-labels-idx1-ubyte.gz"), dtype=torch.long)
    return x, y


# --- seed 004's quantizers (alloc/quantizer.h), in PyTorch -------------------------------------------

def levels_of(bits, signed):
    """alloc/quantized_model.h: weights and signed tensors t = 2^b - 1 (eq. 1), ReLU outputs t = 2^b (eq. 2)."""
    return (1 << int(bits)) - 1 if signed else 1 << int(bits)


def quantize(x, step, levels, signed, beta=0.0):
    """Eq. 1 (signed: dead zone of width step + beta) or eq. 2 (levels i * step), no gradient."""
    if signed:
        k = (levels - 1) // 2
        a = x.abs()
        idx = torch.clamp(torch.round((a - beta / 2) / step), 1, k)
        q = torch.sign(x) * (beta / 2 + idx * step)
        return torch.where(a < (step + beta) / 2, torch.zeros_like(x), q)
    return torch.clamp(torch.round(x / step), 0, levels - 1) * step


def sample_of(x):
    flat = x.detach().reshape(-1)
    if flat.numel() > SAMPLE:
        flat = flat[torch.linspace(0, flat.numel() - 1, SAMPLE).long()]
    return flat


def best_step(x, levels, signed, sample=True):
    """The MSE-optimal step (alloc/quantizer.h: a 24-point log scan from max|x|/(4t) to 2 max|x|,
    here refined by a second 16-point scan between the best point's neighbours instead of golden
    section). All candidates at once, on at most SAMPLE values."""
    s = (sample_of(x) if sample else x.detach().reshape(-1)).float()
    top = float(s.abs().max())
    if top == 0:
        return 1.0
    grid = torch.linspace(math.log(top / (4 * levels)), math.log(2 * top), 24, dtype=torch.float64)
    for _ in range(2):
        steps = grid.exp().float()[:, None]
        err = (quantize(s[None, :], steps, levels, signed) - s[None, :]).pow(2).mean(1)
        i = int(err.argmin())
        best = float(steps[i])
        grid = torch.linspace(float(grid[max(i - 1, 0)]), float(grid[min(i + 1, len(grid) - 1)]), 16,
                              dtype=torch.float64)
    return best


def quant_mse(x, bits, signed, step, sample=True):
    s = (sample_of(x) if sample else x.detach().reshape(-1)).float()
    return float((quantize(s, step, levels_of(bits, signed), signed) - s).pow(2).mean())


def fake_quant(x, bits, signed, step):
    """Straight-through: forward quantized, gradient of the identity."""
    if bits <= 0:
        return x
    return x + (quantize(x, step, levels_of(bits, signed), signed) - x).detach()


def frac_quant(x, bits, signed, steps):
    """BitPruning's continuous bits: (1 - f) Q_floor(b) + f Q_ceil(b), differentiable in b (a tensor);
    steps[b]: the step at b bits."""
    b = torch.clamp(bits, float(BIT_OPTIONS[0]), float(BIT_OPTIONS[-1]))
    lo = int(torch.floor(b.detach()))
    hi = min(lo + 1, int(BIT_OPTIONS[-1]))
    f = b - lo
    q_lo = fake_quant(x, lo, signed, steps[lo])
    q_hi = fake_quant(x, hi, signed, steps[hi]) if hi != lo else q_lo
    return (1 - f) * q_lo + f * q_hi


# --- the shipped network, rebuilt from the ONNX file's initializers ----------------------------------

class FmnistNet(torch.nn.Module):
    """The graph of workloads/fmnist_cnn.onnx (tools/scripts/train_fmnist.py with BatchNorm folded),
    with a quantization point on every tensor bitsim quantizes: each layer's weights and output."""

    def __init__(self, path=MODEL):
        super().__init__()
        m = onnx.load(path)
        self.onnx_model = m
        init = {i.name: torch.tensor(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
        self.register_buffer("mean", init["mean"])
        self.register_buffer("std", init["std"])
        self.convs = []  # (node name, weight name, bias name, stride, pad, groups)
        self.params = torch.nn.ParameterDict()
        for n in m.graph.node:
            if n.op_type in ("Conv", "Gemm"):
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                key = f"p{len(self.convs)}"
                self.params[key + "w"] = torch.nn.Parameter(init[n.input[1]])
                self.params[key + "b"] = torch.nn.Parameter(init[n.input[2]])
                self.convs.append(dict(node=n.name, w=n.input[1], b=n.input[2], key=key,
                                       stride=attrs.get("strides", [1, 1])[0], pad=attrs.get("pads", [0] * 4)[0],
                                       groups=attrs.get("group", 1)))
        # The order bitsim's ONNX import gives the layers (checked against the workload in `bind`).
        blocks = [(1, True), (2, False), (1, True), (2, False), (1, True)]
        self.points = ["input", "norm", "stem"]
        for i, (_, res) in enumerate(blocks):
            self.points += [f"b{i}.dw", f"b{i}.pw"] + ([f"b{i}.add"] if res else [])
        self.points += ["pool", "fc"]
        self.blocks = blocks

    def conv(self, x, i):
        c = self.convs[i]
        w, b = self.params[c["key"] + "w"], self.params[c["key"] + "b"]
        return w, b, c

    def weight_tensors(self):
        """Point name -> the layer's weight tensor as bitsim sees it (sim/network.h: kernel and bias,
        quantized with one step): the values flattened, detached."""
        return {n: torch.cat([w.detach().reshape(-1), b.detach()]) for n, (w, b) in self.weight_params().items()}

    def weight_params(self):
        names = ["stem"] + [f"b{i}.{k}" for i in range(len(self.blocks)) for k in ("dw", "pw")] + ["fc"]
        return {n: (self.params[c["key"] + "w"], self.params[c["key"] + "b"]) for n, c in zip(names, self.convs)}

    def forward(self, x, qa=None, qw=None, record=None):
        """qa(point, tensor) / qw(point, weight or bias) quantize (identity when None); record[point] = output."""
        qa = qa or (lambda p, t: t)
        qw = qw or (lambda p, t: t)

        def out(p, t):
            t = qa(p, t)
            if record is not None:
                record[p] = t
            return t

        x = out("input", x)
        x = out("norm", (x - self.mean) / self.std)
        ci = 0

        def conv(p, x, relu):
            nonlocal ci
            c = self.convs[ci]
            ci += 1
            w, b = qw(p, self.params[c["key"] + "w"]), qw(p, self.params[c["key"] + "b"])
            y = F.conv2d(x, w, b, c["stride"], c["pad"], 1, c["groups"])
            return F.relu(y) if relu else y

        x = out("stem", conv("stem", x, True))
        for i, (_, res) in enumerate(self.blocks):
            y = out(f"b{i}.dw", conv(f"b{i}.dw", x, True))
            y = out(f"b{i}.pw", conv(f"b{i}.pw", y, not res))
            x = out(f"b{i}.add", F.relu(y + x)) if res else y
        x = out("pool", x.mean((2, 3), keepdim=True))
        c = self.convs[ci]
        w, b = qw("fc", self.params[c["key"] + "w"]), qw("fc", self.params[c["key"] + "b"])
        return out("fc", F.linear(x.flatten(1), w, b))

    def export(self, path):
        """The shipped ONNX graph with this model's (fine-tuned) weights and biases."""
        m = onnx.ModelProto()
        m.CopyFrom(self.onnx_model)
        values = {}
        for c in self.convs:
            values[c["w"]] = self.params[c["key"] + "w"].detach().numpy()
            values[c["b"]] = self.params[c["key"] + "b"].detach().numpy()
        for i in m.graph.initializer:
            if i.name in values:
                i.CopyFrom(numpy_helper.from_array(values[i.name].astype(np.float32), i.name))
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        onnx.save(m, path)


class Binding:
    """Ties the torch model's quantization points to bitsim's layers (index in `layer_names`)."""

    def __init__(self, net, workload):
        layers = workload.layers()
        names = list(workload.layer_names)
        if len(names) != len(net.points):
            raise RuntimeError(f"bitsim sees {len(names)} layers ({names}), the torch model {len(net.points)}")
        self.layer_of = dict(zip(net.points, range(len(names))))
        self.names = names
        self.has_weights = np.asarray(layers["weights"]) > 0
        wt = net.weight_tensors()
        for p in wt:
            if not self.has_weights[self.layer_of[p]]:
                raise RuntimeError(f"torch point {p} has weights, bitsim layer {names[self.layer_of[p]]} none")
        self.weight_counts = {p: int(layers["weights"][self.layer_of[p]]) for p in wt}
        for p, t in wt.items():
            if t.numel() != self.weight_counts[p]:
                raise RuntimeError(f"{p}: {t.numel()} weights in torch, {self.weight_counts[p]} in bitsim")
        self.weight_points = list(wt)


# --- plans ------------------------------------------------------------------------------------------

class State:
    """Bits per quantization point: `w[point]` weights, `a[point]` outputs (0: not quantized, on chip)."""

    def __init__(self, w, a):
        self.w, self.a = dict(w), dict(a)

    def plan(self, workload, binding, label=""):
        n = len(binding.names)
        wb = np.zeros(n, dtype=np.int64)
        ab = np.zeros(n, dtype=np.int64)
        for p, b in self.w.items():
            wb[binding.layer_of[p]] = b
        for p, b in self.a.items():
            ab[binding.layer_of[p]] = b
        # Layers without weights take any width (no tensor); give them 8.
        wb[~binding.has_weights] = 8
        return bitsim.Plan(workload, weight_bits=wb, activation_bits=ab, label=label)

    def bits_per_value(self, binding, act_counts):
        total = sum(binding.weight_counts[p] * b for p, b in self.w.items())
        total += sum(act_counts[p] * b for p, b in self.a.items())
        values = sum(binding.weight_counts.values()) + sum(act_counts[p] for p, b in self.a.items() if b > 0)
        return total / values


def tensor_name(binding, point, kind):
    return f"{binding.names[binding.layer_of[point]]}:{kind}"


# --- the training loop -----------------------------------------------------------------------------

class Trainer:
    def __init__(self, args):
        torch.manual_seed(args.seed)
        np.random.seed(args.seed)
        torch.set_num_threads(2)
        self.args = args
        self.workload = bitsim.load_workload(args.model)  # before torch starts threads (README: fork)
        self.hw = bitsim.load_hardware(args.hw)
        self.timing = bitsim.Model(self.workload, self.hw)
        self.net = FmnistNet(args.model)
        self.bind = Binding(self.net, self.workload)
        self.train_x, self.train_y = fashion_mnist("train")
        self.gen = torch.Generator().manual_seed(args.seed)
        # Signed or not, per output, as bitsim decides it (calibration values all >= 0 -> eq. 2).
        rec = {}
        with torch.no_grad():
            self.net(self.train_x[:256], record=rec)
        self.signed = {p: bool((t < 0).any()) for p, t in rec.items()}
        self.act_counts = {p: int(t[0].numel()) for p, t in rec.items()}
        # Which outputs the hardware keeps on chip (fused): the solver's plan writes them as none.
        native = bitsim.allocate(self.curves(),
                                 "equal", avg_bits=8, workload=self.workload, hw=self.hw)
        ab = native["plan"].activation_bits
        self.on_chip = {p for p in self.net.points if ab[self.bind.layer_of[p]] == 0}
        self.log = []

    def quant_points(self):
        return list(self.net.points)

    def curves(self, dist=None):
        """Curves from measured distortions dist[(kind, point, bits)] (None: 4^-b x values, to find the
        fused tensors)."""
        cols = {k: [] for k in ("tensor", "option", "bits", "count", "rate_bits", "distortion", "kind")}
        items = [("w", p, self.bind.weight_counts[p]) for p in self.bind.weight_points]
        items += [("a", p, self.act_counts[p]) for p in self.quant_points()]
        for kind, p, count in items:
            for b in BIT_OPTIONS:
                d = dist[(kind, p, int(b))] if dist is not None else count * 4.0 ** -int(b)
                cols["tensor"].append(tensor_name(self.bind, p, kind))
                cols["option"].append(f"b{int(b)}")
                cols["bits"].append(int(b))
                cols["count"].append(count)
                cols["rate_bits"].append(int(count * b))
                cols["distortion"].append(float(d))
                cols["kind"].append("weight" if kind == "w" else "activation")
        return bitsim.curves_from_arrays({k: np.asarray(v) for k, v in cols.items()}, rate="fixed",
                                         provenance="measured in PyTorch during QAT (tools/qat/qat.py): "
                                                    "output MSE with one tensor quantized")

    def rate(self, state):
        return float(self.timing.layer_timing(state.plan(self.workload, self.bind))["inference_rate_per_s"])

    def batches(self, steps, batch):
        n = len(self.train_x)
        perm = torch.randperm(n, generator=self.gen)
        for s in range(steps):
            i = (s * batch) % (n - batch)
            if i < batch and s > 0:
                perm = torch.randperm(n, generator=self.gen)
            idx = perm[i:i + batch]
            x = self.train_x[idx]
            flip = torch.rand(len(idx), generator=self.gen) < 0.5
            yield torch.where(flip[:, None, None, None], x.flip(3), x), self.train_y[idx]

    # -- QBitOpt-style -----------------------------------------------------------------------------

    def calibrate(self, x):
        """Steps of every tensor at every width: weights on their current values, outputs on the
        unquantized model's outputs for `x` (bitsim calibrates on float outputs too). Kept for K steps."""
        rec = {}
        self.net.eval()
        with torch.no_grad():
            self.net(x, record=rec)
        self.float_outputs = rec
        steps = {}
        for p, w in self.net.weight_tensors().items():
            steps[("w", p)] = {int(b): best_step(w, levels_of(b, True), True, sample=False) for b in BIT_OPTIONS}
        for p, t in rec.items():
            steps[("a", p)] = {int(b): best_step(t, levels_of(b, self.signed[p]), self.signed[p]) for b in BIT_OPTIONS}
        self.steps = steps

    def sensitivities(self, x):
        """Curves on the current weights, seed 004's first-order model (supplement eq. 3-5):
        D_i(b) = g_i x MSE_i(b), the gain g_i measured as the output MSE (logits against the
        unquantized model's) with tensor i alone quantized at --gain-bits, over that tensor's MSE."""
        net = self.net
        net.eval()
        gb = self.args.gain_bits
        dist = {}
        with torch.no_grad():
            ref = net(x)
            for p, w in net.weight_tensors().items():
                out = net(x, qw=lambda q, t: fake_quant(t, gb, True, self.steps[("w", q)][gb]) if q == p else t)
                m = {int(b): quant_mse(w, b, True, self.steps[("w", p)][int(b)], sample=False) for b in BIT_OPTIONS}
                g = float((out - ref).pow(2).mean()) / max(m[gb], 1e-30)
                for b in BIT_OPTIONS:
                    dist[("w", p, int(b))] = g * m[int(b)]
            for p in self.quant_points():
                if p in self.on_chip:
                    for b in BIT_OPTIONS:
                        dist[("a", p, int(b))] = 0.0
                    continue
                sg = self.signed[p]
                out = net(x, qa=lambda q, t: fake_quant(t, gb, sg, self.steps[("a", q)][gb]) if q == p else t)
                v = self.float_outputs[p]
                m = {int(b): quant_mse(v, b, sg, self.steps[("a", p)][int(b)]) for b in BIT_OPTIONS}
                g = float((out - ref).pow(2).mean()) / max(m[gb], 1e-30)
                for b in BIT_OPTIONS:
                    dist[("a", p, int(b))] = g * m[int(b)]
        return dist

    def solve(self, dist):
        curves = self.curves(dist)
        a = self.args
        if a.min_rate is not None:
            r = bitsim.allocate(curves, min_rate=a.min_rate, workload=self.workload, hw=self.hw,
                                avg_bits=a.avg_bits)
        else:
            r = bitsim.allocate(curves, "exact", avg_bits=a.avg_bits, workload=self.workload, hw=self.hw)
        plan = r["plan"]
        w = {p: int(plan.weight_bits[self.bind.layer_of[p]]) for p in self.bind.weight_points}
        acts = {p: int(plan.activation_bits[self.bind.layer_of[p]]) for p in self.quant_points()}
        return State(w, acts)

    def qa(self, state):
        return lambda p, t: fake_quant(t, state.a.get(p, 0), self.signed[p], self.steps[("a", p)].get(state.a.get(p, 0)))

    def qw(self, state):
        return lambda p, t: fake_quant(t, state.w.get(p, 0), True, self.steps[("w", p)].get(state.w.get(p, 0)))

    def run_qbitopt(self, on_step=None):
        a = self.args
        opt = torch.optim.AdamW(self.net.parameters(), lr=a.lr, weight_decay=0)
        state = None
        for step, (x, y) in enumerate(self.batches(a.steps, a.batch)):
            if step % a.update_every == 0:
                self.calibrate(x[:a.sens_batch])
                state = self.solve(self.sensitivities(x[:a.sens_batch]))
            self.net.train()
            loss = F.cross_entropy(self.net(x, qa=self.qa(state), qw=self.qw(state)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rate = self.rate(state)
            self.log.append(dict(step=step, loss=float(loss), rate=rate,
                                 bits_per_value=state.bits_per_value(self.bind, self.act_counts)))
            if on_step:
                on_step(step, state, rate)
            if step % 10 == 0:
                print(f"step {step}: loss {float(loss):.4f}, {rate:.1f} images/s, "
                      f"{state.bits_per_value(self.bind, self.act_counts):.3f} bits/value", file=sys.stderr)
        return state

    # -- BitPruning-style --------------------------------------------------------------------------

    def marginal_time(self, state):
        """Simulated seconds per image saved by one bit less on each tensor (bitsim layer_timing)."""
        base = 1.0 / self.rate(state)
        cost = {}
        for kind, bits in (("w", state.w), ("a", state.a)):
            for p, b in bits.items():
                if b == 0:
                    continue
                lower = State(state.w, state.a)
                getattr(lower, kind)[p] = max(b - 1, 1)
                cost[(kind, p)] = max(base - 1.0 / self.rate(lower), 0.0)
        return cost, base

    def run_bitpruning(self, on_step=None):
        a = self.args
        quant = [("w", p) for p in self.bind.weight_points]
        quant += [("a", p) for p in self.quant_points() if p not in self.on_chip]
        bits = {k: torch.nn.Parameter(torch.tensor(float(a.init_bits))) for k in quant}
        opt = torch.optim.AdamW(self.net.parameters(), lr=a.lr, weight_decay=0)
        bopt = torch.optim.Adam(bits.values(), lr=a.bits_lr)
        lam = a.lam

        def rounded():
            w = {p: int(round(float(bits[("w", p)].clamp(2, 8)))) for p in self.bind.weight_points}
            acts = {p: (0 if p in self.on_chip else int(round(float(bits[("a", p)].clamp(2, 8)))))
                    for p in self.quant_points()}
            return State(w, acts)

        cost = None
        for step, (x, y) in enumerate(self.batches(a.steps, a.batch)):
            cur = rounded()
            if step % a.update_every == 0:
                cost, base = self.marginal_time(cur)
                self.calibrate(x)
            rate = self.rate(cur)
            # The multiplier follows the target (dual ascent on rate >= min_rate).
            lam *= math.exp(a.lam_rate * (a.min_rate / rate - 1.0))
            qa = lambda p, t: t if p in self.on_chip else frac_quant(t, bits[("a", p)], self.signed[p],
                                                                      self.steps[("a", p)])
            qw = lambda p, t: frac_quant(t, bits[("w", p)], True, self.steps[("w", p)])
            ce = F.cross_entropy(self.net(x, qa=qa, qw=qw), y)
            reg = sum(cost[k] / base * bits[k] for k in quant)
            loss = ce + lam * reg
            opt.zero_grad()
            bopt.zero_grad()
            loss.backward()
            opt.step()
            bopt.step()
            self.log.append(dict(step=step, loss=float(ce), rate=rate, lam=lam,
                                 bits_per_value=cur.bits_per_value(self.bind, self.act_counts)))
            if on_step:
                on_step(step, cur, rate)
            if step % 10 == 0:
                print(f"step {step}: loss {float(ce):.4f}, {rate:.1f} images/s (rounded), lambda {lam:.3g}, "
                      f"{cur.bits_per_value(self.bind, self.act_counts):.3f} bits/value", file=sys.stderr)
        state = rounded()
        # Rounding can miss the target: lower the tensor whose bit saves the most time until it is met.
        while self.rate(state) < a.min_rate:
            cost, _ = self.marginal_time(state)
            (kind, p), saving = max(((k, c) for k, c in cost.items() if getattr(state, k[0])[k[1]] > 2),
                                    key=lambda kc: kc[1], default=((None, None), 0))
            if kind is None or saving <= 0:
                print("bitpruning: the target cannot be met by lowering bits", file=sys.stderr)
                break
            getattr(state, kind)[p] -= 1
        return state


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--allocator", choices=["qbitopt", "bitpruning"], required=True)
    p.add_argument("--hw", required=True, help="hardware config (YAML)")
    p.add_argument("--model", default=MODEL, help="the float ONNX model to start from")
    p.add_argument("--min-rate", type=float, help="images/s the plan must reach on --hw")
    p.add_argument("--avg-bits", type=float, help="qbitopt: a size budget, bits per value (exact solver)")
    p.add_argument("--steps", type=int, default=60, help="training steps (batch --batch)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--update-every", type=int, default=20, help="K: steps between allocations / cost updates")
    p.add_argument("--sens-batch", type=int, default=64, help="qbitopt: images the curves are measured on")
    p.add_argument("--gain-bits", type=int, default=4, help="qbitopt: width the per-tensor gains are measured at")
    p.add_argument("--init-bits", type=float, default=5.0, help="bitpruning: starting bits")
    p.add_argument("--bits-lr", type=float, default=0.05, help="bitpruning: Adam step of the bits")
    p.add_argument("--lam", type=float, default=0.05, help="bitpruning: starting regularizer weight")
    p.add_argument("--lam-rate", type=float, default=0.2, help="bitpruning: multiplier adaptation speed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="plan file to write (replaced)")
    p.add_argument("--out-model", help="fine-tuned float ONNX model to write; name it fmnist_cnn.onnx "
                                       "(plans name their workload by file name)")
    p.add_argument("--log", help="JSON file: per-step loss, rate, bits per value, and the summary")
    a = p.parse_args(argv)
    if a.min_rate is None and a.avg_bits is None:
        p.error("give --min-rate (images/s on --hw) or --avg-bits")
    if a.allocator == "bitpruning" and a.min_rate is None:
        p.error("bitpruning needs --min-rate")
    return a


def main(argv=None):
    a = parse(argv)
    t0 = time.time()
    tr = Trainer(a)
    state = tr.run_qbitopt() if a.allocator == "qbitopt" else tr.run_bitpruning()
    train_s = time.time() - t0
    plan = state.plan(tr.workload, tr.bind, label=f"{a.allocator} seed {a.seed}")
    rate = tr.rate(state)
    summary = dict(allocator=a.allocator, hw=a.hw, min_rate=a.min_rate, avg_bits=a.avg_bits, steps=a.steps,
                   batch=a.batch, epochs=a.steps * a.batch / len(tr.train_x), seed=a.seed,
                   train_time_s=train_s, inference_rate_per_s=rate,
                   bits_per_value=state.bits_per_value(tr.bind, tr.act_counts),
                   weight_bits=state.w, activation_bits=state.a)
    print(json.dumps(summary))
    if a.out:
        pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        bitsim.write_plan(a.out, tr.workload, plan, force=True)
    if a.out_model:
        tr.net.export(a.out_model)
    if a.log:
        pathlib.Path(a.log).write_text(json.dumps(dict(summary=summary, steps=tr.log), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
