#include "agent/transport/peer_health.h"

#include <fmt/format.h>

#include <utility>

namespace cloudbook {

PeerHealth::PeerHealth(std::string peer_id, std::string endpoint, Clock::time_point added)
    : peer_id_(std::move(peer_id)),
      endpoint_(std::move(endpoint)),
      added_(added),
      last_heard_(added),
      next_ping_(added) {}

PeerHealth::State PeerHealth::Heard(Clock::time_point now) {
  const State before = state_;
  last_heard_ = now;
  if (state_ != State::kAlive) {
    state_ = State::kAlive;
    refusal_.clear();
  }
  return before;
}

void PeerHealth::Disconnected(Clock::time_point now) {
  connected_ = false;
  if (!disconnected_at_) disconnected_at_ = now;
}

std::optional<PeerHealth::Clock::time_point> PeerHealth::TakeDisconnection(Clock::time_point now,
                                                                           Clock::duration settle) {
  if (!disconnected_at_ || now - *disconnected_at_ < settle) return std::nullopt;
  const Clock::time_point at = *disconnected_at_;
  disconnected_at_.reset();
  return at;
}

bool PeerHealth::PingDue(Clock::time_point now, Clock::duration interval) {
  if (now < next_ping_) return false;
  next_ping_ = now + interval;
  return true;
}

bool PeerHealth::TimedOut(Clock::time_point now, Clock::duration timeout) const {
  const bool reachable = state_ == State::kConnecting || state_ == State::kAlive;
  return reachable && now - last_heard_ > timeout;
}

bool PeerHealth::Declare(State state, const std::string& why, Clock::time_point now,
                         Clock::duration retry_after) {
  const bool changed = state_ != state;
  state_ = state;
  if (state == State::kRefused) {
    refusal_ = why;
    retry_at_ = now + retry_after;
  }
  return changed;
}

bool PeerHealth::RetryDue(Clock::time_point now, Clock::duration retry_after) {
  if (state_ != State::kRefused || now < retry_at_) return false;
  connected_ = false;
  retry_at_ = now + retry_after;
  return true;
}

std::string PeerHealth::LostMessage(Clock::time_point now) const {
  const double silent_s = std::chrono::duration<double>(now - last_heard_).count();
  if (last_heard_ == added_ && state_ != State::kAlive) {
    return fmt::format("{}: no answer from {} for {:.1f} s (peer lost)", peer_id_, endpoint_,
                       silent_s);
  }
  return fmt::format("{}: no heartbeat for {:.1f} s (peer lost)", peer_id_, silent_s);
}

}  // namespace cloudbook
