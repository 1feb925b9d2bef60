// P/agents/<id>.pid: the pid of a launched agent, which holds an exclusive flock(2) on the
// file for its whole life. "Running" means "the lock is held", so a crashed agent (the kernel
// drops its lock) or a pid reused by another program can never look like a running agent.
// The file holds only the pid, so `kill $(cat P/agents/<id>.pid)` works too.
#pragma once

#include <optional>
#include <string>

#include "shared/status.h"

namespace cloudbook {

// Held by the launched agent; Remove() (or the destructor) deletes the file and drops the lock.
class PidFileLock {
 public:
  PidFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PidFileLock();
  PidFileLock(PidFileLock&& other) noexcept;
  PidFileLock& operator=(PidFileLock&& other) = delete;
  PidFileLock(const PidFileLock&) = delete;
  PidFileLock& operator=(const PidFileLock&) = delete;

  const std::string& path() const { return path_; }
  void Remove();

 private:
  std::string path_;
  int fd_ = -1;
};

struct PidLockAttempt {
  std::optional<PidFileLock> lock;  // empty: another process holds it
  long holder_pid = 0;              // that process (0 when it has not written its pid yet)
};

// Creates the file if needed, takes the lock without waiting and writes this process's pid.
// IoError for file problems; an empty `lock` when a live agent holds it.
Result<PidLockAttempt> AcquirePidFile(const std::string& path);

struct PidFileState {
  bool running = false;
  long pid = 0;  // the running agent's pid (> 0 when running)
};

// Whether a launched agent holds the pid file, and its pid. Never blocks for long (a starting
// agent gets up to one second to write its pid).
Result<PidFileState> ReadPidFileState(const std::string& path);

// kill(pid, 0): the process exists (EPERM counts as existing).
bool ProcessExists(long pid);

}  // namespace cloudbook
