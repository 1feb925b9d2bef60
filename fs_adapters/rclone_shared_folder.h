// The rclone back end of SharedFolder: any rclone remote ("gdrive:", "onedrive:cloudbook/p",
// a connection string such as ":webdav,url=\"http://host:8080\",vendor=rclone:proj") reached
// through the process's one `rclone rcd` (rclone_daemon.h) and its remote-control API, not a
// process per operation. Names are joined under the location's path.
//   ReadFile  operations/copyfile into a private local folder (rclone refuses it before
//             downloading when the file is over max_bytes), then read and size-checked again
//   Write     operations/uploadfile to a hidden temporary of the same folder, then
//             operations/movefile onto the name (server-side)
//   List      operations/list        Remove  operations/deletefile or operations/rmdir
//   Stat      operations/stat        MakeFolders  operations/mkdir (then checked)
// rclone's movefile deletes an existing target before moving the new file in, so for a moment
// the name is missing: a reader that finds it missing while a fresh temporary of it exists
// looks again (RcloneOptions::write_settle). On remotes that allow duplicate names (Drive),
// ReadFile and Stat go through the parent's listing and use the newest copy; older copies are
// removed. Reads give rclone the file's folder as root, writes the folder above it: separate
// rclone clients, so reads and writes do not queue behind each other in rclone's request
// pacer. Transient failures (rcd gone, connection refused, 5xx, rate limits, timeouts) are
// retried with backoff until the budget is spent. Thread-safe: every call is its own request.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "fs_adapters/rclone_listing.h"
#include "shared/shared_folder.h"

namespace cloudbook {

class RcloneDaemon;
struct RcloneReply;

struct RcloneOptions {
  // How long one operation keeps retrying after transient failures (50 ms doubling to 2 s).
  std::chrono::milliseconds retry_budget{30000};
  // Bound of one rc call (an upload or a download of a large file included).
  std::chrono::milliseconds call_timeout{120000};
  // How long a reader waits for a name that is missing because a write is replacing it.
  std::chrono::milliseconds write_settle{3000};
  // A hidden temporary older than this is a crashed writer's, not a write in flight.
  std::chrono::milliseconds temporary_max_age{std::chrono::minutes(10)};
};

class RcloneSharedFolder : public SharedFolder {
 public:
  // Asks rclone about the remote (operations/fsinfo), starting the process's rcd if needed.
  // InvalidArgument for a remote the user has not configured; IoError when rclone cannot
  // start or the remote stays unreachable for the retry budget. The folder need not exist.
  static Result<std::unique_ptr<RcloneSharedFolder>> Open(const std::string& location,
                                                          RcloneOptions options = {});
  ~RcloneSharedFolder() override;
  RcloneSharedFolder(const RcloneSharedFolder&) = delete;
  RcloneSharedFolder& operator=(const RcloneSharedFolder&) = delete;

  Result<std::string> ReadFile(const std::string& name, size_t max_bytes) override;
  Status WriteFileAtomically(const std::string& name, const std::string& contents) override;
  Result<std::vector<std::string>> List(const std::string& folder) override;
  Status Remove(const std::string& name) override;
  Result<SharedFileInfo> Stat(const std::string& name) override;
  Status MakeFolders(const std::string& folder) override;
  std::optional<std::string> LocalPath(const std::string&) const override { return std::nullopt; }
  std::string Describe() const override { return description_; }

  // The rcd this folder talks through (shared with every rclone folder of the process).
  RcloneDaemon& daemon() const { return *daemon_; }
  // True when the remote can hold several files of one name in a folder (Drive).
  bool allows_duplicate_names() const { return duplicate_names_; }

  // The outcome of one try of an operation (public for the implementation's helpers).
  struct Attempt {
    Status status;
    bool retry = false;  // transient: run the operation again after a backoff
  };

 private:
  RcloneSharedFolder(std::string location, RcloneOptions options,
                     std::shared_ptr<RcloneDaemon> daemon);

  // Runs `attempt` until it succeeds, fails for good, or the retry budget is spent.
  template <typename AttemptFn>
  Status Run(const std::string& what, const std::string& name, AttemptFn attempt);
  // One rc call: the parsed JSON reply, or a failure classified as transient or not.
  struct Reply;
  static Reply Interpret(const Result<RcloneReply>& raw);
  Reply Call(const std::string& method, const std::string& json_input) const;
  // operations/uploadfile of `contents` as `file_name` into fs:folder.
  Reply Upload(const std::string& fs, const std::string& folder, const std::string& file_name,
               const std::string& contents) const;
  // A failed reply as the Attempt of operation `what` on `name`.
  Attempt Failed(const Reply& reply, const std::string& what, const std::string& name) const;
  // {"fs": location, "remote": name}: the parameters of most rc calls.
  nlohmann::json Target(const std::string& name) const;

  // The entry `name` refers to (nullopt when missing), waiting out a write that replaces it.
  Attempt LookUp(const std::string& name, std::optional<RcloneEntry>* entry);
  Attempt LookUpOnce(const std::string& name, std::optional<RcloneEntry>* entry);
  Attempt ListEntries(const std::string& folder, std::vector<RcloneEntry>* entries) const;
  // Removes the copies of a duplicated name older than the kept one (logged once per name).
  void RemoveOlderCopies(const std::string& folder, const DuplicateChoice& choice);
  // Removes the files named `leaf` in `folder`: all, or those modified at or before a time.
  void DeleteCopies(const std::string& folder, const std::string& leaf,
                    std::optional<int64_t> modified_at_or_before);
  // Whether the parent's listing shows `name` being written right now (see
  // ShowsWriteInFlight).
  Attempt CheckWriteInFlight(const std::string& name, bool* in_flight) const;
  // operations/copyfile into the scratch folder (refused by rclone when over `max_bytes`),
  // then a bounded read. `gap` says when the name was missing or changed under the copy.
  enum class DownloadGap { kNone, kMissing, kReplaced };
  Attempt Download(const std::string& name, size_t max_bytes, std::string* contents,
                   DownloadGap* gap);

  const std::string location_;
  const std::string description_;  // location_ without secrets, for messages
  const RcloneOptions options_;
  const std::shared_ptr<RcloneDaemon> daemon_;
  bool duplicate_names_ = false;  // set once by Open
  std::mutex mutex_;
  std::set<std::string> duplicates_logged_;  // guarded by mutex_
};

}  // namespace cloudbook
