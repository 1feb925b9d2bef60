// Reading rclone listings (operations/list, operations/stat: lsjson items) and the choices
// made on them: which copy of a duplicated name counts (Google Drive lets one folder hold
// several files of one name), and whether a missing file is only being replaced right now.
// Pure functions, unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "shared/status.h"

namespace cloudbook {

struct RcloneEntry {
  std::string name;  // the last path component
  bool is_folder = false;
  uint64_t size = 0;  // 0 for folders (rclone says -1)
  int64_t modified_unix_ns = 0;
  std::string id;  // the remote's own ID when it has one (Drive, OneDrive), else ""
};

// One lsjson item ({"Name", "IsDir", "Size", "ModTime", "ID"?}). Corruption when a field is
// missing or of the wrong type.
Result<RcloneEntry> ParseRcloneEntry(const nlohmann::json& item);
// The "list" array of an operations/list reply.
Result<std::vector<RcloneEntry>> ParseRcloneList(const nlohmann::json& reply);

// Several entries of one file name: the copy that counts and the copies to remove.
struct DuplicateChoice {
  RcloneEntry keep;
  std::vector<RcloneEntry> older;
};

// The entry named `name` among `entries`: the newest file by ModTime (ties: the greater ID,
// so that every client picks the same one), or the folder when there is no file. nullopt
// when no entry has that name. `older` lists the other files of that name (never folders).
std::optional<DuplicateChoice> ChooseEntry(const std::vector<RcloneEntry>& entries,
                                           const std::string& name);

// A listing as List returns it: each name once, sorted, hidden temporaries left out; and
// the names held by several files, with the copy that counts.
struct CollapsedListing {
  std::vector<std::string> names;
  std::vector<DuplicateChoice> duplicates;
};
CollapsedListing CollapseListing(const std::vector<RcloneEntry>& entries);

// Older copies are removed with a filter on modification time, which rclone evaluates
// against its own clock: copies closer than duplicate_removal_margin_ms (shared/tunables_def.h)
// to the one kept are left alone rather than risking the newest.
// The cutoff (remove files modified at or before it), or nullopt when no older copy is far
// enough from the kept one.
std::optional<int64_t> DuplicateRemovalCutoff(const DuplicateChoice& choice);

// rclone replaces a file by deleting it and then moving the new one in (operations/movefile),
// so for a moment the name is missing. True when the parent's listing shows that `leaf` is
// being written: the name itself is back, or a hidden temporary of it (".<leaf>.tmp-...")
// modified less than `max_temporary_age_ns` before `now_unix_ns` (older ones are crashed
// writers). A reader that found `leaf` missing then looks again.
bool ShowsWriteInFlight(const std::vector<RcloneEntry>& parent_entries, const std::string& leaf,
                        int64_t now_unix_ns, int64_t max_temporary_age_ns);

}  // namespace cloudbook
