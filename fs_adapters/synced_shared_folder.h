// The sync-tolerant local back end: a local folder that a desktop sync client (Google Drive,
// OneDrive, Dropbox...) keeps in step with other machines, the original manual's way of
// sharing the project folder. Location "sync:///abs/path" or "sync://relative/path".
//
// Built on LocalSharedFolder (composition), it adds what such a folder needs:
// - every file it writes is wrapped in an envelope (sync_envelope.h) naming its length, CRC,
//   version and logical name, so a half-delivered file is an IoError "incomplete (still
//   syncing?)" (callers poll and retry), never partial data; a file without the envelope
//   (training data put there by the user) is read as is;
// - List hides the clients' temporaries and shows a conflict copy under its file's name;
// - ReadFile(X) gathers X and its conflict copies, returns the complete one with the highest
//   version, and cleans up: losing copies are removed, a winning copy is written back as X.
// See docs/shared-folder.md for the rules and their limits.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fs_adapters/local_shared_folder.h"
#include "fs_adapters/sync_envelope.h"
#include "shared/shared_folder.h"

namespace cloudbook {

class SyncedSharedFolder : public SharedFolder {
 public:
  // `root`: the local folder the sync client keeps in step; `location`: what Describe says.
  SyncedSharedFolder(std::string root, std::string location);

  Result<std::string> ReadFile(const std::string& name, size_t max_bytes) override;
  // Refuses names a sync client uses for its temporaries (List would hide them).
  Status WriteFileAtomically(const std::string& name, const std::string& contents) override;
  Result<std::vector<std::string>> List(const std::string& folder) override;
  // Removes the file and its conflict copies (else a copy would bring it back).
  Status Remove(const std::string& name) override;
  // A file's size is the payload's (of the version ReadFile would choose).
  Result<SharedFileInfo> Stat(const std::string& name) override;
  Status MakeFolders(const std::string& folder) override { return local_.MakeFolders(folder); }
  // None: the files on disk hold envelopes, readers must go through ReadFile.
  std::optional<std::string> LocalPath(const std::string&) const override { return std::nullopt; }
  std::string Describe() const override { return location_; }

 private:
  // One file's first bytes, its size and modification time.
  struct FileHead {
    std::string prefix;
    uint64_t size = 0;
    int64_t modified_unix_ns = 0;
  };
  // One version of a logical file on disk: the file itself or a conflict copy.
  struct Version {
    std::string name;  // in the folder
    FileHead head;
    SyncFileView view;  // from the head only
  };
  // A logical file's versions. `target_status` is not ok when the file's own header is corrupt.
  struct Versions {
    bool target_exists = false;
    Version target;
    Status target_status;
    std::vector<Version> copies;  // header whole and naming the file
  };

  Result<FileHead> ReadHead(const std::string& name);
  // NotFound when the file's folder is absent.
  Result<Versions> Gather(const std::string& name);
  // `head`, when it holds the whole file, saves a second read.
  Result<std::string> ReadAndUnwrap(const std::string& name, size_t max_bytes,
                                    const FileHead* head = nullptr);
  // Removes copies not newer than the winner; writes a winning copy back as the file.
  void CleanUp(const std::string& name, const Versions& versions, const Version& winner,
               const std::string& winner_raw);
  void WarnOnce(const std::string& key, const std::string& message);

  LocalSharedFolder local_;
  const std::string location_;
  const std::string writer_;
  std::mutex warned_mutex_;
  std::set<std::string> warned_;
};

}  // namespace cloudbook
