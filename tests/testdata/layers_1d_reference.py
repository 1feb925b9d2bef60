"""Independent reference for tests/nn/layers_1d_test.cc: Keras' Conv1D, MaxPooling1D,
AveragePooling1D, global pools, Normalization and activations written out in numpy loops
(channels-last, TF 'same' padding, padding not counted by pools), from the definitions in
docs/design/keras-semantics.md (Keras sources keras/src/layers/convolutional/conv1d.py,
pooling/*.py, preprocessing/normalization.py, activations/activations.py).

Reads a JSON list of cases from argv[1]; prints a JSON list of flat float lists."""
import json
import math
import sys

import numpy as np


def same_pads(length, window, stride, dilation):
    out = -(-length // stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def conv1d(x, case):
    w = np.array(case["weight"], dtype=np.float64).reshape(case["weight_shape"])  # (F, C, k)
    b = np.array(case["bias"], dtype=np.float64)
    filters, channels, k = w.shape
    s, d, padding = case["stride"], case["dilation"], case["padding"]
    if padding == "same":
        before, after = same_pads(x.shape[1], k, s, d)
    elif padding == "causal":
        before, after = d * (k - 1), 0
    else:
        before, after = 0, 0
    xp = np.pad(x, ((0, 0), (before, after), (0, 0)))
    span = (k - 1) * d + 1
    out = (xp.shape[1] - span) // s + 1
    y = np.zeros((x.shape[0], out, filters))
    for n in range(x.shape[0]):
        for t in range(out):
            for f in range(filters):
                total = b[f]
                for j in range(k):
                    for c in range(channels):
                        total += xp[n, t * s + j * d, c] * w[f, c, j]
                y[n, t, f] = total
    return y


def pool1d(x, case, reduce):
    p, s = case["pool"], case["stride"]
    length = x.shape[1]
    if case["padding"] == "same":
        out = -(-length // s)
        before = max((out - 1) * s + p - length, 0) // 2
    else:
        out, before = (length - p) // s + 1, 0
    y = np.zeros((x.shape[0], out, x.shape[2]))
    for t in range(out):
        cells = [i for i in range(t * s - before, t * s - before + p) if 0 <= i < length]
        y[:, t, :] = reduce(x[:, cells, :], axis=1)
    return y


def normalization(x):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)  # population variance, as Keras' adapt
    return (x - mean) / np.maximum(np.sqrt(var), 1e-7)


def activation(x, name):
    if name == "relu6":
        return np.minimum(np.maximum(x, 0), 6)
    if name == "softplus":
        return np.log(np.exp(x) + 1)
    if name == "softsign":
        return x / (np.abs(x) + 1)
    if name == "selu":
        alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return scale * np.where(x > 0, x, alpha * (np.exp(x) - 1))
    if name in ("swish", "silu"):
        return x / (1 + np.exp(-x))
    raise ValueError(name)


def run(case):
    x = np.array(case["x"], dtype=np.float64).reshape(case["x_shape"])
    op = case["op"]
    if op == "conv1d":
        y = conv1d(x, case)
    elif op == "maxpool1d":
        y = pool1d(x, case, np.max)
    elif op == "avgpool1d":
        y = pool1d(x, case, np.mean)
    elif op == "global_avgpool1d":
        y = x.mean(axis=1)
    elif op == "global_maxpool1d":
        y = x.max(axis=1)
    elif op == "global_maxpool2d":
        y = x.max(axis=(1, 2))
    elif op == "normalization":
        y = normalization(x)
    else:
        y = activation(x, case["activation"])
    return [float(v) for v in y.reshape(-1)]


cases = json.load(open(sys.argv[1]))
print(json.dumps([run(case) for case in cases]))
