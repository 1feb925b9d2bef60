#include "fs_adapters/rclone_listing.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "fs_adapters/rclone_rc.h"
#include "shared/shared_folder_names.h"
#include "shared/tunables.h"

namespace cloudbook {

namespace {

// Newer first: ModTime, then the greater ID.
bool Newer(const RcloneEntry& a, const RcloneEntry& b) {
  if (a.modified_unix_ns != b.modified_unix_ns) return a.modified_unix_ns > b.modified_unix_ns;
  return a.id > b.id;
}

}  // namespace

Result<RcloneEntry> ParseRcloneEntry(const nlohmann::json& item) {
  if (!item.is_object()) return Status::Corruption("rclone listing item is not an object");
  const auto name = item.find("Name");
  const auto is_dir = item.find("IsDir");
  const auto size = item.find("Size");
  const auto modified = item.find("ModTime");
  if (name == item.end() || !name->is_string() || is_dir == item.end() || !is_dir->is_boolean() ||
      size == item.end() || !size->is_number_integer() || modified == item.end() ||
      !modified->is_string()) {
    return Status::Corruption("rclone listing item lacks Name, IsDir, Size or ModTime: " +
                              item.dump());
  }
  RcloneEntry entry;
  entry.name = name->get<std::string>();
  entry.is_folder = is_dir->get<bool>();
  const int64_t bytes = size->get<int64_t>();
  entry.size = bytes > 0 ? static_cast<uint64_t>(bytes) : 0;
  if (!ParseRcloneTime(modified->get<std::string>(), &entry.modified_unix_ns)) {
    return Status::Corruption("rclone listing item has a malformed ModTime: " + item.dump());
  }
  const auto id = item.find("ID");
  if (id != item.end() && id->is_string()) entry.id = id->get<std::string>();
  return entry;
}

Result<std::vector<RcloneEntry>> ParseRcloneList(const nlohmann::json& reply) {
  const auto list = reply.find("list");
  if (list == reply.end() || !list->is_array()) {
    return Status::Corruption("rclone operations/list reply has no \"list\" array");
  }
  std::vector<RcloneEntry> entries;
  for (const nlohmann::json& item : *list) {
    CB_ASSIGN_OR_RETURN(RcloneEntry entry, ParseRcloneEntry(item));
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<DuplicateChoice> ChooseEntry(const std::vector<RcloneEntry>& entries,
                                           const std::string& name) {
  std::vector<const RcloneEntry*> files;
  const RcloneEntry* folder = nullptr;
  for (const RcloneEntry& entry : entries) {
    if (entry.name != name) continue;
    if (entry.is_folder) {
      if (folder == nullptr) folder = &entry;
    } else {
      files.push_back(&entry);
    }
  }
  if (files.empty()) {
    if (folder == nullptr) return std::nullopt;
    return DuplicateChoice{*folder, {}};
  }
  std::sort(files.begin(), files.end(),
            [](const RcloneEntry* a, const RcloneEntry* b) { return Newer(*a, *b); });
  DuplicateChoice choice{*files.front(), {}};
  for (size_t i = 1; i < files.size(); ++i) choice.older.push_back(*files[i]);
  return choice;
}

CollapsedListing CollapseListing(const std::vector<RcloneEntry>& entries) {
  std::map<std::string, int> files_per_name;
  for (const RcloneEntry& entry : entries) {
    if (IsHiddenTemporary(entry.name)) continue;
    int& count = files_per_name[entry.name];
    if (!entry.is_folder) ++count;
  }
  CollapsedListing listing;
  for (const auto& [name, files] : files_per_name) {
    listing.names.push_back(name);  // std::map: sorted, once each
    if (files > 1) listing.duplicates.push_back(*ChooseEntry(entries, name));
  }
  return listing;
}

std::optional<int64_t> DuplicateRemovalCutoff(const DuplicateChoice& choice) {
  const int64_t cutoff =
      choice.keep.modified_unix_ns - GetTunables().duplicate_removal_margin_ms.count() * 1'000'000;
  for (const RcloneEntry& copy : choice.older) {
    if (copy.modified_unix_ns <= cutoff) return cutoff;
  }
  return std::nullopt;
}

bool ShowsWriteInFlight(const std::vector<RcloneEntry>& parent_entries, const std::string& leaf,
                        int64_t now_unix_ns, int64_t max_temporary_age_ns) {
  const std::string temporary_prefix = "." + leaf + ".tmp-";
  for (const RcloneEntry& entry : parent_entries) {
    if (entry.name == leaf) return true;
    if (entry.is_folder || entry.name.compare(0, temporary_prefix.size(), temporary_prefix) != 0) {
      continue;
    }
    if (now_unix_ns - entry.modified_unix_ns < max_temporary_age_ns) return true;
  }
  return false;
}

}  // namespace cloudbook
