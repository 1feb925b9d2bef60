// PeerHealth, the liveness bookkeeping of one peer link, without sockets: the times are given,
// so each rule of the contract reads as one step.
#include "agent/transport/peer_health.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace cloudbook {
namespace {

using namespace std::chrono_literals;
using State = PeerHealth::State;
using Clock = PeerHealth::Clock;

TEST(TransportPeerHealth, FreshPeerGetsOneTimeoutAndIsAliveOnlyWhenConnectedAndHeard) {
  const Clock::time_point t0 = Clock::now();
  PeerHealth health("agent-b", "tcp://10.0.0.2:5555", t0);
  EXPECT_EQ(health.state(), State::kConnecting);
  EXPECT_FALSE(health.alive());
  EXPECT_TRUE(health.PingDue(t0, 1s));  // the first ping at once
  EXPECT_FALSE(health.PingDue(t0 + 999ms, 1s));
  EXPECT_TRUE(health.PingDue(t0 + 1s, 1s));

  EXPECT_FALSE(health.TimedOut(t0 + 3s, 3s));
  EXPECT_TRUE(health.TimedOut(t0 + 3001ms, 3s));
  EXPECT_EQ(health.LostMessage(t0 + 3500ms),
            "agent-b: no answer from tcp://10.0.0.2:5555 for 3.5 s (peer lost)");

  health.Connected();
  EXPECT_FALSE(health.alive());  // connected, not heard yet
  EXPECT_EQ(health.Heard(t0 + 100ms), State::kConnecting);
  EXPECT_TRUE(health.alive());
  EXPECT_EQ(health.Heard(t0 + 200ms), State::kAlive);
  EXPECT_FALSE(health.TimedOut(t0 + 3200ms, 3s));
  EXPECT_TRUE(health.TimedOut(t0 + 3201ms, 3s));
  EXPECT_EQ(health.LostMessage(t0 + 2200ms), "agent-b: no heartbeat for 2.0 s (peer lost)");
}

TEST(TransportPeerHealth, LostPeerStaysLostUntilHeard) {
  const Clock::time_point t0 = Clock::now();
  PeerHealth health("agent-b", "tcp://10.0.0.2:5555", t0);
  health.Connected();
  health.Heard(t0);
  EXPECT_TRUE(health.Declare(State::kLost, "lost", t0 + 4s, 2s));
  EXPECT_FALSE(health.Declare(State::kLost, "lost", t0 + 5s, 2s));  // no second log line
  EXPECT_FALSE(health.alive());
  EXPECT_FALSE(health.TimedOut(t0 + 60s, 3s));      // declared once
  EXPECT_FALSE(health.RetryDue(t0 + 60s, 2s));      // only a refusal is retried
  EXPECT_EQ(health.Heard(t0 + 61s), State::kLost);  // "reachable again"
  EXPECT_TRUE(health.alive());
}

TEST(TransportPeerHealth, RefusalIsKeptAndRetriedAtItsInterval) {
  const Clock::time_point t0 = Clock::now();
  PeerHealth health("agent-b", "tcp://10.0.0.2:5555", t0);
  EXPECT_TRUE(health.Declare(State::kRefused, "agent-b refused the connection", t0, 2s));
  EXPECT_EQ(health.refusal(), "agent-b refused the connection");
  EXPECT_FALSE(health.TimedOut(t0 + 60s, 3s));  // refused is not "lost"
  EXPECT_FALSE(health.RetryDue(t0 + 1999ms, 2s));
  EXPECT_TRUE(health.RetryDue(t0 + 2s, 2s));
  EXPECT_FALSE(health.connected());
  EXPECT_FALSE(health.RetryDue(t0 + 3s, 2s));
  EXPECT_TRUE(health.RetryDue(t0 + 4s, 2s));
  health.Connected();
  EXPECT_EQ(health.Heard(t0 + 5s), State::kRefused);
  EXPECT_EQ(health.state(), State::kAlive);
  EXPECT_TRUE(health.refusal().empty());
}

TEST(TransportPeerHealth, DisconnectionIsHandledOnceAfterItSettles) {
  const Clock::time_point t0 = Clock::now();
  PeerHealth health("agent-b", "tcp://10.0.0.2:5555", t0);
  health.Connected();
  health.Heard(t0);
  health.Disconnected(t0 + 1s);
  EXPECT_FALSE(health.alive());
  health.Disconnected(t0 + 1100ms);  // the first one counts
  EXPECT_FALSE(health.TakeDisconnection(t0 + 1200ms, 250ms).has_value());
  const auto at = health.TakeDisconnection(t0 + 1250ms, 250ms);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(*at, t0 + 1s);
  EXPECT_FALSE(health.TakeDisconnection(t0 + 5s, 250ms).has_value());
}

}  // namespace
}  // namespace cloudbook
