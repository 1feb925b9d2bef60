// Arrays (shared/data/array.h) as the tensors of a WireMessage: added without copying (the
// frame keeps the Array alive until sent) and read back with every descriptor checked.
// Stateless functions, thread-safe; errors name the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

// Appends `array` as the float32 tensor `name` (zero-copy).
void AddArrayTensor(WireMessage* message, const std::string& name,
                    std::shared_ptr<const Array> array);
// Appends `values` as the int64 tensor `name` of shape [values.size()] (copied).
void AddInt64Tensor(WireMessage* message, const std::string& name,
                    const std::vector<int64_t>& values);

// The position of tensor `name` in `message`; -1 when absent.
int FindTensor(const WireMessage& message, const std::string& name);
// Tensor `index` as an Array (copied): InvalidArgument unless it is float32 and its frame holds
// its bytes.
Result<Array> ArrayFromTensor(const WireMessage& message, size_t index);
// Tensor `index` as int64 values (copied), likewise.
Result<std::vector<int64_t>> Int64sFromTensor(const WireMessage& message, size_t index);

// The "subnet_<i>" float32 tensors of a DU's `predict` or `infer` reply, by subnet index.
// Corruption for any other tensor or a byte count that does not match.
Result<std::map<int, Array>> SubnetArraysFromReply(const WireMessage& reply);

}  // namespace cloudbook
