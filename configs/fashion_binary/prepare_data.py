#!/usr/bin/python3
"""Make the fashion_binary data set: two Fashion-MNIST classes, labels remapped to 0/1.

Reads the four Fashion-MNIST IDX files (gzip or plain) from --source, keeps only the samples
of two classes (default 0 'T-shirt/top' -> label 0 and 6 'Shirt' -> label 1, a hard pair)
and writes four gzip IDX files to --out:

  train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

Sample order is kept (the maker does its own seeded, stratified split). Typical use:

  /usr/bin/python3 prepare_data.py --source /usr/share/datasets/fashion-mnist \\
      --out <project>/distributed/working_dir/fashion-binary
"""

import argparse
import gzip
import os
import struct
import sys

import numpy as np

# IDX element type codes (the 3rd byte of the magic number).
IDX_TYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

SPLITS = {  # output/input file stem -> (images, labels)
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise SystemExit(f"prepare_data.py: {os.path.join(folder, stem)}(.gz) not found")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise SystemExit(f"prepare_data.py: {path}: not an IDX file (bad magic number)")
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(data) - header < count * dtype.itemsize:
        raise SystemExit(f"prepare_data.py: {path}: truncated ({dims} declared)")
    return np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)


def write_idx(path, array):
    codes = {(t.kind, t.itemsize): code for code, t in IDX_TYPES.items()}
    key = (array.dtype.kind, array.dtype.itemsize)
    if key not in codes:
        raise SystemExit(f"prepare_data.py: cannot write {array.dtype} as IDX")
    code = codes[key]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(header)
        f.write(np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes())
    os.replace(tmp, path)  # never leave a half-written file under the final name


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Extract two Fashion-MNIST classes into gzip IDX files with labels 0/1.")
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="folder with the Fashion-MNIST IDX files (default: %(default)s)")
    parser.add_argument("--out", required=True,
                        help="output folder, e.g. <project>/distributed/working_dir/fashion-binary")
    parser.add_argument("--classes", type=int, nargs=2, default=[0, 6], metavar=("NEG", "POS"),
                        help="original class ids that become labels 0 and 1 (default: 0 6, "
                             "T-shirt/top vs Shirt)")
    args = parser.parse_args(argv)

    negative, positive = args.classes
    if negative == positive or not all(0 <= c <= 9 for c in args.classes):
        parser.error("--classes needs two different class ids in 0..9")
    os.makedirs(args.out, exist_ok=True)

    for split, (images_stem, labels_stem) in SPLITS.items():
        images = read_idx(find_file(args.source, images_stem))
        labels = read_idx(find_file(args.source, labels_stem))
        if images.shape[0] != labels.shape[0]:
            raise SystemExit(f"prepare_data.py: {split}: {images.shape[0]} images but "
                             f"{labels.shape[0]} labels")
        keep = (labels == negative) | (labels == positive)
        out_images = images[keep]
        out_labels = (labels[keep] == positive).astype(np.uint8)
        write_idx(os.path.join(args.out, images_stem + ".gz"), out_images)
        write_idx(os.path.join(args.out, labels_stem + ".gz"), out_labels)
        print(f"{split}: {len(out_labels)} samples ({int((out_labels == 0).sum())} "
              f"'{CLASS_NAMES[negative]}' -> 0, {int(out_labels.sum())} "
              f"'{CLASS_NAMES[positive]}' -> 1), images {tuple(out_images.shape)}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
