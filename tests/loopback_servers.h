// Userspace file servers on 127.0.0.1 for tests and benchmarks: nfs-ganesha (NFSv4, VFS back
// end), `rclone serve webdav` and `rclone serve sftp`, each a child process on a free
// loopback port that dies with its parent (PR_SET_PDEATHSIG) and is stopped by PID. No
// GoogleTest here: bench/ uses it too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shared/executable_path.h"

namespace cloudbook::testing {

// A free TCP port on 127.0.0.1 (bound then released: the server binds it next); 0 on failure.
uint16_t FreeLoopbackPort();

// FindExecutable (shared/executable_path.h) finds the servers' programs.
using ::cloudbook::FindExecutable;

// One server child: fork + execve with stdout and stderr to `output_path`, SIGTERM'd when the
// parent dies, stopped by its PID (SIGTERM, SIGKILL after 10 s).
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { Stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Empty on success. `env` entries are added to (or replace in) this process's environment.
  std::string Start(const std::vector<std::string>& argv, const std::string& output_path,
                    const std::vector<std::pair<std::string, std::string>>& env = {});
  // False once the child has exited (reaped here).
  bool Running();
  void Stop();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// nfs-ganesha exporting <base>/export as /export on 127.0.0.1:<port>, NFSv4 only (no
// rpcbind), without a grace period and without attribute caching (see
// ../shared/recipes/nfs_ganesha_v4.sh). A client reaches <base>/export/x as
// nfs://127.0.0.1:<port>/export/x.
class GaneshaServer {
 public:
  GaneshaServer(std::string base, uint16_t port) : base_(std::move(base)), port_(port) {}

  // Empty when ganesha and its VFS back end are installed, else what is missing.
  static std::string WhyUnavailable();

  uint16_t port() const { return port_; }
  std::string ExportDir() const { return base_ + "/export"; }

  // Empty on success, else why the server did not start (within 20 s).
  std::string Start();
  void Stop() { process_.Stop(); }

 private:
  std::string Config() const;
  std::string ReadLog() const;

  std::string base_;
  uint16_t port_;
  std::string log_;
  int starts_ = 0;
  ServerProcess process_;
};

// `rclone serve webdav <served_dir>` on 127.0.0.1:<port> with an empty rclone config and no
// directory caching (see ../shared/recipes/rclone_webdav.sh). The binary is `rclone` on PATH,
// or $CLOUDBOOK_RCLONE.
class RcloneWebdavServer {
 public:
  RcloneWebdavServer(std::string served_dir, uint16_t port)
      : served_dir_(std::move(served_dir)), port_(port) {}

  // Empty when the rclone binary is found, else why not.
  static std::string WhyUnavailable();

  uint16_t port() const { return port_; }
  const std::string& ServedDir() const { return served_dir_; }
  // The config-less rclone remote for `path` inside the served folder
  // (:webdav,url="http://127.0.0.1:PORT",vendor=rclone:path).
  std::string Remote(const std::string& path) const;

  // Empty on success (the port accepts connections within 20 s), else why not.
  std::string Start(const std::string& log_path);
  void Stop() { process_.Stop(); }

 private:
  std::string served_dir_;
  uint16_t port_;
  ServerProcess process_;
};

// `rclone serve sftp <served_dir>` on 127.0.0.1:<port> with a fixed user and password (the
// port is loopback only), an empty rclone config and no directory caching.
class RcloneSftpServer {
 public:
  RcloneSftpServer(std::string served_dir, uint16_t port)
      : served_dir_(std::move(served_dir)), port_(port) {}

  const std::string& ServedDir() const { return served_dir_; }
  // The config-less rclone remote for `path` inside the served folder
  // (:sftp,host=127.0.0.1,port=PORT,user=...,pass=<obscured>:path).
  std::string Remote(const std::string& path) const;

  // Empty on success (the port accepts connections within 20 s), else why not.
  std::string Start(const std::string& log_path);
  void Stop() { process_.Stop(); }

 private:
  static constexpr const char* kUser = "cloudbook";
  static constexpr const char* kPassword = "loopback-only";
  std::string served_dir_;
  uint16_t port_;
  std::string obscured_password_;
  ServerProcess process_;
};

}  // namespace cloudbook::testing
