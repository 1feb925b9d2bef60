#include "agent/runtime/serve_fanout.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/runtime/du_inference.h"
#include "shared/nn/model_predictor.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"
#include "shared/wire/wire_arrays.h"

namespace cloudbook {

// One DU sent to another agent, and where its answer lands.
struct ServeFanOut::Remote {
  int du = -1;
  std::string agent;
  DuCallOutcome outcome;
};

namespace {

// The remote calls of one batch, counted down by the pool's threads.
struct Pending {
  std::mutex mutex;
  std::condition_variable done;
  size_t remaining = 0;
};

// Calls that never return (a wedged DuCaller) must not keep many threads: the pool grows to
// this many at most; further calls wait in its queue.
constexpr size_t kMaxFanOutThreads = 64;

Result<std::map<int, Array>> SubnetArraysOf(const DuCallOutcome& outcome) {
  if (!outcome.status.ok()) return outcome.status;
  return SubnetArraysFromReply(outcome.reply);
}

}  // namespace

ServeFanOut::ServeFanOut(std::string shared_folder, std::string own_id, DuCaller* caller)
    : shared_folder_(std::move(shared_folder)), own_id_(std::move(own_id)), caller_(caller) {}

ServeFanOut::~ServeFanOut() {
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    stopping_ = true;
  }
  pool_wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ServeFanOut::Submit(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  tasks_.push_back(std::move(task));
  if (idle_ < tasks_.size() && workers_.size() < kMaxFanOutThreads) {
    workers_.emplace_back([this] { Work(); });
  } else {
    pool_wake_.notify_one();
  }
}

void ServeFanOut::Work() {
  std::unique_lock<std::mutex> lock(pool_mutex_);
  for (;;) {
    ++idle_;
    pool_wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) return;  // stopping, nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

Result<RunModel> ServeFanOut::Model(const std::string& run) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = models_.find(run);
    if (found != models_.end() &&
        now - found->second.checked < GetTunables().serve_model_recheck_ms) {
      return found->second.model;
    }
  }
  Result<RunModel> model = ReadRunModel(SharedFolderLayout(shared_folder_), run);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!model.ok()) {
    models_.erase(run);
    return model.status();
  }
  if (models_.size() >= std::max<size_t>(1, GetTunables().serve_model_cache)) models_.clear();
  models_[run] = CachedModel{*model, now};
  return model;
}

std::optional<Assignment> ServeFanOut::CurrentAssignment() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Read again as often as a run waiting for owners does: moves show within a fraction of a
  // second, and a batch costs no file read.
  if (assignment_read_ == std::chrono::steady_clock::time_point{} ||
      now - assignment_read_ >= GetTunables().assignment_poll_ms) {
    Result<Assignment> read = ReadAssignment(shared_folder_);
    // No (readable) assignment: every DU is applied here.
    assignment_ = read.ok() ? std::optional<Assignment>(std::move(read).value()) : std::nullopt;
    assignment_read_ = now;
  }
  return assignment_;
}

bool ServeFanOut::Usable(const std::string& agent) {
  if (agent == own_id_) return true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto down = down_until_.find(agent);
    if (down != down_until_.end()) {
      if (std::chrono::steady_clock::now() < down->second) return false;
      down_until_.erase(down);
    }
  }
  // Connected and heard from within the peer timeout; no wait.
  if (caller_->WaitReachable(agent, std::chrono::milliseconds(0))) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  down_until_[agent] = std::chrono::steady_clock::now() + GetTunables().serve_peer_retry_ms;
  return false;
}

void ServeFanOut::MarkDown(const std::string& agent, const Status& why, int du) {
  const auto retry = GetTunables().serve_peer_retry_ms;
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& until = down_until_[agent];
    const auto now = std::chrono::steady_clock::now();
    first = until <= now;
    until = now + retry;
  }
  // Once per failure period, not once per batch.
  if (first) {
    spdlog::warn(
        "serving: {} failed infer of DU {} ({}); {} applies its DUs, asking {} again in "
        "{:.1f} s at the earliest",
        agent, du, why.message(), own_id_, agent, retry.count() / 1000.0);
  }
}

DuCallOutcome ServeFanOut::Infer(const std::string& agent, const std::string& run, int du,
                                 const std::shared_ptr<const Array>& x) {
  DuCallRequest request;
  request.agent = agent;
  request.function = "infer";
  request.du = du;
  request.arguments = {{"run", run}};
  request.tensors = {{"x", x}};
  request.timeout = GetTunables().serve_infer_timeout_ms;
  return caller_->CallDu(request);
}

Result<ServedBatch> ServeFanOut::Predict(const std::string& run, const Array& x) {
  CB_RETURN_IF_ERROR(CheckInferInput(x));
  CB_ASSIGN_OR_RETURN(RunModel model, Model(run));
  CB_ASSIGN_OR_RETURN(Array fitted, FitModelInput(model, x));
  const auto input = std::make_shared<const Array>(std::move(fitted));
  const std::optional<Assignment> assignment = CurrentAssignment();

  std::vector<int> local;
  std::vector<Remote> remotes;
  for (const DuSpec& unit : model.dus) {
    const DuAssignment* owner = assignment ? assignment->Find(unit.index) : nullptr;
    if (owner != nullptr && owner->agent != own_id_ && Usable(owner->agent)) {
      remotes.push_back(Remote{unit.index, owner->agent, {}});
    } else {
      local.push_back(unit.index);
    }
  }
  Pending pending;
  pending.remaining = remotes.size();
  for (Remote& remote : remotes) {
    Submit([this, &remote, &pending, &run, &input] {
      remote.outcome = Infer(remote.agent, run, remote.du, input);
      std::lock_guard<std::mutex> lock(pending.mutex);
      if (--pending.remaining == 0) pending.done.notify_all();
    });
  }

  ServedBatch batch;
  std::map<int, Array> outputs;
  Status failed = Status::Ok();
  auto apply_here = [&](int du) {
    DuCallOutcome outcome = Infer(own_id_, run, du, input);
    Result<std::map<int, Array>> arrays = SubnetArraysOf(outcome);
    if (!arrays.ok()) {
      if (failed.ok()) failed = arrays.status();
      return;
    }
    for (auto& [subnet, array] : *arrays) outputs[subnet] = std::move(array);
    batch.served_by[du] = own_id_;
  };
  for (int du : local) apply_here(du);
  {
    std::unique_lock<std::mutex> lock(pending.mutex);
    pending.done.wait(lock, [&pending] { return pending.remaining == 0; });
  }
  for (Remote& remote : remotes) {
    Result<std::map<int, Array>> arrays = SubnetArraysOf(remote.outcome);
    if (arrays.ok()) {
      for (auto& [subnet, array] : *arrays) outputs[subnet] = std::move(array);
      batch.served_by[remote.du] = remote.agent;
      continue;
    }
    MarkDown(remote.agent, arrays.status(), remote.du);
    ++batch.failovers;
    apply_here(remote.du);
  }
  CB_RETURN_IF_ERROR(failed);
  CB_ASSIGN_OR_RETURN(batch.composed, ComposeModelOutputs(model, outputs));
  return batch;
}

}  // namespace cloudbook
