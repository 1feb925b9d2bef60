// The cache file of one decoded image folder (P/cache/images/<folder>-<content>.images, names
// in shared/project_layout.h): the key it was made for, then the pixels of every image,
// [images, height, width, channels], as uint8 when every value is an exact byte (no resize
// happened) or float32 otherwise. Local to one machine, host byte order.
// Thread safety: free functions; several processes may read and write one cache at once
// (writes are atomic; ImageCacheLock serialises the decoders of one file).
// Errors: a missing, stale (other key) or damaged file reads as nullopt (a miss), never as data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

struct CachedImages {
  std::vector<int64_t> shape;  // images, height, width, channels
  std::vector<float> pixels;   // 0..255, not rounded
};

// The cached pixels when `path` holds them for exactly `key`.
std::optional<CachedImages> ReadImageCache(const std::string& path, const std::string& key);

// Writes atomically; stores uint8 when every pixel is a whole number in 0..255.
Status WriteImageCache(const std::string& path, const std::string& key, const CachedImages& images);

// An exclusive advisory lock (flock) on `path` + ".lock", held while one process decodes a
// folder so that other agents of the machine wait and then read its cache instead of decoding
// again. Released by the destructor, or by the kernel when the process dies.
class ImageCacheLock {
 public:
  static Result<ImageCacheLock> Acquire(const std::string& path);
  ImageCacheLock(ImageCacheLock&& other) noexcept;
  ImageCacheLock& operator=(ImageCacheLock&&) = delete;
  ImageCacheLock(const ImageCacheLock&) = delete;
  ~ImageCacheLock();

 private:
  explicit ImageCacheLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// A stable 64-bit digest (FNV-1a) as 16 hex digits, for cache file names.
std::string HexDigest(const std::string& text);

}  // namespace cloudbook
