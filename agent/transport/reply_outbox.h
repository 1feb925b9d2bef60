// Answers waiting for the ROUTER to accept them (the caller's queue is full, or the caller is
// reconnecting): each caller's answers leave in order, a blocked caller does not hold up the
// others, and an answer not taken by its expiry is dropped. Not thread-safe: the transport
// thread. Sending is the caller's function; the outbox itself never fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/socket_io.h"

namespace cloudbook {

class ReplyOutbox {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reply {
    std::string caller;
    uint64_t request_id = 0;
    std::vector<zmq::message_t> frames;  // routing id first
    Clock::time_point expiry;
  };
  // Tries to send one reply; kSent takes it out (also for an error not worth retrying).
  using SendFunction = std::function<SendOutcome(Reply&)>;
  // Told about each reply dropped at its expiry, with the outcome of its last try.
  using ExpiredFunction = std::function<void(const Reply&, SendOutcome)>;

  void Push(Reply reply) { replies_.push_back(std::move(reply)); }
  // Offers the waiting replies to `send`, oldest first, at most the first of each caller
  // that is still blocked; drops (and reports) those past their expiry at `now`.
  void Flush(Clock::time_point now, const SendFunction& send, const ExpiredFunction& expired);
  bool empty() const { return replies_.empty(); }
  size_t size() const { return replies_.size(); }
  void Clear() { replies_.clear(); }

 private:
  std::deque<Reply> replies_;
};

}  // namespace cloudbook
