#include "shared/data/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cloudbook {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(error));
  }
  std::string contents;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    contents.reserve(static_cast<size_t>(info.st_size));
  }
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return Status::IoError(path + ": cannot read: " + std::strerror(error));
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

// Spaces and tabs around a field are padding, unless the tab is the delimiter itself.
bool IsPadding(char c, char delimiter) { return (c == ' ' || c == '\t') && c != delimiter; }

std::string_view Trim(std::string_view text, char delimiter) {
  while (!text.empty() && IsPadding(text.front(), delimiter)) text.remove_prefix(1);
  while (!text.empty() && IsPadding(text.back(), delimiter)) text.remove_suffix(1);
  return text;
}

bool IsBlank(std::string_view line, char delimiter) { return Trim(line, delimiter).empty(); }

// Splits one line into fields: views into `line` without padding and without the quotes of
// a quoted field (a doubled quote inside stays doubled; see Unquote). Returns an error text
// for a malformed quoted field, else an empty string.
std::string SplitLine(std::string_view line, char delimiter,
                      std::vector<std::string_view>* fields) {
  fields->clear();
  size_t pos = 0;
  while (true) {
    while (pos < line.size() && IsPadding(line[pos], delimiter)) ++pos;
    if (pos < line.size() && line[pos] == '"') {
      const size_t start = ++pos;
      while (true) {
        const size_t quote = line.find('"', pos);
        if (quote == std::string_view::npos) {
          return "unterminated quote in field " + std::to_string(fields->size() + 1);
        }
        if (quote + 1 < line.size() && line[quote + 1] == '"') {
          pos = quote + 2;  // "" is an escaped quote
          continue;
        }
        fields->push_back(line.substr(start, quote - start));
        pos = quote + 1;
        break;
      }
      while (pos < line.size() && IsPadding(line[pos], delimiter)) ++pos;
      if (pos < line.size() && line[pos] != delimiter) {
        return "unexpected text after the closing quote of field " + std::to_string(fields->size());
      }
    } else {
      const size_t end = std::min(line.find(delimiter, pos), line.size());
      fields->push_back(Trim(line.substr(pos, end - pos), delimiter));
      pos = end;
    }
    if (pos >= line.size()) return "";
    ++pos;  // past the delimiter; a delimiter at the very end starts one more (empty) field
  }
}

std::string Unquote(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    out += field[i];
    if (field[i] == '"' && i + 1 < field.size() && field[i + 1] == '"') ++i;
  }
  return out;
}

// Yields the lines of a buffer with their 1-based numbers, without "\n" or "\r\n".
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  bool Next(std::string_view* line, int64_t* number) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view current = text_.substr(pos_, end - pos_);
    if (!current.empty() && current.back() == '\r') current.remove_suffix(1);
    pos_ = end + 1;
    *line = current;
    *number = ++number_;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

bool ParseIndex(const std::string& text, size_t* index) {
  if (text.empty() || text.size() > 9) return false;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  *index = value;
  return true;
}

std::string ListNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += "'" + name + "'";
  }
  return out;
}

// Parses a whole field as a finite number; returns an error text or "".
std::string ParseNumber(std::string_view field, double* value) {
  if (field.empty()) return "empty value";
  std::string_view digits = field;
  // from_chars rejects a leading '+', which spreadsheets sometimes write.
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') {
    digits.remove_prefix(1);
  }
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, *value);
  if (ec == std::errc::result_out_of_range) {
    return "'" + std::string(field) + "' is out of range";
  }
  if (ec != std::errc() || ptr != end) return "'" + std::string(field) + "' is not a number";
  if (!std::isfinite(*value)) return "'" + std::string(field) + "' is not a finite number";
  return "";
}

