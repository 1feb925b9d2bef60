// Reads NumPy .npy arrays (format versions 1.0, 2.0 and 3.0, per numpy.lib.format) into an
// Array: little- or big-endian bool, int8..int64, uint8..uint64, float16/32/64, C or Fortran
// order. Object (pickled), string, complex, datetime and structured dtypes are refused. Every
// error names the file (or archive member) and what is wrong. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct NpyReadOptions {
  double scale = 1.0;  // values are divided by this
  int64_t limit = 0;   // read at most this many samples (0 = all)
};

Result<Array> ReadNpyFile(const std::string& path, const NpyReadOptions& options = {});

// Parses the bytes of one .npy file; `name` (a path, or "a.npz member x_train.npy") starts
// every message.
Result<Array> ParseNpy(const std::string& bytes, const std::string& name,
                       const NpyReadOptions& options = {});

}  // namespace cloudbook
