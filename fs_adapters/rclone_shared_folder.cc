#include "fs_adapters/rclone_shared_folder.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "fs_adapters/rclone_daemon.h"
#include "fs_adapters/rclone_rc.h"
#include "shared/atomic_file.h"
#include "shared/shared_folder_names.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using Attempt = RcloneSharedFolder::Attempt;

int64_t NowUnixNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string LeafOf(const std::string& name) {
  const std::string parent = ParentOfSharedName(name);
  return parent.empty() ? name : name.substr(parent.size() + 1);
}

// A unique local name for one download into the private scratch folder.
std::string DownloadName() {
  static std::atomic<uint64_t> counter{0};
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return "read-" + std::to_string(counter++) + "-" + std::to_string(generator());
}

}  // namespace

// One rc call's outcome: the JSON reply, or the failure and what it means.
struct RcloneSharedFolder::Reply {
  bool ok = false;
  json body;
  RcloneErrorKind kind = RcloneErrorKind::kOther;
  std::string error;

  bool Is(RcloneErrorKind k) const { return !ok && kind == k; }
};

RcloneSharedFolder::RcloneSharedFolder(std::string location, RcloneOptions options,
                                       std::shared_ptr<RcloneDaemon> daemon)
    : location_(std::move(location)),
      description_(RedactRcloneLocation(location_)),
      options_(options),
      daemon_(std::move(daemon)) {}

RcloneSharedFolder::~RcloneSharedFolder() = default;

Result<std::unique_ptr<RcloneSharedFolder>> RcloneSharedFolder::Open(const std::string& location,
                                                                     RcloneOptions options) {
  if (location.find(':') == std::string::npos) {
    return Status::InvalidArgument("'" + location +
                                   "' is not an rclone remote (expected remote:path)");
  }
  CB_ASSIGN_OR_RETURN(std::shared_ptr<RcloneDaemon> daemon, RcloneDaemon::Shared());
  std::unique_ptr<RcloneSharedFolder> folder(
      new RcloneSharedFolder(location, options, std::move(daemon)));
  RcloneSharedFolder& self = *folder;
  CB_RETURN_IF_ERROR(self.Run("open", "", [&](bool) -> Attempt {
    const Reply reply = self.Call("operations/fsinfo", json{{"fs", location}}.dump());
    if (!reply.ok) return self.Failed(reply, "open", "");
    const json features = reply.body.value("Features", json::object());
    self.duplicate_names_ = features.value("DuplicateFiles", false);
    return {};
  }));
  return folder;
}

template <typename AttemptFn>
Status RcloneSharedFolder::Run(const std::string& what, const std::string& name,
                               AttemptFn attempt) {
  const auto start = Clock::now();
  const auto deadline = start + options_.retry_budget;
  auto backoff = GetTunables().rclone_first_backoff_ms;
  for (bool repeated = false;; repeated = true) {
    const Attempt outcome = attempt(repeated);
    if (!outcome.retry) return outcome.status;
    if (Clock::now() + backoff > deadline) {
      const auto spent =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      return Status::IoError(what + (name.empty() ? "" : " '" + name + "'") + " on " +
                             description_ + ": gave up after " + std::to_string(spent) +
                             " ms of retries; last error: " + outcome.status.message());
    }
    spdlog::debug("{} '{}' on {}: {}; retrying in {} ms", what, name, description_,
                  outcome.status.message(), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, GetTunables().rclone_max_backoff_ms);
  }
}

RcloneSharedFolder::Reply RcloneSharedFolder::Interpret(const Result<RcloneReply>& raw) {
  Reply reply;
  if (!raw.ok()) {  // rcd unreachable (dead, restarting, overloaded): always worth a retry
    reply.kind = RcloneErrorKind::kTransient;
    reply.error = raw.status().message();
    return reply;
  }
  reply.body = json::parse(raw->body, nullptr, /*allow_exceptions=*/false);
  if (raw->http_status == 200 && reply.body.is_object()) {
    reply.ok = true;
    return reply;
  }
  if (reply.body.is_object() && reply.body.contains("error") && reply.body["error"].is_string()) {
    reply.error = reply.body["error"].get<std::string>();
  } else {
    reply.error = "HTTP " + std::to_string(raw->http_status) + ": " + raw->body.substr(0, 200);
  }
  reply.kind = raw->http_status == 401 || raw->http_status == 403
                   ? RcloneErrorKind::kOther  // rcd refused our credentials
                   : ClassifyRcloneError(raw->http_status, reply.error);
  return reply;
}

