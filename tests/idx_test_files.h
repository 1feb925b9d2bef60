// Writers of IDX files (the MNIST family's format) for tests: a header, unsigned-byte data,
// gzip as the data sets ship.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cloudbook::testing {

inline void AppendBigEndian32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// An IDX header: two zero bytes, the type code, the dim count, then the dims (big-endian).
inline std::string IdxHeader(uint8_t type, const std::vector<uint32_t>& dims) {
  std::string out = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t dim : dims) AppendBigEndian32(&out, dim);
  return out;
}

inline std::string UbyteIdx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& values) {
  return IdxHeader(0x08, dims) + std::string(values.begin(), values.end());
}

inline void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

}  // namespace cloudbook::testing
