#!/usr/bin/python3
"""Writes an image folder (OUT/train/<class>/, OUT/val/<class>/) of RGB JPEGs
made from Fashion-MNIST for the end-to-end tests: each 28x28 grey image is
centred on a SIZE x SIZE canvas and coloured by a tint drawn per image (not per
class, so colour says nothing of the label). The first TRAIN training images
and the first VAL test images; class folders are named after the classes.

    make_image_folder.py OUT --train 3000 --val 1000 [--size 32] [--quality 90]
"""
import argparse
import gzip
import os
import random
import struct

from PIL import Image

CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "boot"]
SOURCE = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return [data[16 + i * rows * cols:16 + (i + 1) * rows * cols] for i in range(count)]
    return list(data[8:8 + count])


def write_split(out, split, images, labels, count, size, quality, rng):
    for i in range(count):
        os.makedirs(os.path.join(out, split, CLASSES[labels[i]]), exist_ok=True)
        grey = Image.frombytes("L", (28, 28), images[i])
        tint = [rng.uniform(0.5, 1.0) for _ in range(3)]
        rgb = Image.merge("RGB", [grey.point(lambda v, t=t: int(v * t)) for t in tint])
        canvas = Image.new("RGB", (size, size))
        canvas.paste(rgb, ((size - 28) // 2, (size - 28) // 2))
        canvas.save(os.path.join(out, split, CLASSES[labels[i]], f"{i:05d}.jpg"), quality=quality)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--val", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args()
    rng = random.Random(1)
    write_split(args.out, "train", read_idx(f"{SOURCE}/train-images-idx3-ubyte.gz"),
                read_idx(f"{SOURCE}/train-labels-idx1-ubyte.gz"), args.train, args.size,
                args.quality, rng)
    write_split(args.out, "val", read_idx(f"{SOURCE}/t10k-images-idx3-ubyte.gz"),
                read_idx(f"{SOURCE}/t10k-labels-idx1-ubyte.gz"), args.val, args.size,
                args.quality, rng)


if __name__ == "__main__":
    main()
