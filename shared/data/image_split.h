// A data split read from an image folder (`images:` in the program): the folder's images as
// x shaped to the model input ([H, W] grayscale or [H, W, C]) and its class ids as labels.
// Checks the colour against the input's channels and the class count against the output
// layer. Thread safety: as LoadImageFolder. Errors name `field` and the folder or file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/dataset_loader.h"

namespace cloudbook {

// `folder` is the resolved path of `source.path`; `limit` > 0 keeps the first images only;
// `cache_dir` empty decodes without caching.
Result<LabeledArrays> LoadImageSplit(const ProjectProgram& program, const ImageFolderSource& source,
                                     const std::string& folder,
                                     const std::vector<int64_t>& input_shape, int64_t limit,
                                     const std::string& cache_dir, const std::string& field);

}  // namespace cloudbook
