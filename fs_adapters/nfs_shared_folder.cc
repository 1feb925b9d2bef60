#include "fs_adapters/nfs_shared_folder.h"

// libnfs 4.0's header uses struct timeval without including its definition.
#include <sys/time.h>
// clang-format off
#include <nfsc/libnfs.h>
// clang-format on
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "shared/shared_folder_names.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

using Attempt = NfsSharedFolder::Attempt;

constexpr uint64_t kReadChunkBytes = 64 << 10;
// libnfs 4.0 (Debian 12) encodes an NFSv4 WRITE's data into a fixed ~4 KiB argument buffer:
// a larger nfs_write fails with "ZDR error: Failed to encode COMPOUND4args". Measured: 3800
// bytes pass, 4000 fail; stay well under.
constexpr uint64_t kWriteChunkBytes = 3584;

std::string ServerPath(const std::string& name) { return "/" + name; }

// libnfs's synchronous calls wait in poll(), and a handled signal (our processes handle
// SIGTERM, SIGINT and SIGHUP) makes poll() fail with EINTR, which libnfs 4.0 takes for a broken
// connection: it errors every RPC in flight and the call fails with "Poll failed". Seen as
// failed reads and writes, reconnections and a deployer crashing on SIGTERM under packet loss.
// So signals are held back in this thread for the length of one attempt: a process-directed
// signal goes to another thread meanwhile, or arrives here as soon as the attempt ends (never
// across a retry's backoff). Faults and abort stay deliverable.
class SignalsHeldBack {
 public:
  SignalsHeldBack() {
    sigset_t held;
    sigfillset(&held);
    for (const int synchronous : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) {
      sigdelset(&held, synchronous);
    }
    ::pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  ~SignalsHeldBack() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsHeldBack(const SignalsHeldBack&) = delete;
  SignalsHeldBack& operator=(const SignalsHeldBack&) = delete;

 private:
  sigset_t previous_;
};

// Errors that are answers about the file system, not about the connection: retrying (or
// reconnecting) would give the same answer.
bool IsDefiniteError(int error) {
  switch (error) {
    case ENOENT:
    case EEXIST:
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case EACCES:
    case EPERM:
    case EINVAL:
    case ENAMETOOLONG:
    case EFBIG:
    case ENOSPC:
    case EROFS:
    case EDQUOT:
      return true;
    default:
      return false;
  }
}

// A libnfs return code (negative errno) as an Attempt.
Attempt FromCode(nfs_context* context, int code, const std::string& what, const std::string& path) {
  if (code >= 0) return {};
  const int error = -code;
  const std::string reason = std::string(std::strerror(error)) + " (" +
                             (context ? nfs_get_error(context) : "no context") + ")";
  if (error == ENOENT) return {Status::NotFound(path), false, false};
  if (IsDefiniteError(error)) {
    return {Status::IoError(what + " " + path + ": " + reason), false, false};
  }
  // ESTALE: the handle went away under us (a rename over the file): run again by name.
  const bool stale = error == ESTALE;
  return {Status::IoError(what + " " + path + ": " + reason), true, !stale};
}

std::string NewClientName() {
  static std::atomic<int> counter{0};
  static const uint64_t process_nonce = std::random_device{}();
  return "cloudbook-" + std::to_string(::getpid()) + "-" + std::to_string(process_nonce) + "-" +
         std::to_string(counter++);
}

}  // namespace

NfsSharedFolder::NfsSharedFolder(NfsLocation location, NfsOptions options)
    : location_(std::move(location)), options_(options) {}

NfsSharedFolder::~NfsSharedFolder() {
  const SignalsHeldBack held;
  for (Lane* lane : {&control_, &bulk_}) {
    std::lock_guard<std::mutex> lock(lane->mutex);
    DisconnectLocked(*lane);
  }
}

