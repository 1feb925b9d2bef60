#include "agent/transport/reply_outbox.h"

#include <set>

namespace cloudbook {

void ReplyOutbox::Flush(Clock::time_point now, const SendFunction& send,
                        const ExpiredFunction& expired) {
  std::set<std::string> blocked;  // keeps each caller's answers in order
  for (auto it = replies_.begin(); it != replies_.end();) {
    if (blocked.count(it->caller) != 0) {
      ++it;
      continue;
    }
    const SendOutcome outcome = send(*it);
    if (outcome == SendOutcome::kSent) {
      it = replies_.erase(it);
      continue;
    }
    if (now >= it->expiry) {
      expired(*it, outcome);
      it = replies_.erase(it);
      continue;
    }
    blocked.insert(it->caller);
    ++it;
  }
}

}  // namespace cloudbook
