// The liveness bookkeeping of one peer link, without sockets: connecting, alive, lost (silent
// for a peer timeout) or refused (handshake rejected), whether the DEALER is connected, when to
// ping, when to retry a refused handshake, and disconnections waiting to fail their calls.
// Not thread-safe: the transport thread. Times are passed in (steady clock); no errors.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cloudbook {

class PeerHealth {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kConnecting, kAlive, kLost, kRefused };

  // A fresh peer: connecting, and counted as heard at `added` (it gets one peer timeout to
  // answer); its first ping is due at once.
  PeerHealth(std::string peer_id, std::string endpoint, Clock::time_point added);

  State state() const { return state_; }
  // Why the peer refused us, while kRefused.
  const std::string& refusal() const { return refusal_; }
  bool connected() const { return connected_; }
  // What PeerTransport::IsPeerAlive reports: alive and connected.
  bool alive() const { return state_ == State::kAlive && connected_; }

  // Something came from the peer at `now`: it is alive (again). Returns the state before.
  State Heard(Clock::time_point now);
  // The handshake succeeded (the DEALER is connected).
  void Connected() { connected_ = true; }
  // The connection dropped at `now`; the first of several not yet handled is kept.
  void Disconnected(Clock::time_point now);
  // The disconnection to handle now (calls sent before it fail), once `settle` passed since
  // it, so a goodbye still in the pipe is read first. Cleared when returned.
  std::optional<Clock::time_point> TakeDisconnection(Clock::time_point now, Clock::duration settle);

  // True when a ping is due at `now`; the next one is then due `interval` later.
  bool PingDue(Clock::time_point now, Clock::duration interval);
  // Connecting or alive and silent for more than `timeout`.
  bool TimedOut(Clock::time_point now, Clock::duration timeout) const;
  // Lost, or refused with `why` (a fresh handshake is tried `retry_after` from `now`). Returns
  // whether the state changed (worth a log line).
  bool Declare(State state, const std::string& why, Clock::time_point now,
               Clock::duration retry_after);
  // Refused and `now` is past its retry time: the caller opens a fresh DEALER (not connected
  // yet), and the next retry is `retry_after` from `now`.
  bool RetryDue(Clock::time_point now, Clock::duration retry_after);

  // "<peer>: no answer from <endpoint> for 3.0 s (peer lost)" for a peer never heard,
  // "<peer>: no heartbeat for 3.0 s (peer lost)" otherwise.
  std::string LostMessage(Clock::time_point now) const;

 private:
  std::string peer_id_;
  std::string endpoint_;
  State state_ = State::kConnecting;
  std::string refusal_;
  Clock::time_point added_;
  Clock::time_point last_heard_;
  Clock::time_point next_ping_;
  Clock::time_point retry_at_;
  bool connected_ = false;  // between HANDSHAKE_SUCCEEDED and DISCONNECTED
  std::optional<Clock::time_point> disconnected_at_;
};

}  // namespace cloudbook
