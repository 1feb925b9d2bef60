// A small image-folder project for tests that need one: 4 classes ("blue", "frame", "green",
// "red") of 40 noisy 16x14 RGB images each, half PNG and half JPEG, in class sub-folders
// written by Debian's python3 (numpy, PIL), and a CNN program on [12, 12, 3] that learns them
// well past chance within seconds (data.test_split keeps a quarter for testing).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "shared/atomic_file.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

inline constexpr char kShapesProgram[] = R"(name: shapes
problem: multiclass
metrics: [accuracy, loss]
seed: 3
data:
  train:
    images: {path: shapes, color: rgb, scale: 255}
  test_split: {fraction: 0.25, seed: 1}
vars:
  _FILTERS_1: 8
  _NEURON_1: 4
  _EPOCHS: 6
model:
  input: [12, 12, 3]
  layers:
    - conv2d: {filters: _FILTERS_1, kernel: 3, activation: relu}
    - maxpool2d: {pool: 2}
    - flatten
    - dense: {units: _NEURON_1, activation: softmax}
train:
  optimizer: {adam: {lr: 0.01}}
  loss: sparse_categorical_crossentropy
  batch_size: 16
  epochs: _EPOCHS
  epochs_policy: keep
)";

// 4 classes of 40 noisy 16x14 images (resized to 12x12 on load): a bright red, green or
// blue square or a dark frame, at random places; half PNG, half JPEG.
inline void WriteShapes(const std::string& root) {
  const std::string script = R"PY(
import sys, os, numpy as np
from PIL import Image
root = sys.argv[1]
rng = np.random.RandomState(0)
for c, name in enumerate(["blue", "frame", "green", "red"]):
    os.makedirs(os.path.join(root, name))
    for i in range(40):
        a = rng.randint(0, 60, (16, 14, 3))
        y, x = rng.randint(0, 8), rng.randint(0, 6)
        if name == "frame":
            a[:, :] += 120; a[2:-2, 2:-2] -= 100
        else:
            a[y:y + 8, x:x + 8, ["red", "green", "blue"].index(name)] += 190
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
        img.save(os.path.join(root, name, "%03d.%s" % (i, "png" if i % 2 else "jpg")))
)PY";
  WriteFileAtomically(root + "/../make_shapes.py", script);
  const auto made = RunShell("timeout 120 /usr/bin/python3 " + root + "/../make_shapes.py " + root,
                             root + "/../make_shapes.err");
  ASSERT_EQ(made.exit_code, 0) << ReadFileOrDie(root + "/../make_shapes.err");
}

}  // namespace cloudbook::testing
