#include "shared/formats/pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "shared/tunables.h"

namespace cloudbook {

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

// The pid written in the file, 0 when empty or not a number.
long ReadPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(buffer, &end, 10);
  return pid > 0 ? pid : 0;
}

// True when `fd` is still the file at `path` (not unlinked or replaced by a stopping agent).
bool StillAtPath(int fd, const std::string& path) {
  struct stat opened, named;
  if (::fstat(fd, &opened) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

}  // namespace

PidFileLock::~PidFileLock() { Remove(); }

PidFileLock::PidFileLock(PidFileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

void PidFileLock::Remove() {
  if (fd_ < 0) return;
  // Unlink while still holding the lock, so nobody sees the file unlocked with our pid.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

Result<PidLockAttempt> AcquirePidFile(const std::string& path) {
  boost::system::error_code error;
  boost::filesystem::create_directories(boost::filesystem::path(path).parent_path(), error);
  // A reader's brief shared lock (ReadPidFileState) also makes LOCK_EX fail: retry a few times
  // while the holder does not look like a live agent.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus("cannot open", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int lock_error = errno;
      const long holder = ReadPid(fd);
      ::close(fd);
      if (lock_error != EWOULDBLOCK) {
        errno = lock_error;
        return ErrnoStatus("cannot lock", path);
      }
      if (holder > 0 && ProcessExists(holder)) {
        PidLockAttempt held;
        held.holder_pid = holder;
        return held;
      }
      std::this_thread::sleep_for(GetTunables().pid_lock_retry_ms);
      continue;
    }
    if (!StillAtPath(fd, path)) {  // a stopping agent removed it between open and flock
      ::close(fd);
      continue;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()) ||
        ::fsync(fd) != 0) {
      Status status = ErrnoStatus("cannot write", path);
      ::close(fd);
      return status;
    }
    PidLockAttempt acquired;
    acquired.lock.emplace(path, fd);
    acquired.holder_pid = ::getpid();
    return acquired;
  }
  // Still locked by a process that never wrote a live pid: treat it as running.
  PidLockAttempt held;
  return held;
}

Result<PidFileState> ReadPidFileState(const std::string& path) {
  PidFileState state;
  const auto deadline = std::chrono::steady_clock::now() + GetTunables().pid_read_budget_ms;
  while (true) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT) return state;
      return ErrnoStatus("cannot open", path);
    }
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {  // nobody holds it: not running
      ::flock(fd, LOCK_UN);
      ::close(fd);
      return state;
    }
    const int lock_error = errno;
    state.pid = ReadPid(fd);
    ::close(fd);
    if (lock_error != EWOULDBLOCK) {
      errno = lock_error;
      return ErrnoStatus("cannot check the lock of", path);
    }
    state.running = true;
    if (state.pid > 0 || std::chrono::steady_clock::now() >= deadline) return state;
    std::this_thread::sleep_for(GetTunables().pid_read_retry_ms);  // starting: pid next
  }
}

bool ProcessExists(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace cloudbook
