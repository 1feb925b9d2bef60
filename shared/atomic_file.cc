#include "shared/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

std::string RandomSuffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::ostringstream out;
  out << std::hex << generator();
  return out.str();
}

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

// A whole-file read of a remote path has no caller-given bound: files read this way are the
// project's own (data, DU files), so the bound only stops a runaway.
constexpr size_t kMaxRemoteWholeFileBytes = size_t{16} << 30;

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  if (IsRemoteLocation(path)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(path));
    return mounted.folder->WriteFileAtomically(mounted.name, contents);
  }
  const fs::path target(path);
  boost::system::error_code error;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), error);
  if (error) return Status::IoError("cannot create folder for " + path + ": " + error.message());

  const fs::path temporary =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + RandomSuffix());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", temporary.string());

  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status status = ErrnoStatus("cannot write", temporary.string());
      ::close(fd);
      ::unlink(temporary.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash can leave the new name pointing at empty data.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status status = ErrnoStatus("cannot flush", temporary.string());
    ::unlink(temporary.c_str());
    return status;
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    Status status = ErrnoStatus("cannot rename into place", path);
    ::unlink(temporary.c_str());
    return status;
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  if (IsRemoteLocation(path)) return ReadRegularFileBounded(path, kMaxRemoteWholeFileBytes);
  boost::system::error_code error;
  if (fs::is_directory(path, error)) return Status::IoError(path + " is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!FileExists(path)) return Status::NotFound(path);
    return ErrnoStatus("cannot read", path);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ErrnoStatus("cannot read", path);
  return buffer.str();
}

bool FileExists(const std::string& path) {
  if (IsRemoteLocation(path)) {
    const Result<MountedPath> mounted = ResolveMountedPath(path);
    if (!mounted.ok()) return false;
    const Result<SharedFileInfo> info = mounted.value().folder->Stat(mounted.value().name);
    return info.ok() && info.value().exists;
  }
  boost::system::error_code error;
  return fs::exists(path, error);
}

Result<std::string> ReadRegularFileBounded(const std::string& path, size_t max_bytes) {
  if (IsRemoteLocation(path)) {
    CB_ASSIGN_OR_RETURN(const MountedPath mounted, ResolveMountedPath(path));
    return mounted.folder->ReadFile(mounted.name, max_bytes);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path);
    if (errno == ELOOP) return Status::InvalidArgument("is a symlink (symlinks are not followed)");
    return ErrnoStatus("cannot open", path);
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    Status status = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return status;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("is not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    ::close(fd);
    return Status::InvalidArgument("is " + std::to_string(info.st_size) + " bytes, over the " +
                                   std::to_string(max_bytes) + "-byte limit");
  }
  // Read straight into the string, sized from fstat plus room to notice growth: data files
  // are tens of MB, and 8 KiB appends cost ~10x the read itself.
  std::string contents;
  size_t filled = 0;
  contents.resize(static_cast<size_t>(info.st_size) + 1);
  while (true) {
    if (filled == contents.size()) contents.resize(contents.size() * 2);
    const ssize_t n = ::read(fd, contents.data() + filled, contents.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = ErrnoStatus("cannot read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
    if (filled > max_bytes) {  // grew while being read
      ::close(fd);
      return Status::InvalidArgument("is over the " + std::to_string(max_bytes) + "-byte limit");
    }
  }
  contents.resize(filled);
  ::close(fd);
  return contents;
}

}  // namespace cloudbook
