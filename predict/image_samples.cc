#include "predict/image_samples.h"

#include <algorithm>
#include <boost/filesystem.hpp>

#include "shared/atomic_file.h"
#include "shared/data/image_decode.h"
#include "shared/data/image_folder.h"
#include "shared/data/image_resize.h"
#include "shared/model_plan.h"

namespace cloudbook {

namespace fs = boost::filesystem;

Result<ImageInputs> ListImageInputs(const std::string& path) {
  ImageInputs inputs;
  boost::system::error_code error;
  if (!fs::is_directory(path, error)) {
    if (!fs::exists(path, error)) return Status::NotFound(path + ": no such file or folder");
    const fs::path file(path);
    inputs.root = file.has_parent_path() ? file.parent_path().string() : ".";
    inputs.files.push_back(file.filename().string());
    return inputs;
  }
  inputs.root = path;
  std::vector<std::string> images;
  bool has_folders = false;
  for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (fs::is_directory(it->path(), error)) has_folders = true;
    if (fs::is_regular_file(it->path(), error) && HasImageExtension(name)) images.push_back(name);
  }
  if (error) return Status::IoError(path + ": cannot list: " + error.message());
  if (images.empty() && has_folders) {
    CB_ASSIGN_OR_RETURN(ImageFolderListing listing, ListImageFolder(path));
    inputs.classes = std::move(listing.classes);
    for (ImageFile& file : listing.files) {
      inputs.files.push_back(std::move(file.relative));
      inputs.folder_labels.push_back(file.label);
    }
    return inputs;
  }
  if (images.empty()) {
    return Status::InvalidArgument(path +
                                   ": no images (.png, .jpg, .jpeg, .gif, .bmp) and no class "
                                   "folders of images in it");
  }
  std::sort(images.begin(), images.end());
  inputs.files = std::move(images);
  return inputs;
}

Result<ImageShape> ImageShapeOf(const std::vector<int64_t>& input_shape) {
  const bool rank2 = input_shape.size() == 2;
  if (!rank2 && !(input_shape.size() == 3 && (input_shape[2] == 1 || input_shape[2] == 3))) {
    return Status::InvalidArgument(
        "images need a model input [height, width] or [height, "
        "width, 1 or 3]; this model takes " +
        ShapeToString(input_shape));
  }
  return ImageShape{input_shape[0], input_shape[1], rank2 ? 1 : input_shape[2]};
}

Result<Array> DecodeImageBatch(const ImageInputs& inputs, int64_t begin, int64_t end,
                               const ImageShape& shape, double scale) {
  const int64_t per_image = shape.height * shape.width * shape.channels;
  Array batch;
  batch.shape = {end - begin, shape.height, shape.width, shape.channels};
  batch.values.resize(static_cast<size_t>((end - begin) * per_image));
  for (int64_t i = begin; i < end; ++i) {
    const std::string path = inputs.root + "/" + inputs.files[static_cast<size_t>(i)];
    CB_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(path));
    CB_ASSIGN_OR_RETURN(const DecodedImage image, DecodeImage(bytes, shape.channels, path));
    float* out = batch.values.data() + (i - begin) * per_image;
    ResizeBilinearHalfPixel(image.pixels.data(), image.height, image.width, shape.channels, out,
                            shape.height, shape.width);
    // As LoadImageFolder scales: each float divided in double precision.
    if (scale != 1.0) {
      for (int64_t v = 0; v < per_image; ++v) out[v] = static_cast<float>(out[v] / scale);
    }
  }
  return batch;
}

}  // namespace cloudbook
