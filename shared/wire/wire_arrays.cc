#include "shared/wire/wire_arrays.h"

#include <cstdlib>
#include <cstring>

namespace cloudbook {

namespace {

Status CheckTensor(const WireMessage& message, size_t index, WireDtype dtype) {
  if (index >= message.header.tensors.size() || index >= message.tensor_frames.size()) {
    return Status::InvalidArgument("no tensor " + std::to_string(index) + " in the message");
  }
  const TensorDescriptor& descriptor = message.header.tensors[index];
  if (descriptor.dtype != dtype) {
    return Status::InvalidArgument("tensor '" + descriptor.name + "' is " +
                                   WireDtypeName(descriptor.dtype) + ", not " +
                                   WireDtypeName(dtype));
  }
  uint64_t elements = 1;
  for (int64_t d : descriptor.shape) elements *= static_cast<uint64_t>(d < 0 ? 0 : d);
  if (message.tensor_frames[index].size() != descriptor.byte_count ||
      descriptor.byte_count != elements * WireDtypeSize(dtype)) {
    return Status::InvalidArgument("tensor '" + descriptor.name +
                                   "': its bytes do not match its shape");
  }
  return Status::Ok();
}

}  // namespace

void AddArrayTensor(WireMessage* message, const std::string& name,
                    std::shared_ptr<const Array> array) {
  TensorDescriptor descriptor;
  descriptor.name = name;
  descriptor.dtype = WireDtype::kFloat32;
  descriptor.shape = array->shape;
  descriptor.byte_count = array->values.size() * sizeof(float);
  message->header.tensors.push_back(descriptor);
  const void* data = array->values.data();
  message->tensor_frames.push_back(FrameFromBuffer(data, descriptor.byte_count, std::move(array)));
}

void AddInt64Tensor(WireMessage* message, const std::string& name,
                    const std::vector<int64_t>& values) {
  TensorDescriptor descriptor;
  descriptor.name = name;
  descriptor.dtype = WireDtype::kInt64;
  descriptor.shape = {static_cast<int64_t>(values.size())};
  descriptor.byte_count = values.size() * sizeof(int64_t);
  message->header.tensors.push_back(descriptor);
  message->tensor_frames.emplace_back(values.data(), descriptor.byte_count);
}

int FindTensor(const WireMessage& message, const std::string& name) {
  for (size_t i = 0; i < message.header.tensors.size(); ++i) {
    if (message.header.tensors[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Array> ArrayFromTensor(const WireMessage& message, size_t index) {
  CB_RETURN_IF_ERROR(CheckTensor(message, index, WireDtype::kFloat32));
  const TensorDescriptor& descriptor = message.header.tensors[index];
  Array array;
  array.shape = descriptor.shape;
  array.values.resize(descriptor.byte_count / sizeof(float));
  if (descriptor.byte_count > 0) {
    std::memcpy(array.values.data(), message.tensor_frames[index].data(), descriptor.byte_count);
  }
  return array;
}

Result<std::vector<int64_t>> Int64sFromTensor(const WireMessage& message, size_t index) {
  CB_RETURN_IF_ERROR(CheckTensor(message, index, WireDtype::kInt64));
  const TensorDescriptor& descriptor = message.header.tensors[index];
  std::vector<int64_t> values(descriptor.byte_count / sizeof(int64_t));
  if (descriptor.byte_count > 0) {
    std::memcpy(values.data(), message.tensor_frames[index].data(), descriptor.byte_count);
  }
  return values;
}

Result<std::map<int, Array>> SubnetArraysFromReply(const WireMessage& reply) {
  std::map<int, Array> arrays;
  if (reply.header.tensors.size() != reply.tensor_frames.size()) {
    return Status::Corruption("reply: " + std::to_string(reply.header.tensors.size()) +
                              " descriptors for " + std::to_string(reply.tensor_frames.size()) +
                              " frames");
  }
  for (size_t i = 0; i < reply.header.tensors.size(); ++i) {
    const std::string& name = reply.header.tensors[i].name;
    if (name.rfind("subnet_", 0) != 0) {
      return Status::Corruption("reply: unexpected tensor '" + name + "'");
    }
    Result<Array> array = ArrayFromTensor(reply, i);
    if (!array.ok()) return Status::Corruption("reply: " + array.status().message());
    arrays[std::atoi(name.c_str() + std::strlen("subnet_"))] = std::move(array).value();
  }
  return arrays;
}

}  // namespace cloudbook
