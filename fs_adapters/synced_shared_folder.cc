#include "fs_adapters/synced_shared_folder.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "fs_adapters/synced_names.h"
#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

std::string LastComponent(const std::string& name) { return name.substr(name.rfind('/') + 1); }

// Room for the envelope's header on top of the caller's bound.
size_t RawBound(size_t max_bytes) {
  return max_bytes > std::numeric_limits<size_t>::max() - kMaxSyncHeaderBytes
             ? std::numeric_limits<size_t>::max()
             : max_bytes + kMaxSyncHeaderBytes;
}

bool IsNotFound(const Status& status) { return status.code() == Status::Code::kNotFound; }

}  // namespace

SyncedSharedFolder::SyncedSharedFolder(std::string root, std::string location)
    : local_(std::move(root)), location_(std::move(location)), writer_(SyncWriterId()) {}

Result<SyncedSharedFolder::FileHead> SyncedSharedFolder::ReadHead(const std::string& name) {
  // Stat first: it refuses a symlink among the name's components; O_NOFOLLOW the last one.
  CB_ASSIGN_OR_RETURN(const SharedFileInfo info, local_.Stat(name));
  if (!info.exists) return Status::NotFound(name);
  if (info.is_folder) return Status::InvalidArgument(name + " is a folder");
  const std::string path = *local_.LocalPath(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path);
    return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  FileHead head;
  struct stat file_info;
  head.prefix.resize(kMaxSyncHeaderBytes);
  size_t have = 0;
  Status status;
  if (::fstat(fd, &file_info) != 0 || !S_ISREG(file_info.st_mode)) {
    status = Status::InvalidArgument(path + " is not a regular file");
  }
  while (status.ok() && have < head.prefix.size()) {
    const ssize_t n = ::read(fd, &head.prefix[have], head.prefix.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError("cannot read " + path + ": " + std::strerror(errno));
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  CB_RETURN_IF_ERROR(status);
  head.prefix.resize(have);
  // The file may have grown since fstat (a sync client appending): never below what was read.
  head.size = std::max<uint64_t>(static_cast<uint64_t>(file_info.st_size), have);
  head.modified_unix_ns =
      static_cast<int64_t>(file_info.st_mtim.tv_sec) * 1000000000 + file_info.st_mtim.tv_nsec;
  return head;
}

Result<SyncedSharedFolder::Versions> SyncedSharedFolder::Gather(const std::string& name) {
  const std::string parent = ParentOfSharedName(name);
  const std::string file = LastComponent(name);
  CB_ASSIGN_OR_RETURN(const std::vector<std::string> entries, local_.List(parent));
  Versions versions;
  for (const std::string& entry : entries) {
    const bool is_target = entry == file;
    if (!is_target && !HasConflictCopyShape(entry, file)) continue;
    Version version;
    version.name = JoinSharedName(parent, entry);
    Result<FileHead> head = ReadHead(version.name);
    if (!head.ok()) {
      if (is_target && !IsNotFound(head.status())) return head.status();
      continue;  // gone since the listing, or a folder shaped like a copy
    }
    version.head = std::move(head).value();
    Result<SyncFileView> view = InspectSyncHeader(version.head.prefix, version.head.size);
    if (is_target) {
      versions.target_exists = true;
      if (view.ok()) version.view = std::move(view).value();
      versions.target_status = view.status();
      versions.target = std::move(version);
    } else if (view.ok() && view->has_header && LastComponent(view->header.name) == file) {
      version.view = std::move(view).value();
      versions.copies.push_back(std::move(version));
    }
  }
  return versions;
}

Result<std::string> SyncedSharedFolder::ReadAndUnwrap(const std::string& name, size_t max_bytes,
                                                      const FileHead* head) {
  std::string raw;
  if (head != nullptr && head->prefix.size() == head->size) {
    raw = head->prefix;  // a small file: its head is all of it
  } else {
    CB_ASSIGN_OR_RETURN(raw, local_.ReadFile(name, RawBound(max_bytes)));
  }
  Result<SyncFileView> view = InspectSyncFile(raw);
  if (!view.ok()) return view.status().WithContext(location_ + "/" + name);
  size_t size = raw.size();
  switch (view->state) {
    case SyncFileState::kIncomplete:
      return Status::IoError(location_ + "/" + name +
                             ": incomplete (still syncing?): " + view->why_incomplete);
    case SyncFileState::kComplete:
      size = view->header.length;
      break;
    case SyncFileState::kPlain:
      break;
  }
  if (size > max_bytes) {
    return Status::InvalidArgument(location_ + "/" + name + " is " + std::to_string(size) +
                                   " bytes, over the " + std::to_string(max_bytes) + "-byte limit");
  }
  if (view->state == SyncFileState::kComplete) raw.erase(0, view->header_bytes);
  return raw;
}

Result<std::string> SyncedSharedFolder::ReadFile(const std::string& name, size_t max_bytes) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  Result<Versions> gathered = Gather(name);
  if (!gathered.ok()) {
    if (IsNotFound(gathered.status())) return Status::NotFound(location_ + "/" + name);
    return gathered.status();
  }
  const Versions& versions = *gathered;
  if (versions.copies.empty() && !versions.target_exists) {
    return Status::NotFound(location_ + "/" + name);
  }
  // No copies, or the file is the user's own (no envelope, nothing to rank it by): as is.
  if (versions.copies.empty() || (versions.target_exists && versions.target_status.ok() &&
                                  versions.target.view.state == SyncFileState::kPlain)) {
    return ReadAndUnwrap(name, max_bytes, &versions.target.head);
  }

  // Newest first (the file itself before a copy of the same version); the first complete
  // one wins. A file whose header line has not arrived yet (or is corrupt) cannot be ranked:
  // skipped, and not overwritten by the cleanup.
  std::vector<const Version*> ranked;
  if (versions.target_exists && versions.target.view.has_header) {
    ranked.push_back(&versions.target);
  }
  for (const Version& copy : versions.copies) ranked.push_back(&copy);
  std::stable_sort(ranked.begin(), ranked.end(), [](const Version* a, const Version* b) {
    return a->view.header.version > b->view.header.version;
  });
  std::string why = "no version with a whole header";
  for (const Version* candidate : ranked) {
    Result<std::string> raw = local_.ReadFile(candidate->name, RawBound(max_bytes));
    if (IsNotFound(raw.status())) continue;  // cleaned up by another reader meanwhile
    if (!raw.ok()) return raw.status();
    Result<SyncFileView> view = InspectSyncFile(*raw);
    if (!view.ok()) {
      why = candidate->name + ": " + view.status().message();
      continue;
    }
    if (view->state != SyncFileState::kComplete) {
      why = candidate->name + ": " + view->why_incomplete;
      continue;
    }
    if (view->header.version != candidate->view.header.version) {
      why = candidate->name + ": replaced while being read";
      continue;
    }
    if (view->header.length > max_bytes) {
      return Status::InvalidArgument(location_ + "/" + candidate->name + " is " +
                                     std::to_string(view->header.length) + " bytes, over the " +
                                     std::to_string(max_bytes) + "-byte limit");
    }
    CleanUp(name, versions, *candidate, *raw);
    return std::string(SyncPayload(*raw, *view));
  }
  return Status::IoError(location_ + "/" + name + ": incomplete (still syncing?): " + why);
}

void SyncedSharedFolder::CleanUp(const std::string& name, const Versions& versions,
                                 const Version& winner, const std::string& winner_raw) {
  const int64_t kept = winner.view.header.version;
  if (winner.name != name) {
    // Not over a newer version still arriving, nor over one written since the gathering.
    const bool target_newer_or_unknown =
        versions.target_exists &&
        (!versions.target.view.has_header || versions.target.view.header.version > kept);
    Result<FileHead> now = ReadHead(name);
    const bool target_changed =
        now.ok() != versions.target_exists ||
        (now.ok() && (now->size != versions.target.head.size ||
                      now->modified_unix_ns != versions.target.head.modified_unix_ns));
    if (target_newer_or_unknown || target_changed) return;
    const Status written = local_.WriteFileAtomically(name, winner_raw);
    if (!written.ok()) {
      WarnOnce(name, "sync folder " + location_ + ": cannot write back " + name + ": " +
                         written.ToString());
      return;
    }
    spdlog::info("sync folder {}: {} restored from its conflict copy {} (version {} by {})",
                 location_, name, winner.name, kept, winner.view.header.writer);
  }
  for (const Version& copy : versions.copies) {
    if (copy.view.header.version > kept) continue;  // newer, still arriving: keep
    const Status removed = local_.Remove(copy.name);
    if (removed.ok()) {
      spdlog::info("sync folder {}: removed conflict copy {} of {} (version {} by {}, kept {})",
                   location_, copy.name, name, copy.view.header.version, copy.view.header.writer,
                   kept);
    } else if (!IsNotFound(removed)) {
      WarnOnce(copy.name, "sync folder " + location_ + ": cannot remove conflict copy " +
                              copy.name + ": " + removed.ToString());
    }
  }
}

void SyncedSharedFolder::WarnOnce(const std::string& key, const std::string& message) {
  std::lock_guard<std::mutex> lock(warned_mutex_);
  if (warned_.insert(key).second) spdlog::warn("{}", message);
}

Status SyncedSharedFolder::WriteFileAtomically(const std::string& name,
                                               const std::string& contents) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  if (IsSyncClientTemporary(LastComponent(name))) {
    return Status::InvalidArgument("'" + name +
                                   "' has the name of a sync client's temporary file (List would "
                                   "hide it) in " +
                                   location_);
  }
  // Above the version being replaced even when that writer's clock runs ahead of ours.
  int64_t replaced_version = 0;
  Result<FileHead> head = ReadHead(name);
  if (head.ok()) {
    const Result<SyncFileView> view = InspectSyncHeader(head->prefix, head->size);
    if (view.ok() && view->has_header) replaced_version = view->header.version;
  }
  return local_.WriteFileAtomically(
      name, WrapInSyncEnvelope(contents, NextSyncVersion(replaced_version), writer_, name));
}

