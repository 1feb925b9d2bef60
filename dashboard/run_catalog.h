// The runs a project has had and has: live ones from distributed/runs/<run>.json (agent 0's
// progress file, agent/core/run_progress_recorder.h) and finished ones from
// distributed/results/<run>.json. Files are re-read only when their size or time changes
// (a project accumulates runs; the dashboard refreshes every two seconds). A file that does
// not read (truncated, not JSON, oversized, a symlink) is logged once and left out.
// Not thread-safe: the dashboard guards it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

// A "running" progress file whose "updated" did not change for run_stalled_after_ms
// (shared/tunables_def.h) on the dashboard's own steady clock is reported as "stalled" (agent 0
// rewrites it at least every run_progress_heartbeat_ms while the run lives; no comparison with
// agent 0's wall clock, which may be off).
inline constexpr size_t kMaxRunFileBytes = 32 * 1024 * 1024;

class RunCatalog {
 public:
  explicit RunCatalog(ProjectLayout layout);

  // Rescans both folders. Summaries, newest first: {run, state, started, updated,
  // elapsed_seconds, dus, composed, baseline}. `steady_ms`: the caller's SteadyNowMs(), the
  // clock that times how long a running run's file stayed unchanged.
  Json List(int64_t steady_ms);
  // One run: per-DU state, per-subnet history, metrics (docs/dashboard.md). NotFound for an
  // unknown run, InvalidArgument for a name that is not a run name.
  Result<Json> Detail(const std::string& run, int64_t steady_ms);

 private:
  struct CachedFile {
    uint64_t size = 0;
    int64_t modified_ns = 0;
    Json document;  // null when the file did not read
  };
  // The parsed file, from the cache when unchanged; null when absent or unreadable.
  const Json& Load(const std::string& path);
  Json Summary(const std::string& run, const Json& progress, const Json& results,
               int64_t steady_ms);

  ProjectLayout layout_;
  std::map<std::string, CachedFile> files_;
  std::set<std::string> reported_;  // unreadable files already logged
  struct Heard {
    int64_t updated = 0;    // the run file's "updated" (agent 0's clock)
    int64_t steady_ms = 0;  // when this dashboard saw it change (its steady clock)
  };
  // Notes when each running run's "updated" changed; true while it did within the limit.
  bool StillWritten(const std::string& run, int64_t updated, int64_t steady_ms);
  std::map<std::string, Heard> heard_;
};

// "20261204T161500Z" (the results' "started") as unix ms; 0 when it is not one.
int64_t ParseCompactUtc(const std::string& text);

}  // namespace cloudbook