Result<Array> ParseCsv(const std::string& path, std::string_view text,
                       const CsvReadOptions& options) {
  const char delimiter = options.delimiter;
  // A UTF-8 byte order mark is an encoding marker, not part of the first column name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  LineCursor cursor(text);
  std::string_view line;
  int64_t line_number = 0;
  std::vector<std::string_view> fields;

  // The first non-blank line fixes the field count: it is the header or the first data row.
  bool have_first = false;
  while (cursor.Next(&line, &line_number)) {
    if (!IsBlank(line, delimiter)) {
      have_first = true;
      break;
    }
  }
  if (!have_first) return Status::Corruption(path + ": empty file (no lines with data)");
  const std::string split_error = SplitLine(line, delimiter, &fields);
  if (!split_error.empty()) {
    return Status::Corruption(path + ":" + std::to_string(line_number) + ": " + split_error);
  }
  const size_t field_count = fields.size();

  std::vector<std::string> names;  // header names, or "" when there is no header
  if (options.header) {
    for (std::string_view field : fields) names.push_back(Unquote(field));
  }

  // Resolve the requested columns to field indices: by header name first, then by index.
  std::vector<size_t> selected;
  if (options.columns.empty()) {
    for (size_t i = 0; i < field_count; ++i) selected.push_back(i);
  }
  for (const std::string& column : options.columns) {
    size_t index = 0;
    bool found = false;
    for (size_t i = 0; i < names.size() && !found; ++i) {
      if (names[i] == column) {
        index = i;
        found = true;
      }
    }
    if (!found && ParseIndex(column, &index)) {
      if (index >= field_count) {
        return Status::InvalidArgument(path + ": column index " + column + " is out of range (" +
                                       std::to_string(field_count) + " columns)");
      }
      found = true;
    }
    if (!found) {
      if (!options.header) {
        return Status::InvalidArgument(path + ": column '" + column +
                                       "' is not a 0-based index; without a header row columns " +
                                       "can only be chosen by index");
      }
      return Status::InvalidArgument(path + ": no column named '" + column +
                                     "'; available columns: " + ListNames(names));
    }
    selected.push_back(index);
  }

  auto column_label = [&](size_t index) {
    return options.header ? "column '" + names[index] + "'" : "column " + std::to_string(index);
  };

  Array array;
  const size_t ncols = selected.size();
  // One pass of counting newlines is far cheaper than regrowing the vector.
  int64_t max_rows = std::count(text.begin(), text.end(), '\n') + 1;
  if (options.limit > 0) max_rows = std::min(max_rows, options.limit);
  array.values.reserve(ncols * static_cast<size_t>(max_rows));
  int64_t rows = 0;
  bool pending = !options.header;  // the first line is already split when it holds data
  while (options.limit == 0 || rows < options.limit) {
    if (!pending) {
      if (!cursor.Next(&line, &line_number)) break;
      if (IsBlank(line, delimiter)) continue;
      const std::string error = SplitLine(line, delimiter, &fields);
      if (!error.empty()) {
        return Status::Corruption(path + ":" + std::to_string(line_number) + ": " + error);
      }
    }
    pending = false;
    if (fields.size() != field_count) {
      return Status::Corruption(path + ":" + std::to_string(line_number) + ": expected " +
                                std::to_string(field_count) + " fields, found " +
                                std::to_string(fields.size()));
    }
    for (size_t index : selected) {
      double value = 0;
      const std::string error = ParseNumber(fields[index], &value);
      if (!error.empty()) {
        return Status::Corruption(path + ":" + std::to_string(line_number) + ": " +
                                  column_label(index) + ": " + error);
      }
      const auto scaled = static_cast<float>(value / options.scale);
      if (!std::isfinite(scaled)) {
        return Status::Corruption(path + ":" + std::to_string(line_number) + ": " +
                                  column_label(index) + ": '" + std::string(fields[index]) +
                                  "' is out of the float range");
      }
      array.values.push_back(scaled);
    }
    ++rows;
  }
  if (rows == 0) return Status::Corruption(path + ": no data rows (only a header line)");
  array.shape = {rows, static_cast<int64_t>(ncols)};
  return array;
}

}  // namespace

Result<Array> ReadCsvFile(const std::string& path, const CsvReadOptions& options) {
  CB_RETURN_IF_ERROR(CheckReadOptions(path, options.scale, options.limit));
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r' ||
      options.delimiter == ' ') {
    return Status::InvalidArgument(path + ": unsupported delimiter");
  }
  CB_ASSIGN_OR_RETURN(const std::string contents, ReadWholeFile(path));
  return ParseCsv(path, contents, options);
}

}  // namespace cloudbook
