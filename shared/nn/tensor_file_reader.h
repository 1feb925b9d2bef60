// Installs the libtorch reader of the "tensor" data format (shared/data/tensor_file.h).
#pragma once

namespace cloudbook {

void InstallTensorFileReader();

}  // namespace cloudbook
