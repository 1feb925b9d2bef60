// The deployer's decision, as a pure function: which live agent runs each deployable unit.
// DU 0 always goes to agent 0; the other DUs balance the expected finishing time
// (cost / capacity), longest first, onto the agent that would finish them soonest. Given the
// previous assignment of the same DU generation it changes as little as possible: DUs of live
// agents stay put, DUs of agents that are no longer live move, and DUs not started yet may
// move to agents that joined since. Deterministic: ties go to the smaller agent id.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shared/formats/assignment.h"
#include "shared/formats/grant.h"

namespace cloudbook {

// What the planner needs to know about an agent (from its announcement).
struct PlannerAgent {
  std::string id;
  Grant grant = Grant::kLow;
  int cores = 1;
  double gflops = 0;  // measured under the grant; 0 when not announced
  // Live but silent for longer than its announcements' rhythm (it may be dying): receives
  // DUs only when no other live agent can take them.
  bool quiet = false;
};

// HIGH 3, MEDIUM 2, LOW 1.
int GrantWeight(Grant grant);

// An agent's capacity in GFLOP/s and how it was obtained, for the reasons.
struct AgentCapacity {
  double gflops = 0;
  std::string description;  // "43.1 GFLOP/s, HIGH" or "~6.0 GFLOP/s from 2 cores x HIGH"
};

// The announced GFLOP/s when > 0. Otherwise cores x grant weight, scaled to GFLOP/s by what
// the agents that did announce a figure measure per core-weight (1 GFLOP/s per core-weight
// when none did), so that agents with and without a figure can be compared.
std::map<std::string, AgentCapacity> EffectiveCapacities(const std::vector<PlannerAgent>& agents);

struct PlannerDu {
  int index = 0;
  double cost = 0;  // FLOPs of training (DuSpec::cost)
};

struct PlanRequest {
  std::vector<PlannerDu> dus;
  std::string generation;                // of the DU set
  std::vector<PlannerAgent> live;        // the agents that may receive DUs
  const Assignment* previous = nullptr;  // the assignment in force (any generation), or null
  std::set<int> started;                 // DUs that have begun training somewhere
  // Why an agent that owns DUs in `previous` is not live ("no announcement for 16.0 s ..."),
  // for the reasons; an owner not listed here and not live is "not announced".
  std::map<std::string, std::string> not_live_reasons;
  // Agents a DU must not go back to (it was moved away from them when they were lost); used
  // unless no other live agent is left.
  std::map<int, std::set<std::string>> barred;
  // The highest version known to have been used (a malformed file's, the owner versions in
  // checkpoints): a new version is max(previous version, this) + 1, and a previous
  // assignment whose version is below it is re-issued above it (agents fence checkpoints by
  // version, so an assignment numbered below a checkpoint's owner would never be obeyed).
  int64_t known_version = 0;
};

struct PlanChange {
  enum class Kind { kFresh, kFromNotLive, kRebalanced, kDuZeroHome };
  Kind kind = Kind::kFresh;
  int du = 0;
  std::string from;  // previous owner, "" for a fresh plan
  std::string to;
  std::string from_why;  // for kFromNotLive: why `from` is not live
};

struct PlanResult {
  // version: the previous one when nothing changed, else one more; time_ms left at 0.
  Assignment assignment;
  bool changed = false;  // an owner differs from the previous assignment (or a fresh plan)
  std::vector<PlanChange> changes;
  std::vector<std::string> notes;  // problems: agent 0 not live, a DU with nowhere to go
};

PlanResult PlanAssignment(const PlanRequest& request);

}  // namespace cloudbook
