#include "shared/data/npy_reader.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "shared/atomic_file.h"

namespace cloudbook {
namespace {

// The .npy layout (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// "\x93NUMPY", major, minor, header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and
// 3.0), a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, the data.
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Far above any data set; keeps value counts and byte counts away from int64 overflow.
constexpr uint64_t kMaxValues = uint64_t{1} << 34;

constexpr char kSupported[] =
    "supported: bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, "
    "float32, float64";

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A reader for the small Python literal numpy writes as the header: a dict of strings,
// booleans and tuples of integers. Anything else is reported, not guessed at.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : text_(text), name_(name) {}

  Result<Header> Parse() {
    Header header;
    bool has_descr = false, has_order = false, has_shape = false;
    SkipSpace();
    if (!Take('{')) return Bad("expected '{'");
    while (true) {
      SkipSpace();
      if (Take('}')) break;
      CB_ASSIGN_OR_RETURN(const std::string key, String());
      SkipSpace();
      if (!Take(':')) return Bad("expected ':' after '" + key + "'");
      SkipSpace();
      if (key == "descr") {
        if (Peek() == '[') {
          return Status::InvalidArgument(
              name_ + ": structured (record) dtypes are not supported; " + kSupported);
        }
        CB_ASSIGN_OR_RETURN(header.descr, String());
        has_descr = true;
      } else if (key == "fortran_order") {
        CB_ASSIGN_OR_RETURN(header.fortran_order, Bool());
        has_order = true;
      } else if (key == "shape") {
        CB_ASSIGN_OR_RETURN(header.shape, Shape());
        has_shape = true;
      } else {
        return Bad("unknown key '" + key + "' (numpy writes descr, fortran_order and shape)");
      }
      SkipSpace();
      if (Take(',')) continue;
      SkipSpace();
      if (Take('}')) break;
      return Bad("expected ',' or '}'");
    }
    if (!has_descr || !has_order || !has_shape) {
      return Bad("needs the keys descr, fortran_order and shape");
    }
    return header;
  }

