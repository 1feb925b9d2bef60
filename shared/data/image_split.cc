#include "shared/data/image_split.h"

#include "shared/data/image_folder.h"
#include "shared/model_plan.h"

namespace cloudbook {

Result<LabeledArrays> LoadImageSplit(const ProjectProgram& program, const ImageFolderSource& source,
                                     const std::string& folder,
                                     const std::vector<int64_t>& input_shape, int64_t limit,
                                     const std::string& cache_dir, const std::string& field) {
  if (program.problem == ProblemType::kRegression) {
    return Status::InvalidArgument(field + ": an image folder gives class labels; problem " +
                                   "regression has no classes");
  }
  const bool rank2 = input_shape.size() == 2;
  if (!rank2 && !(input_shape.size() == 3 && (input_shape[2] == 1 || input_shape[2] == 3))) {
    return Status::InvalidArgument(field + ": images need model.input [height, width] or " +
                                   "[height, width, 1 or 3], not " + ShapeToString(input_shape));
  }
  ImageFolderOptions options;
  options.height = input_shape[0];
  options.width = input_shape[1];
  options.channels = rank2 ? 1 : input_shape[2];
  options.scale = source.scale;
  options.cache_dir = cache_dir;
  const std::string wanted = options.channels == 1 ? "grayscale" : "rgb";
  if (!source.color.empty() && source.color != wanted) {
    return Status::InvalidArgument(field + ": color " + source.color + " gives " +
                                   (source.color == "rgb" ? "3 channels" : "1 channel") +
                                   " but model.input " + ShapeToString(input_shape) + " has " +
                                   std::to_string(options.channels));
  }
  Result<ImageFolderData> loaded = LoadImageFolder(folder, options);
  if (!loaded.ok()) return loaded.status().WithContext(field);
  ImageFolderData& images = *loaded;
  if (static_cast<int64_t>(images.classes.size()) != program.num_classes) {
    return Status::InvalidArgument(
        field + ": " + folder + " has " + std::to_string(images.classes.size()) +
        " class folders but the output layer has " + std::to_string(program.num_classes) +
        " outputs (the _NEURON_ value); each class needs its own folder");
  }
  LabeledArrays arrays;
  arrays.classes = std::move(images.classes);
  arrays.x = std::move(images.x);
  arrays.labels = std::move(images.labels);
  arrays.x.shape.resize(1);
  arrays.x.shape.insert(arrays.x.shape.end(), input_shape.begin(), input_shape.end());
  if (limit > 0 && arrays.x.rows() > limit) {
    arrays.x = arrays.x.SliceRows(0, limit);
    arrays.labels.resize(static_cast<size_t>(limit));
  }
  arrays.y.shape = {static_cast<int64_t>(arrays.labels.size())};
  for (const int64_t label : arrays.labels) arrays.y.values.push_back(static_cast<float>(label));
  return arrays;
}

}  // namespace cloudbook
