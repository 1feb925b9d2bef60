// Tensors to and from wire frames (shared/wire/wire_message.h), without copying the bytes:
// the send side lends the tensor's storage to ZeroMQ, the receive side wraps the frame.
#pragma once

#include <torch/torch.h>

#include <string>

#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// The wire code of a libtorch dtype; an error names the dtype when it has none (complex,
// quantized, unsigned wider than 8 bits).
Result<WireDtype> WireDtypeFromTorch(torch::ScalarType type);
torch::ScalarType TorchDtypeFromWire(WireDtype dtype);

// A frame over the tensor's bytes. A CUDA tensor is copied to the CPU and a non-contiguous
// one made contiguous (one copy each); otherwise the frame points at the tensor's own storage
// and keeps it alive until ZeroMQ has sent it: do not write to the tensor in place meanwhile.
Result<TensorFrame> TensorToFrame(const std::string& name, const torch::Tensor& tensor);

// A CPU tensor that wraps the frame's buffer (the frame lives as long as the tensor's
// storage). Checks the frame against the descriptor, and a bool frame's bytes (0 or 1 only).
// Copies only when the buffer is not aligned to the element size (ZeroMQ may hand a small
// frame at any address) or the frame is empty.
Result<torch::Tensor> TensorFromFrame(const TensorDescriptor& descriptor, zmq::message_t&& frame);

}  // namespace cloudbook
