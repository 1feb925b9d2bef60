#include "shared/data/npz_reader.h"

#include <unzip.h>

#include <string>
#include <vector>

namespace cloudbook {
namespace {

// Far above any data set; a member claiming more is refused before anything is allocated.
constexpr uint64_t kMaxMemberBytes = uint64_t{1} << 37;
// Deflate expands at most about 1032:1: a small damaged archive cannot make us allocate much.
constexpr uint64_t kMaxDeflateExpansion = 1032;
constexpr unsigned kChunkBytes = 1u << 20;
constexpr int kStored = 0;
constexpr int kDeflated = 8;  // Z_DEFLATED

// Owns the minizip handle so every early return closes it.
class Archive {
 public:
  explicit Archive(const std::string& path) : file_(unzOpen64(path.c_str())) {}
  ~Archive() {
    if (file_ != nullptr) unzClose(file_);
  }
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;
  unzFile get() const { return file_; }

 private:
  unzFile file_;
};

std::string CurrentName(unzFile file) {
  unz_file_info64 info;
  char name[1024];
  if (unzGetCurrentFileInfo64(file, &info, name, sizeof name, nullptr, 0, nullptr, 0) != UNZ_OK) {
    return "";
  }
  return name;
}

// The keys np.load would offer: member names without their ".npy".
std::string KeysOf(unzFile file) {
  std::string keys;
  for (int status = unzGoToFirstFile(file); status == UNZ_OK; status = unzGoToNextFile(file)) {
    std::string name = CurrentName(file);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    keys += (keys.empty() ? "" : ", ") + name;
  }
  return keys.empty() ? "(none)" : keys;
}

}  // namespace

Result<Array> ReadNpzMember(const std::string& path, const std::string& key,
                            const NpyReadOptions& options) {
  CB_RETURN_IF_ERROR(CheckReadOptions(path, options.scale, options.limit));
  Archive archive(path);
  if (archive.get() == nullptr) {
    FILE* exists = std::fopen(path.c_str(), "rb");
    if (exists == nullptr) return Status::NotFound(path + ": cannot open (no such file?)");
    std::fclose(exists);
    return Status::InvalidArgument(path + ": not a .npz file (not a readable zip archive)");
  }
  unzFile file = archive.get();
  const std::string member = key + ".npy";
  if (unzLocateFile(file, member.c_str(), /*case sensitive=*/1) != UNZ_OK &&
      unzLocateFile(file, key.c_str(), 1) != UNZ_OK) {
    return Status::InvalidArgument(path + ": no array '" + key +
                                   "' in the archive; keys: " + KeysOf(file));
  }
  const std::string name = path + " member " + CurrentName(file);
  unz_file_info64 info;
  if (unzGetCurrentFileInfo64(file, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK) {
    return Status::InvalidArgument(name + ": damaged zip directory entry");
  }
  if (info.compression_method != kStored && info.compression_method != kDeflated) {
    return Status::InvalidArgument(name + ": zip compression method " +
                                   std::to_string(info.compression_method) +
                                   " is not supported (np.savez stores, np.savez_compressed "
                                   "deflates: both are)");
  }
  if (info.uncompressed_size > kMaxMemberBytes ||
      (info.compression_method == kDeflated &&
       info.uncompressed_size > (info.compressed_size + 1) * kMaxDeflateExpansion)) {
    return Status::InvalidArgument(name + ": implausible size " +
                                   std::to_string(info.uncompressed_size) + " bytes");
  }
  if (unzOpenCurrentFile(file) != UNZ_OK) {
    return Status::InvalidArgument(name + ": cannot open the member (damaged or encrypted)");
  }
  std::string bytes(static_cast<size_t>(info.uncompressed_size), '\0');
  size_t filled = 0;
  std::vector<char> overflow(1);
  while (true) {
    const size_t want = std::min<size_t>(kChunkBytes, bytes.size() - filled);
    const int got =
        want == 0 ? unzReadCurrentFile(file, overflow.data(), 1)
                  : unzReadCurrentFile(file, bytes.data() + filled, static_cast<unsigned>(want));
    if (got < 0) {
      unzCloseCurrentFile(file);
      return Status::InvalidArgument(name + ": damaged data (minizip error " + std::to_string(got) +
                                     ")");
    }
    if (got == 0) break;
    if (want == 0) {
      unzCloseCurrentFile(file);
      return Status::InvalidArgument(name + ": holds more bytes than its directory entry says");
    }
    filled += static_cast<size_t>(got);
  }
  // Checks the CRC once the whole member is read.
  if (unzCloseCurrentFile(file) != UNZ_OK || filled != bytes.size()) {
    return Status::InvalidArgument(
        name + ": damaged data (" +
        (filled != bytes.size()
             ? std::to_string(filled) + " of " + std::to_string(bytes.size()) + " bytes"
             : std::string("CRC mismatch")) +
        ")");
  }
  return ParseNpy(bytes, name, options);
}

}  // namespace cloudbook
