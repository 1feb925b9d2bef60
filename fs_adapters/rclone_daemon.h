// The one `rclone rcd` of this process: rclone's remote-control server, listening on
// 127.0.0.1 (a port rclone picks) behind a random user and password that only this process
// knows (passed through the child's environment, not its command line), shared by every
// rclone SharedFolder alive in the process. Started at the first call; if it dies, the next
// call starts a new one (with a warning). It dies with this process (PR_SET_PDEATHSIG; a
// watcher thread that lives as long as the child forks it) and is stopped (SIGTERM, then
// SIGKILL) and reaped when the last folder lets go of it.
// The binary is `rclone` on PATH or $CLOUDBOOK_RCLONE; the user's rclone config is used
// ($RCLONE_CONFIG passes through, other RCLONE_RC_* and log settings do not).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "shared/status.h"

namespace cloudbook {

// One answer of the rc server: its HTTP status and body (JSON, or rcd's plain-text refusal).
struct RcloneReply {
  int http_status = 0;
  std::string body;
};

class RcloneDaemon {
 public:
  // The process's daemon (created, not started, when no folder holds one). IoError when its
  // private scratch folder cannot be made.
  static Result<std::shared_ptr<RcloneDaemon>> Shared();
  ~RcloneDaemon();
  RcloneDaemon(const RcloneDaemon&) = delete;
  RcloneDaemon& operator=(const RcloneDaemon&) = delete;

  // POST /<method> with a JSON body. A failure to reach the server (it cannot start, refuses
  // the connection, times out) is IoError: the caller may retry, which restarts a dead rcd.
  Result<RcloneReply> Call(const std::string& method, const std::string& json_input,
                           std::chrono::milliseconds timeout);
  // operations/uploadfile: `contents` becomes `file_name` in fs:folder (multipart upload).
  Result<RcloneReply> Upload(const std::string& fs, const std::string& folder,
                             const std::string& file_name, const std::string& contents,
                             std::chrono::milliseconds timeout);

  // A folder (mode 0700) only this process uses, for downloads; removed with the daemon, or
  // by a later process's daemon when this process ended without that.
  const std::string& scratch_dir() const { return scratch_dir_; }
  // The running rcd's PID, or -1 when none runs. Tests kill it to play a crash.
  pid_t pid() const;
  // How many rcd processes were started so far.
  int starts() const;

 private:
  struct Endpoint {
    int port = 0;
    std::string user;
    std::string password;
  };

  explicit RcloneDaemon(std::string scratch_dir);
  // Starts rcd when none runs (waiting for one another thread is starting) and returns where
  // it listens.
  Result<Endpoint> EnsureRunning();
  // The watcher thread: forks and execs rcd, reads its output (the port line, then log lines
  // to spdlog), and reaps it.
  void Watch(std::string binary, std::string user, std::string password);

  const std::string scratch_dir_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::thread watcher_;      // guarded by mutex_
  bool starting_ = false;    // guarded by mutex_: a watcher is waiting for the port line
  bool running_ = false;     // guarded by mutex_: the port is known and the child lives
  pid_t pid_ = -1;           // guarded by mutex_
  int starts_ = 0;           // guarded by mutex_
  Endpoint endpoint_;        // guarded by mutex_
  std::string start_error_;  // guarded by mutex_: why the last start failed
  std::string last_output_;  // guarded by mutex_: the child's last lines, for errors
};

}  // namespace cloudbook
