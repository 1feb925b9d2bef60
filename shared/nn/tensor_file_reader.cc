#include "shared/nn/tensor_file_reader.h"

#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "shared/data/tensor_file.h"

namespace cloudbook {

namespace {

// torch::save (C++) writes a TorchScript archive; torch.save (Python) and torch::pickle_save
// write a pickle archive. Try the first, then the second.
Result<torch::Tensor> LoadTensor(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return Status::NotFound(path);
  std::string script_error;
  try {
    torch::Tensor tensor;
    torch::load(tensor, path);
    return tensor;
  } catch (const c10::Error& error) {
    script_error = error.what_without_backtrace();
  }
  try {
    std::vector<char> bytes((std::istreambuf_iterator<char>(probe)),
                            std::istreambuf_iterator<char>());
    const auto value = torch::pickle_load(bytes);
    if (!value.isTensor()) {
      return Status::InvalidArgument(path + ": holds a " + value.tagKind() + ", not a tensor");
    }
    return value.toTensor();
  } catch (const c10::Error& error) {
    return Status::Corruption(path + ": not a tensor saved by libtorch or PyTorch (" +
                              error.what_without_backtrace() + ")");
  } catch (const std::exception& error) {
    return Status::Corruption(path + ": not a tensor saved by libtorch or PyTorch (" +
                              error.what() + ")");
  }
}

Result<Array> ReadTorchTensorFile(const std::string& path, const TensorReadOptions& options) {
  CB_ASSIGN_OR_RETURN(torch::Tensor tensor, LoadTensor(path));
  try {
    if (tensor.dim() == 0) return Status::InvalidArgument(path + ": a scalar, not samples");
    if (options.limit > 0 && tensor.size(0) > options.limit)
      tensor = tensor.slice(0, 0, options.limit);
    tensor = (tensor.to(torch::kFloat64) / options.scale).to(torch::kFloat32).contiguous();
    Array array;
    array.shape = tensor.sizes().vec();
    array.values.assign(tensor.data_ptr<float>(), tensor.data_ptr<float>() + tensor.numel());
    return array;
  } catch (const c10::Error& error) {
    return Status::Corruption(path + ": " + error.what_without_backtrace());
  }
}

}  // namespace

void InstallTensorFileReader() { SetTensorFileReader(ReadTorchTensorFile); }

}  // namespace cloudbook
