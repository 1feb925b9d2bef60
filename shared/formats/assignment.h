// distributed/assignment.json: which agent runs each deployable unit. One writer (the
// deployer), atomic writes, a version that grows with every change: agents and agent 0 act on
// versions they have not seen, and a training started under an older version than the one
// that moved its DU away is fenced off (its checkpoints are refused, see checkpoint.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/json_io.h"
#include "shared/status.h"

namespace cloudbook {

inline constexpr int kAssignmentFormatVersion = 1;
inline constexpr size_t kMaxAssignmentBytes = 4 * 1024 * 1024;

struct DuAssignment {
  int du = -1;
  std::string agent;   // the owner
  std::string reason;  // why this agent (logged by the deployer, shown to users)
};

struct Assignment {
  int64_t version = 0;              // 1, 2, ...: a new number for every change
  std::string generation;           // the DU set's generation (du_list.json) it was made for
  int64_t time_ms = 0;              // unix ms of this write
  std::vector<std::string> agents;  // the live agents this version was planned over, sorted
  std::vector<DuAssignment> dus;    // sorted by du, one entry per DU

  // The entry of `du`, or null.
  const DuAssignment* Find(int du) const;
  // The DUs owned by `agent`, ascending.
  std::vector<int> DusOf(const std::string& agent) const;
};

std::string AssignmentPath(const std::string& shared_folder);

Json ToJson(const Assignment& assignment);
// Checks types, ranges, the format version, DU indices unique and >= 0, agent ids non-empty.
Result<Assignment> AssignmentFromJson(const Json& json, const std::string& source);
// NotFound when there is no assignment yet; Corruption (naming the file) when it is
// malformed, oversized or not a regular file (symlinks are not followed).
Result<Assignment> ReadAssignment(const std::string& shared_folder);
// Atomic (write then rename).
Status WriteAssignment(const std::string& shared_folder, const Assignment& assignment);

}  // namespace cloudbook
