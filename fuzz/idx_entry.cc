#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"
#include "shared/data/idx_reader.h"

namespace cloudbook {

Status ReplayIdx(const uint8_t* data, size_t size) {
  // Byte 0 picks a sample limit (0 = all), so the limit path is fuzzed too.
  IdxReadOptions options;
  if (size > 0) {
    options.limit = data[0] % 4;
    ++data;
    --size;
  }
  const std::string path = WriteFuzzFile("input.idx", data, size);
  Result<Array> array = ReadIdxFile(path, options);
  return array.status();
}

int FuzzIdx(const uint8_t* data, size_t size) {
  ReplayIdx(data, size);
  return 0;
}

}  // namespace cloudbook
