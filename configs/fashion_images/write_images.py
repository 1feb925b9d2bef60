#!/usr/bin/python3
"""Writes Fashion-MNIST (the IDX files of Debian's dataset-fashion-mnist) as image folders:
<out>/train/<class>/<index>.<ext> and <out>/test/<class>/<index>.<ext>, one sub-folder per
class, named so that their sorted order is the label order (class id = position of the
sorted folder name, as Keras' image_dataset_from_directory and cloudbook's `images:` read).

  /usr/bin/python3 write_images.py --out DIR [--format png|jpeg] [--limit N]
"""
import argparse
import gzip
import os
import sys

import numpy as np
from PIL import Image

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["0-tshirt", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt",
           "7-sneaker", "8-bag", "9-ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_split(source, prefix, out, fmt, limit):
    images = read_idx(os.path.join(source, prefix + "-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(source, prefix + "-labels-idx1-ubyte.gz"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    ext = "png" if fmt == "png" else "jpg"
    for name in CLASSES:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i, (image, label) in enumerate(zip(images, labels)):
        path = os.path.join(out, CLASSES[label], "%05d.%s" % (i, ext))
        if os.path.exists(path):
            continue
        img = Image.fromarray(image, "L")
        if fmt == "png":
            img.save(path, "PNG")
        else:
            img.save(path, "JPEG", quality=95)
    return len(labels)


def write_folders(out, fmt="png", limit=0, source=SOURCE):
    counts = {}
    for prefix, split in (("train", "train"), ("t10k", "test")):
        counts[split] = write_split(source, prefix, os.path.join(out, split), fmt, limit)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write train/ and test/ into")
    parser.add_argument("--format", choices=["png", "jpeg"], default="png")
    parser.add_argument("--limit", type=int, default=0, help="first N images of each split")
    parser.add_argument("--source", default=SOURCE, help="folder of the Fashion-MNIST IDX files")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.source, "train-images-idx3-ubyte.gz")):
        sys.exit("%s: no Fashion-MNIST here; install it with apt-get install "
                 "dataset-fashion-mnist" % args.source)
    counts = write_folders(args.out, args.format, args.limit, args.source)
    print("wrote %d training and %d test images to %s" % (counts["train"], counts["test"],
                                                         args.out))


if __name__ == "__main__":
    main()
