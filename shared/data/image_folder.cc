#include "shared/data/image_folder.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/filesystem.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "shared/atomic_file.h"
#include "shared/data/image_cache.h"
#include "shared/data/image_decode.h"
#include "shared/data/image_resize.h"
#include "shared/project_layout.h"
#include "shared/shared_files.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

constexpr int kMaxDepth = 16;             // folders below a class folder
constexpr int64_t kImagesPerThread = 64;  // fewer per thread do not pay for the thread

struct Entry {
  std::string name;
  bool is_folder = false;  // a real folder (lstat), entered when walking
  bool is_file = false;    // a regular file, symlinks followed (as os.walk lists them)
  bool is_folder_or_link_to_one = false;
  uint64_t size = 0;
  int64_t modified_ns = 0;
};

Result<std::vector<Entry>> ReadFolder(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  if (dir == nullptr) {
    return Status::InvalidArgument(folder + ": cannot open the folder: " + std::strerror(errno));
  }
  std::vector<Entry> entries;
  while (const dirent* item = ::readdir(dir)) {
    Entry entry;
    entry.name = item->d_name;
    if (entry.name == "." || entry.name == "..") continue;
    const std::string path = folder + "/" + entry.name;
    struct stat link_info {};
    struct stat info {};
    if (::lstat(path.c_str(), &link_info) != 0) continue;  // removed since the listing
    const bool followed = ::stat(path.c_str(), &info) == 0;
    entry.is_folder = S_ISDIR(link_info.st_mode);
    entry.is_folder_or_link_to_one = followed && S_ISDIR(info.st_mode);
    entry.is_file = followed && S_ISREG(info.st_mode);
    entry.size = followed ? static_cast<uint64_t>(info.st_size) : 0;
    entry.modified_ns =
        followed ? static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec
                 : 0;
    entries.push_back(std::move(entry));
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

// Every folder below `relative` (itself included) not through a symlink, by path.
Status CollectFolders(const std::string& root, const std::string& relative, int depth,
                      std::vector<std::string>* folders) {
  if (depth > kMaxDepth) return Status::InvalidArgument(root + "/" + relative + ": nests too deep");
  folders->push_back(relative);
  CB_ASSIGN_OR_RETURN(const std::vector<Entry> entries, ReadFolder(root + "/" + relative));
  for (const Entry& entry : entries) {
    if (entry.is_folder) {
      CB_RETURN_IF_ERROR(CollectFolders(root, relative + "/" + entry.name, depth + 1, folders));
    }
  }
  return Status::Ok();
}

std::string ListingKey(const std::string& folder, const ImageFolderListing& listing,
                       const ImageFolderOptions& options) {
  std::string key = "cloudbook image cache 1\n" + folder + "\n" + std::to_string(options.height) +
                    "x" + std::to_string(options.width) + "x" + std::to_string(options.channels) +
                    "\n";
  for (const ImageFile& file : listing.files) {
    key += std::to_string(file.label) + "\t" + file.relative + "\t" + std::to_string(file.size) +
           "\t" + std::to_string(file.modified_ns) + "\n";
  }
  return key;
}

// Decodes every file into `pixels` ([files, H, W, C], 0..255 floats), in parallel threads.
Status DecodeAll(const std::string& folder, const ImageFolderListing& listing,
                 const ImageFolderOptions& options, std::vector<float>* pixels) {
  const int64_t count = static_cast<int64_t>(listing.files.size());
  const int64_t per_image = options.height * options.width * options.channels;
  pixels->assign(static_cast<size_t>(count * per_image), 0.0f);
  const int configured = options.threads > 0 ? options.threads : GetTunables().image_decode_threads;
  const int64_t useful = std::max<int64_t>(1, count / kImagesPerThread);
  const int threads = static_cast<int>(std::min<int64_t>(
      {configured, std::max<unsigned>(1, std::thread::hardware_concurrency()), useful}));

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto progress_every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(GetTunables().image_decode_progress_s));
  std::atomic<int64_t> next_log{(start + progress_every).time_since_epoch().count()};
  std::atomic<int64_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  Status first_error = Status::Ok();

  auto work = [&] {
    for (int64_t i = next++; i < count && !failed; i = next++) {
      const ImageFile& file = listing.files[i];
      const std::string path = folder + "/" + file.relative;
      Result<DecodedImage> image = Status::Internal("unreachable");
      const Result<std::string> bytes = ReadWholeFile(path);
      image = bytes.ok() ? DecodeImage(*bytes, options.channels, path)
                         : Result<DecodedImage>(bytes.status());
      if (!image.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!failed.exchange(true)) first_error = image.status();
        return;
      }
      ResizeBilinearHalfPixel(image->pixels.data(), image->height, image->width, options.channels,
                              pixels->data() + i * per_image, options.height, options.width);
      const int64_t finished = ++done;
      int64_t due = next_log.load();
      const int64_t now = Clock::now().time_since_epoch().count();
      if (now >= due && next_log.compare_exchange_strong(due, now + progress_every.count())) {
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        spdlog::info("decoding {}: {}/{} images ({:.0f}%), {:.0f} images/s", folder, finished,
                     count, 100.0 * finished / count, finished / seconds);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  if (failed) return first_error;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  spdlog::info("decoded {} images of {} in {:.2f} s ({:.0f} images/s, {} threads)", count, folder,
               seconds, count / std::max(seconds, 1e-9), threads);
  return Status::Ok();
}

// Drops the cache files (and their lock files) of earlier listings of the same folder. Best
// effort: a reader holding one open keeps reading it; a decoder holding an old lock only
// rewrites an old entry.
void RemoveStaleCaches(const std::string& cache_dir, const std::string& folder_key,
                       const std::string& current) {
  const Result<std::vector<std::string>> names = ListFolder(cache_dir);
  if (!names.ok()) return;
  const std::string suffix = kImageCacheSuffix;
  for (const std::string& name : *names) {
    if (name.rfind(folder_key + "-", 0) != 0 || name == current || name == current + ".lock") {
      continue;
    }
    if (name.find(suffix) != std::string::npos) (void)RemovePath(cache_dir + "/" + name);
  }
}

}  // namespace

// keras/src/utils/dataset_utils.py ALLOWLIST_FORMATS, matched on fname.lower().
bool HasImageExtension(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : {".bmp", ".gif", ".jpeg", ".jpg", ".png"}) {
    const size_t n = std::strlen(ext);
    if (lower.size() >= n && lower.compare(lower.size() - n, n, ext) == 0) return true;
  }
  return false;
}

Result<ImageFolderListing> ListImageFolder(const std::string& folder) {
  ImageFolderListing listing;
  CB_ASSIGN_OR_RETURN(const std::vector<Entry> top, ReadFolder(folder));
  for (const Entry& entry : top) {
    // Keras 3: class folders are the sub-folders (links to folders too), hidden ones skipped.
    if (entry.is_folder_or_link_to_one && entry.name[0] != '.') {
      listing.classes.push_back(entry.name);
    }
  }
  if (listing.classes.empty()) {
    return Status::InvalidArgument(folder +
                                   ": no class folders (an image folder holds one sub-folder "
                                   "of images per class)");
  }
  for (size_t label = 0; label < listing.classes.size(); ++label) {
    std::vector<std::string> folders;
    // os.walk(class folder): the class folder itself is entered even when it is a link.
    CB_RETURN_IF_ERROR(CollectFolders(folder, listing.classes[label], 0, &folders));
    std::sort(folders.begin(), folders.end());  // sorted(os.walk(...), key=root path)
    for (const std::string& relative : folders) {
      CB_ASSIGN_OR_RETURN(const std::vector<Entry> entries, ReadFolder(folder + "/" + relative));
      for (const Entry& entry : entries) {
        if (!entry.is_file || !HasImageExtension(entry.name)) continue;
        listing.files.push_back({relative + "/" + entry.name, static_cast<int64_t>(label),
                                 entry.size, entry.modified_ns});
      }
    }
  }
  if (listing.files.empty()) {
    return Status::InvalidArgument(folder + ": no images (.png, .jpg, .jpeg) in its " +
                                   std::to_string(listing.classes.size()) + " class folder(s)");
  }
  return listing;
}

Result<ImageFolderData> LoadImageFolder(const std::string& folder,
                                        const ImageFolderOptions& options) {
  if (options.height <= 0 || options.width <= 0 ||
      (options.channels != 1 && options.channels != 3)) {
    return Status::InvalidArgument(folder + ": images need a height, a width and 1 or 3 channels");
  }
  CB_RETURN_IF_ERROR(CheckReadOptions(folder, options.scale, 0));
  const std::string absolute = boost::filesystem::absolute(folder).lexically_normal().string();
  CB_ASSIGN_OR_RETURN(ImageFolderListing listing, ListImageFolder(absolute));
  ImageFolderData data;
  data.classes = listing.classes;
  for (const ImageFile& file : listing.files) data.labels.push_back(file.label);

  CachedImages images;
  images.shape = {static_cast<int64_t>(listing.files.size()), options.height, options.width,
                  options.channels};
  if (options.cache_dir.empty()) {
    CB_RETURN_IF_ERROR(DecodeAll(absolute, listing, options, &images.pixels));
  } else {
    const std::string key = ListingKey(absolute, listing, options);
    const std::string folder_key = HexDigest(absolute);
    const std::string name = ImageCacheFileName(folder_key, HexDigest(key));
    const std::string path = options.cache_dir + "/" + name;
    std::optional<CachedImages> cached = ReadImageCache(path, key);
    if (!cached) {
      CB_RETURN_IF_ERROR(MakeFolders(options.cache_dir));
      CB_ASSIGN_OR_RETURN(ImageCacheLock lock, ImageCacheLock::Acquire(path));
      cached = ReadImageCache(path, key);  // another process may have decoded it meanwhile
      if (!cached) {
        CB_RETURN_IF_ERROR(DecodeAll(absolute, listing, options, &images.pixels));
        CB_RETURN_IF_ERROR(WriteImageCache(path, key, images).WithContext("image cache"));
        RemoveStaleCaches(options.cache_dir, folder_key, name);
      }
    }
    if (cached) {
      if (cached->shape != images.shape) {
        return Status::Internal(path + ": cached shape differs from the listing");
      }
      images.pixels = std::move(cached->pixels);
    }
  }
  data.x.shape = images.shape;
  data.x.values = std::move(images.pixels);
  if (options.scale != 1.0) {
    for (float& v : data.x.values) v = static_cast<float>(v / options.scale);
  }
  return data;
}

}  // namespace cloudbook
