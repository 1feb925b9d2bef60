#!/usr/bin/python3
"""PyTorch reference trainer for the cloudbook benchmark.

Trains the Fashion-MNIST MLP (784 -> Dense 128 relu -> Dense 60 relu -> Dense 10
softmax, Keras style) once as the "original", and once per requested k as the
network deconstructed into k subnets by the multiclass rule of
docs/design/deconstruction.md, then reports training times and accuracies as JSON.

It is the outside reference our C++ runtime is compared with, so it follows the
spec literally:
  * k = g(g-1)/2 (k must be a triangular number >= 3, g <= N), F = g/2.
  * Groups of the class ids 0..N-1: sizes N div g, the first N mod g groups get
    one more, contiguous and ascending. Pairs (a,b), a<b, in lexicographic order;
    subnet i owns S_i = sorted union of its two groups.
  * Subnet i trains only on samples whose label is in S_i, labels remapped to
    their rank in S_i; output layer |S_i| units.
  * Tagged hidden widths w -> ceil(w / F) = ceil(2w / g) (exact integer arithmetic);
    refused if w / F < 2. Epochs (policy "reduce", the default, which is the
    spec's table for dense-only multiclass nets): ceil(E / F); policy "keep": E.
  * Composition: scores = 0 (N per test sample); for each subnet
    scores[:, S_i] += log(clamp(softmax, 1e-30)); prediction = argmax.

Training: plain PyTorch loop, Adam(lr), cross-entropy on logits, mini-batches of
batch_size (the last partial batch included, as Keras does), a fresh shuffle every
epoch from a torch.Generator seeded from (seed, model index). No validation split.
torch.manual_seed(seed + subnet_index) before building each subnet (seed for the
original). All data is pre-loaded as float32 tensors before timing; the timed span
is the training loop only (no data loading, no prediction).

The JSON holds, per model, train_seconds, the test accuracy, epoch_losses and
epoch_seconds (wall time of each epoch, so callers can see noise from other load).

Progress lines (model, epoch, loss, seconds) go to stderr, a readable summary to
stdout, the JSON to --output (or to stdout after the summary when --output is
not given).

Run with Debian's PyTorch:  /usr/bin/python3 bench/pytorch_reference.py --help
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F_

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is optional
    np = None

NUM_CLASSES = 10
INPUT_DIM = 28 * 28

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"


# --------------------------------------------------------------------------- data

def read_idx_gz(path, limit=0):
    """Read a gzip IDX file (ubyte data); return (dims, raw bytes) of the first
    `limit` items (0 = all)."""
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0:
            raise ValueError("%s: not an IDX file" % path)
        if magic[2] != 0x08:
            raise ValueError("%s: expected unsigned byte data (0x08), got 0x%02x"
                             % (path, magic[2]))
        ndim = magic[3]
        dims = list(struct.unpack(">" + "I" * ndim, f.read(4 * ndim)))
        if limit and limit < dims[0]:
            dims[0] = limit
        item = 1
        for d in dims[1:]:
            item *= d
        nbytes = dims[0] * item
        data = f.read(nbytes)
        if len(data) != nbytes:
            raise ValueError("%s: truncated (%d of %d bytes)" % (path, len(data), nbytes))
    return dims, data


def bytes_to_uint8_tensor(data, shape):
    if np is not None:
        arr = np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()
        return torch.from_numpy(arr)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(shape).clone()


def load_split(data_dir, images_name, labels_name, limit):
    idims, idata = read_idx_gz(os.path.join(data_dir, images_name), limit)
    ldims, ldata = read_idx_gz(os.path.join(data_dir, labels_name), limit)
    if idims[0] != ldims[0]:
        raise ValueError("%s and %s disagree on the number of items (%d vs %d)"
                         % (images_name, labels_name, idims[0], ldims[0]))
    n = idims[0]
    feat = 1
    for d in idims[1:]:
        feat *= d
    if feat != INPUT_DIM:
        raise ValueError("%s: expected %d features per image, got %d"
                         % (images_name, INPUT_DIM, feat))
    x = bytes_to_uint8_tensor(idata, (n, feat)).to(torch.float32) / 255.0
    y = bytes_to_uint8_tensor(ldata, (n,)).to(torch.int64)
    if n and int(y.max()) >= NUM_CLASSES:
        raise ValueError("%s: label %d out of range" % (labels_name, int(y.max())))
    return x.contiguous(), y.contiguous()


# ------------------------------------------------------------------ deconstruction

def g_from_k(k, n_classes):
    """Exact inverse of k = g(g-1)/2; errors for anything that is not a valid k."""
    if k < 3:
        raise ValueError("k=%d: the multiclass rule needs k = g(g-1)/2 with g >= 3 "
                         "(3, 6, 10, 15, ...)" % k)
    g = (1 + math.isqrt(1 + 8 * k)) // 2
    if g * (g - 1) // 2 != k:
        lo = g * (g - 1) // 2
        hi = (g + 1) * g // 2
        raise ValueError("k=%d is not a triangular number g(g-1)/2; nearest valid: %d or %d"
                         % (k, lo, hi))
    if g > n_classes:
        raise ValueError("k=%d needs g=%d groups but there are only %d classes "
                         "(largest valid k is %d)"
                         % (k, g, n_classes, n_classes * (n_classes - 1) // 2))
    return g


def make_groups(n_classes, g):
    base, extra = divmod(n_classes, g)
    groups, start = [], 0
    for j in range(g):
        size = base + (1 if j < extra else 0)
        groups.append(list(range(start, start + size)))
        start += size
    return groups


def subnet_classes(n_classes, g):
    groups = make_groups(n_classes, g)
    out = []
    for a in range(g):
        for b in range(a + 1, g):
            out.append(sorted(groups[a] + groups[b]))
    return out


def ceil_div(a, b):
    return -((-a) // b)


def reduce_width(name, w, g):
    """ceil(w / F) with F = g/2, i.e. ceil(2w / g), exactly; refuse if w/F < 2."""
    if 2 * w < 2 * g:  # w / (g/2) < 2  <=>  w < g
        raise ValueError("%s=%d: %d / F (F=%g) < 2; the largest k that works is %d"
                         % (name, w, w, g / 2.0, max_k_for_width(w)))
    return ceil_div(2 * w, g)


def max_k_for_width(w):
    g = min(w, NUM_CLASSES)
    return g * (g - 1) // 2


def reduce_epochs(e, g, policy):
    if policy == "keep":
        return e
    return max(1, ceil_div(2 * e, g))


# ------------------------------------------------------------------------- model

def build_mlp(hidden, n_out, init):
    layers, prev = [], INPUT_DIM
    for w in hidden:
        layers.append(nn.Linear(prev, w))
        layers.append(nn.ReLU())
        prev = w
    layers.append(nn.Linear(prev, n_out))  # softmax applied at prediction time
    model = nn.Sequential(*layers)
    if init == "keras":  # glorot_uniform kernels, zero biases (Keras Dense defaults)
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    return model


def shuffle_seed(seed, index):
    """Seed of the shuffling generator for model `index` (-1 = the original)."""
    return (seed * 1000003 + (index + 1) * 7919) & 0x7FFFFFFFFFFFFFFF


def train(model, x, y, epochs, batch_size, lr, gen_seed, label, adam_eps):
    """Timed training loop; returns (seconds, per-epoch mean losses, per-epoch seconds)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=adam_eps)
    gen = torch.Generator()
    gen.manual_seed(gen_seed)
    n = x.shape[0]
    losses, epoch_seconds = [], []
    model.train()
    t0 = time.perf_counter()
    for epoch in range(epochs):
        te = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros((), dtype=torch.float64)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            xb = x.index_select(0, idx)
            yb = y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = F_.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach().to(torch.float64) * idx.shape[0]
        mean_loss = float(total) / max(n, 1)
        losses.append(mean_loss)
        epoch_seconds.append(time.perf_counter() - te)
        print("[%s] epoch %d/%d  loss %.4f  %.2fs" % (label, epoch + 1, epochs, mean_loss,
                                                     epoch_seconds[-1]),
              file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    return seconds, losses, epoch_seconds


@torch.no_grad()
def predict_proba(model, x, batch=4096):
    model.eval()
    outs = [F_.softmax(model(x[s:s + batch]), dim=1) for s in range(0, x.shape[0], batch)]
    if not outs:
        return torch.zeros((0, model[-1].out_features))
    return torch.cat(outs, 0)


# -------------------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="PyTorch reference trainer: Fashion-MNIST MLP, original vs "
                    "deconstructed into k subnets (multiclass rule of "
                    "docs/design/deconstruction.md). Reports times and accuracies as JSON.")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                   help="directory with the four Fashion-MNIST IDX .gz files (default: %(default)s)")
    p.add_argument("--train-limit", type=int, default=0,
                   help="use the first N training samples (0 = all)")
    p.add_argument("--test-limit", type=int, default=0,
                   help="use the first N test samples (0 = all)")
    p.add_argument("--epochs", type=int, default=10, help="epochs of the original (default 10)")
    p.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    p.add_argument("--lr", type=float, default=0.001, help="Adam learning rate (default 0.001)")
    p.add_argument("--adam-eps", type=float, default=1e-8,
                   help="Adam epsilon (default 1e-8, PyTorch's; Keras uses 1e-7)")
    p.add_argument("--seed", type=int, default=42, help="base seed (default 42)")
    p.add_argument("--subnets", type=int, nargs="*", default=[3], metavar="K",
                   help="values of k to run, each k = g(g-1)/2: 3, 6, 10, 15, 21, 28, 36, 45 "
                        "(default: 3; give none to run only the original)")
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 60], metavar="W",
                   help="tagged hidden dense widths (default: 128 60)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--epochs-policy", choices=["reduce", "keep"], default="reduce",
                   help="subnet epochs: reduce = ceil(E/F) (spec table for dense-only "
                        "multiclass nets, default), keep = E")
    p.add_argument("--init", choices=["torch", "keras"], default="torch",
                   help="weight init: torch = PyTorch defaults (default), "
                        "keras = glorot_uniform kernels and zero biases")
    p.add_argument("--output", help="write the JSON here (default: print it to stdout)")
    p.add_argument("--skip-original", action="store_true", help="do not train the original")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "threads"):
        if getattr(args, name) < 1:
            p.error("--%s must be >= 1" % name.replace("_", "-"))
    if args.train_limit < 0 or args.test_limit < 0:
        p.error("limits must be >= 0")
    if any(w < 1 for w in args.hidden):
        p.error("--hidden widths must be >= 1")
    return p, args