RcloneSharedFolder::Reply RcloneSharedFolder::Call(const std::string& method,
                                                   const std::string& json_input) const {
  return Interpret(daemon_->Call(method, json_input, options_.call_timeout));
}

RcloneSharedFolder::Reply RcloneSharedFolder::Upload(const std::string& fs,
                                                     const std::string& folder,
                                                     const std::string& file_name,
                                                     const std::string& contents) const {
  return Interpret(daemon_->Upload(fs, folder, file_name, contents, options_.call_timeout));
}

Attempt RcloneSharedFolder::Failed(const Reply& reply, const std::string& what,
                                   const std::string& name) const {
  switch (reply.kind) {
    case RcloneErrorKind::kNotFound:
    case RcloneErrorKind::kNotADirectory:  // the path goes through a file: no such entry
      return {Status::NotFound(name), false};
    case RcloneErrorKind::kNoSuchRemote:
      return {Status::InvalidArgument(
                  "no rclone remote named '" + location_.substr(0, location_.find(':')) +
                  "' is configured (add it with `rclone config`; rclone reads $RCLONE_CONFIG or "
                  "~/.config/rclone/rclone.conf)"),
              false};
    case RcloneErrorKind::kTransient:
      return {Status::IoError(what + " '" + name + "' on " + description_ + ": " + reply.error),
              true};
    default:
      return {Status::IoError(what + " '" + name + "' on " + description_ + ": " + reply.error),
              false};
  }
}

json RcloneSharedFolder::Target(const std::string& name) const {
  return json{{"fs", location_}, {"remote", name}};
}

Attempt RcloneSharedFolder::ListEntries(const std::string& folder,
                                        std::vector<RcloneEntry>* entries) const {
  json input = Target(folder);
  input["opt"] = json{{"noMimeType", true}};
  const Reply reply = Call("operations/list", input.dump());
  if (!reply.ok) return Failed(reply, "list", folder);
  Result<std::vector<RcloneEntry>> parsed = ParseRcloneList(reply.body);
  if (!parsed.ok()) return {parsed.status(), false};
  *entries = std::move(parsed).value();
  return {};
}

void RcloneSharedFolder::DeleteCopies(const std::string& folder, const std::string& leaf,
                                      std::optional<int64_t> modified_at_or_before) {
  // operations/delete walks fs (here the folder itself, one level deep) and removes the
  // files the filter lets through: every copy of `leaf`, or only those old enough.
  json filter = json{{"IncludeRule", json::array({"/" + EscapeRcloneGlob(leaf)})}};
  if (modified_at_or_before) filter["MinAge"] = FormatRcloneTime(*modified_at_or_before);
  const json input = {{"fs", RcloneFsFor(location_, folder)},
                      {"_filter", filter},
                      {"_config", json{{"MaxDepth", 1}}}};
  const Reply reply = Call("operations/delete", input.dump());
  if (!reply.ok) {
    spdlog::warn("cannot remove extra copies of '{}' in {}: {}", JoinSharedName(folder, leaf),
                 description_, reply.error);
  }
}

void RcloneSharedFolder::RemoveOlderCopies(const std::string& folder,
                                           const DuplicateChoice& choice) {
  const std::string name = JoinSharedName(folder, choice.keep.name);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (duplicates_logged_.insert(name).second) {
      spdlog::warn(
          "{} holds {} files named '{}' (the remote allows duplicate names): using the newest "
          "(modified {}), removing the older ones",
          description_, choice.older.size() + 1, name,
          FormatRcloneTime(choice.keep.modified_unix_ns));
    }
  }
  const std::optional<int64_t> cutoff = DuplicateRemovalCutoff(choice);
  if (cutoff) DeleteCopies(folder, choice.keep.name, cutoff);
}

