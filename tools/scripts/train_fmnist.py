#!/usr/bin/python3
"""Trains the small Fashion-MNIST CNN shipped as workloads/fmnist_cnn.onnx, and exports it.

Debian packages only: python3-torch (CPU), python3-onnx, dataset-fashion-mnist. Fixed seeds,
deterministic CPU kernels, 2 threads; a few minutes on this machine.

    /usr/bin/python3 tools/scripts/train_fmnist.py workloads/fmnist_cnn.onnx

The network: a stem conv, depthwise-separable blocks with residual adds, pooling and an FC
classifier, with BatchNorm (exported folded or not, as torch.onnx does in eval mode) and ReLU.
The model normalizes its own input: it takes float32 images in [0, 1], NCHW [N, 1, 28, 28].
"""
import gzip
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Block(nn.Module):
    """Depthwise 3x3 + pointwise 1x1, each with BatchNorm and ReLU; residual add when shapes match."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu(self.bn1(self.dw(x)))
        y = self.bn2(self.pw(y))
        return F.relu(y + x) if self.residual else F.relu(y)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(0.2860))
        self.register_buffer("std", torch.tensor(0.3530))
        self.stem = nn.Conv2d(1, 32, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(32)
        self.blocks = nn.Sequential(Block(32, 32, 1), Block(32, 64, 2), Block(64, 64, 1), Block(64, 128, 2),
                                    Block(128, 128, 1))
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.relu(self.bn(self.stem(x)))
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "workloads/fmnist_cnn.onnx"
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    train_x = torch.tensor(read_idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    train_y = torch.tensor(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_x = torch.tensor(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    test_y = torch.tensor(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)

    net = Net()
    epochs, batch = 6, 128
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * (len(train_x) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    g = torch.Generator().manual_seed(0)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(train_x), generator=g)
        for i in range(len(train_x) // batch):
            idx = perm[i * batch:(i + 1) * batch]
            x = train_x[idx]
            # Light augmentation: random horizontal flips.
            flip = torch.rand(len(idx), generator=g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = F.cross_entropy(net(x), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {acc:.4f}", flush=True)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), out, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                      do_constant_folding=True)
    print(f"wrote {out}: test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
