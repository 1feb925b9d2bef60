// Which data format a cloudbook-predict input is in and the reading options to use: the
// program's own (columns, header, delimiter, npz key, sequence options of its test split)
// when the file's content fits the program's format, else a guess from the content (magic
// bytes: IDX, gzip, .npy, zip, PNG/JPEG/GIF/BMP, text) and the file name. Pure functions
// reading at most a few bytes of the file; thread-safe. Errors name the file and the cause.
#pragma once

#include <string>

#include "shared/program.h"
#include "shared/status.h"

namespace cloudbook {

// The formats an input may be given in (--format).
inline constexpr const char* kPredictFormats[] = {"idx",    "npy",       "npz",   "csv",
                                                  "tensor", "sequences", "images"};

struct InputFormat {
  std::string format;  // one of kPredictFormats
  ArraySource source;  // array formats: format and options; path and scale are the caller's
};

// `requested`: --format, empty to guess. `program`: the program's source of the same data (the
// test split's x, or y for labels; null when it has none); `program_images`: the program reads
// image folders. A folder is "images"; a requested format is taken as given (its reader
// says what does not fit).
Result<InputFormat> ResolveInputFormat(const std::string& path, const std::string& requested,
                                       const ArraySource* program, bool program_images);

}  // namespace cloudbook
