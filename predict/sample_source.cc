#include "predict/sample_source.h"

#include <algorithm>
#include <numeric>

#include "predict/input_format.h"
#include "shared/data/dataset_loader.h"
#include "shared/model_plan.h"

namespace cloudbook {

namespace {

int64_t Product(const std::vector<int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

// A class-folder tree's labels as the model's class ids: by name when the model has class
// names, else by position when the tree has one folder per class; empty when neither fits.
Result<std::vector<int64_t>> FolderLabels(const RunModel& model, const ImageInputs& inputs,
                                          const std::string& path) {
  std::vector<int64_t> ids(inputs.classes.size(), -1);
  if (!model.class_names.empty()) {
    for (size_t c = 0; c < inputs.classes.size(); ++c) {
      const auto found =
          std::find(model.class_names.begin(), model.class_names.end(), inputs.classes[c]);
      if (found == model.class_names.end()) {
        return Status::InvalidArgument(path + ": class folder '" + inputs.classes[c] +
                                       "' is not one of the model's classes");
      }
      ids[c] = found - model.class_names.begin();
    }
  } else if (static_cast<int64_t>(inputs.classes.size()) == model.outputs()) {
    std::iota(ids.begin(), ids.end(), int64_t{0});
  } else {
    return std::vector<int64_t>();
  }
  std::vector<int64_t> labels;
  for (const int64_t folder : inputs.folder_labels) labels.push_back(ids[folder]);
  return labels;
}

}  // namespace

const DataSplit& ProgramSplit(const RunModel& model) {
  const DataSpec& data = model.program().data;
  return data.test ? *data.test : data.train;
}

Result<std::unique_ptr<SampleSource>> SampleSource::Open(const RunModel& model,
                                                         const SampleRequest& request,
                                                         double scale) {
  const DataSplit& split = ProgramSplit(model);
  const bool program_images = split.images.has_value();
  CB_ASSIGN_OR_RETURN(InputFormat input,
                      ResolveInputFormat(request.input, request.format,
                                         program_images ? nullptr : &split.x, program_images));
  std::unique_ptr<SampleSource> source(new SampleSource());
  source->format_ = input.format;
  source->input_shape_ = model.input_shape;
  source->scale_ = scale;
  if (input.format == "images") {
    CB_ASSIGN_OR_RETURN(source->image_shape_, ImageShapeOf(model.input_shape));
    CB_ASSIGN_OR_RETURN(source->images_, ListImageInputs(request.input));
    ImageInputs& images = source->images_;
    if (request.limit > 0 && static_cast<int64_t>(images.files.size()) > request.limit) {
      images.files.resize(static_cast<size_t>(request.limit));
      if (!images.folder_labels.empty()) images.folder_labels.resize(images.files.size());
    }
    if (!images.classes.empty()) {
      CB_ASSIGN_OR_RETURN(source->folder_labels_, FolderLabels(model, images, request.input));
    }
    source->samples_ = static_cast<int64_t>(images.files.size());
    return source;
  }
  ArraySource options = input.source;
  if (!request.key.empty()) options.key = request.key;
  if (options.format == "sequences") {
    // Training reads token ids unscaled and pads to the model's length.
    if (options.sequences.maxlen == 0 && !model.input_shape.empty()) {
      options.sequences.maxlen = model.input_shape[0];
    }
  } else {
    options.scale = source->scale_;
  }
  CB_ASSIGN_OR_RETURN(source->array_, ReadArrayFile(options, request.input, request.limit));
  const int64_t per_sample = Product(model.input_shape);
  if (source->array_.row_size() != per_sample) {
    return Status::InvalidArgument(request.input + " (" + input.format + "): each sample holds " +
                                   std::to_string(source->array_.row_size()) + " values (shape " +
                                   ShapeToString(source->array_.shape) + ") but the model takes " +
                                   ShapeToString(model.input_shape) + " per sample (" +
                                   std::to_string(per_sample) + " values)");
  }
  source->samples_ = source->array_.rows();
  return source;
}

Result<Array> SampleSource::Read(int64_t begin, int64_t end) {
  if (format_ == "images") return DecodeImageBatch(images_, begin, end, image_shape_, scale_);
  Array batch = array_.SliceRows(begin, end);
  batch.shape = {end - begin};
  batch.shape.insert(batch.shape.end(), input_shape_.begin(), input_shape_.end());
  return batch;
}

std::string SampleSource::name(int64_t i) const {
  return named() ? images_.files[static_cast<size_t>(i)] : std::string();
}

}  // namespace cloudbook
