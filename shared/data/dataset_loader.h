// Loads a program's data from working_dir and cuts out what one subnet learns from: its
// classes (labels remapped to ranks), its stratified half, or its block of output columns.
// Also checks the data against the program: matching sample counts, labels inside 0..N-1,
// sample shapes that fit the model input.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"
#include "shared/subnet_spec.h"

namespace cloudbook {

struct LabeledArrays {
  Array x;                      // [samples, model input...]
  Array y;                      // classification: [samples] label ids; regression: [samples, D]
  std::vector<int64_t> labels;  // classification only: y as integers
  std::vector<std::string> classes;  // image folders: the class folder names, in id order
  int64_t rows() const { return x.rows(); }
};

struct ProblemData {
  LabeledArrays train;
  LabeledArrays validation;  // may be empty
  LabeledArrays test;        // may be empty when the program has no test split
};

// Reads one array source from `path` (source.path is not used) with the reader of its format
// and its options (scale, columns, header, delimiter, key, sequences); `limit` > 0: the first
// samples only. InvalidArgument for an unknown format; the readers' errors name the file.
Result<Array> ReadArrayFile(const ArraySource& source, const std::string& path, int64_t limit);

// Rows of `rows` that train under Keras' fit(validation_split=s): the first
// floor(rows * (1 - s)); the last rows - that many validate (before any shuffling).
int64_t KerasTrainRows(int64_t rows, double validation_split);

// Reads train (minus the validation split), validation and test per the program's data section,
// with train_rows, shuffle, train_subset, label_map and test_rows applied (row_selection.h). Paths
// resolve inside `working_dir`; a path escaping it is refused.
// `input_shape` is the model input per sample; x is reshaped to it (the value count must match).
// Image folders are decoded into `image_cache` (empty: decoded on every load, no cache).
Result<ProblemData> LoadProblemData(const ProjectProgram& program,
                                    const std::vector<int64_t>& input_shape,
                                    const std::string& working_dir,
                                    const std::string& image_cache = "");

// The subnet's view: train and validation filtered and remapped as the subnet learns them;
// test filtered the same way (for the subnet's own metrics). Every subnet still predicts the
// whole test set of `ProblemData::test` for composition.
ProblemData SelectSubnetData(const ProblemData& all, const ProjectProgram& program,
                             const SubnetSpec& subnet);

}  // namespace cloudbook
