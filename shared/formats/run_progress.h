// distributed/runs/<run>.json: a run in progress as agent 0 records it (its one writer,
// agent/core/run_progress_recorder.h, atomic rewrites) and the dashboard shows it. The
// header fields are typed here; the per-DU lines, per-subnet curves, baseline progress and
// notes are folded from agent 0's events as they come (docs/dashboard.md lists their fields)
// and passed to the page as they are. Free functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kRunProgressFormatVersion = 1;

// Why a run found "running" by agent 0's next start failed.
inline constexpr const char* kAbandonedRunError = "agent 0 stopped during the run";

struct RunProgress {
  std::string run;
  std::string state = "running";  // running | done | failed
  std::string agent_0_host;       // the process writing it
  int64_t agent_0_pid = 0;
  int64_t started_ms = 0;  // unix ms, the writer's clock; 0 when unknown
  int64_t updated_ms = 0;  // changes at least every heartbeat while the writer lives
  double elapsed_seconds = 0;
  std::string project;
  int64_t dus_count = 0;
  std::string error;  // "" when none
  Json composed;      // metrics once done, else null
  Json baseline;      // idem
  Json dus = Json::array();
  Json subnets = Json::array();
  Json baseline_progress;  // null until the baseline reports
  Json notes = Json::array();
};

// The document as written ("format_version", "run", "state", "agent_0": {host, pid},
// "started", "updated", "elapsed_seconds", "project", "dus_count", "dus", "subnets",
// "baseline_progress", "notes", "composed", "baseline", "error": null or text).
Json ToJson(const RunProgress& progress);

// Reads a document leniently, as the dashboard needs it: a JSON object is required; a field
// that is missing or of the wrong type keeps its default.
Result<RunProgress> RunProgressFromJson(const Json& json);

// Rewrites every <runs_folder>/<run>.json still "running" as "failed" with
// kAbandonedRunError. Called by agent 0 when it starts, before it takes any run (one agent 0
// per project, so such a run has no writer left). Returns the runs marked; a file that does
// not read or write is logged and skipped.
std::vector<std::string> MarkAbandonedRuns(const std::string& runs_folder);

}  // namespace cloudbook