Result<std::unique_ptr<NfsSharedFolder>> NfsSharedFolder::Open(const NfsLocation& location,
                                                               NfsOptions options) {
  std::unique_ptr<NfsSharedFolder> folder(new NfsSharedFolder(location, options));
  std::lock_guard<std::mutex> lock(folder->control_.mutex);
  const Status connected = [&] {
    const SignalsHeldBack held;
    return folder->ConnectLocked(folder->control_);
  }();
  if (connected.ok()) return folder;
  // A new project's folder does not exist yet: create it from the nearest existing parent
  // (as the local back end creates its root), then connect to it. Only for "not found".
  const size_t slash = location.path.rfind('/');
  if (connected.code() != Status::Code::kNotFound || slash == 0 || slash == std::string::npos) {
    return connected;
  }
  NfsLocation parent = location;
  parent.path = location.path.substr(0, slash);
  CB_ASSIGN_OR_RETURN(std::unique_ptr<NfsSharedFolder> above, Open(parent, options));
  CB_RETURN_IF_ERROR(above->MakeFolders(location.path.substr(slash + 1)));
  {
    const SignalsHeldBack held;
    CB_RETURN_IF_ERROR(folder->ConnectLocked(folder->control_));
  }
  spdlog::info("created {}", location.ToUrl());
  return folder;
}

int NfsSharedFolder::connections() const {
  std::lock_guard<std::mutex> lock(control_.mutex);
  return control_.connections;
}

Status NfsSharedFolder::ConnectLocked(Lane& lane) {
  DisconnectLocked(lane);
  nfs_context* context = nfs_init_context();
  if (context == nullptr) return Status::Internal("nfs_init_context failed");
  // Each context is its own NFSv4 client: two with one name would expire each other's state.
  nfs4_set_client_name(context, NewClientName().c_str());
  nfs_set_timeout(context, static_cast<int>(options_.rpc_timeout.count()));
  nfs_set_autoreconnect(context, 0);  // we reconnect with a fresh client identity ourselves
  nfs_set_dircache(context, 0);       // listings must show other clients' renames at once
  nfs_set_pagecache(context, 0);
  nfs_set_readahead(context, 0);
  const std::string libnfs_url = "nfs://" + location_.host + location_.path +
                                 "?version=4&nfsport=" + std::to_string(location_.port);
  nfs_url* url = nfs_parse_url_dir(context, libnfs_url.c_str());
  if (url == nullptr) {
    const std::string error = nfs_get_error(context);
    nfs_destroy_context(context);
    return Status::InvalidArgument("libnfs refused " + libnfs_url + ": " + error);
  }
  const int code = nfs_mount(context, url->server, url->path);
  nfs_destroy_url(url);
  if (code != 0) {
    const std::string error = nfs_get_error(context);
    nfs_destroy_context(context);
    const std::string message = "cannot connect to " + location_.ToUrl() + ": " + error;
    return code == -ENOENT ? Status::NotFound(message) : Status::IoError(message);
  }
  lane.context = context;
  ++lane.connections;
  if (lane.connections > 1)
    spdlog::info("reconnected to {} ({} lane)", location_.ToUrl(), lane.name);
  return Status::Ok();
}

void NfsSharedFolder::DisconnectLocked(Lane& lane) {
  if (lane.context == nullptr) return;
  nfs_destroy_context(lane.context);
  lane.context = nullptr;
}

template <typename AttemptFn>
Status NfsSharedFolder::Run(Lane& lane, const std::string& what, AttemptFn attempt) {
  std::lock_guard<std::mutex> lock(lane.mutex);
  const auto deadline = std::chrono::steady_clock::now() + options_.retry_budget;
  auto backoff = GetTunables().nfs_first_backoff_ms;
  for (bool repeated = false;; repeated = true) {
    Status last;
    {
      const SignalsHeldBack held;
      if (lane.context == nullptr) last = ConnectLocked(lane);
      if (lane.context != nullptr) {
        Attempt outcome = attempt(lane.context, repeated);
        if (!outcome.retry) return outcome.status;
        last = outcome.status;
        if (outcome.reconnect) {
          spdlog::warn("{} on {}: {}; reconnecting", what, location_.ToUrl(), last.message());
          DisconnectLocked(lane);
        }
      }
    }
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      return last.WithContext(what + ": gave up after " +
                              std::to_string(options_.retry_budget.count()) + " ms of retries");
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, GetTunables().nfs_max_backoff_ms);
  }
}

