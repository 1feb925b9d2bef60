// Writes distributed/runs/<run>.json (shared/formats/run_progress.h). Agent 0 folds the
// coordinator's events (agent/runtime/run_coordinator.h) into one document: every DU's state
// and agent, every subnet's per-epoch history (loss, accuracy, validation), the latest notes.
// The file is rewritten from the recorder's own thread, at most once per `min_interval` and
// at least every `heartbeat` (so a reader can tell a stalled run: "updated" changes, judged
// on the reader's own clock), so a slow shared folder never slows the run. The final write
// says "done" or "failed". "agent_0" names the process writing it ({host, pid}); agent 0 at
// its next start marks runs it left "running" as failed (MarkAbandonedRuns, in the format).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shared/formats/run_progress.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"
#include "shared/wire/wire_message.h"

namespace cloudbook {

class RunProgressRecorder {
 public:
  // Writes into `shared_folder`'s runs/ folder.
  RunProgressRecorder(
      SharedFolderLayout shared_folder,
      std::chrono::milliseconds min_interval = GetTunables().run_progress_min_interval_ms,
      std::chrono::milliseconds heartbeat = GetTunables().run_progress_heartbeat_ms);
  // Finishes as "failed" ("the run ended without a result") when Finish was not called.
  ~RunProgressRecorder();
  RunProgressRecorder(const RunProgressRecorder&) = delete;
  RunProgressRecorder& operator=(const RunProgressRecorder&) = delete;

  // Thread-safe; cheap (no I/O).
  void OnEvent(const WireArguments& event);
  // Writes the final document at once ("done" with the composed and baseline metrics, or
  // "failed" with the error) and stops the writer thread. Later calls do nothing.
  void Finish(const std::string& state, const std::string& error, const Json& composed,
              const Json& baseline);
  // A copy of the document as it stands.
  Json Document() const;

 private:
  void WriterLoop();
  void WriteNow(const Json& document, const std::string& path);

  const SharedFolderLayout shared_folder_;
  const std::chrono::milliseconds min_interval_;
  const std::chrono::milliseconds heartbeat_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  RunProgress document_;
  std::string path_;  // "" until the first event names the run
  bool dirty_ = false;
  bool finished_ = false;
  std::thread writer_;
};

}  // namespace cloudbook
