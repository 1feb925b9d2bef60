#include "shared/data/tensor_file.h"

#include <mutex>

namespace cloudbook {

namespace {

std::mutex& ReaderMutex() {
  static std::mutex mutex;
  return mutex;
}

TensorFileReader& InstalledReader() {
  static TensorFileReader reader;
  return reader;
}

}  // namespace

void SetTensorFileReader(TensorFileReader reader) {
  std::lock_guard<std::mutex> lock(ReaderMutex());
  InstalledReader() = std::move(reader);
}

Result<Array> ReadTensorFile(const std::string& path, const TensorReadOptions& options) {
  TensorFileReader reader;
  {
    std::lock_guard<std::mutex> lock(ReaderMutex());
    reader = InstalledReader();
  }
  if (!reader) {
    return Status::InvalidArgument(path +
                                   ": the tensor format needs libtorch, which this "
                                   "command does not load");
  }
  if (!(options.scale > 0)) return Status::InvalidArgument(path + ": scale must be positive");
  return reader(path, options);
}

}  // namespace cloudbook