Attempt RcloneSharedFolder::LookUpOnce(const std::string& name, std::optional<RcloneEntry>* entry) {
  entry->reset();
  if (duplicate_names_ && !name.empty()) {
    // operations/stat would return any one of several copies: the listing shows them all.
    const std::string parent = ParentOfSharedName(name);
    std::vector<RcloneEntry> siblings;
    const Attempt listed = ListEntries(parent, &siblings);
    if (listed.status.code() == Status::Code::kNotFound) return {};
    if (!listed.status.ok()) return listed;
    if (const std::optional<DuplicateChoice> choice = ChooseEntry(siblings, LeafOf(name))) {
      if (!choice->older.empty()) RemoveOlderCopies(parent, *choice);
      *entry = choice->keep;
      return {};
    }
    // Not listed (yet: listings may lag): ask for the name itself below.
  }
  const Reply reply = Call("operations/stat", Target(name).dump());
  if (reply.Is(RcloneErrorKind::kNotFound) || reply.Is(RcloneErrorKind::kNotADirectory)) return {};
  if (!reply.ok) return Failed(reply, "stat", name);
  const json& item = reply.body.contains("item") ? reply.body["item"] : json();
  if (item.is_null()) return {};
  Result<RcloneEntry> parsed = ParseRcloneEntry(item);
  if (!parsed.ok()) return {parsed.status(), false};
  *entry = std::move(parsed).value();
  return {};
}

Attempt RcloneSharedFolder::CheckWriteInFlight(const std::string& name, bool* in_flight) const {
  *in_flight = false;
  std::vector<RcloneEntry> siblings;
  const Attempt listed = ListEntries(ParentOfSharedName(name), &siblings);
  if (listed.status.code() == Status::Code::kNotFound) return {};
  if (!listed.status.ok()) return listed;
  *in_flight = ShowsWriteInFlight(
      siblings, LeafOf(name), NowUnixNs(),
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.temporary_max_age).count());
  if (*in_flight) return {};
  // A listing taken while the server renames the temporary over the name can show neither
  // (a directory read racing a rename, as on a local disk): ask for the name itself once more.
  const Reply reply = Call("operations/stat", Target(name).dump());
  *in_flight = reply.ok && reply.body.contains("item") && !reply.body["item"].is_null();
  return {};
}

Attempt RcloneSharedFolder::LookUp(const std::string& name, std::optional<RcloneEntry>* entry) {
  const auto settle_deadline = Clock::now() + options_.write_settle;
  while (true) {
    const Attempt found = LookUpOnce(name, entry);
    if (!found.status.ok() || found.retry || entry->has_value() || name.empty()) return found;
    // Missing. If a write is replacing it right now (movefile deletes the old file first),
    // it comes back within a request or two.
    if (Clock::now() >= settle_deadline) return {};
    bool in_flight = false;
    const Attempt checked = CheckWriteInFlight(name, &in_flight);
    if (!checked.status.ok() || !in_flight) return checked;
    std::this_thread::sleep_for(GetTunables().rclone_settle_poll_ms);
  }
}

Attempt RcloneSharedFolder::Download(const std::string& name, size_t max_bytes,
                                     std::string* contents, DownloadGap* gap) {
  *gap = DownloadGap::kNone;
  const std::string local_name = DownloadName();
  const std::string local_path = daemon_->scratch_dir() + "/" + local_name;
  // Rooted at the file's folder: a client of its own, apart from the writers' (rclone_rc.h).
  json input = {{"srcFs", RcloneFsFor(location_, ParentOfSharedName(name))},
                {"srcRemote", LeafOf(name)},
                {"dstFs", daemon_->scratch_dir()},
                {"dstRemote", local_name}};
  // The size check before downloading is rclone's: with CutoffMode CAUTIOUS a copy that would
  // pass MaxTransfer bytes (this call's own count, from 0) is refused before it starts, on
  // the size it just looked up (one request fewer than a stat first). IgnoreChecksum: the
  // hash rclone compares after the copy is of the file as it is then (SFTP runs md5sum on
  // the server), so a file replaced meanwhile fails it although the copy holds one whole
  // version (the server renames over the name: an open file keeps its contents).
  json config = {{"IgnoreChecksum", true}};
  if (max_bytes < static_cast<size_t>(INT64_MAX)) {
    config["MaxTransfer"] = static_cast<int64_t>(max_bytes) + 1;
    config["CutoffMode"] = "CAUTIOUS";
  }
  input["_config"] = config;
  const Reply reply = Call("operations/copyfile", input.dump());
  if (!reply.ok) {
    ::unlink(local_path.c_str());
    if (reply.error.find("max transfer limit reached") != std::string::npos) {
      return {Status::InvalidArgument(name + " is over the " + std::to_string(max_bytes) +
                                      "-byte limit"),
              false};
    }
    if (reply.Is(RcloneErrorKind::kIsADirectory)) {
      return {Status::InvalidArgument(name + " is a folder, not a file"), false};
    }
    if (reply.Is(RcloneErrorKind::kNotFound) || reply.Is(RcloneErrorKind::kNotADirectory)) {
      *gap = DownloadGap::kMissing;
      return {Status::NotFound(name), false};
    }
    // Replaced while the copy ran: rclone's size check after the transfer fails.
    if (reply.error.find("corrupted on transfer") != std::string::npos) {
      *gap = DownloadGap::kReplaced;
      return {Status::IoError("read " + name + ": replaced while being read"), true};
    }
    return Failed(reply, "read", name);
  }
  Result<std::string> read = ReadRegularFileBounded(local_path, max_bytes);
  ::unlink(local_path.c_str());
  if (!read.ok()) {
    const Status& status = read.status();
    if (status.code() == Status::Code::kInvalidArgument) {
      return {Status::InvalidArgument(name + " " + status.message()), false};  // grew meanwhile
    }
    return {status.WithContext("read " + name + " (downloaded to " + local_path + ")"), false};
  }
  *contents = std::move(read).value();
  return {};
}

