#include "shared/formats/announcement_watch.h"

#include <spdlog/spdlog.h>

#include <cmath>

namespace cloudbook {

std::string DescribeClockOffset(double offset_s) {
  const double size = std::fabs(offset_s);
  const std::string side = offset_s >= 0 ? "ahead of" : "behind";
  if (size >= 3600) return fmt::format("{:.1f} h {}", size / 3600, side);
  if (size >= 120) return fmt::format("{:.0f} min {}", size / 60, side);
  return fmt::format("{:.0f} s {}", size, side);
}

void AnnouncementWatch::Observe(const std::vector<Announcement>& valid, int64_t steady_ms,
                                int64_t unix_ms) {
  for (const Announcement& announcement : valid) {
    auto found = agents_.find(announcement.id);
    if (found == agents_.end()) {
      Watched watched;
      watched.sequence = announcement.sequence;
      watched.interval_s = announcement.announce_interval_s;
      watched.changed_steady_ms = steady_ms;
      agents_.emplace(announcement.id, watched);
      continue;
    }
    Watched& watched = found->second;
    watched.interval_s = announcement.announce_interval_s;
    if (announcement.sequence == watched.sequence) continue;
    watched.sequence = announcement.sequence;
    watched.changed_steady_ms = steady_ms;
    watched.changed_since_first_sight = true;
    if (previous_unix_ms_ <= 0) continue;
    // It was written between the previous look and this one: the offset lies in
    // [time - now, time - previous]. Its middle is the estimate, half the width its error.
    const double newest_s = (announcement.time_ms - unix_ms) / 1000.0;
    const double oldest_s = (announcement.time_ms - previous_unix_ms_) / 1000.0;
    const double estimate_s = (newest_s + oldest_s) / 2;
    const double error_s = std::fabs(oldest_s - newest_s) / 2;
    watched.offset_s = estimate_s;
    if (std::fabs(estimate_s) - error_s > kLargeClockSkewS &&
        skew_reported_.insert(announcement.id).second) {
      spdlog::warn(
          "the clock of {} (host {}) is about {} this machine's ({:+.0f} s, from its "
          "announcements): harmless, liveness and deadlines use this machine's own clock, but "
          "times written by it will look off; run NTP on both machines",
          announcement.id, announcement.host, DescribeClockOffset(estimate_s), estimate_s);
    }
  }
  previous_unix_ms_ = unix_ms;
}

AnnouncementWatch::Freshness AnnouncementWatch::Judge(const std::string& id,
                                                      int64_t steady_ms) const {
  const auto found = agents_.find(id);
  if (found == agents_.end()) return Freshness::kStale;
  const Watched& watched = found->second;
  const double limit_ms = kStaleIntervals * watched.interval_s * 1000.0;
  const bool silent = static_cast<double>(steady_ms - watched.changed_steady_ms) > limit_ms;
  if (!watched.changed_since_first_sight) {
    return silent ? Freshness::kStale : Freshness::kFirstSight;
  }
  return silent ? Freshness::kStale : Freshness::kFresh;
}

int64_t AnnouncementWatch::LastChangeMs(const std::string& id) const {
  const auto found = agents_.find(id);
  return found == agents_.end() ? 0 : found->second.changed_steady_ms;
}

std::optional<double> AnnouncementWatch::ClockOffsetS(const std::string& id) const {
  const auto found = agents_.find(id);
  if (found == agents_.end()) return std::nullopt;
  return found->second.offset_s;
}

}  // namespace cloudbook
