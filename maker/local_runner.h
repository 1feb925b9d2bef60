// Local mode: runs the deconstructed program in one process, no agents. Reads the DU files
// the maker wrote (exactly what agents will read), trains every subnet (one after another,
// or `jobs` at a time on the available cores), composes their test predictions, optionally
// trains the original network as a baseline, and writes distributed/results/<run>.json.
// With original_only, trains only the original network (DU 0's), alone: the reference the
// benchmarks time against (no subnets, no composition).
#pragma once

#include <string>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

struct LocalRunOptions {
  std::string project_folder;
  bool baseline = false;  // also train the original network for comparison, after the
                          // subnets, on its train.threads (the subnets' too)
  int jobs = 0;           // subnets trained at the same time (0 = as many as fit in threads)
  int threads = 0;        // threads in total (0 = every core); each subnet trains on its
                          // DU's train.threads, whatever this is, as on an agent
  std::string run_name;   // empty: local-<UTC time>

  // Train only the original network, on `threads` threads (no subnets): the results hold it
  // as "baseline" and "composed" is null.
  bool original_only = false;
};

struct LocalRunReport {
  Json results;
  std::string results_path;
};

Result<LocalRunReport> RunLocally(const LocalRunOptions& options);

// The human summary printed at the end (per-subnet, composed and baseline metrics, times).
std::string FormatResultsSummary(const Json& results);

}  // namespace cloudbook
