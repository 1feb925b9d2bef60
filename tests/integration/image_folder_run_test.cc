// An image-folder program end to end: a real cloudbook-maker process deconstructs a small CNN
// whose data is a folder of PNG class sub-folders (no test folder: data.test_split), trains
// its subnets locally and composes them; the decoded images land in the machine's cache
// (P/cache/images) and the next run reads them from there.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <string>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::ScratchDir;

std::string Maker() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker"; }

constexpr char kProgram[] = R"(name: shapes
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
void WriteShapes(const std::string& root) {
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
  const auto made =
      testing::RunShell("timeout 120 /usr/bin/python3 " + root + "/../make_shapes.py " + root,
                        root + "/../make_shapes.err");
  ASSERT_EQ(made.exit_code, 0) << testing::ReadFileOrDie(root + "/../make_shapes.err");
}

TEST(ImageFolderRun, MakerTrainsAndComposesFromAnImageFolderAndCachesTheDecode) {
  ScratchDir project;
  WriteFileAtomically(project.Join("original/shapes.yaml"), kProgram);
  ASSERT_NO_FATAL_FAILURE(WriteShapes(project.Join("distributed/working_dir/shapes")));
  const auto run = [&](const std::string& name) {
    return testing::RunShellMerged(Maker() + " -p " + project.path() +
                                   " --subnets 3 --local --threads 1 --run-name " + name);
  };
  const testing::CommandResult first = run("first");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("decoded 160 images"), std::string::npos) << first.out;
  const auto results = ReadJsonFile(project.Join("distributed/results/first.json"));
  ASSERT_TRUE(results.ok()) << results.status().ToString() << "\n" << first.out;
  EXPECT_GT((*results)["composed"]["metrics"]["accuracy"].get<double>(), 0.8) << "chance is 0.25\n"
                                                                              << first.out;
  ASSERT_EQ((*results)["subnets"].size(), 3u);

  int cache_files = 0;
  for (const auto& entry : fs::directory_iterator(project.Join("cache/images"))) {
    cache_files += entry.path().extension() == ".images";
  }
  EXPECT_EQ(cache_files, 1);
  const testing::CommandResult second = run("second");
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out.find("decoded 160 images"), std::string::npos)
      << "the second run reads the cache\n"
      << second.out;
}

}  // namespace
}  // namespace cloudbook
