// The `data:` section the importer writes (docs/program-format.md, issue 17 words included):
// each split's sources (idx, npy, npz, sequences, an image folder, same_as_x), the explicit
// validation set, label map, rows, seeded shuffle and subset. Plain data built by the
// interpreter (interpreter_program.cc) and its YAML text; pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/keras_value.h"

namespace cloudbook::keras_import {

struct ImportedSource {
  std::string format;  // idx | npy | npz | sequences | same_as_x
  std::string path;
  double scale = 1.0;
  std::string key;  // npz
  SequenceParams sequences;
};

struct ImportedSplit {
  ImportedSource x;
  ImportedSource y;
  std::optional<ImageFolder> images;  // instead of x and y
  std::string images_path;
  double images_scale = 1.0;
};

struct ImportedData {
  ImportedSplit train;
  std::optional<ImportedSplit> test;
  std::optional<ImportedSplit> validation;
  double validation_split = 0;
  std::vector<int64_t> label_map;
  std::string train_rows;
  std::string test_rows;
  std::optional<int64_t> shuffle_seed;
  std::optional<std::pair<int64_t, int64_t>> train_subset;  // count, seed
};

// The lines of `data:` (with that key), two-space indented as program_yaml_writer writes.
std::string DataYaml(const ImportedData& data);

}  // namespace cloudbook::keras_import