Result<std::string> NfsSharedFolder::ReadFile(const std::string& name, size_t max_bytes) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  const std::string path = ServerPath(name);
  std::string contents;
  CB_RETURN_IF_ERROR(Run(control_, "read", [&](nfs_context* context, bool) -> Attempt {
    contents.clear();
    nfsfh* file = nullptr;
    Attempt outcome =
        FromCode(context, nfs_open(context, path.c_str(), O_RDONLY, &file), "cannot open", path);
    if (!outcome.status.ok()) {
      if (outcome.status.code() == Status::Code::kNotFound) {
        outcome.status = Status::NotFound(name);
      }
      return outcome;
    }
    nfs_stat_64 info{};
    outcome = FromCode(context, nfs_fstat64(context, file, &info), "cannot stat", path);
    if (outcome.status.ok() && S_ISDIR(info.nfs_mode)) {
      outcome.status = Status::InvalidArgument(name + " is a folder, not a file");
    } else if (outcome.status.ok() && info.nfs_size > max_bytes) {
      outcome.status =
          Status::InvalidArgument(name + " is " + std::to_string(info.nfs_size) +
                                  " bytes, over the " + std::to_string(max_bytes) + "-byte limit");
    }
    // nfs_get_readmax is 0 on NFSv4 in libnfs 4.0: use our own chunk.
    std::string buffer(static_cast<size_t>(kReadChunkBytes), '\0');
    while (outcome.status.ok()) {
      const int n = nfs_read(context, file, buffer.size(), buffer.data());
      outcome = FromCode(context, n, "cannot read", path);
      if (n <= 0) break;
      contents.append(buffer.data(), static_cast<size_t>(n));
      if (contents.size() > max_bytes) {  // grew while being read
        outcome.status = Status::InvalidArgument(name + " is over the " +
                                                 std::to_string(max_bytes) + "-byte limit");
      }
    }
    nfs_close(context, file);
    return outcome;
  }));
  return contents;
}

NfsSharedFolder::Attempt NfsSharedFolder::MakeFoldersLocked(nfs_context* context,
                                                            const std::string& folder) {
  std::string current;
  for (const std::string& component : SplitSharedName(folder)) {
    current = JoinSharedName(current, component);
    const int code = nfs_mkdir(context, ServerPath(current).c_str());
    if (code == -EEXIST) continue;
    Attempt outcome = FromCode(context, code, "cannot create folder", ServerPath(current));
    if (!outcome.status.ok()) return outcome;
  }
  nfs_stat_64 info{};
  Attempt outcome = FromCode(context, nfs_stat64(context, ServerPath(folder).c_str(), &info),
                             "cannot stat", ServerPath(folder));
  if (outcome.status.ok() && !S_ISDIR(info.nfs_mode)) {
    outcome.status = Status::IoError(folder + " exists and is not a folder");
  }
  return outcome;
}

Status NfsSharedFolder::WriteFileAtomically(const std::string& name, const std::string& contents) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  const std::string path = ServerPath(name);
  Lane& lane = contents.size() >= kBulkWriteBytes ? bulk_ : control_;
  return Run(lane, "write", [&](nfs_context* context, bool) -> Attempt {
    // A fresh temporary per try: a try cut short by a lost connection may have left one.
    const std::string temporary = ServerPath(TemporaryNameFor(name));
    nfsfh* file = nullptr;
    int code = nfs_open2(context, temporary.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644, &file);
    if (code == -ENOENT) {  // the parent folder is missing: create it, like the local back end
      Attempt made = MakeFoldersLocked(context, ParentOfSharedName(name));
      if (!made.status.ok()) return made;
      code = nfs_open2(context, temporary.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644, &file);
    }
    Attempt outcome = FromCode(context, code, "cannot create", temporary);
    if (!outcome.status.ok()) return outcome;
    size_t written = 0;
    while (outcome.status.ok() && written < contents.size()) {
      const uint64_t count =
          std::min<uint64_t>(kWriteChunkBytes, static_cast<uint64_t>(contents.size() - written));
      const int n = nfs_write(context, file, count, contents.data() + written);
      outcome = FromCode(context, n, "cannot write", temporary);
      if (outcome.status.ok() && n == 0) {
        outcome = {Status::IoError("cannot write " + temporary + ": no progress"), true, true};
      }
      if (n > 0) written += static_cast<size_t>(n);
    }
    // COMMIT before rename: otherwise a server crash could leave the new name on lost data.
    if (outcome.status.ok()) {
      outcome = FromCode(context, nfs_fsync(context, file), "cannot flush", temporary);
    }
    const int close_code = nfs_close(context, file);
    if (outcome.status.ok()) outcome = FromCode(context, close_code, "cannot close", temporary);
    if (outcome.status.ok()) {
      outcome = FromCode(context, nfs_rename(context, temporary.c_str(), path.c_str()),
                         "cannot rename into place", path);
    }
    if (!outcome.status.ok() && !outcome.reconnect) nfs_unlink(context, temporary.c_str());
    return outcome;
  });
}

