#include "shared/data/dataset_loader.h"

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cmath>
#include <numeric>

#include "shared/data/csv_reader.h"
#include "shared/data/idx_reader.h"
#include "shared/data/image_split.h"
#include "shared/data/label_map.h"
#include "shared/data/npz_reader.h"
#include "shared/data/row_selection.h"
#include "shared/data/sample_split.h"
#include "shared/data/sequence_reader.h"
#include "shared/data/tensor_file.h"
#include "shared/data/test_split.h"
#include "shared/model_plan.h"
#include "shared/seeded_random.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

// Paths are checked lexically: no absolute paths, no "..". Symbolic links inside working_dir
// are followed on purpose, since users link large data sets into it.
Result<std::string> ResolveInside(const std::string& working_dir, const std::string& relative,
                                  const std::string& field) {
  if (relative.empty()) return Status::InvalidArgument(field + ": empty path");
  const fs::path path = fs::path(relative).lexically_normal();
  if (path.is_absolute() || path.empty() || *path.begin() == "..") {
    return Status::InvalidArgument(field + ": path '" + relative +
                                   "' must stay inside working_dir (" + working_dir + ")");
  }
  return (fs::path(working_dir) / path).string();
}

Result<Array> ReadArray(const ArraySource& source, const std::string& working_dir, int64_t limit,
                        const std::string& field) {
  CB_ASSIGN_OR_RETURN(std::string path, ResolveInside(working_dir, source.path, field));
  Result<Array> array = ReadArrayFile(source, path, limit);
  if (!array.ok()) return array.status().WithContext(field);
  return array;
}

// `label_map`: when set, labels are checked against it (they are mapped after row selection).
Status CheckLabels(const Array& y, int64_t num_classes, const std::vector<int64_t>& label_map,
                   const std::string& field, std::vector<int64_t>& labels) {
  labels.resize(static_cast<size_t>(y.rows()));
  if (y.row_size() != 1) {
    return Status::InvalidArgument(field + ": labels must be one integer per sample, found " +
                                   std::to_string(y.row_size()) + " values per sample");
  }
  const auto limit = label_map.empty() ? num_classes : static_cast<int64_t>(label_map.size());
  for (int64_t i = 0; i < y.rows(); ++i) {
    const float value = y.values[i];
    const auto label = static_cast<int64_t>(std::llround(value));
    const bool integer = std::fabs(value - static_cast<float>(label)) <= 1e-4f;
    if (integer && !label_map.empty() && (label < 0 || label >= limit)) {
      return Status::InvalidArgument(field + ": sample " + std::to_string(i) + " has label " +
                                     std::to_string(label) + ", which data.label_map (" +
                                     std::to_string(limit) + " entries, for labels 0.." +
                                     std::to_string(limit - 1) + ") does not map");
    }
    if (!integer || label < 0 || label >= limit) {
      return Status::InvalidArgument(field + ": sample " + std::to_string(i) + " has label " +
                                     std::to_string(value) + "; labels must be integers in 0.." +
                                     std::to_string(limit - 1) +
                                     (label_map.empty() ? " (the output layer's _NEURON_ value)"
                                                        : " (the labels data.label_map maps)"));
    }
    labels[i] = label;
  }
  return Status::Ok();
}

Result<LabeledArrays> LoadSplit(const ProjectProgram& program, const DataSplit& split,
                                const std::vector<int64_t>& input_shape,
                                const std::string& working_dir, int64_t limit,
                                const std::string& image_cache, const std::string& name) {
  if (split.images) {
    const std::string field = "data." + name + ".images";
    CB_ASSIGN_OR_RETURN(const std::string folder,
                        ResolveInside(working_dir, split.images->path, field));
    return LoadImageSplit(program, *split.images, folder, input_shape, limit, image_cache, field);
  }
  LabeledArrays arrays;
  CB_ASSIGN_OR_RETURN(arrays.x, ReadArray(split.x, working_dir, limit, "data." + name + ".x"));
  const int64_t per_sample = std::accumulate(input_shape.begin(), input_shape.end(), int64_t{1},
                                             std::multiplies<int64_t>());
  if (arrays.x.row_size() != per_sample) {
    return Status::InvalidArgument("data." + name + ".x: each sample holds " +
                                   std::to_string(arrays.x.row_size()) +
                                   " values but model.input " + ShapeToString(input_shape) +
                                   " needs " + std::to_string(per_sample));
  }
  arrays.x.shape.resize(1);
  arrays.x.shape.insert(arrays.x.shape.end(), input_shape.begin(), input_shape.end());

  if (split.y.format == "same_as_x") {
    arrays.y = arrays.x;
    arrays.y.shape = {arrays.x.rows(), per_sample};
  } else {
    CB_ASSIGN_OR_RETURN(arrays.y, ReadArray(split.y, working_dir, limit, "data." + name + ".y"));
  }
  if (arrays.y.rows() != arrays.x.rows()) {
    return Status::InvalidArgument("data." + name + ": x has " + std::to_string(arrays.x.rows()) +
                                   " samples but y has " + std::to_string(arrays.y.rows()));
  }
  if (program.problem == ProblemType::kRegression) {
    if (arrays.y.row_size() != program.output_columns) {
      return Status::InvalidArgument("data." + name + ".y: " + std::to_string(arrays.y.row_size()) +
                                     " target columns but the output layer has " +
                                     std::to_string(program.output_columns));
    }
    arrays.y.shape = {arrays.y.rows(), arrays.y.row_size()};
  } else {
    CB_RETURN_IF_ERROR(CheckLabels(arrays.y, program.num_classes, program.data.label_map,
                                   "data." + name + ".y", arrays.labels));
  }
  return arrays;
}

