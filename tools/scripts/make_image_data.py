#!/usr/bin/python3
"""Writes the image folders under tests/data/images/ that `--data DIR` must read like
`--data fashion-mnist:16`: the first 16 Fashion-MNIST test images as 8-bit gray PNG files (the IDX
bytes unchanged), twice:
  fmnist16/CLASS/NNNN.png   in class folders named by Fashion-MNIST's classes; preprocess.yaml lists
                            them in class-number order (the first 16 images hold no T-shirt and no bag,
                            so sorted folder names would number the classes otherwise)
  fmnist16_flat/NNNN.png    in one folder, labelled by labels.csv (file,label), in the IDX order
NNNN is the image's index in the test set. The PNG files are written here byte by byte (signature,
IHDR, one zlib IDAT with filter 0 on every row, IEND, CRC-32 from zlib): nothing but the Python
standard library, so bitsim's libpng reader is checked against an independent writer. Regenerate with:
    /usr/bin/python3 tools/scripts/make_image_data.py tests/data/images
"""
import gzip
import os
import shutil
import struct
import sys
import zlib

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
COUNT = 16
CLASSES = ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
           "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not an unsigned-byte IDX file"
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def gray_png(width, height, pixels):
    """An 8-bit grayscale PNG (color type 0) of `pixels`, row by row."""
    assert len(pixels) == width * height
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/images"
    (n, height, width), pixels = read_idx(f"{FASHION_MNIST}/t10k-images-idx3-ubyte.gz")
    _, labels = read_idx(f"{FASHION_MNIST}/t10k-labels-idx1-ubyte.gz")
    assert n >= COUNT
    classes_dir, flat_dir = os.path.join(out, "fmnist16"), os.path.join(out, "fmnist16_flat")
    for d in (classes_dir, flat_dir):
        shutil.rmtree(d, ignore_errors=True)
    csv = ["file,label"]
    for i in range(COUNT):
        size = width * height
        png = gray_png(width, height, pixels[i * size:(i + 1) * size])
        write(os.path.join(classes_dir, CLASSES[labels[i]], f"{i:04d}.png"), png)
        write(os.path.join(flat_dir, f"{i:04d}.png"), png)
        csv.append(f"{i:04d}.png,{labels[i]}")
    write(os.path.join(classes_dir, "preprocess.yaml"),
          ("# The first 16 Fashion-MNIST test images, 8-bit gray PNG, in folders named by class\n"
           "# (tools/scripts/make_image_data.py). The classes in Fashion-MNIST's order: class 0 first.\n"
           f"classes: [{', '.join(CLASSES)}]\n"
           "scale: 1/255\n").encode())
    write(os.path.join(flat_dir, "preprocess.yaml"),
          ("# The first 16 Fashion-MNIST test images, 8-bit gray PNG, in test-set order\n"
           "# (tools/scripts/make_image_data.py), labelled by labels.csv.\n"
           "scale: 1/255\n"
           "labels: labels.csv\n").encode())
    write(os.path.join(flat_dir, "labels.csv"), ("\n".join(csv) + "\n").encode())
    print(f"wrote {classes_dir} and {flat_dir}: labels {list(labels[:COUNT])}")


if __name__ == "__main__":
    main()
