// A project's data as this machine reads it. The data files live in the shared folder's
// working_dir; when that folder is remote (NFS, an rclone remote, a synced folder), each file
// is copied once into this machine's cache (P/cache) and read from there, keyed by the
// file's size and modification time, so training never re-reads a remote file per epoch and
// a replaced file is fetched again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/data/dataset_loader.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

// The local folder holding the current working_dir: working_dir itself when local, else the
// cache copy, refreshed file by file where the shared copy changed. Safe for several agents
// of one machine at once (every cache file is written atomically).
Result<std::string> LocalWorkingDir(const ProjectLayout& layout);

// LoadProblemData on LocalWorkingDir(layout).
Result<ProblemData> LoadProjectData(const ProjectLayout& layout, const ProjectProgram& program,
                                    const std::vector<int64_t>& input_shape);

}  // namespace cloudbook
