#!/usr/bin/python3
"""Writes the NumPy test data under tests/data/numpy/ that `--data PATH.npz` must read like
`--data fashion-mnist:16`: the first 16 Fashion-MNIST test images, float32 in [0, 1] (pixel / 255
in float32, as bitsim converts the IDX bytes), with their labels, twice:
  fmnist16.npz       np.savez_compressed (deflate): 'images' [16, 1, 28, 28] (NCHW), 'labels' int64
  fmnist16_nhwc.npz  np.savez (stored): 'x' [16, 28, 28, 1] (NHWC), 'y' uint8
Reads Debian's dataset-fashion-mnist IDX files itself; needs only python3-numpy. Regenerate with:
    /usr/bin/python3 tools/scripts/make_numpy_data.py tests/data/numpy
"""
import gzip
import os
import struct
import sys

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
COUNT = 16


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not an unsigned-byte IDX file"
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/numpy"
    os.makedirs(out, exist_ok=True)
    pixels = read_idx(f"{FASHION_MNIST}/t10k-images-idx3-ubyte.gz")[:COUNT]
    labels = read_idx(f"{FASHION_MNIST}/t10k-labels-idx1-ubyte.gz")[:COUNT]
    images = pixels.astype(np.float32) / np.float32(255)  # float32 division, as bitsim's
    assert images.dtype == np.float32
    nchw = np.ascontiguousarray(images[:, np.newaxis, :, :])
    nhwc = np.ascontiguousarray(images[:, :, :, np.newaxis])
    np.savez_compressed(os.path.join(out, "fmnist16.npz"), images=nchw, labels=labels.astype(np.int64))
    np.savez(os.path.join(out, "fmnist16_nhwc.npz"), x=nhwc, y=labels.astype(np.uint8))
    print(f"wrote {out}/fmnist16.npz and {out}/fmnist16_nhwc.npz: labels {labels.tolist()}")


if __name__ == "__main__":
    main()