def main(argv=None):
    parser, args = parse_args(argv)

    # Validate every k (and the reduced widths) before spending any time.
    plans = []
    for k in args.subnets:
        try:
            g = g_from_k(k, NUM_CLASSES)
            hidden = [reduce_width("_NEURON_%d" % (j + 1), w, g)
                      for j, w in enumerate(args.hidden)]
        except ValueError as e:
            parser.error(str(e))
        plans.append((k, g, hidden, reduce_epochs(args.epochs, g, args.epochs_policy)))

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError:
        pass

    x_train, y_train = load_split(args.data_dir, TRAIN_IMAGES, TRAIN_LABELS, args.train_limit)
    x_test, y_test = load_split(args.data_dir, TEST_IMAGES, TEST_LABELS, args.test_limit)
    n_train, n_test = x_train.shape[0], x_test.shape[0]

    result = {
        "trainer": "pytorch",
        "torch_version": torch.__version__,
        "threads": args.threads,
        "train_samples": n_train,
        "test_samples": n_test,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "lr": args.lr,
        "adam_eps": args.adam_eps,
        "hidden": list(args.hidden),
        "epochs_policy": args.epochs_policy,
        "init": args.init,
    }

    if not args.skip_original:
        torch.manual_seed(args.seed)
        model = build_mlp(args.hidden, NUM_CLASSES, args.init)
        secs, losses, epoch_secs = train(model, x_train, y_train, args.epochs, args.batch_size,
                                         args.lr, shuffle_seed(args.seed, -1), "original",
                                         args.adam_eps)
        pred = predict_proba(model, x_test).argmax(1)
        acc = float((pred == y_test).to(torch.float64).mean()) if n_test else float("nan")
        result["original"] = {"train_seconds": secs, "test_accuracy": acc,
                              "train_samples": n_train, "epoch_losses": losses,
                              "epoch_seconds": epoch_secs}
        del model

    result["deconstructed"] = []
    for k, g, hidden, epochs in plans:
        classes_list = subnet_classes(NUM_CLASSES, g)
        assert len(classes_list) == k
        scores = torch.zeros((n_test, NUM_CLASSES), dtype=torch.float64)
        subnets = []
        for i, classes in enumerate(classes_list):
            # Data of subnet i (prepared before timing).
            lut = torch.full((NUM_CLASSES,), -1, dtype=torch.int64)
            lut[torch.tensor(classes)] = torch.arange(len(classes))
            sel = (lut[y_train] >= 0).nonzero(as_tuple=True)[0]
            xs = x_train.index_select(0, sel).contiguous()
            ys = lut[y_train.index_select(0, sel)].contiguous()

            torch.manual_seed(args.seed + i)
            model = build_mlp(hidden, len(classes), args.init)
            label = "k=%d subnet %d of %d" % (k, i, k)
            secs, losses, epoch_secs = train(model, xs, ys, epochs, args.batch_size, args.lr,
                                             shuffle_seed(args.seed, i), label, args.adam_eps)

            p = predict_proba(model, x_test)
            cols = torch.tensor(classes)
            scores[:, cols] += torch.log(torch.clamp(p, min=1e-30)).to(torch.float64)

            own = (lut[y_test] >= 0)
            n_own = int(own.sum())
            if n_own:
                own_acc = float((p[own].argmax(1) == lut[y_test[own]]).to(torch.float64).mean())
            else:
                own_acc = float("nan")
            subnets.append({"index": i, "classes": classes, "train_samples": int(sel.shape[0]),
                            "train_seconds": secs, "test_accuracy_own_classes": own_acc,
                            "test_samples_own_classes": n_own, "epoch_losses": losses,
                            "epoch_seconds": epoch_secs})
            del model, xs, ys

        pred = scores.argmax(1)
        comp_acc = float((pred == y_test).to(torch.float64).mean()) if n_test else float("nan")
        times = [s["train_seconds"] for s in subnets]
        result["deconstructed"].append({
            "k": k, "g": g, "F": g / 2.0, "epochs": epochs, "hidden": hidden,
            "subnets": subnets,
            "sum_train_seconds": sum(times),
            "max_train_seconds": max(times),
            "composed_test_accuracy": comp_acc,
        })

    print_summary(result)
    text = json.dumps(result, indent=2)
    if args.output:
        d = os.path.dirname(os.path.abspath(args.output))
        os.makedirs(d, exist_ok=True)
        with open(args.output, "w") as f:
            f.write(text + "\n")
        print("JSON written to %s" % args.output)
    else:
        print(text)
    return 0


