#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"
#include "shared/data/csv_reader.h"

namespace cloudbook {

// Byte 0 picks the options: header or not, delimiter, a column selection, a row limit.
Status ReplayCsv(const uint8_t* data, size_t size) {
  CsvReadOptions options;
  if (size > 0) {
    const uint8_t flags = data[0];
    options.header = (flags & 1) == 0;
    options.delimiter = (flags & 2) ? ';' : ',';
    switch ((flags >> 2) % 4) {
      case 1:
        options.columns = {"0"};
        break;
      case 2:
        options.columns = {"label"};
        break;
      case 3:
        options.columns = {"1", "0"};
        break;
      default:
        break;
    }
    options.limit = (flags >> 4) % 4;
    ++data;
    --size;
  }
  const std::string path = WriteFuzzFile("input.csv", data, size);
  Result<Array> array = ReadCsvFile(path, options);
  return array.status();
}

int FuzzCsv(const uint8_t* data, size_t size) {
  ReplayCsv(data, size);
  return 0;
}

}  // namespace cloudbook
