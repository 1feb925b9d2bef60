#include "predict/label_file.h"

#include <cmath>

#include "predict/input_format.h"
#include "predict/sample_source.h"
#include "shared/data/dataset_loader.h"
#include "shared/data/label_map.h"

namespace cloudbook {

Result<Truth> ReadTruth(const RunModel& model, const std::string& path, int64_t limit,
                        int64_t samples) {
  const DataSplit& split = ProgramSplit(model);
  const bool program_labels = !split.images && split.y.format != "same_as_x";
  CB_ASSIGN_OR_RETURN(InputFormat input,
                      ResolveInputFormat(path, "", program_labels ? &split.y : nullptr, false));
  if (input.format == "images" || input.format == "sequences") {
    return Status::InvalidArgument(path +
                                   ": labels are an array file (IDX, CSV, npy, npz, "
                                   "tensor), not " +
                                   input.format);
  }
  ArraySource options = input.source;
  options.scale = split.images ? 1.0 : split.y.scale;
  Result<Array> read = ReadArrayFile(options, path, limit);
  if (!read.ok()) return read.status().WithContext("--labels");
  Array y = std::move(read).value();
  if (y.rows() != samples) {
    return Status::InvalidArgument(path + ": " + std::to_string(y.rows()) + " labels for " +
                                   std::to_string(samples) + " input samples");
  }
  Truth truth;
  const ProjectProgram& program = model.program();
  if (program.problem == ProblemType::kRegression) {
    if (y.row_size() != program.output_columns) {
      return Status::InvalidArgument(path + ": " + std::to_string(y.row_size()) +
                                     " target columns but the model has " +
                                     std::to_string(program.output_columns) + " outputs");
    }
    y.shape = {y.rows(), y.row_size()};
    truth.targets = std::move(y);
    return truth;
  }
  if (y.row_size() != 1) {
    return Status::InvalidArgument(path + ": labels must be one integer per sample, found " +
                                   std::to_string(y.row_size()) + " values per sample");
  }
  const std::vector<int64_t>& map = program.data.label_map;
  const int64_t limit_value = map.empty() ? program.num_classes : static_cast<int64_t>(map.size());
  for (int64_t i = 0; i < y.rows(); ++i) {
    const float value = y.values[static_cast<size_t>(i)];
    const auto label = static_cast<int64_t>(std::llround(value));
    if (std::fabs(value - static_cast<float>(label)) > 1e-4f || label < 0 || label >= limit_value) {
      return Status::InvalidArgument(path + ": sample " + std::to_string(i) + " has label " +
                                     std::to_string(value) + "; labels are integers in 0.." +
                                     std::to_string(limit_value - 1));
    }
    truth.labels.push_back(label);
  }
  if (!map.empty()) ApplyLabelMap(map, truth.labels, y);
  return truth;
}

}  // namespace cloudbook
