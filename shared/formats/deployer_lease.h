// distributed/deployer.json: which deployer may plan for the project (one at a time). One
// writer at a time (the holder), atomic writes, rewritten every renew interval with a new
// sequence number. Other deployers judge the holder alive while new sequences arrive, on their
// OWN steady clock (never by comparing `time_ms` with their wall clock), and take the lease
// over only after the holder's `limit_s` without one. deployer/lease_keeper.h runs the protocol.
#pragma once

#include <cstdint>
#include <string>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kDeployerLeaseFormatVersion = 1;
inline constexpr size_t kMaxDeployerLeaseBytes = 64 * 1024;

struct DeployerLease {
  std::string holder;  // unique per deployer process: "<host>:<pid>:<random hex>"
  std::string host;    // for people and for the same-host shortcut (a dead pid there)
  int64_t pid = 0;
  uint64_t sequence = 0;        // grows with every renewal
  double renew_interval_s = 2;  // how often the holder rewrites the file
  double limit_s = 15;          // silence after which another deployer may take over
  int64_t time_ms = 0;          // unix ms of this write (shown to people only)
};

Json ToJson(const DeployerLease& lease);
// Checks types, ranges and the format version; `source` names the file in messages.
Result<DeployerLease> DeployerLeaseFromJson(const Json& json, const std::string& source);
// NotFound when there is no lease; Corruption (naming the file) when malformed, oversized or
// not a regular file (symlinks are not followed).
Result<DeployerLease> ReadDeployerLease(const std::string& path);
// Atomic (write then rename).
Status WriteDeployerLease(const std::string& path, const DeployerLease& lease);

}  // namespace cloudbook
