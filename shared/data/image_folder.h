// An image-folder data source (`images: {path, color, scale}`, docs/program-format.md): one
// sub-folder per class, class ids = sorted sub-folder names, files listed as Keras'
// image_dataset_from_directory lists them (docs/design/keras-semantics.md §3.3), decoded
// (shared/data/image_decode.h) and resized to the model input (shared/data/image_resize.h)
// once per machine into an image cache keyed by the listing (names, sizes, mtimes), shape and
// colour; later loads read the cache. Thread safety: the functions may run in several threads
// and processes at once. Errors name the folder or the file; a failed decode writes no cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct ImageFile {
  std::string relative;  // path below the folder, e.g. "cat/img_001.png"
  int64_t label = 0;     // index of its class in ImageFolderListing::classes
  uint64_t size = 0;
  int64_t modified_ns = 0;
};

struct ImageFolderListing {
  std::vector<std::string> classes;  // sorted sub-folder names
  std::vector<ImageFile> files;      // class by class, Keras' order inside each
};

// Whether a file name is an image's as Keras lists them: .png .jpg .jpeg .bmp .gif, any case.
bool HasImageExtension(const std::string& name);

// Keras' index_directory with labels="inferred": class folders are the non-hidden
// sub-folders; inside each, every folder (symlinked ones not entered, as follow_links=False)
// sorted by path, its files sorted by name; only names ending in .png .jpg .jpeg .bmp .gif
// (any case) are images, other files are skipped as Keras skips them.
Result<ImageFolderListing> ListImageFolder(const std::string& folder);

struct ImageFolderOptions {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;   // 1 = grayscale, 3 = rgb
  double scale = 1.0;     // values are divided by this
  std::string cache_dir;  // empty: decode without caching
  int threads = 0;        // 0: the image_decode_threads tunable
};

struct ImageFolderData {
  std::vector<std::string> classes;
  Array x;                      // [images, height, width, channels]
  std::vector<int64_t> labels;  // class index per image
};

Result<ImageFolderData> LoadImageFolder(const std::string& folder,
                                        const ImageFolderOptions& options);

}  // namespace cloudbook
