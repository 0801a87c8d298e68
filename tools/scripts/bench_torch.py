#!/usr/bin/python3
"""PyTorch's time for the shipped Fashion-MNIST architecture (tools/scripts/train_fmnist.py's Net, eval mode,
BatchNorm folded into the convolutions as in the exported ONNX model): 256 images per forward,
float32, CPU, 2 threads. Prints the median of 15 forwards, in ms, and images/s."""
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_fmnist import Net  # noqa: E402


def fold(net):
    """Folds every BatchNorm2d into the convolution before it (what torch.onnx.export did)."""
    for block in net.blocks:
        block.dw = torch.nn.utils.fusion.fuse_conv_bn_eval(block.dw, block.bn1)
        block.bn1 = nn.Identity()
        block.pw = torch.nn.utils.fusion.fuse_conv_bn_eval(block.pw, block.bn2)
        block.bn2 = nn.Identity()
    net.stem = torch.nn.utils.fusion.fuse_conv_bn_eval(net.stem, net.bn)
    net.bn = nn.Identity()
    return net


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = fold(Net().eval())
    x = torch.rand(256, 1, 28, 28)
    times = []
    with torch.no_grad():
        for _ in range(3):
            net(x)
        for _ in range(15):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1e3
    print(f"pytorch {torch.__version__}: {ms:.3f} ms per 256 images, {256 / ms * 1e3:.0f} images/s")


if __name__ == "__main__":
    main()