Result<std::string> RcloneSharedFolder::ReadFile(const std::string& name, size_t max_bytes) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  std::string contents;
  CB_RETURN_IF_ERROR(Run("read", name, [&](bool) -> Attempt {
    // A name being replaced is missing for a moment, and a file rewritten often changes
    // under a copy now and then: look again at once (not after the growing backoff of
    // transient failures), for up to write_settle.
    const auto settle_deadline = Clock::now() + options_.write_settle;
    while (true) {
      if (duplicate_names_) {  // pick the newest copy (and clean up) before copying by name
        std::optional<RcloneEntry> entry;
        const Attempt found = LookUp(name, &entry);
        if (!found.status.ok() || found.retry) return found;
        if (!entry) return {Status::NotFound(name), false};
        if (entry->is_folder) {
          return {Status::InvalidArgument(name + " is a folder, not a file"), false};
        }
      }
      DownloadGap gap = DownloadGap::kNone;
      const Attempt downloaded = Download(name, max_bytes, &contents, &gap);
      if (gap == DownloadGap::kNone || Clock::now() >= settle_deadline) return downloaded;
      if (gap == DownloadGap::kMissing) {
        bool in_flight = false;
        const Attempt checked = CheckWriteInFlight(name, &in_flight);
        if (!checked.status.ok()) return checked;
        if (!in_flight) return downloaded;  // NotFound
      }
      std::this_thread::sleep_for(GetTunables().rclone_settle_poll_ms);
    }
  }));
  return contents;
}

Status RcloneSharedFolder::WriteFileAtomically(const std::string& name,
                                               const std::string& contents) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  // The temporary's name travels in a multipart header (quoted, one line).
  if (name.find_first_of("\"\r\n") != std::string::npos) {
    return Status::InvalidArgument("name '" + name +
                                   "' holds a quote or a line break (not written to rclone)");
  }
  const std::string parent = ParentOfSharedName(name);
  // Through the root above the file's folder: reads (rooted at the folder) and writes then
  // use separate rclone clients and pacers (rclone_rc.h).
  const RcloneWriteRoot root = RcloneWriteRootFor(location_, parent);
  const std::string in_root = root.folder.empty() ? "" : root.folder + "/";
  bool made_parent = false;
  return Run("write", name, [&](bool) -> Attempt {
    // A fresh temporary per try: a try cut short may have left one behind.
    const std::string temporary = in_root + LeafOf(TemporaryNameFor(name));
    const Reply uploaded = Upload(root.fs, root.folder, LeafOf(temporary), contents);
    if (!uploaded.ok) {
      if (uploaded.Is(RcloneErrorKind::kNotADirectory)) {
        return {Status::IoError("cannot write " + name + ": " + parent + " is a file"), false};
      }
      if (uploaded.Is(RcloneErrorKind::kTransient) || made_parent) {
        return Failed(uploaded, "write", name);
      }
      // Most likely the folder is missing: create it (and its parents) and try again.
      made_parent = true;
      const Reply made = Call("operations/mkdir", Target(parent).dump());
      if (!made.ok) return Failed(made, "write", name);
      return {Status::IoError("write " + name + ": " + uploaded.error), true};
    }
    // IgnoreTimes: otherwise rclone skips the move when the target looks "equal" (same size,
    // and same time or no times at all, as on WebDAV) and leaves the old contents.
    const json move = {{"srcFs", root.fs},
                       {"srcRemote", temporary},
                       {"dstFs", root.fs},
                       {"dstRemote", in_root + LeafOf(name)},
                       {"_config", json{{"IgnoreTimes", true}}}};
    const Reply moved = Call("operations/movefile", move.dump());
    if (!moved.ok) {
      Call("operations/deletefile", json{{"fs", root.fs}, {"remote", temporary}}.dump());
      return Failed(moved, "write", name);
    }
    return {};
  });
}

