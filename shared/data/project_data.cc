#include "shared/data/project_data.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>

#include "shared/atomic_file.h"
#include "shared/shared_files.h"
#include "shared/shared_folder_mounts.h"
#include "shared/shared_folder_names.h"

namespace cloudbook {

namespace {

// Data files in working_dir are the project's own; this bound only stops a runaway.
constexpr size_t kMaxCachedFileBytes = size_t{16} << 30;
constexpr int kMaxFolderDepth = 8;

// What a cached copy was made from: the shared file's size and modification time.
std::string VersionOf(const SharedFileInfo& info) {
  return std::to_string(info.size) + " " + std::to_string(info.modified_unix_ns) + "\n";
}

// One cache folder per shared location, so two projects (or a moved folder) never mix.
std::string CacheFolderFor(const ProjectLayout& layout) {
  const size_t hash = std::hash<std::string>{}(layout.working_dir());
  char name[32];
  std::snprintf(name, sizeof name, "/working_dir-%016zx", hash);
  return layout.local_cache() + name;
}

Status CopyFolder(const std::string& shared, const std::string& local, int depth, int* fetched,
                  uint64_t* fetched_bytes) {
  if (depth > kMaxFolderDepth) return Status::InvalidArgument(shared + ": folders nest too deep");
  CB_ASSIGN_OR_RETURN(const std::vector<std::string> names, ListFolder(shared));
  CB_RETURN_IF_ERROR(MakeFolders(local));
  for (const std::string& name : names) {
    if (name.empty() || name[0] == '.') continue;  // hidden: temporaries, our version files
    // A listing comes from another machine: a name must not lead out of the cache folder.
    if (name.find('/') != std::string::npos || !ValidateSharedName(name).ok()) {
      spdlog::warn("skipping {}/{}: not a plain file name", shared, name);
      continue;
    }
    const std::string source = shared + "/" + name;
    const std::string target = local + "/" + name;
    CB_ASSIGN_OR_RETURN(const SharedFileInfo info, StatPath(source));
    if (!info.exists) continue;  // removed since the listing
    if (info.is_folder) {
      CB_RETURN_IF_ERROR(CopyFolder(source, target, depth + 1, fetched, fetched_bytes));
      continue;
    }
    const std::string version_file = local + "/." + name + ".version";
    const std::string version = VersionOf(info);
    const Result<std::string> cached_version = ReadWholeFile(version_file);
    const Result<SharedFileInfo> cached = StatPath(target);
    if (cached_version.ok() && *cached_version == version && cached.ok() && cached->exists &&
        cached->size == info.size) {
      continue;  // this copy is current
    }
    CB_ASSIGN_OR_RETURN(const std::string contents,
                        ReadRegularFileBounded(source, kMaxCachedFileBytes));
    CB_RETURN_IF_ERROR(WriteFileAtomically(target, contents));
    CB_RETURN_IF_ERROR(WriteFileAtomically(version_file, version));  // after the data
    ++*fetched;
    *fetched_bytes += contents.size();
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> LocalWorkingDir(const ProjectLayout& layout) {
  if (!IsRemoteLocation(layout.working_dir())) return layout.working_dir();
  const std::string local = CacheFolderFor(layout);
  const auto start = std::chrono::steady_clock::now();
  int fetched = 0;
  uint64_t fetched_bytes = 0;
  const Status copied = CopyFolder(layout.working_dir(), local, 0, &fetched, &fetched_bytes);
  if (!copied.ok()) return copied.WithContext("caching " + layout.working_dir() + " in " + local);
  if (fetched > 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("fetched {} data file(s), {:.1f} MB, from {} into {} in {:.2f} s", fetched,
                 fetched_bytes / 1e6, layout.working_dir(), local, seconds);
  }
  return local;
}

Result<ProblemData> LoadProjectData(const ProjectLayout& layout, const ProjectProgram& program,
                                    const std::vector<int64_t>& input_shape) {
  CB_ASSIGN_OR_RETURN(const std::string folder, LocalWorkingDir(layout));
  return LoadProblemData(program, input_shape, folder, layout.image_cache());
}

}  // namespace cloudbook
