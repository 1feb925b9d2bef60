// The NFS back end of SharedFolder: a native NFSv4 client (libnfs) talking to the server
// directly, so no mount and no root are needed. Two libnfs contexts (lanes) per folder, each
// guarded by its own mutex (libnfs contexts are not thread-safe): large writes (checkpoints)
// go through the bulk lane, everything else through the control lane, so that an agent's
// announcements and stats never queue behind a checkpoint crawling over a lossy link (libnfs
// 4.0 writes in synchronous ~3.5 KiB RPCs; measured in tests/fault/network_fault_test.cc).
// The bulk lane connects at the first large write. An operation that fails on the transport
// (server restarted, connection reset, timeout) drops the context, connects afresh (a new
// NFSv4 client identity) and runs again, within a bounded retry budget.
// libnfs does no data caching here (page cache and directory cache off), so after an atomic
// rename every client's next open sees the new file: close-to-open consistency.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "fs_adapters/nfs_location.h"
#include "shared/shared_folder.h"

struct nfs_context;

namespace cloudbook {

struct NfsOptions {
  // Bound of one RPC: a call fails instead of hanging on a dead server.
  std::chrono::milliseconds rpc_timeout{5000};
  // How long one operation keeps reconnecting and retrying after transport errors.
  std::chrono::milliseconds retry_budget{30000};
};

class NfsSharedFolder : public SharedFolder {
 public:
  // Connects (the folder must exist on the server). IoError with libnfs's reason otherwise.
  static Result<std::unique_ptr<NfsSharedFolder>> Open(const NfsLocation& location,
                                                       NfsOptions options = {});
  ~NfsSharedFolder() override;
  NfsSharedFolder(const NfsSharedFolder&) = delete;
  NfsSharedFolder& operator=(const NfsSharedFolder&) = delete;

  Result<std::string> ReadFile(const std::string& name, size_t max_bytes) override;
  Status WriteFileAtomically(const std::string& name, const std::string& contents) override;
  Result<std::vector<std::string>> List(const std::string& folder) override;
  Status Remove(const std::string& name) override;
  Result<SharedFileInfo> Stat(const std::string& name) override;
  Status MakeFolders(const std::string& folder) override;
  std::optional<std::string> LocalPath(const std::string&) const override { return std::nullopt; }
  std::string Describe() const override { return location_.ToUrl(); }

  // How many times the control lane was (re)connected: 1 after Open. For tests and logs.
  int connections() const;
  // Writes of at least this many bytes take the bulk lane.
  static constexpr size_t kBulkWriteBytes = 64 << 10;

  // The outcome of one attempt of an operation (public for the implementation's helpers).
  struct Attempt {
    Status status;
    bool retry = false;      // transient: run the operation again
    bool reconnect = false;  // the connection is suspect: drop the context first
  };

 private:
  NfsSharedFolder(NfsLocation location, NfsOptions options);

  // One NFSv4 client connection and what guards it.
  struct Lane {
    explicit Lane(const char* lane_name) : name(lane_name) {}
    const char* name;
    mutable std::mutex mutex;
    nfs_context* context = nullptr;  // guarded by mutex
    int connections = 0;             // guarded by mutex
  };

  Status ConnectLocked(Lane& lane);
  void DisconnectLocked(Lane& lane);
  // Runs `attempt` on the lane's connected context under its mutex, reconnecting and
  // retrying while it reports a transient failure and the retry budget lasts. `attempt` gets
  // the context and whether this is a repeated try.
  template <typename AttemptFn>
  Status Run(Lane& lane, const std::string& what, AttemptFn attempt);
  Attempt MakeFoldersLocked(nfs_context* context, const std::string& folder);

  const NfsLocation location_;
  const NfsOptions options_;
  Lane control_{"control"};
  Lane bulk_{"bulk"};
};

}  // namespace cloudbook
