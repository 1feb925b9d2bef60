// Image inputs of cloudbook-predict: one PNG/JPEG/GIF/BMP file, a folder of image files, or a
// class-folder tree (one sub-folder per class, as image_dataset_from_directory reads it),
// decoded (shared/data/image_decode.h) and resized (image_resize.h) exactly as training reads
// image folders, then divided by the scale, a batch at a time. Not thread-safe (one per
// thread). Errors name the folder or the file and the cause.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct ImageInputs {
  std::string root;                    // the input file's folder, or the input folder
  std::vector<std::string> files;      // below root, in prediction order
  std::vector<std::string> classes;    // a class-folder tree: its class folders, sorted
  std::vector<int64_t> folder_labels;  // a class-folder tree: index in `classes` per file
};

// A file, a folder of images (sorted by name), or a class-folder tree (Keras' listing order).
Result<ImageInputs> ListImageInputs(const std::string& path);

struct ImageShape {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;  // 1 grayscale, 3 rgb
};

// The model input [H, W] or [H, W, 1 or 3] as an image shape; InvalidArgument otherwise.
Result<ImageShape> ImageShapeOf(const std::vector<int64_t>& input_shape);

// Files [begin, end) of `inputs` as [end - begin, H, W, C] values (0..255) divided by `scale`.
Result<Array> DecodeImageBatch(const ImageInputs& inputs, int64_t begin, int64_t end,
                               const ImageShape& shape, double scale);

}  // namespace cloudbook