Result<std::vector<std::string>> NfsSharedFolder::List(const std::string& folder) {
  CB_RETURN_IF_ERROR(ValidateSharedName(folder, true));
  const std::string path = ServerPath(folder);
  std::vector<std::string> names;
  CB_RETURN_IF_ERROR(Run(control_, "list", [&](nfs_context* context, bool) -> Attempt {
    names.clear();
    nfsdir* dir = nullptr;
    Attempt outcome =
        FromCode(context, nfs_opendir(context, path.c_str(), &dir), "cannot list", path);
    if (!outcome.status.ok()) {
      if (outcome.status.code() == Status::Code::kNotFound) {
        outcome.status = Status::NotFound(folder);
      }
      return outcome;
    }
    while (nfsdirent* entry = nfs_readdir(context, dir)) {
      const std::string entry_name = entry->name;
      if (entry_name == "." || entry_name == ".." || IsHiddenTemporary(entry_name)) continue;
      names.push_back(entry_name);
    }
    nfs_closedir(context, dir);
    return outcome;
  }));
  std::sort(names.begin(), names.end());
  return names;
}

Status NfsSharedFolder::Remove(const std::string& name) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  const std::string path = ServerPath(name);
  return Run(control_, "remove", [&](nfs_context* context, bool repeated) -> Attempt {
    int code = nfs_unlink(context, path.c_str());
    if (code == -EISDIR || code == -EPERM) code = nfs_rmdir(context, path.c_str());
    // A repeated try after a lost reply: the first one may have removed it already.
    if (code == -ENOENT && repeated) return {};
    Attempt outcome = FromCode(context, code, "cannot remove", path);
    if (outcome.status.code() == Status::Code::kNotFound) outcome.status = Status::NotFound(name);
    return outcome;
  });
}

Result<SharedFileInfo> NfsSharedFolder::Stat(const std::string& name) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name, true));
  const std::string path = ServerPath(name);
  SharedFileInfo result;
  CB_RETURN_IF_ERROR(Run(control_, "stat", [&](nfs_context* context, bool) -> Attempt {
    result = SharedFileInfo();
    nfs_stat_64 info{};
    const int code = nfs_stat64(context, path.c_str(), &info);
    if (code == -ENOENT || code == -ENOTDIR) return {};
    Attempt outcome = FromCode(context, code, "cannot stat", path);
    if (!outcome.status.ok()) return outcome;
    result.exists = true;
    result.is_folder = S_ISDIR(info.nfs_mode);
    result.size = info.nfs_size;
    result.modified_unix_ns = static_cast<int64_t>(info.nfs_mtime) * 1000000000 +
                              static_cast<int64_t>(info.nfs_mtime_nsec);
    return outcome;
  }));
  return result;
}

Status NfsSharedFolder::MakeFolders(const std::string& folder) {
  CB_RETURN_IF_ERROR(ValidateSharedName(folder, true));
  return Run(control_, "make folders", [&](nfs_context* context, bool) -> Attempt {
    return MakeFoldersLocked(context, folder);
  });
}

}  // namespace cloudbook
