// File operations the agent needs beyond shared/atomic_file.h: atomic writes of private files
// (mode 0600 from the first byte: the local config holds secret keys) and bounded reads that
// refuse symlinks (a file in the shared folder is written by another machine and trusted only
// after checks).
#pragma once

#include <string>

#include "shared/atomic_file.h"  // ReadRegularFileBounded
#include "shared/status.h"

namespace cloudbook {

// Like WriteFileAtomically, but the temporary file is created with mode 0600 (so the secret
// is never readable by others, whatever the umask) and new parent folders get mode 0700.
Status WritePrivateFileAtomically(const std::string& path, const std::string& contents);
// The same, but fails with InvalidArgument ("... already exists") instead of replacing an
// existing file: the complete file appears at once (link(2)), or nothing does.
Status WritePrivateFileExclusively(const std::string& path, const std::string& contents);

// Permission bits of a file (st_mode & 0777), or -1 when it cannot be stat'ed.
int FileMode(const std::string& path);

}  // namespace cloudbook
