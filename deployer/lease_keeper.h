// One deployer per project at a time: takes, renews and gives back distributed/deployer.json
// (shared/formats/deployer_lease.h). The holder rewrites the lease every renew interval; another
// deployer judges it alive by new sequence numbers on its own steady clock and takes over only
// after the holder's limit without one (at once when the holder is a dead process of this
// host). The back ends offer no compare-and-swap, so every take-over is confirmed by reading
// the file back after a settle delay, and the holder re-reads it before each renewal: a
// deployer that finds another holder there has lost the project and must stop writing.
// Not thread-safe: one deployer thread uses it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "shared/formats/deployer_lease.h"
#include "shared/tunables.h"

namespace cloudbook {

// How often the holder renews, how long a newly written lease settles before it is read back
// (a racing deployer's rename lands within it on every back end we support), and how often a
// waiting deployer re-reads the lease.
struct LeaseTiming {
  double renew_every_s = GetTunables().lease_renew_every_s;
  double settle_s = GetTunables().lease_settle_s;
  double watch_every_s = GetTunables().lease_watch_every_s;
};

class LeaseKeeper {
 public:
  enum class Outcome {
    kHeld,     // this deployer holds the lease
    kBusy,     // another live deployer holds it (message() names it); do not plan
    kStopped,  // the pause function asked to stop
    kIoError,  // the lease could not be written (message() says why); state unchanged
  };

  // `path`: the lease file; `limit_s`: how long this deployer may stay silent before others
  // take over (raised to 3 renew intervals at least).
  LeaseKeeper(std::string path, double limit_s, std::string host, int64_t pid,
              LeaseTiming timing = {});

  // Takes the lease, waiting through `pause(seconds)` (returns false to stop) while it
  // watches a holder; a live holder gives kBusy after at most that holder's limit.
  Outcome Acquire(const std::function<bool(double)>& pause);

  // When a renewal is due (or `force`): reads the lease back, then rewrites it with the next
  // sequence. kHeld; kBusy when another deployer has taken it over (stop at once);
  // kIoError when the read-back or write failed (still ours as far as anyone can tell).
  Outcome Renew(bool force = false);

  // Removes the lease when it is still ours (a clean stop lets the next deployer start at once).
  void Release();

  bool held() const { return held_; }
  const std::string& message() const { return message_; }
  // Steady milliseconds until the next renewal is due (0 when due).
  int64_t MsUntilRenew() const;

 private:
  Outcome TakeOver(const DeployerLease* previous, const std::function<bool(double)>& pause);
  Status WriteOwn();

  std::string path_;
  LeaseTiming timing_;
  DeployerLease own_;
  bool held_ = false;
  int64_t next_renew_ms_ = 0;
  std::string message_;
};

// "deployer on host (pid N)", for messages.
std::string DescribeHolder(const DeployerLease& lease);

}  // namespace cloudbook
