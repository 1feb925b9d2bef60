// Whether announcements are fresh, judged on the READER's steady clock: an agent is fresh
// while new sequence numbers of its announcement keep arriving, timed by this process, so
// no decision compares two machines' wall clocks (a helper hours ahead or behind is fine).
// When a new sequence arrives it also estimates the writer's clock offset from the
// announcement's "time" and logs a large one once per agent.
// Not thread-safe: one owner calls Observe and the queries.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "shared/formats/announcement.h"
#include "shared/tunables.h"

namespace cloudbook {

// An offset between two machines' wall clocks above this is worth a log line (estimates are
// only as good as the shared folder's delay, which can reach seconds).
inline constexpr double kLargeClockSkewS = tunables_default::large_clock_skew_s;

// "1.0 h ahead of", "12 s behind": how far `offset_s` (writer minus reader) is, in words.
std::string DescribeClockOffset(double offset_s);

class AnnouncementWatch {
 public:
  enum class Freshness {
    kFirstSight,  // seen once: nothing to judge by yet
    kFresh,       // a new sequence arrived within kStaleIntervals of its interval
    kStale,       // no new sequence for that long
  };

  // One look at the announcements: `steady_ms` is this process's steady clock, `unix_ms` its
  // wall clock (used only to estimate the writers' clock offsets).
  void Observe(const std::vector<Announcement>& valid, int64_t steady_ms, int64_t unix_ms);
  // The verdict for `id` at `steady_ms` (kStale for an agent never observed).
  Freshness Judge(const std::string& id, int64_t steady_ms) const;
  // The steady ms when `id`'s last new sequence (or first sight) was observed; 0 if never.
  int64_t LastChangeMs(const std::string& id) const;
  // The writer's clock minus this machine's, in seconds, estimated when a new sequence arrived
  // (nullopt until one has).
  std::optional<double> ClockOffsetS(const std::string& id) const;

 private:
  struct Watched {
    uint64_t sequence = 0;
    double interval_s = 0;
    int64_t changed_steady_ms = 0;
    bool changed_since_first_sight = false;
    std::optional<double> offset_s;
  };
  std::map<std::string, Watched> agents_;
  std::set<std::string> skew_reported_;
  int64_t previous_unix_ms_ = 0;  // the wall clock at the previous look (0 before it)
};

}  // namespace cloudbook
