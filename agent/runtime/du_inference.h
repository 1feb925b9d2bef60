// The DU function `infer`: a finished run's subnets of one DU applied to given samples, the
// agent's share of serving a model (cloudbook-serve's distributed mode, docs/serve.md). Any
// agent answers for ANY DU: the weights are in the shared folder
// (distributed/models/<run>/, shared/formats/run_model.h), so a lost owner's DUs are served
// elsewhere at once. Predictors are loaded lazily per (run, DU) and kept in a bounded cache
// (serve_model_cache, least recently used dropped; model.json read again every
// serve_model_recheck_ms so a run made again under its name is not served stale).
// Cores: `infer` never waits for the lent-core training slot: a batch takes milliseconds, on
// the subnet's train.threads (so answers equal ModelPredictor's), beside any training; what
// bounds it is the input (CheckInferInput) and the transport's worker count.
// Thread-safe: calls for different (run, DU) run concurrently, calls for one take turns.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shared/data/array.h"
#include "shared/project_layout.h"
#include "shared/status.h"

namespace cloudbook {

// Checks a model input's size against the DU limits of shared/subnet_spec.h (1 to
// kMaxBatchSize samples, at most kMaxValuesPerSample values each, kMaxBatchValues in all; the
// values filling the shape) before anything is computed. InvalidArgument saying which.
Status CheckInferInput(const Array& x);

class DuInference {
 public:
  explicit DuInference(SharedFolderLayout shared);
  ~DuInference();
  DuInference(const DuInference&) = delete;
  DuInference& operator=(const DuInference&) = delete;

  // The outputs of DU `du`'s subnets in run `run`'s model for `x` (the model input already
  // divided by ModelInputScale: [samples, input_shape...] or [samples, their product]), as
  // (subnet index, [samples, its outputs]) in subnet order. Errors: InvalidArgument for a bad
  // run name, an input out of bounds or of the wrong shape, a DU the model does not hold;
  // NotFound when the run has no model; Corruption for damaged weights (the file named).
  Result<std::vector<std::pair<int, Array>>> Infer(const std::string& run, int du, const Array& x);

  // (run, DU) predictors loaded now.
  size_t loaded() const;

 private:
  struct Entry;
  std::shared_ptr<Entry> Find(const std::string& run, int du);

  const SharedFolderLayout shared_;
  mutable std::mutex mutex_;
  // Most recently used first; guarded by mutex_.
  std::list<std::pair<std::pair<std::string, int>, std::shared_ptr<Entry>>> entries_;
};

}  // namespace cloudbook
