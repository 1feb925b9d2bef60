#!/usr/bin/env python3
"""Converts Keras' imdb.npz into the files cloudbook reads for keras.datasets.imdb.load_data.

    python3 scripts/imdb_to_sequences.py imdb.npz <project>/distributed/working_dir/imdb

writes x_train.txt, x_test.txt (one review per line, word ids separated by spaces) and
y_train.npy, y_test.npy (labels 0/1, int64): the reviews in the order and with the ids
imdb.load_data() returns them with its defaults (keras/src/datasets/imdb.py: the shuffle of
numpy's RandomState(113), train then test with the same generator; start_char 1 before each
review; word ids shifted by index_from 3). num_words and the padding are applied by cloudbook
(the program file's sequences words), as the imported program asks. Needs python3-numpy only
(imdb.npz holds pickled object arrays, so it is read with allow_pickle=True: convert only a
file you trust, e.g. the one Keras downloads to ~/.keras/datasets/imdb.npz).
"""
import os
import sys

import numpy as np

SEED, START_CHAR, INDEX_FROM = 113, 1, 3


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    source, folder = argv[1], argv[2]
    os.makedirs(folder, exist_ok=True)
    with np.load(source, allow_pickle=True) as archive:
        splits = {name: (archive["x_" + name], archive["y_" + name]) for name in ("train", "test")}
    rng = np.random.RandomState(SEED)
    for name in ("train", "test"):  # the same generator shuffles train, then test
        x, y = splits[name]
        indices = np.arange(len(x))
        rng.shuffle(indices)
        x, y = x[indices], y[indices]
        with open(os.path.join(folder, "x_%s.txt" % name), "w") as out:
            for review in x:
                ids = [START_CHAR] + [int(w) + INDEX_FROM for w in review]
                out.write(" ".join(str(i) for i in ids) + "\n")
        np.save(os.path.join(folder, "y_%s.npy" % name), np.asarray(y, dtype=np.int64))
        print("%s: %d reviews" % (name, len(x)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
