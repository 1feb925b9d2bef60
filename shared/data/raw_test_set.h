// A program's test set as its data files hold it: the samples with no `scale` applied (0..255
// pixels for Fashion-MNIST IDX and image folders), the rows and labels exactly those a run
// tests on (test_limit, test_rows, test_split, label_map as in shared/data/dataset_loader.h).
// What a tool sends to a model server as a raw sample (docs/design/issue18-plan.md "Words
// fixed": every tool takes raw samples). Reads as little training data as the program allows
// (none beyond one row with a separate data.test; all of it with data.test_split).
// Stateless; errors as LoadProjectData's, naming the file.
#pragma once

#include <cstdint>
#include <vector>

#include "shared/data/dataset_loader.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

Result<LabeledArrays> LoadRawTestSet(const ProjectLayout& layout, const ProjectProgram& program,
                                     const std::vector<int64_t>& input_shape);

// Whether samples of `input_shape` are pictures: [H, W] (grayscale) or [H, W, C] with 1 or 3
// channels (Keras order).
bool IsImageShape(const std::vector<int64_t>& input_shape);

}  // namespace cloudbook
