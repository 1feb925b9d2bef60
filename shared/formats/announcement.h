// distributed/agents/<id>.json: how a launched agent tells the project it exists. One writer
// (that agent), atomic writes, rewritten at start and every announce interval with a new
// sequence number. Signed with the agent's Ed25519 key over the canonical JSON of every other
// field (nlohmann's compact dump(): keys sorted), so a modified field is detected. Readers
// check everything before use and ignore (with a log line saying why) any file that fails.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/clock.h"  // UnixTimeMs, for the callers of IsStale
#include "shared/formats/grant.h"
#include "shared/json_io.h"
#include "shared/status.h"
#include "shared/tunables.h"

namespace cloudbook {

inline constexpr int kAnnouncementFormatVersion = 1;
inline constexpr size_t kMaxAnnouncementBytes = 64 * 1024;
// An announcement without a new sequence for this many intervals is stale (suspect).
inline constexpr int kStaleIntervals = tunables_default::liveness_multiplier;

enum class AgentRunState { kStarting, kRunning, kStopping };
std::string AgentRunStateName(AgentRunState state);

struct AnnouncedCapacity {
  int cores = 1;          // cores lent under the grant
  double gflops = 0;      // measured with a matrix-multiply probe on those cores
  std::string gpu;        // GPU used under the grant, or ""
  double gpu_gflops = 0;  // the same probe on that GPU, 0 without one
};

struct Announcement {
  std::string id;
  Grant grant = Grant::kLow;
  std::string host;
  std::string endpoint;            // tcp://address:port
  std::string curve_public_key;    // Z85, or "" for a plain-text agent
  std::string signing_public_key;  // hex Ed25519
  bool plaintext = false;
  AnnouncedCapacity capacity;
  uint64_t sequence = 0;
  int64_t time_ms = 0;  // unix time of this write, milliseconds
  double announce_interval_s = tunables_default::announce_interval_s;
  int64_t pid = 0;
  AgentRunState status = AgentRunState::kStarting;
  std::vector<int> dus;
  std::string signature;  // hex; set by SignAnnouncement and by the reader
};

// Signs the canonical text (compact dump, keys sorted) of every field of `json` but
// "signature" with an Ed25519 secret key (hex), and adds "signature". Also used for the
// dashboards' announcements, vouched for by an agent's key.
Result<Json> SignCanonicalJson(Json json, const std::string& secret_key);
// Ok when json["signature"] signs the canonical text of the other fields with `public_key`;
// else the reason (bad format, or tampered).
Status VerifyCanonicalJson(const Json& json, const std::string& public_key);

// Every field except the signature.
Json UnsignedAnnouncementJson(const Announcement& announcement);
// The JSON as written: the unsigned fields plus "signature".
Result<Json> SignAnnouncement(const Announcement& announcement, const std::string& secret_key);
// Signs and writes distributed/agents/<id>.json atomically.
Status WriteAnnouncement(const std::string& shared_folder, const Announcement& announcement,
                         const std::string& secret_key);

// Parses and checks one announcement's text: JSON, types and ranges, format version, id equal
// to `expected_id` (the file's name), host and endpoint syntax (no control characters reach a
// terminal), signature. The message (printable) is the reason to ignore it.
Result<Announcement> ParseAnnouncement(const std::string& text, const std::string& expected_id);

// Both printable (shared/printable.h): control characters and invalid UTF-8 escaped, safe to
// print on a terminal or in a log as they are.
struct IgnoredAnnouncement {
  std::string path;
  std::string reason;
};

struct AnnouncementScan {
  std::vector<Announcement> valid;  // sorted by id
  std::vector<IgnoredAnnouncement> ignored;
};

// Reads every distributed/agents/*.json. Ignores, with a warning log line naming the file and
// the reason: symlinks (never followed), non-regular or oversized files (> 64 KiB), bad JSON,
// wrong types, a wrong format version, an id that is not the file's name, a bad signature
// (tampered), and a signing key that differs from `pinned_signing_keys[id]` (the keys of the
// agents created on this machine). Hidden files (atomic-write temporaries) are skipped
// silently. A missing folder gives an empty scan.
// `log_ignored` false: the caller reports `ignored` itself (a dashboard rescanning every two
// seconds logs each file once).
AnnouncementScan ReadAnnouncements(
    const std::string& shared_folder,
    const std::map<std::string, std::string>& pinned_signing_keys = {}, bool log_ignored = true);

// True when the announcement was written more than kStaleIntervals intervals before `now_ms`
// (unix ms). The time is the writer's clock: machines of a project should run NTP.
bool IsStale(const Announcement& announcement, int64_t now_ms, double interval_s);

std::string HostName();

}  // namespace cloudbook
