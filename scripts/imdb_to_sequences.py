#!/usr/bin/env python3
"""Converts Keras' imdb.npz into cloudbook's `sequences` files (docs/data-sources.md).

imdb.npz holds pickled object arrays, which cloudbook does not unpickle. This script replays
keras.datasets.imdb.load_data(path, num_words=None, skip_top=0, maxlen=DROP, seed=113,
start_char=1, oov_char=2, index_from=3) (keras/src/datasets/imdb.py) step by step and writes

  OUT/train.txt, OUT/test.txt       one review per line, token ids separated by spaces
  OUT/y_train.npy, OUT/y_test.npy   the labels (int64)

so that `x: {format: sequences, path: OUT/train.txt, num_words: N, maxlen: M}` gives exactly
pad_sequences(load_data(num_words=N)[0][0], maxlen=M). load_data's own `maxlen` DROPS every
review with len >= maxlen (counting the start mark); it is --drop-longer-than here, because the
program word `maxlen` means pad_sequences' truncation, not that.

Usage: /usr/bin/python3 scripts/imdb_to_sequences.py imdb.npz OUT [--drop-longer-than N]
"""
import argparse
import os
import sys

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("npz", help="Keras' imdb.npz (x_train, y_train, x_test, y_test)")
    parser.add_argument("out", help="folder to write train.txt, test.txt, y_*.npy into")
    parser.add_argument("--drop-longer-than", type=int, default=None, metavar="N",
                        help="load_data(maxlen=N): drop reviews with len >= N")
    parser.add_argument("--seed", type=int, default=113)
    parser.add_argument("--start-char", type=int, default=1)
    parser.add_argument("--oov-char", type=int, default=2)
    parser.add_argument("--index-from", type=int, default=3)
    args = parser.parse_args()

    with np.load(args.npz, allow_pickle=True) as f:
        x_train, labels_train = f["x_train"], f["y_train"]
        x_test, labels_test = f["x_test"], f["y_test"]

    # One generator for both shuffles, train first (load_data's order).
    rng = np.random.RandomState(args.seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = [[args.start_char] + [w + args.index_from for w in x] for x in x_train]
    x_test = [[args.start_char] + [w + args.index_from for w in x] for x in x_test]

    if args.drop_longer_than:
        def keep(xs, labels):  # keras remove_long_seq: keeps len(x) < maxlen
            kept = [(x, y) for x, y in zip(xs, labels) if len(x) < args.drop_longer_than]
            return [x for x, _ in kept], np.array([y for _, y in kept], dtype=labels.dtype)
        x_train, labels_train = keep(x_train, labels_train)
        x_test, labels_test = keep(x_test, labels_test)
        if not x_train or not x_test:
            sys.exit("no review is shorter than --drop-longer-than %d" % args.drop_longer_than)

    # num_words=None: load_data takes num_words = the largest id and keeps w < num_words, so
    # the largest id itself becomes oov_char. A program's num_words (smaller) maps it the same.
    largest = max(max(x) for x in x_train + x_test)
    def oov(xs):
        return [[w if w < largest else args.oov_char for w in x] for x in xs]
    x_train, x_test = oov(x_train), oov(x_test)

    os.makedirs(args.out, exist_ok=True)
    for name, xs, labels in (("train", x_train, labels_train), ("test", x_test, labels_test)):
        with open(os.path.join(args.out, name + ".txt"), "w") as out:
            for x in xs:
                out.write(" ".join(str(int(w)) for w in x) + "\n")
        np.save(os.path.join(args.out, "y_%s.npy" % name), np.asarray(labels, dtype=np.int64))
        print("%s: %d reviews" % (name, len(xs)))


if __name__ == "__main__":
    main()
