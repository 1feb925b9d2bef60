#include "shared/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>

namespace cloudbook {

namespace fs = boost::filesystem;

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::ostringstream out;
  out << std::hex << generator();
  return out.str();
}

Status CreatePrivateFolders(const fs::path& folder) {
  if (folder.empty()) return Status::Ok();
  boost::system::error_code error;
  if (fs::is_directory(folder, error)) return Status::Ok();
  CB_RETURN_IF_ERROR(CreatePrivateFolders(folder.parent_path()));
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("cannot create folder", folder.string());
  }
  return Status::Ok();
}

enum class Install { kReplace, kExclusive };

Status WritePrivateFile(const std::string& path, const std::string& contents, Install install) {
  const fs::path target(path);
  CB_RETURN_IF_ERROR(CreatePrivateFolders(target.parent_path()));
  const fs::path temporary =
      target.parent_path() / ("." + target.filename().string() + ".tmp-" + RandomSuffix());
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", temporary.string());
  auto fail = [&](const std::string& what) {
    Status status = ErrnoStatus(what, temporary.string());
    ::close(fd);
    ::unlink(temporary.c_str());
    return status;
  };
  // The umask can only remove bits; fchmod makes it exactly owner read/write.
  if (::fchmod(fd, 0600) != 0) return fail("cannot set mode 0600 on");
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot flush");
  if (::close(fd) != 0) {
    Status status = ErrnoStatus("cannot close", temporary.string());
    ::unlink(temporary.c_str());
    return status;
  }
  if (install == Install::kExclusive) {
    // link(2) fails when the target exists, so two writers cannot both create it.
    const int result = ::link(temporary.c_str(), target.c_str());
    const int error = errno;
    ::unlink(temporary.c_str());
    if (result != 0) {
      if (error == EEXIST) return Status::InvalidArgument(path + " already exists");
      errno = error;
      return ErrnoStatus("cannot create", path);
    }
    return Status::Ok();
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    Status status = ErrnoStatus("cannot rename into place", path);
    ::unlink(temporary.c_str());
    return status;
  }
  return Status::Ok();
}

}  // namespace

Status WritePrivateFileAtomically(const std::string& path, const std::string& contents) {
  return WritePrivateFile(path, contents, Install::kReplace);
}

Status WritePrivateFileExclusively(const std::string& path, const std::string& contents) {
  return WritePrivateFile(path, contents, Install::kExclusive);
}

int FileMode(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 0777);
}

}  // namespace cloudbook