LabeledArrays SelectRows(const LabeledArrays& arrays, const std::vector<int64_t>& rows) {
  LabeledArrays out;
  out.x = arrays.x.SelectRows(rows);
  out.y = arrays.y.SelectRows(rows);
  out.classes = arrays.classes;  // image folders: the rows keep their class names
  for (int64_t r : rows) {
    if (!arrays.labels.empty()) out.labels.push_back(arrays.labels[r]);
  }
  return out;
}

bool IsIdentity(const std::vector<int64_t>& order, int64_t rows) {
  if (static_cast<int64_t>(order.size()) != rows) return false;
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// Classification labels through data.label_map (a no-op without one, or for regression).
void MapLabels(const DataSpec& spec, LabeledArrays& arrays) {
  if (!spec.label_map.empty() && !arrays.labels.empty()) {
    ApplyLabelMap(spec.label_map, arrays.labels, arrays.y);
  }
}

LabeledArrays SliceRows(const LabeledArrays& arrays, int64_t begin, int64_t end) {
  std::vector<int64_t> rows(static_cast<size_t>(std::max<int64_t>(end - begin, 0)));
  std::iota(rows.begin(), rows.end(), begin);
  return SelectRows(arrays, rows);
}

// Keeps samples of the subnet's classes, labels remapped to their rank in `classes`.
LabeledArrays FilterClasses(const LabeledArrays& arrays, const std::vector<int64_t>& classes,
                            int64_t num_classes) {
  std::vector<int64_t> rank(static_cast<size_t>(num_classes), -1);
  for (size_t r = 0; r < classes.size(); ++r) rank[classes[r]] = static_cast<int64_t>(r);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < arrays.rows(); ++i) {
    if (rank[arrays.labels[i]] >= 0) rows.push_back(i);
  }
  LabeledArrays out = SelectRows(arrays, rows);
  for (size_t i = 0; i < out.labels.size(); ++i) {
    out.labels[i] = rank[out.labels[i]];
    out.y.values[i] = static_cast<float>(out.labels[i]);
  }
  return out;
}

LabeledArrays SliceColumns(const LabeledArrays& arrays, int64_t begin, int64_t end) {
  LabeledArrays out;
  out.x = arrays.x;
  const int64_t width = arrays.y.row_size(), block = end - begin;
  out.y.shape = {arrays.y.rows(), block};
  out.y.values.resize(static_cast<size_t>(arrays.y.rows() * block));
  for (int64_t r = 0; r < arrays.y.rows(); ++r) {
    std::copy_n(arrays.y.values.data() + r * width + begin, block, out.y.values.data() + r * block);
  }
  return out;
}

LabeledArrays SelectForSubnet(const LabeledArrays& arrays, const ProjectProgram& program,
                              const SubnetSpec& subnet, uint64_t half_seed) {
  switch (program.problem) {
    case ProblemType::kMulticlass:
      return FilterClasses(arrays, subnet.classes, program.num_classes);
    case ProblemType::kBinary: {
      if (subnet.half < 0) return arrays;
      auto halves = StratifiedHalves(arrays.labels, half_seed);
      return SelectRows(arrays, subnet.half == 0 ? halves.first : halves.second);
    }
    case ProblemType::kRegression:
      return SliceColumns(arrays, subnet.column_begin, subnet.column_end);
  }
  return arrays;
}

// data.test_split: cuts the test rows out of `train` (the limits apply to each side after).
Result<LabeledArrays> CutTestSplit(const DataSpec& spec, LabeledArrays& train) {
  const TestSplitRows rows =
      SplitOffTest(train.labels, train.rows(), spec.test_split->fraction, spec.test_split->seed);
  if (rows.train.empty() || rows.test.empty()) {
    return Status::InvalidArgument(
        "data.test_split: fraction " + std::to_string(spec.test_split->fraction) + " of " +
        std::to_string(train.rows()) + " samples leaves no training or no test samples");
  }
  LabeledArrays test = SelectRows(train, rows.test);
  train = SelectRows(train, rows.train);
  if (spec.train_limit > 0 && train.rows() > spec.train_limit) {
    train = SliceRows(train, 0, spec.train_limit);
  }
  if (spec.test_limit > 0 && test.rows() > spec.test_limit) {
    test = SliceRows(test, 0, spec.test_limit);
  }
  return test;
}

}  // namespace

