// Our own stable table of tensor element types on the wire. The numbers never change and
// never follow a library's enum (libtorch's ScalarType values are not a protocol).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace cloudbook {

enum class WireDtype : uint8_t {
  kFloat32 = 1,
  kFloat64 = 2,
  kFloat16 = 3,
  kBFloat16 = 4,
  kInt8 = 5,
  kUInt8 = 6,
  kInt16 = 7,
  kInt32 = 8,
  kInt64 = 9,
  kBool = 10,
};

// nullopt for a code that is not in the table.
std::optional<WireDtype> WireDtypeFromCode(uint64_t code);
size_t WireDtypeSize(WireDtype dtype);
const char* WireDtypeName(WireDtype dtype);

}  // namespace cloudbook
