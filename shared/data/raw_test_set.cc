#include "shared/data/raw_test_set.h"

#include <utility>

#include "shared/data/project_data.h"

namespace cloudbook {
namespace {

void Unscale(DataSplit& split) {
  split.x.scale = 1.0;
  if (split.images) split.images->scale = 1.0;
}

}  // namespace

Result<LabeledArrays> LoadRawTestSet(const ProjectLayout& layout, const ProjectProgram& program,
                                     const std::vector<int64_t>& input_shape) {
  if (!program.data.test && !program.data.test_split) {
    return Status::NotFound("the program has no data.test (nor data.test_split)");
  }
  ProjectProgram raw = program;
  DataSpec& data = raw.data;
  Unscale(data.train);
  if (data.validation) Unscale(*data.validation);
  if (data.test) {
    // A separate test set does not depend on the training rows: read one.
    Unscale(*data.test);
    data.train_limit = 1;
    data.validation_split = 0;
    data.validation.reset();
    data.train_rows.reset();
    data.shuffle_seed.reset();
    data.train_subset.reset();
  }
  CB_ASSIGN_OR_RETURN(ProblemData all, LoadProjectData(layout, raw, input_shape));
  return std::move(all.test);
}

bool IsImageShape(const std::vector<int64_t>& input_shape) {
  if (input_shape.size() == 2) return input_shape[0] > 1 && input_shape[1] > 1;
  return input_shape.size() == 3 && input_shape[0] > 1 && input_shape[1] > 1 &&
         (input_shape[2] == 1 || input_shape[2] == 3);
}

}  // namespace cloudbook
