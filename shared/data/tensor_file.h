// The "tensor" data format: a tensor saved by libtorch (C++ torch::save or Python
// torch.save). Reading one needs libtorch, which this torch-free module does not link: the
// libtorch part installs the reader (InstallTensorFileReader in shared/nn/tensor_file_reader.h)
// and commands that train do so at start.
#pragma once

#include <functional>
#include <string>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct TensorReadOptions {
  double scale = 1.0;  // values are divided by this
  int64_t limit = 0;   // first N samples only (0 = all)
};

using TensorFileReader =
    std::function<Result<Array>(const std::string& path, const TensorReadOptions& options)>;

void SetTensorFileReader(TensorFileReader reader);
// An error naming the file when no reader is installed.
Result<Array> ReadTensorFile(const std::string& path, const TensorReadOptions& options);

}  // namespace cloudbook
