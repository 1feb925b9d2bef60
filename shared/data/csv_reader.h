// Reads numeric columns of a CSV file into an Array (rows x columns). Columns are chosen
// by header name or by 0-based index given as text. Errors name the file, line and column.
#pragma once

#include <string>
#include <vector>

#include "shared/data/array.h"
#include "shared/status.h"

namespace cloudbook {

struct CsvReadOptions {
  std::vector<std::string> columns;  // empty = all columns
  bool header = true;                // first line holds column names
  char delimiter = ',';
  double scale = 1.0;  // values are divided by this
  int64_t limit = 0;   // read at most this many data rows (0 = all)
};

Result<Array> ReadCsvFile(const std::string& path, const CsvReadOptions& options = {});

}  // namespace cloudbook
