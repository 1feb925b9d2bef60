// Reads IDX files (the MNIST family's format), plain or gzip-compressed (detected by the
// gzip magic bytes, not the file name). Every malformed file gets a Status naming the file
// and what is wrong: bad magic, unsupported type code, truncated data, trailing bytes.
#pragma once

#include <string>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct IdxReadOptions {
  double scale = 1.0;  // values are divided by this
  int64_t limit = 0;   // read at most this many samples (0 = all)
};

Result<Array> ReadIdxFile(const std::string& path, const IdxReadOptions& options = {});

}  // namespace cloudbook