Result<std::vector<std::string>> RcloneSharedFolder::List(const std::string& folder) {
  CB_RETURN_IF_ERROR(ValidateSharedName(folder, true));
  std::vector<std::string> names;
  CB_RETURN_IF_ERROR(Run("list", folder, [&](bool) -> Attempt {
    std::vector<RcloneEntry> entries;
    Attempt listed = ListEntries(folder, &entries);
    if (listed.status.code() == Status::Code::kNotFound) {
      return {Status::NotFound(folder.empty() ? description_ : folder), false};
    }
    if (!listed.status.ok()) return listed;
    CollapsedListing collapsed = CollapseListing(entries);
    for (const DuplicateChoice& choice : collapsed.duplicates) RemoveOlderCopies(folder, choice);
    names = std::move(collapsed.names);
    return {};
  }));
  return names;
}

Status RcloneSharedFolder::Remove(const std::string& name) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  return Run("remove", name, [&](bool repeated) -> Attempt {
    const Reply deleted = Call("operations/deletefile", Target(name).dump());
    if (deleted.ok) {
      if (duplicate_names_) DeleteCopies(ParentOfSharedName(name), LeafOf(name), std::nullopt);
      return {};
    }
    if (!deleted.Is(RcloneErrorKind::kNotFound) && !deleted.Is(RcloneErrorKind::kIsADirectory)) {
      return Failed(deleted, "remove", name);
    }
    const Reply removed = Call("operations/rmdir", Target(name).dump());
    if (removed.ok) return {};
    if (removed.Is(RcloneErrorKind::kNotFound) || removed.Is(RcloneErrorKind::kNotADirectory)) {
      // A repeated try after a lost reply: the first one may have removed it already.
      if (repeated) return {};
      return {Status::NotFound(name), false};
    }
    if (removed.Is(RcloneErrorKind::kNotEmpty)) {
      return {Status::IoError("cannot remove " + name + ": the folder is not empty"), false};
    }
    return Failed(removed, "remove", name);
  });
}

Result<SharedFileInfo> RcloneSharedFolder::Stat(const std::string& name) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name, true));
  SharedFileInfo info;
  CB_RETURN_IF_ERROR(Run("stat", name, [&](bool) -> Attempt {
    std::optional<RcloneEntry> entry;
    const Attempt found = LookUp(name, &entry);
    info = SharedFileInfo();
    if (found.status.ok() && !found.retry && entry) {
      info.exists = true;
      info.is_folder = entry->is_folder;
      info.size = entry->size;
      info.modified_unix_ns = entry->modified_unix_ns;
    }
    return found;
  }));
  return info;
}

Status RcloneSharedFolder::MakeFolders(const std::string& folder) {
  CB_RETURN_IF_ERROR(ValidateSharedName(folder, true));
  return Run("make folders", folder, [&](bool) -> Attempt {
    const Reply made = Call("operations/mkdir", Target(folder).dump());
    if (made.Is(RcloneErrorKind::kNotADirectory)) {
      return {Status::IoError("cannot create folder " + folder + ": a file is in the way"), false};
    }
    if (!made.ok) return Failed(made, "make folders", folder);
    // Some remotes (WebDAV) answer a mkdir over a file with success: check.
    std::optional<RcloneEntry> entry;
    const Attempt found = LookUpOnce(folder, &entry);
    if (!found.status.ok() || found.retry) return found;
    if (!entry) {  // created, but not visible yet
      return {Status::IoError("folder " + folder + " not visible after creating it"), true};
    }
    if (!entry->is_folder) {
      return {Status::IoError("cannot create folder " + folder + ": a file is in the way"), false};
    }
    return {};
  });
}

}  // namespace cloudbook
