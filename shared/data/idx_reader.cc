#include "shared/data/idx_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace cloudbook {
namespace {

// Larger headers are certainly corrupt; also keeps the value count far from int64 overflow.
constexpr uint64_t kMaxValues = uint64_t{1} << 34;
// Read size per gzread call: large enough that zlib's per-call overhead vanishes.
constexpr unsigned kChunkBytes = 1u << 20;
// Never reserve more than this many values up front: a corrupt gzip header could claim far
// more data than the stream holds, and we only learn that while decompressing.
constexpr uint64_t kMaxUpfrontValues = uint64_t{1} << 26;
// Deflate expands at most about 1032:1, so a gzip file of N bytes holds at most this many
// times N bytes of data: a small corrupt file cannot make us reserve much (found fuzzing).
constexpr uint64_t kMaxGzipExpansion = 1032;

struct IdxType {
  uint8_t code;
  const char* name;
  int size;
};

constexpr IdxType kTypes[] = {
    {0x08, "ubyte", 1}, {0x09, "sbyte", 1},   {0x0B, "int16", 2},
    {0x0C, "int32", 4}, {0x0D, "float32", 4}, {0x0E, "float64", 8},
};

const IdxType* FindType(uint8_t code) {
  for (const IdxType& type : kTypes) {
    if (type.code == code) return &type;
  }
  return nullptr;
}

std::string HexBytes(const unsigned char* bytes, size_t count) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < count; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    if (!out.empty()) out += ' ';
    out += buf;
  }
  return out;
}

std::string JoinDims(const std::vector<uint32_t>& dims) {
  std::string out;
  for (uint32_t dim : dims) {
    if (!out.empty()) out += 'x';
    out += std::to_string(dim);
  }
  return out;
}

uint32_t LoadBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t LoadBigEndian64(const unsigned char* p) {
  return (uint64_t{LoadBigEndian32(p)} << 32) | LoadBigEndian32(p + 4);
}

// Converts `count` big-endian elements of `type` to floats divided by `scale`.
void Convert(const IdxType& type, const unsigned char* in, size_t count, double scale,
             const float* byte_table, float* out) {
  switch (type.code) {
    case 0x08:
    case 0x09:
      // 8-bit types go through a 256-entry table: one load per value instead of a division.
      for (size_t i = 0; i < count; ++i) out[i] = byte_table[in[i]];
      break;
    case 0x0B:
      for (size_t i = 0; i < count; ++i) {
        const auto raw = static_cast<uint16_t>((in[2 * i] << 8) | in[2 * i + 1]);
        out[i] = static_cast<float>(static_cast<int16_t>(raw) / scale);
      }
      break;
    case 0x0C:
      for (size_t i = 0; i < count; ++i) {
        const auto value = static_cast<int32_t>(LoadBigEndian32(in + 4 * i));
        out[i] = static_cast<float>(value / scale);
      }
      break;
    case 0x0D:
      for (size_t i = 0; i < count; ++i) {
        const uint32_t bits = LoadBigEndian32(in + 4 * i);
        float value;
        std::memcpy(&value, &bits, sizeof(value));
        out[i] = static_cast<float>(value / scale);
      }
      break;
    case 0x0E:
      for (size_t i = 0; i < count; ++i) {
        const uint64_t bits = LoadBigEndian64(in + 8 * i);
        double value;
        std::memcpy(&value, &bits, sizeof(value));
        out[i] = static_cast<float>(value / scale);
      }
      break;
    default:
      break;
  }
}