Result<Array> ReadArrayFile(const ArraySource& source, const std::string& path, int64_t limit) {
  if (source.format == "idx") return ReadIdxFile(path, IdxReadOptions{source.scale, limit});
  if (source.format == "csv") {
    CsvReadOptions options;
    options.columns = source.columns;
    options.header = source.header;
    options.delimiter = source.delimiter;
    options.scale = source.scale;
    options.limit = limit;
    return ReadCsvFile(path, options);
  }
  if (source.format == "tensor")
    return ReadTensorFile(path, TensorReadOptions{source.scale, limit});
  if (source.format == "npy") return ReadNpyFile(path, NpyReadOptions{source.scale, limit});
  if (source.format == "npz") {
    return ReadNpzMember(path, source.key, NpyReadOptions{source.scale, limit});
  }
  if (source.format == "sequences") return ReadSequenceFile(path, source.sequences, limit);
  return Status::InvalidArgument("unknown format '" + source.format +
                                 "'; valid: idx, csv, tensor, npy, npz, sequences");
}

int64_t KerasTrainRows(int64_t rows, double validation_split) {
  // keras/src/trainers/data_adapters/data_adapter_utils.py train_validation_split (and
  // tf.keras' data_adapter.py): split_at = floor(num_samples * (1 - validation_split)).
  return static_cast<int64_t>(std::floor(static_cast<double>(rows) * (1.0 - validation_split)));
}

Result<ProblemData> LoadProblemData(const ProjectProgram& program,
                                    const std::vector<int64_t>& input_shape,
                                    const std::string& working_dir,
                                    const std::string& image_cache) {
  ProblemData data;
  const DataSpec& spec = program.data;
  if (!spec.label_map.empty())
    CB_RETURN_IF_ERROR(CheckLabelMap(spec.label_map, program.num_classes));
  // With data.test_split the limit applies to what remains for training.
  CB_ASSIGN_OR_RETURN(LabeledArrays train,
                      LoadSplit(program, spec.train, input_shape, working_dir,
                                spec.test_split ? 0 : spec.train_limit, image_cache, "train"));
  const std::vector<std::string> train_classes = train.classes;
  if (spec.test_split) {
    CB_ASSIGN_OR_RETURN(data.test, CutTestSplit(spec, train));
  }
  // train_rows -> shuffle -> train_subset -> label_map -> validation (docs/program-format.md).
  CB_ASSIGN_OR_RETURN(const std::vector<int64_t> order, TrainingRowOrder(train.rows(), spec));
  if (!IsIdentity(order, train.rows())) train = SelectRows(train, order);
  MapLabels(spec, train);
  if (spec.validation) {
    CB_ASSIGN_OR_RETURN(data.validation, LoadSplit(program, *spec.validation, input_shape,
                                                   working_dir, 0, image_cache, "validation"));
    MapLabels(spec, data.validation);
  }
  const int64_t train_rows = KerasTrainRows(train.rows(), spec.validation_split);
  const int64_t validation_rows = train.rows() - train_rows;
  if (train_rows <= 0) {
    return Status::InvalidArgument("data.validation_split leaves no training samples");
  }
  if (validation_rows > 0) {
    data.validation = SliceRows(train, train_rows, train.rows());
    data.train = SliceRows(train, 0, train_rows);
  } else {
    data.train = std::move(train);
  }
  if (spec.test) {
    CB_ASSIGN_OR_RETURN(data.test, LoadSplit(program, *spec.test, input_shape, working_dir,
                                             spec.test_limit, image_cache, "test"));
    if (!train_classes.empty() && !data.test.classes.empty() &&
        train_classes != data.test.classes) {  // ids are positions: they would mean other classes
      return Status::InvalidArgument(
          "data.test.images: its class folders differ from data.train.images' (class ids are "
          "the positions of the sorted folder names, so both folders need the same classes)");
    }
  }
  if (spec.test || spec.test_split) {
    if (spec.test_rows) {
      CB_ASSIGN_OR_RETURN(const std::vector<int64_t> rows,
                          SliceRowIndices(data.test.rows(), *spec.test_rows, "data.test_rows"));
      data.test = SelectRows(data.test, rows);
    }
    MapLabels(spec, data.test);
  }
  return data;
}

ProblemData SelectSubnetData(const ProblemData& all, const ProjectProgram& program,
                             const SubnetSpec& subnet) {
  // The halves depend on the program seed only, so both binary subnets agree on the split.
  const uint64_t train_seed = SeededRandom::Derive(program.seed, 0xB1A5ULL);
  const uint64_t other_seed = SeededRandom::Derive(program.seed, 0xB1A6ULL);
  ProblemData data;
  data.train = SelectForSubnet(all.train, program, subnet, train_seed);
  data.validation = SelectForSubnet(all.validation, program, subnet, other_seed);
  // Test samples are never halved: both binary subnets are scored on the whole test set.
  if (program.problem == ProblemType::kBinary) {
    data.test = all.test;
  } else {
    data.test = SelectForSubnet(all.test, program, subnet, other_seed);
  }
  return data;
}

}  // namespace cloudbook
