#include "agent/transport/call_table.h"

#include <fmt/format.h>

#include "agent/transport/pending_call.h"

namespace cloudbook {

Status CallTable::Open(std::shared_ptr<PendingCall> call) {
  const uint64_t request_id = call->request_id();
  if (calls_.count(request_id) != 0) {
    return Status::InvalidArgument(
        fmt::format("request id {} is already in use by another call", request_id));
  }
  calls_.emplace(request_id, OpenCall{std::move(call)});
  return Status::Ok();
}

void CallTable::MarkSent(uint64_t request_id, Clock::time_point now) {
  const auto found = calls_.find(request_id);
  if (found != calls_.end()) found->second.sent_at = now;
}

std::shared_ptr<PendingCall> CallTable::Find(uint64_t request_id,
                                             const std::string& peer_id) const {
  const auto found = calls_.find(request_id);
  if (found == calls_.end() || found->second.call->peer_id() != peer_id) return nullptr;
  return found->second.call;
}

std::shared_ptr<PendingCall> CallTable::Take(uint64_t request_id, const std::string& peer_id) {
  const auto found = calls_.find(request_id);
  if (found == calls_.end() || found->second.call->peer_id() != peer_id) return nullptr;
  std::shared_ptr<PendingCall> call = std::move(found->second.call);
  calls_.erase(found);
  return call;
}

bool CallTable::Erase(const std::shared_ptr<PendingCall>& call) {
  const auto found = calls_.find(call->request_id());
  if (found == calls_.end() || found->second.call != call) return false;
  calls_.erase(found);
  return true;
}

void CallTable::FailTo(const std::string& peer_id, const Status& status) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.call->peer_id() == peer_id) {
      it->second.call->Complete(status);
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
}

void CallTable::FailSentBefore(const std::string& peer_id, Clock::time_point disconnected_at) {
  for (auto it = calls_.begin(); it != calls_.end();) {
    const std::shared_ptr<PendingCall>& call = it->second.call;
    if (call->peer_id() == peer_id && it->second.sent_at <= disconnected_at) {
      call->Complete(Status::IoError(
          fmt::format("{}: connection lost while request {} ({}) was in flight (peer stopped, "
                      "crashed or restarted)",
                      peer_id, call->request_id(), call->function())));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::pair<uint64_t, std::shared_ptr<PendingCall>>> CallTable::TakeAll() {
  std::vector<std::pair<uint64_t, std::shared_ptr<PendingCall>>> all;
  all.reserve(calls_.size());
  for (auto& [id, open] : calls_) all.emplace_back(id, std::move(open.call));
  calls_.clear();
  return all;
}

}  // namespace cloudbook
