// Which agents are live, judged by the deployer on its OWN steady clock so that clock skew
// between machines does not matter: an agent is live while new announcement sequence numbers
// keep arriving. It is LOST when it announces "stopping", when its announcement file
// disappears, or when no new sequence arrived for the liveness timeout AND no other live agent
// reports a recent heartbeat from it (the "peers" of their stats files, peer_reports.h). An
// agent seen for the first time is UNCONFIRMED (not live) until a new sequence arrives or a
// peer hears it: a file left by an agent that died must not receive work, and no wall clock
// of another machine is trusted to tell. A fast start waits while Settling() (at most
// first_sight_watch_intervals announce intervals, shared/tunables_def.h). A large clock
// offset of an agent is logged once (shared/formats/announcement_watch.h). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deployer/peer_reports.h"
#include "shared/formats/announcement.h"
#include "shared/formats/announcement_watch.h"

namespace cloudbook {

enum class Liveness { kLive, kLost, kUnconfirmed };
std::string LivenessName(Liveness liveness);

struct AgentLiveness {
  std::string id;
  Liveness state = Liveness::kUnconfirmed;
  std::string why;  // a readable reason ("no new announcement for 16.0 s, no heartbeat ...")
  Announcement announcement;          // the last valid one seen
  std::vector<std::string> heard_by;  // live agents that report a recent heartbeat from it
  double silent_s = 0;                // seconds since its last new announcement (or first sight)
};

class LivenessTracker {
 public:
  // An agent's timeout is max(timeout_s, 2 x its announce interval): a setting shorter than
  // the announcements' rhythm would declare healthy agents lost.
  explicit LivenessTracker(double timeout_s) : timeout_s_(timeout_s) {}
  void SetTimeout(double timeout_s) { timeout_s_ = timeout_s; }
  // Takes one look at the shared folder: `steady_ms` is this process's steady clock (the
  // judge of silence), `unix_ms` its wall clock (used only to estimate and report the agents'
  // clock offsets, never to judge). Returns every agent ever seen, sorted by id.
  std::vector<AgentLiveness> Update(const AnnouncementScan& announcements,
                                    const std::vector<PeerReport>& reports, int64_t steady_ms,
                                    int64_t unix_ms);
  // True while an agent seen at the last Update is still unconfirmed and was first seen less
  // than first_sight_watch_intervals of its announce interval ago: a live agent shows a new
  // sequence within one interval, so a fast start that waits for this plans with it.
  bool Settling(int64_t steady_ms) const;

  // Counts no silence before `steady_ms`: after a time in which nobody could write to the
  // shared folder (it was full), agents are judged on what they write from then on.
  void Forgive(int64_t steady_ms);

 private:
  struct Tracked {
    Announcement last;
    int64_t first_seen_steady_ms = 0;
    int64_t last_new_steady_ms = 0;  // when a new sequence arrived (or first seen)
    bool confirmed = false;          // a new sequence arrived
    bool present = true;             // its file was there at the last look
  };
  struct TrackedReport {
    int64_t time_ms = 0;
    int64_t last_new_steady_ms = 0;
    bool confirmed = false;
  };

  double TimeoutMs(const Announcement& announcement) const;

  double timeout_s_;
  AnnouncementWatch clock_offsets_;  // reports large clock offsets once
  std::map<std::string, Tracked> agents_;
  std::map<std::string, TrackedReport> reports_;
};

}  // namespace cloudbook
