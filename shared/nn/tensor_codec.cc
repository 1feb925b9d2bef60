#include "shared/nn/tensor_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

namespace cloudbook {

namespace {

std::string TensorWhat(const std::string& name) { return "tensor '" + name + "'"; }

std::string SupportedDtypes() {
  std::string names;
  for (uint64_t code = 1; WireDtypeFromCode(code); ++code) {
    if (!names.empty()) names += ", ";
    names += WireDtypeName(*WireDtypeFromCode(code));
  }
  return names;
}

// The descriptor's size with the same overflow rules as the header decoder: every dim, a 0
// counted as 1, multiplies within int64.
Result<uint64_t> DescriptorBytes(const TensorDescriptor& descriptor) {
  const std::string what = TensorWhat(descriptor.name);
  if (!WireDtypeFromCode(static_cast<uint64_t>(descriptor.dtype))) {
    return Status::InvalidArgument(what + ": unknown wire dtype code " +
                                   std::to_string(static_cast<unsigned>(descriptor.dtype)));
  }
  uint64_t elements = 1;
  bool empty = false;
  for (const int64_t dim : descriptor.shape) {
    if (dim < 0) return Status::InvalidArgument(what + ": negative dim " + std::to_string(dim));
    if (dim == 0) empty = true;
    if (__builtin_mul_overflow(elements, static_cast<uint64_t>(dim == 0 ? 1 : dim), &elements) ||
        elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(what + ": too many elements for a 64-bit count");
    }
  }
  uint64_t bytes = 0;
  if (!empty &&
      __builtin_mul_overflow(elements, uint64_t{WireDtypeSize(descriptor.dtype)}, &bytes)) {
    return Status::InvalidArgument(what + ": too many bytes for a 64-bit count");
  }
  return bytes;
}

}  // namespace

Result<WireDtype> WireDtypeFromTorch(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat:
      return WireDtype::kFloat32;
    case torch::kDouble:
      return WireDtype::kFloat64;
    case torch::kHalf:
      return WireDtype::kFloat16;
    case torch::kBFloat16:
      return WireDtype::kBFloat16;
    case torch::kChar:
      return WireDtype::kInt8;
    case torch::kByte:
      return WireDtype::kUInt8;
    case torch::kShort:
      return WireDtype::kInt16;
    case torch::kInt:
      return WireDtype::kInt32;
    case torch::kLong:
      return WireDtype::kInt64;
    case torch::kBool:
      return WireDtype::kBool;
    default:
      return Status::InvalidArgument(std::string("dtype ") + c10::toString(type) +
                                     " has no wire code (supported: " + SupportedDtypes() + ")");
  }
}

torch::ScalarType TorchDtypeFromWire(WireDtype dtype) {
  switch (dtype) {
    case WireDtype::kFloat32:
      return torch::kFloat;
    case WireDtype::kFloat64:
      return torch::kDouble;
    case WireDtype::kFloat16:
      return torch::kHalf;
    case WireDtype::kBFloat16:
      return torch::kBFloat16;
    case WireDtype::kInt8:
      return torch::kChar;
    case WireDtype::kUInt8:
      return torch::kByte;
    case WireDtype::kInt16:
      return torch::kShort;
    case WireDtype::kInt32:
      return torch::kInt;
    case WireDtype::kInt64:
      return torch::kLong;
    case WireDtype::kBool:
      return torch::kBool;
  }
  return torch::kFloat;  // Not reachable for a value made by WireDtypeFromCode.
}

Result<TensorFrame> TensorToFrame(const std::string& name, const torch::Tensor& tensor) {
  const std::string what = TensorWhat(name);
  if (!tensor.defined()) return Status::InvalidArgument(what + ": undefined tensor");
  try {
    if (tensor.layout() != torch::kStrided) {
      return Status::InvalidArgument(what + ": only dense (strided) tensors go on the wire");
    }
    auto dtype = WireDtypeFromTorch(tensor.scalar_type());
    if (!dtype.ok()) return dtype.status().WithContext(what);
    // detach(): the frame must not keep an autograd graph alive while it waits to be sent.
    torch::Tensor dense = tensor.detach();
    if (!dense.device().is_cpu()) dense = dense.to(torch::kCPU);
    dense = dense.resolve_neg().contiguous();
    TensorFrame out;
    out.descriptor.name = name;
    out.descriptor.dtype = *dtype;
    out.descriptor.shape = dense.sizes().vec();
    out.descriptor.byte_count = dense.nbytes();
    auto owner = std::make_shared<torch::Tensor>(dense);
    out.frame = FrameFromBuffer(owner->data_ptr(), owner->nbytes(), owner);
    return out;
  } catch (const c10::Error& error) {
    return Status::InvalidArgument(what + ": " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal(what + ": " + error.what());
  }
}

Result<torch::Tensor> TensorFromFrame(const TensorDescriptor& descriptor, zmq::message_t&& frame) {
  const std::string what = TensorWhat(descriptor.name);
  CB_ASSIGN_OR_RETURN(const uint64_t bytes, DescriptorBytes(descriptor));
  if (bytes != descriptor.byte_count || frame.size() != bytes) {
    return Status::InvalidArgument(what + ": " + WireDtypeName(descriptor.dtype) + " shape needs " +
                                   std::to_string(bytes) + " bytes, byte_count says " +
                                   std::to_string(descriptor.byte_count) + ", the frame has " +
                                   std::to_string(frame.size()));
  }
  const auto options = torch::TensorOptions().dtype(TorchDtypeFromWire(descriptor.dtype));
  try {
    if (bytes == 0) return torch::empty(descriptor.shape, options);
    const auto* data = static_cast<const uint8_t*>(frame.data());
    if (descriptor.dtype == WireDtype::kBool) {
      // libtorch assumes a bool byte is 0 or 1; another value is undefined behaviour there.
      for (uint64_t i = 0; i < bytes; ++i) {
        if (data[i] > 1) {
          return Status::InvalidArgument(what + ": bool element " + std::to_string(i) +
                                         " is byte " + std::to_string(data[i]) + ", not 0 or 1");
        }
      }
    }
    if (reinterpret_cast<uintptr_t>(data) % WireDtypeSize(descriptor.dtype) != 0) {
      // Small frames can sit anywhere in ZeroMQ's receive buffer; libtorch wants alignment.
      torch::Tensor copy = torch::empty(descriptor.shape, options);
      std::memcpy(copy.data_ptr(), data, bytes);
      return copy;
    }
    auto holder = std::make_shared<zmq::message_t>(std::move(frame));
    return torch::from_blob(
        holder->data(), descriptor.shape, [holder](void*) mutable { holder.reset(); }, options);
  } catch (const c10::Error& error) {
    return Status::InvalidArgument(what + ": " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal(what + ": " + error.what());
  }
}

}  // namespace cloudbook
