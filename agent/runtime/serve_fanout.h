// Agent 0's share of serving a model across the agents (cloudbook-serve's distributed mode,
// docs/serve.md), behind the control channel's `serve_predict`. For one batch, every DU of the
// run's model is applied by `infer` (du_inference.h) on its owner in distributed/assignment.json,
// all in parallel (agent 0's own DUs in this process, on the calling thread), and the subnets'
// outputs are composed by the model's rule. Failover: an owner that is lost, refuses or misses
// serve_infer_timeout_ms is skipped for serve_peer_retry_ms (then asked again once its
// heartbeats are back), and its DUs are applied by agent 0 itself at once from the model
// folder, so no batch fails while an agent dies; only its latency grows.
// Thread-safe: batches may run concurrently. Torch-free (the DUs are reached through a DuCaller).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/runtime/run_coordinator.h"
#include "shared/composed_score.h"
#include "shared/data/array.h"
#include "shared/formats/assignment.h"
#include "shared/formats/run_model.h"
#include "shared/status.h"

namespace cloudbook {

struct ServedBatch {
  ComposedOutputs composed;
  std::map<int, std::string> served_by;  // DU -> the agent whose answer was used
  int failovers = 0;                     // DUs applied here because their owner failed
};

class ServeFanOut {
 public:
  // `caller` reaches the agents (agent 0's AgentNode); it must outlive this object.
  ServeFanOut(std::string shared_folder, std::string own_id, DuCaller* caller);
  ~ServeFanOut();  // waits for the calls in flight (each bounded by its deadline)
  ServeFanOut(const ServeFanOut&) = delete;
  ServeFanOut& operator=(const ServeFanOut&) = delete;

  // The composed outputs of run `run`'s model for `x` (already divided by ModelInputScale).
  // InvalidArgument for input the model cannot take or a bad run name, NotFound for a run
  // without a model; otherwise an error only when agent 0 itself cannot apply a DU.
  Result<ServedBatch> Predict(const std::string& run, const Array& x);

 private:
  struct Remote;
  Result<RunModel> Model(const std::string& run);
  std::optional<Assignment> CurrentAssignment();
  // Whether `agent` should be asked now: not skipped after a failure, and connected.
  bool Usable(const std::string& agent);
  void MarkDown(const std::string& agent, const Status& why, int du);
  DuCallOutcome Infer(const std::string& agent, const std::string& run, int du,
                      const std::shared_ptr<const Array>& x);
  void Submit(std::function<void()> task);
  void Work();

  const std::string shared_folder_;
  const std::string own_id_;
  DuCaller* const caller_;

  std::mutex mutex_;  // guards the caches below
  struct CachedModel {
    RunModel model;
    std::chrono::steady_clock::time_point checked;
  };
  std::map<std::string, CachedModel> models_;
  std::optional<Assignment> assignment_;
  std::chrono::steady_clock::time_point assignment_read_{};
  std::map<std::string, std::chrono::steady_clock::time_point> down_until_;

  // Threads that make the remote calls (each blocks in CallDu): started as needed.
  std::mutex pool_mutex_;
  std::condition_variable pool_wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by pool_mutex_
  std::vector<std::thread> workers_;         // guarded by pool_mutex_
  size_t idle_ = 0;                          // guarded by pool_mutex_
  bool stopping_ = false;                    // guarded by pool_mutex_
};

}  // namespace cloudbook
