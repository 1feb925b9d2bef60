#include "shared/data/image_cache.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "shared/atomic_file.h"

namespace cloudbook {

namespace {

constexpr char kMagic[8] = {'C', 'B', 'I', 'M', 'G', 'C', '0', '1'};
constexpr uint32_t kUint8 = 1;
constexpr uint32_t kFloat32 = 4;
constexpr size_t kShapeRank = 4;

template <typename T>
void Append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool Take(const std::string& in, size_t& at, T* value) {
  if (in.size() - at < sizeof(T)) return false;
  std::memcpy(value, in.data() + at, sizeof(T));
  at += sizeof(T);
  return true;
}

bool AllBytes(const std::vector<float>& pixels) {
  for (const float v : pixels) {
    if (!(v >= 0 && v <= 255) || std::nearbyint(v) != v) return false;
  }
  return true;
}

}  // namespace

std::string HexDigest(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::optional<CachedImages> ReadImageCache(const std::string& path, const std::string& key) {
  if (!FileExists(path)) return std::nullopt;
  const Result<std::string> contents = ReadWholeFile(path);
  if (!contents.ok()) return std::nullopt;
  const std::string& in = *contents;
  size_t at = sizeof kMagic;
  uint64_t key_size = 0;
  if (in.size() < at || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0 ||
      !Take(in, at, &key_size) || in.size() - at < key_size || in.compare(at, key_size, key) != 0 ||
      key_size != key.size()) {
    return std::nullopt;
  }
  at += key_size;
  uint32_t type = 0;
  CachedImages images;
  images.shape.resize(kShapeRank);
  uint64_t count = 1;
  if (!Take(in, at, &type)) return std::nullopt;
  for (int64_t& dim : images.shape) {
    if (!Take(in, at, &dim) || dim < 0) return std::nullopt;
    count *= static_cast<uint64_t>(dim);
  }
  if ((type != kUint8 && type != kFloat32) || (in.size() - at) != count * type) {
    spdlog::warn("{}: damaged image cache file, decoding again", path);
    return std::nullopt;
  }
  images.pixels.resize(count);
  if (type == kUint8) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(in.data() + at);
    for (uint64_t i = 0; i < count; ++i) images.pixels[i] = bytes[i];
  } else {
    std::memcpy(images.pixels.data(), in.data() + at, count * sizeof(float));
  }
  return images;
}

Status WriteImageCache(const std::string& path, const std::string& key,
                       const CachedImages& images) {
  const bool bytes = AllBytes(images.pixels);
  std::string out;
  out.reserve(64 + key.size() + images.pixels.size() * (bytes ? 1 : sizeof(float)));
  out.append(kMagic, sizeof kMagic);
  Append(out, static_cast<uint64_t>(key.size()));
  out += key;
  Append(out, bytes ? kUint8 : kFloat32);
  for (const int64_t dim : images.shape) Append(out, dim);
  if (bytes) {
    for (const float v : images.pixels) out.push_back(static_cast<char>(static_cast<uint8_t>(v)));
  } else {
    out.append(reinterpret_cast<const char*>(images.pixels.data()),
               images.pixels.size() * sizeof(float));
  }
  return WriteFileAtomically(path, out);
}

Result<ImageCacheLock> ImageCacheLock::Acquire(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(lock_path + ": cannot open: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      const int error = errno;
      ::close(fd);
      return Status::IoError(lock_path + ": cannot lock: " + std::strerror(error));
    }
    // Another process of this machine decodes the same folder; it ends (or dies) in a bounded
    // time, and the kernel releases its lock either way.
    spdlog::info("waiting for another process decoding into {}", path);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        const int error = errno;
        ::close(fd);
        return Status::IoError(lock_path + ": cannot lock: " + std::strerror(error));
      }
    }
  }
  return ImageCacheLock(fd);
}

ImageCacheLock::ImageCacheLock(ImageCacheLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

ImageCacheLock::~ImageCacheLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace cloudbook