def print_summary(r):
    print("PyTorch %s reference, %d thread(s): %d train / %d test samples, "
          "%d epochs, batch %d, seed %d"
          % (r["torch_version"], r["threads"], r["train_samples"], r["test_samples"],
             r["epochs"], r["batch_size"], r["seed"]))
    orig = r.get("original")
    if orig:
        print("  original %s: train %.2fs  test accuracy %.4f"
              % ("/".join(str(w) for w in r["hidden"] + [NUM_CLASSES]),
                 orig["train_seconds"], orig["test_accuracy"]))
    for d in r["deconstructed"]:
        print("  k=%d (g=%d, F=%g): hidden %s, %d epochs; composed test accuracy %.4f"
              % (d["k"], d["g"], d["F"], d["hidden"], d["epochs"], d["composed_test_accuracy"]))
        for s in d["subnets"]:
            print("    subnet %d classes %s: %d samples, train %.2fs, own-class accuracy %.4f"
                  % (s["index"], s["classes"], s["train_samples"], s["train_seconds"],
                     s["test_accuracy_own_classes"]))
        line = "    sum %.2fs  max %.2fs" % (d["sum_train_seconds"], d["max_train_seconds"])
        if orig and d["max_train_seconds"] > 0:
            line += "  (original / max = %.2fx, original / sum = %.2fx)" % (
                orig["train_seconds"] / d["max_train_seconds"],
                orig["train_seconds"] / d["sum_train_seconds"])
        print(line)


if __name__ == "__main__":
    sys.exit(main())
