// Names inside a shared folder: validation (relative paths that cannot escape the root) and
// the hidden temporary names used by atomic writes, shared by every back end so that each
// one skips the others' temporaries.
#pragma once

#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

// A valid name is a relative '/'-separated path of non-empty components, none of them "." or
// "..", without NUL or backslash, at most 1024 bytes (200 per component: room for the
// temporary-name suffix). `allow_root` accepts "" (the folder itself: List, Stat, MakeFolders).
Status ValidateSharedName(const std::string& name, bool allow_root = false);

std::vector<std::string> SplitSharedName(const std::string& name);

// ".<file>.tmp-<suffix>": the temporary a write of <file> goes through. Matches the
// convention of shared/atomic_file.cc.
bool IsHiddenTemporary(const std::string& file_name);
std::string TemporaryNameFor(const std::string& name);  // same folder as `name`

// "a/b" + "c" -> "a/b/c"; "" + "c" -> "c".
std::string JoinSharedName(const std::string& folder, const std::string& name);
std::string ParentOfSharedName(const std::string& name);  // "" for a top-level name

}  // namespace cloudbook
