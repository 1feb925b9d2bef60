// Names that desktop sync clients (Google Drive, OneDrive, Dropbox, Nextcloud, Syncthing)
// put into a folder they keep in step: their temporaries and bookkeeping files, and the
// names of the copies they make when two machines changed one file ("conflict copies").
// Shapes only: whether a file with a copy's shape IS a copy is decided by the logical name
// in its envelope (sync_envelope.h), because "du-3.json" is also a legitimate file name.
#pragma once

#include <string>

namespace cloudbook {

// A file name (one component) a sync client or a desktop creates for itself: "~$*",
// ".~lock.*#", "*.tmp", "*.partial", "*.part", "*.crdownload", "*.~tmp", ".goutputstream-*",
// ".<name>.~<hex>" (Nextcloud), "desktop.ini", "Thumbs.db", ".DS_Store", "Icon\r",
// ".dropbox*", ".tmp.drivedownload", ".tmp.driveupload", ".stfolder", ".stversions",
// and our own hidden temporaries (".x.tmp-..."). Suffixes ignore case.
bool IsSyncClientTemporary(const std::string& file_name);

// True when `candidate` has the shape of a conflict copy of `file_name` (both one
// component). With `file_name` = stem + ext (ext: from the last '.', unless the name starts
// with it), `candidate` is stem + middle + ext where middle is
//   " (N)"                          N = 1..9999, no leading zero      (Google Drive)
//   "-HOST" or "-HOST-N"            HOST = 1..64 of [A-Za-z0-9_-]      (OneDrive)
//   " (...conflicted copy...)"      case-insensitive                   (Dropbox, Nextcloud)
//   ".sync-conflict-..."            [A-Za-z0-9-]                       (Syncthing)
bool HasConflictCopyShape(const std::string& candidate, const std::string& file_name);

// A cheap pre-filter: false when `candidate` is a conflict copy of no name at all.
bool MayBeConflictCopy(const std::string& candidate);

}  // namespace cloudbook
