#include "agent/transport/pending_call.h"

#include <utility>

#include "shared/tunables.h"

namespace cloudbook {

PendingCall::PendingCall(std::string peer_id, uint64_t request_id, std::string function)
    : peer_id_(std::move(peer_id)), request_id_(request_id), function_(std::move(function)) {}

void PendingCall::AddProgress(WireMessage progress) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (outcome_.has_value() || progress_.size() >= GetTunables().max_queued_progress) return;
    progress_.push_back(std::move(progress));
  }
  changed_.notify_all();
}

bool PendingCall::Complete(Result<WireMessage> outcome) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (outcome_.has_value() || taken_) return false;
    outcome_.emplace(std::move(outcome));
  }
  changed_.notify_all();
  return true;
}

bool PendingCall::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return outcome_.has_value() || taken_;
}

std::optional<Result<WireMessage>> PendingCall::Wait(std::chrono::steady_clock::time_point deadline,
                                                     const ProgressCallback& on_progress) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    while (!progress_.empty()) {
      WireMessage progress = std::move(progress_.front());
      progress_.pop_front();
      if (on_progress) {
        lock.unlock();
        on_progress(progress);
        lock.lock();
      }
    }
    if (outcome_.has_value()) {
      std::optional<Result<WireMessage>> outcome = std::move(outcome_);
      outcome_.reset();
      taken_ = true;
      return outcome;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && progress_.empty() &&
        !outcome_.has_value()) {
      return std::nullopt;
    }
  }
}

}  // namespace cloudbook