// Owns a gzFile so every early return closes it.
class GzReader {
 public:
  GzReader(std::string path, gzFile file, bool gzip)
      : path_(std::move(path)), file_(file), gzip_(gzip) {}
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `size` bytes; fewer only at the end of the data. A damaged gzip stream or a
  // failing read is an error; a gzip stream that just stops early counts as end of data.
  Result<size_t> Read(unsigned char* buffer, unsigned size) {
    const int n = gzread(file_, buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    int code = Z_OK;
    const std::string text = ErrorText(&code);
    if (code == Z_ERRNO) {
      return Status::IoError(path_ + ": read failed: " + std::strerror(errno));
    }
    if (code == Z_MEM_ERROR) return Status::Internal(path_ + ": out of memory in zlib");
    return Status::Corruption(path_ + ": corrupt gzip stream: " + text);
  }

  // Explains why the data ended early, for truncation messages.
  std::string EndNote() {
    int code = Z_OK;
    const std::string text = ErrorText(&code);
    if (gzip_ && code == Z_BUF_ERROR) return " (the gzip stream ends early: " + text + ")";
    return "";
  }

 private:
  // zlib prefixes messages with the name it knows ("<fd:3>"); the caller adds the real path.
  std::string ErrorText(int* code) {
    std::string text = gzerror(file_, code);
    const size_t cut = text.find(">: ");
    if (!text.empty() && text[0] == '<' && cut != std::string::npos) text.erase(0, cut + 3);
    return text;
  }

  std::string path_;
  gzFile file_;
  bool gzip_;
};

Status OpenError(const std::string& path, int error) {
  if (error == ENOENT || error == ENOTDIR) return Status::NotFound(path + ": no such file");
  return Status::IoError(path + ": cannot open: " + std::strerror(error));
}

Result<Array> ReadIdx(const std::string& path, const IdxReadOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(path, errno);

  // Peek at the first bytes without moving the offset, so zlib still sees the whole file.
  unsigned char peek[2] = {0, 0};
  const ssize_t peeked = ::pread(fd, peek, sizeof(peek), 0);
  struct stat info {};
  if (peeked < 0 || ::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::IoError(path + ": cannot read: " + std::strerror(error));
  }
  if (peeked == 0) {
    ::close(fd);
    return Status::Corruption(path + ": empty file (expected an IDX header)");
  }
  const bool gzip = peeked == 2 && peek[0] == 0x1f && peek[1] == 0x8b;

  gzFile file = gzdopen(fd, "rb");
  if (file == nullptr) {
    ::close(fd);
    return Status::Internal(path + ": cannot set up zlib for reading");
  }
  GzReader reader(path, file, gzip);
  // Must precede the first read. zlib allocates three times this: no more than a small file needs.
  gzbuffer(file, static_cast<unsigned>(S_ISREG(info.st_mode)
                                           ? std::clamp<uint64_t>(info.st_size, 8192, kChunkBytes)
                                           : kChunkBytes));
  const std::string what = gzip ? "decompressed file" : "file";

  unsigned char magic[4];
  CB_ASSIGN_OR_RETURN(const size_t magic_read, reader.Read(magic, sizeof(magic)));
  if ((magic_read >= 1 && magic[0] != 0) || (magic_read >= 2 && magic[1] != 0)) {
    return Status::Corruption(path + ": not an IDX file (magic bytes 00 00 <type> <dims> " +
                              "expected, e.g. 00 00 08 03; found " + HexBytes(magic, magic_read) +
                              (gzip ? " after gzip decompression" : "") + ")");
  }
  if (magic_read < sizeof(magic)) {
    return Status::Corruption(path + ": truncated header: the " + what + " holds only " +
                              std::to_string(magic_read) + " bytes, fewer than the 4 magic bytes" +
                              reader.EndNote());
  }
  const IdxType* type = FindType(magic[2]);
  if (type == nullptr) {
    char code[8];
    std::snprintf(code, sizeof(code), "0x%02X", magic[2]);
    return Status::Corruption(path + ": unsupported IDX type code " + code +
                              " (supported: 0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, " +
                              "0x0D float32, 0x0E float64)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4) {
    return Status::Corruption(path + ": " + std::to_string(ndims) +
                              " dims (an IDX file needs 1 to 4 dims)");
  }

  unsigned char dim_bytes[16];
  const unsigned dims_size = 4u * static_cast<unsigned>(ndims);
  CB_ASSIGN_OR_RETURN(const size_t dims_read, reader.Read(dim_bytes, dims_size));
  if (dims_read < dims_size) {
    return Status::Corruption(path + ": truncated header: " + std::to_string(ndims) +
                              " dims need " + std::to_string(dims_size) +
                              " bytes after the magic but the " + what + " holds only " +
                              std::to_string(dims_read) + reader.EndNote());
  }
  std::vector<uint32_t> dims(static_cast<size_t>(ndims));
  for (int i = 0; i < ndims; ++i) dims[i] = LoadBigEndian32(dim_bytes + 4 * i);

  // Check the size before multiplying it out: a product of four uint32 can overflow.
  uint64_t total_values = 1;
  const bool any_zero = std::find(dims.begin(), dims.end(), 0u) != dims.end();
  if (!any_zero) {
    for (uint32_t dim : dims) {
      if (total_values > kMaxValues / dim) {
        return Status::Corruption(path + ": header says " + JoinDims(dims) + " " + type->name +
                                  " values, more than the 2^34 this reader accepts");
      }
      total_values *= dim;
    }
  } else {
    total_values = 0;
  }
  const std::string described = JoinDims(dims) + " " + type->name + " (" +
                                std::to_string(total_values * type->size) + " bytes of data)";

  const uint64_t row_values = dims[0] == 0 ? 0 : total_values / dims[0];
  const uint64_t rows = options.limit > 0
                            ? std::min<uint64_t>(static_cast<uint64_t>(options.limit), dims[0])
                            : dims[0];
  const uint64_t wanted_values = rows * row_values;
  const uint64_t wanted_bytes = wanted_values * type->size;
  const uint64_t header_bytes = 4 + dims_size;

  // A plain file's size is known: report truncation before allocating anything.
  if (!gzip && S_ISREG(info.st_mode)) {
    const uint64_t file_size = static_cast<uint64_t>(info.st_size);
    const uint64_t available = file_size > header_bytes ? file_size - header_bytes : 0;
    if (available < wanted_bytes) {
      return Status::Corruption(path + ": truncated: header says " + described +
                                " but the file holds only " + std::to_string(available));
    }
  }

  float byte_table[256];
  for (int i = 0; i < 256; ++i) {
    const int value = type->code == 0x09 ? static_cast<int8_t>(i) : i;
    byte_table[i] = static_cast<float>(value / options.scale);
  }

  Array array;
  array.shape.assign(dims.begin(), dims.end());
  array.shape[0] = static_cast<int64_t>(rows);
  try {
    uint64_t upfront = std::min(wanted_values, kMaxUpfrontValues);
    if (gzip && S_ISREG(info.st_mode)) {
      const uint64_t most_bytes = static_cast<uint64_t>(info.st_size) * kMaxGzipExpansion;
      upfront = std::min(upfront, most_bytes / static_cast<uint64_t>(type->size));
    }
    array.values.reserve(static_cast<size_t>(upfront));
    // A multiple of every element size, so chunks hold whole elements; small reads, small buffer.
    const size_t chunk = static_cast<size_t>(std::clamp<uint64_t>(wanted_bytes, 4096, kChunkBytes));
    std::vector<unsigned char> buffer(chunk);
    uint64_t done_bytes = 0;
    while (done_bytes < wanted_bytes) {
      const auto want = static_cast<unsigned>(std::min<uint64_t>(chunk, wanted_bytes - done_bytes));
      CB_ASSIGN_OR_RETURN(const size_t got, reader.Read(buffer.data(), want));
      if (got < want) {
        return Status::Corruption(path + ": truncated: header says " + described + " but the " +
                                  what + " holds only " + std::to_string(done_bytes + got) +
                                  reader.EndNote());
      }
      const size_t count = got / static_cast<size_t>(type->size);
      const size_t old_size = array.values.size();
      array.values.resize(old_size + count);
      Convert(*type, buffer.data(), count, options.scale, byte_table,
              array.values.data() + old_size);
      done_bytes += got;
    }

    // Only when reading everything: with a limit the rest of the file stays unread. Reading to
    // the end also makes zlib verify the gzip checksum.
    if (rows == dims[0]) {
      uint64_t extra = 0;
      while (true) {
        CB_ASSIGN_OR_RETURN(const size_t got, reader.Read(buffer.data(), chunk));
        extra += got;
        if (got < chunk) break;
      }
      if (extra > 0) {
        return Status::Corruption(path + ": " + std::to_string(extra) +
                                  " unexpected bytes after the data (header says " + described +
                                  ")");
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::Internal(path + ": out of memory reading " + described);
  }
  return array;
}

}  // namespace

Result<Array> ReadIdxFile(const std::string& path, const IdxReadOptions& options) {
  CB_RETURN_IF_ERROR(CheckReadOptions(path, options.scale, options.limit));
  return ReadIdx(path, options);
}

}  // namespace cloudbook
