#include "agent/transport/invoke_context.h"

#include <utility>

namespace cloudbook {

InvokeContext::InvokeContext(std::string caller_id, WireMessage request,
                             std::chrono::steady_clock::time_point deadline,
                             ProgressSink progress_sink)
    : caller_id_(std::move(caller_id)),
      request_id_(request.header.request_id),
      du_(request.header.du),
      function_(request.header.function),
      request_(std::move(request)),
      deadline_(deadline),
      progress_sink_(std::move(progress_sink)) {}

bool InvokeContext::cancelled() const {
  return cancelled_.load(std::memory_order_acquire) || deadline_passed();
}

std::string InvokeContext::cancel_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!cancel_reason_.empty()) return cancel_reason_;
  if (deadline_passed()) return "deadline passed";
  return "";
}

void InvokeContext::Cancel(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_.load(std::memory_order_relaxed)) return;
  cancel_reason_ = reason;
  cancelled_.store(true, std::memory_order_release);
}

bool InvokeContext::SendProgress(WireArguments arguments) {
  if (!progress_sink_ || cancelled_.load(std::memory_order_acquire)) return false;
  return progress_sink_(std::move(arguments));
}

}  // namespace cloudbook