 private:
  Status Bad(const std::string& what) const {
    return Status::InvalidArgument(name_ + ": bad .npy header at character " +
                                   std::to_string(pos_) + ": " + what);
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Take(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  Result<std::string> String() {
    const char quote = Peek();
    if (quote != '\'' && quote != '"') return Bad("expected a quoted string");
    ++pos_;
    const size_t end = text_.find(quote, pos_);
    if (end == std::string::npos) return Bad("unterminated string");
    std::string value = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return value;
  }
  Result<bool> Bool() {
    if (text_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (text_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    return Bad("expected True or False");
  }
  Result<std::vector<int64_t>> Shape() {
    std::vector<int64_t> shape;
    if (!Take('(')) return Bad("expected a tuple for shape");
    while (true) {
      SkipSpace();
      if (Take(')')) break;
      if (!std::isdigit(static_cast<unsigned char>(Peek()))) return Bad("expected a dimension");
      uint64_t dim = 0;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) {
        dim = dim * 10 + static_cast<uint64_t>(text_[pos_++] - '0');
        if (dim > kMaxValues) return Bad("dimension too large");
      }
      Take('L');  // Python 2 long literals ("(3L, 4L)") in files written long ago
      shape.push_back(static_cast<int64_t>(dim));
      SkipSpace();
      if (Take(',')) continue;
      SkipSpace();
      if (Take(')')) break;
      return Bad("expected ',' or ')' in shape");
    }
    return shape;
  }

  const std::string& text_;
  const std::string& name_;
  size_t pos_ = 0;
};

// What a descr such as '<f4', '>i8' or '|u1' means.
struct Dtype {
  char kind = 0;  // 'b' bool, 'i' signed, 'u' unsigned, 'f' float
  int size = 0;
  bool big_endian = false;
};

Result<Dtype> ParseDescr(const std::string& descr, const std::string& name) {
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument(name + ": dtype '" + descr + "' " + why + "; " + kSupported);
  };
  if (descr.size() < 2) return refuse("is not understood");
  Dtype dtype;
  size_t pos = 0;
  if (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=') {
    dtype.big_endian = descr[0] == '>';
    pos = 1;
  }
  dtype.kind = descr[pos];
  const std::string digits = descr.substr(pos + 1);
  if (dtype.kind == 'O') {
    return Status::InvalidArgument(
        name + ": dtype '" + descr +
        "' is an object array (pickled Python objects, as in Keras' imdb.npz), which cloudbook "
        "does not unpickle; convert it to numbers first (for imdb.npz: "
        "scripts/imdb_to_sequences.py); " +
        kSupported);
  }
  if (digits.empty() || digits.size() > 2 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return refuse("is not supported");
  }
  dtype.size = std::stoi(digits);
  const bool ok = (dtype.kind == 'b' && dtype.size == 1) ||
                  ((dtype.kind == 'i' || dtype.kind == 'u') &&
                   (dtype.size == 1 || dtype.size == 2 || dtype.size == 4 || dtype.size == 8)) ||
                  (dtype.kind == 'f' && (dtype.size == 2 || dtype.size == 4 || dtype.size == 8));
  if (!ok) return refuse("is not supported");
  return dtype;
}

uint64_t LoadUnsigned(const unsigned char* p, int size, bool big_endian) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) {
    const int shift = 8 * (big_endian ? size - 1 - i : i);
    value |= uint64_t{p[i]} << shift;
  }
  return value;
}

// IEEE 754 binary16 to float (normal, subnormal, infinity, NaN).
float HalfToFloat(uint16_t half) {
  const uint32_t sign = (half >> 15) & 1u, exponent = (half >> 10) & 0x1fu,
                 mantissa = half & 0x3ffu;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

double LoadValue(const unsigned char* p, const Dtype& dtype) {
  const uint64_t bits = LoadUnsigned(p, dtype.size, dtype.big_endian);
  switch (dtype.kind) {
    case 'b':
      return bits != 0 ? 1.0 : 0.0;
    case 'u':
      return static_cast<double>(bits);
    case 'i': {
      const int shift = 64 - 8 * dtype.size;  // sign-extend from the element's width
      return static_cast<double>(static_cast<int64_t>(bits << shift) >> shift);
    }
    default:
      break;
  }
  if (dtype.size == 2) return HalfToFloat(static_cast<uint16_t>(bits));
  if (dtype.size == 4) {
    const auto narrow = static_cast<uint32_t>(bits);
    float value;
    std::memcpy(&value, &narrow, sizeof value);
    return value;
  }
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

Result<Array> ParseNpy(const std::string& bytes, const std::string& name,
                       const NpyReadOptions& options) {
  CB_RETURN_IF_ERROR(CheckReadOptions(name, options.scale, options.limit));
  if (bytes.size() < kMagicSize + 2 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    return Status::InvalidArgument(name + ": not a .npy file (no \\x93NUMPY magic)");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3) {
    return Status::InvalidArgument(name + ": .npy format version " + std::to_string(major) + "." +
                                   std::to_string(minor) + " is not supported (1.0, 2.0, 3.0)");
  }
  const size_t length_size = major == 1 ? 2 : 4;
  const size_t header_start = 8 + length_size;
  if (bytes.size() < header_start) {
    return Status::InvalidArgument(name + ": truncated .npy header");
  }
  const uint64_t header_length =
      LoadUnsigned(reinterpret_cast<const unsigned char*>(bytes.data()) + 8,
                   static_cast<int>(length_size), /*big_endian=*/false);
  if (header_length > bytes.size() - header_start) {
    return Status::InvalidArgument(name + ": truncated .npy header (" +
                                   std::to_string(header_length) + " header bytes announced, " +
                                   std::to_string(bytes.size() - header_start) + " present)");
  }
  const std::string header_text = bytes.substr(header_start, header_length);
  CB_ASSIGN_OR_RETURN(const Header header, HeaderParser(header_text, name).Parse());
  CB_ASSIGN_OR_RETURN(const Dtype dtype, ParseDescr(header.descr, name));
  if (header.shape.empty()) {
    return Status::InvalidArgument(name +
                                   ": holds a single value (shape ()); data needs a sample axis");
  }
  uint64_t count = 1;
  for (const int64_t dim : header.shape) {
    if (dim != 0 && count > kMaxValues / static_cast<uint64_t>(dim)) {
      return Status::InvalidArgument(name + ": shape holds more than 2^34 values");
    }
    count *= static_cast<uint64_t>(dim);
  }
  const size_t data_start = header_start + header_length;
  const uint64_t data_bytes = count * static_cast<uint64_t>(dtype.size);
  const uint64_t present = bytes.size() - data_start;
  if (present < data_bytes) {
    return Status::InvalidArgument(name + ": truncated data: " + std::to_string(present) +
                                   " bytes, the header's shape and dtype '" + header.descr +
                                   "' need " + std::to_string(data_bytes));
  }
  if (present > data_bytes) {
    return Status::InvalidArgument(name + ": " + std::to_string(present - data_bytes) +
                                   " unexpected bytes after the data");
  }

  const int64_t rows = header.shape[0];
  const int64_t row_size = rows == 0 ? 0 : static_cast<int64_t>(count) / rows;
  const int64_t out_rows = options.limit > 0 && options.limit < rows ? options.limit : rows;
  Array array;
  array.shape = header.shape;
  array.shape[0] = out_rows;
  array.values.resize(static_cast<size_t>(out_rows * row_size));
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + data_start;
  // Fortran order keeps the first axis fastest: element (row, rest) sits at
  // row + rows * (rest's index with its own first axis fastest).
  std::vector<int64_t> source_of_column(static_cast<size_t>(row_size));
  if (header.fortran_order) {
    std::vector<int64_t> index(header.shape.size(), 0);
    for (int64_t column = 0; column < row_size; ++column) {
      int64_t offset = 0, stride = 1;
      for (size_t axis = 1; axis < header.shape.size(); ++axis) {
        offset += index[axis] * stride;
        stride *= header.shape[axis];
      }
      source_of_column[column] = offset;
      for (size_t axis = header.shape.size() - 1; axis >= 1; --axis) {  // C-order increment
        if (++index[axis] < header.shape[axis]) break;
        index[axis] = 0;
      }
    }
  }
  for (int64_t row = 0; row < out_rows; ++row) {
    for (int64_t column = 0; column < row_size; ++column) {
      const int64_t element =
          header.fortran_order ? row + rows * source_of_column[column] : row * row_size + column;
      array.values[row * row_size + column] =
          static_cast<float>(LoadValue(data + element * dtype.size, dtype) / options.scale);
    }
  }
  return array;
}

Result<Array> ReadNpyFile(const std::string& path, const NpyReadOptions& options) {
  CB_RETURN_IF_ERROR(CheckReadOptions(path, options.scale, options.limit));
  CB_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(path));
  return ParseNpy(bytes, path, options);
}

}  // namespace cloudbook
