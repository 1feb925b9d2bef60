#include "shared/wire/wire_dtype.h"

namespace cloudbook {

std::optional<WireDtype> WireDtypeFromCode(uint64_t code) {
  if (code < static_cast<uint64_t>(WireDtype::kFloat32) ||
      code > static_cast<uint64_t>(WireDtype::kBool)) {
    return std::nullopt;
  }
  return static_cast<WireDtype>(code);
}

size_t WireDtypeSize(WireDtype dtype) {
  switch (dtype) {
    case WireDtype::kFloat64:
    case WireDtype::kInt64:
      return 8;
    case WireDtype::kFloat32:
    case WireDtype::kInt32:
      return 4;
    case WireDtype::kFloat16:
    case WireDtype::kBFloat16:
    case WireDtype::kInt16:
      return 2;
    case WireDtype::kInt8:
    case WireDtype::kUInt8:
    case WireDtype::kBool:
      return 1;
  }
  return 0;  // Not reachable for a value made by WireDtypeFromCode.
}

const char* WireDtypeName(WireDtype dtype) {
  switch (dtype) {
    case WireDtype::kFloat32:
      return "float32";
    case WireDtype::kFloat64:
      return "float64";
    case WireDtype::kFloat16:
      return "float16";
    case WireDtype::kBFloat16:
      return "bfloat16";
    case WireDtype::kInt8:
      return "int8";
    case WireDtype::kUInt8:
      return "uint8";
    case WireDtype::kInt16:
      return "int16";
    case WireDtype::kInt32:
      return "int32";
    case WireDtype::kInt64:
      return "int64";
    case WireDtype::kBool:
      return "bool";
  }
  return "unknown";
}

}  // namespace cloudbook