Result<std::vector<std::string>> SyncedSharedFolder::List(const std::string& folder) {
  CB_ASSIGN_OR_RETURN(const std::vector<std::string> entries, local_.List(folder));
  std::set<std::string> names;
  for (const std::string& entry : entries) {
    if (IsSyncClientTemporary(entry)) continue;
    if (MayBeConflictCopy(entry)) {
      const Result<FileHead> head = ReadHead(JoinSharedName(folder, entry));
      const Result<SyncFileView> view = head.ok() ? InspectSyncHeader(head->prefix, head->size)
                                                  : Result<SyncFileView>(head.status());
      if (view.ok() && view->has_header) {
        const std::string file = LastComponent(view->header.name);
        if (file != entry && HasConflictCopyShape(entry, file)) {
          names.insert(file);  // shown under its file's name; ReadFile resolves it
          continue;
        }
      }
    }
    names.insert(entry);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Status SyncedSharedFolder::Remove(const std::string& name) {
  CB_RETURN_IF_ERROR(ValidateSharedName(name));
  CB_ASSIGN_OR_RETURN(const SharedFileInfo info, local_.Stat(name));
  if (info.is_folder) return local_.Remove(name);
  Result<Versions> gathered = Gather(name);
  if (!gathered.ok()) {
    if (IsNotFound(gathered.status())) return Status::NotFound(location_ + "/" + name);
    return gathered.status();
  }
  bool removed_any = false;
  // Copies first: a crash in between must not leave a copy that brings the file back.
  for (const Version& copy : gathered->copies) {
    const Status removed = local_.Remove(copy.name);
    if (!removed.ok() && !IsNotFound(removed)) return removed;
    removed_any = removed_any || removed.ok();
  }
  if (gathered->target_exists) {
    const Status removed = local_.Remove(name);
    if (!removed.ok() && !IsNotFound(removed)) return removed;
    removed_any = removed_any || removed.ok();
  }
  return removed_any ? Status::Ok() : Status::NotFound(location_ + "/" + name);
}

Result<SharedFileInfo> SyncedSharedFolder::Stat(const std::string& name) {
  CB_ASSIGN_OR_RETURN(SharedFileInfo info, local_.Stat(name));
  if (name.empty() || info.is_folder) return info;
  Result<Versions> gathered = Gather(name);
  if (!gathered.ok()) return info;  // the parent is missing or not a folder
  const Versions& versions = *gathered;
  // The version ReadFile would pick, judged by length (the CRC needs the whole file).
  const Version* chosen = versions.target_exists ? &versions.target : nullptr;
  const bool target_plain = chosen != nullptr && versions.target_status.ok() &&
                            versions.target.view.state == SyncFileState::kPlain;
  if (!target_plain) {
    const auto better = [](const Version* a, const Version& b) {
      if (a == nullptr || !a->view.has_header) return true;
      const bool a_whole = a->view.state == SyncFileState::kComplete;
      const bool b_whole = b.view.state == SyncFileState::kComplete;
      if (a_whole != b_whole) return b_whole;
      return b.view.header.version > a->view.header.version;
    };
    for (const Version& copy : versions.copies) {
      if (better(chosen, copy)) chosen = &copy;
    }
  }
  if (chosen == nullptr) return info;  // gone meanwhile
  info.exists = true;
  info.is_folder = false;
  info.size = chosen->view.has_header ? chosen->view.header.length : chosen->head.size;
  info.modified_unix_ns = chosen->head.modified_unix_ns;
  return info;
}

}  // namespace cloudbook
