// ReplyOutbox, the answers waiting for the ROUTER, without sockets: a send function stands in
// for the ROUTER and decides, per caller, whether it takes a message now.
#include "agent/transport/reply_outbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace cloudbook {
namespace {

using namespace std::chrono_literals;
using Clock = ReplyOutbox::Clock;

ReplyOutbox::Reply MakeReply(const std::string& caller, uint64_t id, Clock::time_point expiry) {
  ReplyOutbox::Reply reply;
  reply.caller = caller;
  reply.request_id = id;
  reply.frames.emplace_back(caller.data(), caller.size());
  reply.expiry = expiry;
  return reply;
}

// A stand-in ROUTER: which replies ("caller:id") it does not take now (a big one may not fit
// where a small one would), and what it received, in order.
struct Router {
  std::map<std::string, SendOutcome> refuse;
  std::vector<std::string> sent;  // "caller:id"
  std::vector<std::string> expired;
  ReplyOutbox::SendFunction Send() {
    return [this](ReplyOutbox::Reply& reply) {
      const std::string name = reply.caller + ":" + std::to_string(reply.request_id);
      const auto found = refuse.find(name);
      if (found != refuse.end()) return found->second;
      sent.push_back(name);
      return SendOutcome::kSent;
    };
  }
  ReplyOutbox::ExpiredFunction Expired() {
    return [this](const ReplyOutbox::Reply& reply, SendOutcome outcome) {
      expired.push_back(reply.caller + ":" + std::to_string(reply.request_id) +
                        (outcome == SendOutcome::kUnreachable ? " not connected" : " queue full"));
    };
  }
};

TEST(TransportReplyOutbox, BlockedCallerKeepsOrderWithoutHoldingUpOthers) {
  const Clock::time_point t0 = Clock::now();
  ReplyOutbox outbox;
  Router router;
  router.refuse["agent-a:1"] = SendOutcome::kWouldBlock;
  outbox.Push(MakeReply("agent-a", 1, t0 + 3s));
  outbox.Push(MakeReply("agent-b", 2, t0 + 3s));
  outbox.Push(MakeReply("agent-a", 3, t0 + 3s));
  outbox.Flush(t0, router.Send(), router.Expired());
  // agent-a:3 would fit, but waits behind agent-a:1; agent-b is not held up.
  EXPECT_EQ(router.sent, (std::vector<std::string>{"agent-b:2"}));
  EXPECT_EQ(outbox.size(), 2u);

  router.refuse.clear();
  outbox.Flush(t0 + 1s, router.Send(), router.Expired());
  EXPECT_EQ(router.sent, (std::vector<std::string>{"agent-b:2", "agent-a:1", "agent-a:3"}));
  EXPECT_TRUE(outbox.empty());
  EXPECT_TRUE(router.expired.empty());
}

TEST(TransportReplyOutbox, AnswerNotTakenByItsExpiryIsDroppedAndReported) {
  const Clock::time_point t0 = Clock::now();
  ReplyOutbox outbox;
  Router router;
  router.refuse["agent-a:1"] = SendOutcome::kUnreachable;
  router.refuse["agent-a:2"] = SendOutcome::kUnreachable;
  outbox.Push(MakeReply("agent-a", 1, t0 + 3s));
  outbox.Push(MakeReply("agent-a", 2, t0 + 5s));
  outbox.Flush(t0 + 2999ms, router.Send(), router.Expired());
  EXPECT_TRUE(router.expired.empty());
  EXPECT_EQ(outbox.size(), 2u);

  // The expired one goes; the next one of the same caller gets its own try.
  outbox.Flush(t0 + 3s, router.Send(), router.Expired());
  EXPECT_EQ(router.expired, (std::vector<std::string>{"agent-a:1 not connected"}));
  EXPECT_EQ(outbox.size(), 1u);
  outbox.Clear();
  EXPECT_TRUE(outbox.empty());
}

}  // namespace
}  // namespace cloudbook
