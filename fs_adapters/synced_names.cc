#include "fs_adapters/synced_names.h"

#include <algorithm>
#include <boost/algorithm/string/predicate.hpp>
#include <cctype>

#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

using boost::algorithm::ends_with;
using boost::algorithm::iends_with;
using boost::algorithm::starts_with;

bool AllOf(const std::string& text, bool (*allowed)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), allowed);
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

bool IsStampChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; }

// " (N)", N without a leading zero, up to 9999.
bool IsDriveMiddle(const std::string& middle) {
  if (middle.size() < 4 || middle.size() > 7 || !starts_with(middle, " (") ||
      middle.back() != ')') {
    return false;
  }
  const std::string number = middle.substr(2, middle.size() - 3);
  return number[0] != '0' && AllOf(number, [](char c) { return c >= '0' && c <= '9'; });
}

bool IsOneDriveMiddle(const std::string& middle) {
  return middle.size() >= 2 && middle.size() <= 65 && middle[0] == '-' &&
         AllOf(middle.substr(1), IsHostChar);
}

bool IsConflictedCopyMiddle(const std::string& middle) {
  return starts_with(middle, " (") && middle.back() == ')' &&
         boost::algorithm::icontains(middle, "conflicted copy");
}

bool IsSyncthingMiddle(const std::string& middle) {
  static const std::string kMarker = ".sync-conflict-";
  return starts_with(middle, kMarker) && AllOf(middle.substr(kMarker.size()), IsStampChar);
}

}  // namespace

bool IsSyncClientTemporary(const std::string& file_name) {
  if (IsHiddenTemporary(file_name)) return true;
  static const char* const kExact[] = {"desktop.ini", "thumbs.db",          ".ds_store",
                                       "icon\r",      ".tmp.drivedownload", ".tmp.driveupload",
                                       ".stfolder",   ".stversions"};
  static const char* const kPrefixes[] = {"~$", ".~lock.", ".goutputstream-", ".dropbox"};
  static const char* const kSuffixes[] = {".tmp", ".partial", ".part", ".crdownload", ".~tmp"};
  for (const char* exact : kExact) {
    if (boost::algorithm::iequals(file_name, exact)) return true;
  }
  for (const char* prefix : kPrefixes) {
    if (boost::algorithm::istarts_with(file_name, prefix)) return true;
  }
  for (const char* suffix : kSuffixes) {
    if (iends_with(file_name, suffix)) return true;
  }
  // Nextcloud downloads into ".<name>.~<hex>" next to the file.
  const size_t tilde = file_name.rfind(".~");
  return file_name.size() > 1 && file_name[0] == '.' && tilde != std::string::npos && tilde > 0 &&
         AllOf(file_name.substr(tilde + 2),
               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool HasConflictCopyShape(const std::string& candidate, const std::string& file_name) {
  const size_t dot = file_name.rfind('.');
  const size_t stem_size = (dot == std::string::npos || dot == 0) ? file_name.size() : dot;
  const std::string stem = file_name.substr(0, stem_size);
  const std::string ext = file_name.substr(stem_size);
  if (candidate.size() <= file_name.size() || !starts_with(candidate, stem) ||
      !ends_with(candidate, ext)) {
    return false;
  }
  const std::string middle =
      candidate.substr(stem.size(), candidate.size() - stem.size() - ext.size());
  return IsDriveMiddle(middle) || IsOneDriveMiddle(middle) || IsConflictedCopyMiddle(middle) ||
         IsSyncthingMiddle(middle);
}

bool MayBeConflictCopy(const std::string& candidate) {
  // Every middle above holds '-' or " (".
  return candidate.find('-') != std::string::npos || candidate.find(" (") != std::string::npos;
}

}  // namespace cloudbook
