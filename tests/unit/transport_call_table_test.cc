// CallTable, the caller side's bookkeeping, without sockets: a call is open until it is
// answered, failed or forgotten, and a lost connection fails only the invokes sent on it.
#include "agent/transport/call_table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/transport/pending_call.h"

namespace cloudbook {
namespace {

using Clock = CallTable::Clock;
using namespace std::chrono_literals;

std::shared_ptr<PendingCall> NewCall(const std::string& peer, uint64_t id) {
  return std::make_shared<PendingCall>(peer, id, "train");
}

// The outcome of a completed call (the wait returns at once).
Result<WireMessage> OutcomeOf(PendingCall& call) {
  std::optional<Result<WireMessage>> outcome = call.Wait(Clock::now(), nullptr);
  if (!outcome) return Status::Internal("not completed");
  return std::move(*outcome);
}

TEST(TransportCallTable, OpensOnceAndFindsOnlyByItsPeer) {
  CallTable table;
  const auto call = NewCall("agent-b", 7);
  ASSERT_TRUE(table.Open(call).ok());
  const Status again = table.Open(NewCall("agent-c", 7));
  EXPECT_EQ(again.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(again.message().find("request id 7 is already in use"), std::string::npos);

  EXPECT_TRUE(table.IsOpen(7));
  EXPECT_EQ(table.Find(7, "agent-b"), call);
  EXPECT_EQ(table.Find(7, "agent-c"), nullptr);  // an answer from another peer is not ours
  EXPECT_EQ(table.Take(7, "agent-c"), nullptr);
  EXPECT_EQ(table.Take(7, "agent-b"), call);
  EXPECT_FALSE(table.IsOpen(7));
  EXPECT_FALSE(call->done());  // taking does not complete: the taker does
}

TEST(TransportCallTable, EraseRemovesOnlyThatCall) {
  CallTable table;
  const auto call = NewCall("agent-b", 1);
  ASSERT_TRUE(table.Open(call).ok());
  EXPECT_FALSE(table.Erase(NewCall("agent-b", 1)));  // same id, another call
  EXPECT_TRUE(table.Erase(call));
  EXPECT_FALSE(table.Erase(call));
  EXPECT_EQ(table.size(), 0u);
}

TEST(TransportCallTable, LostConnectionFailsOnlyInvokesSentOnIt) {
  CallTable table;
  const auto sent = NewCall("agent-b", 1);
  const auto queued = NewCall("agent-b", 2);
  const auto sent_later = NewCall("agent-b", 3);
  const auto other_peer = NewCall("agent-c", 4);
  for (const auto& call : {sent, queued, sent_later, other_peer}) {
    ASSERT_TRUE(table.Open(call).ok());
  }
  const Clock::time_point t0 = Clock::now();
  table.MarkSent(1, t0);
  table.MarkSent(3, t0 + 2s);
  table.MarkSent(4, t0);

  table.FailSentBefore("agent-b", t0 + 1s);
  ASSERT_TRUE(sent->done());
  const Result<WireMessage> outcome = OutcomeOf(*sent);
  EXPECT_EQ(outcome.status().code(), Status::Code::kIoError);
  EXPECT_NE(outcome.status().message().find(
                "agent-b: connection lost while request 1 (train) was in flight"),
            std::string::npos)
      << outcome.status().message();
  EXPECT_FALSE(queued->done());      // still in the outbox: not on the lost connection
  EXPECT_FALSE(sent_later->done());  // sent on the next connection
  EXPECT_FALSE(other_peer->done());
  EXPECT_EQ(table.size(), 3u);

  table.FailTo("agent-b", Status::IoError("agent-b: peer removed"));
  EXPECT_TRUE(queued->done());
  EXPECT_TRUE(sent_later->done());
  EXPECT_EQ(OutcomeOf(*queued).status().message(), "agent-b: peer removed");
  EXPECT_FALSE(other_peer->done());

  const auto all = table.TakeAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first, 4u);
  EXPECT_EQ(all[0].second, other_peer);
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace cloudbook
