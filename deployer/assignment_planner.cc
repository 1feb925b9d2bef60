#include "deployer/assignment_planner.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <limits>

#include "shared/formats/agent_id.h"

namespace cloudbook {

namespace {

constexpr double kMinCostFlops = 1;  // a DU of unknown cost still counts as some work
constexpr double kTieTolerance = 1e-9;

double CostOf(const PlannerDu& du) { return std::max(du.cost, kMinCostFlops); }

// "12.3 s", and small figures with three significant digits ("0.0123 s").
std::string Seconds(double seconds) {
  return seconds >= 1 ? fmt::format("{:.1f} s", seconds) : fmt::format("{:.3g} s", seconds);
}

// Work per agent (FLOPs already given to it) and the finishing times that follow.
class Loads {
 public:
  Loads(const std::vector<PlannerAgent>& live, std::map<std::string, AgentCapacity> capacities)
      : capacities_(std::move(capacities)) {
    for (const PlannerAgent& agent : live) {
      flops_[agent.id] = 0;
      if (agent.quiet) quiet_.insert(agent.id);
    }
  }

  bool IsLive(const std::string& id) const { return flops_.count(id) > 0; }
  void Add(const std::string& id, double cost) {
    if (IsLive(id)) flops_[id] += cost;
  }
  // Seconds until `id` would finish everything it has plus `cost`.
  double FinishWith(const std::string& id, double cost) const {
    return (flops_.at(id) + cost) / (capacities_.at(id).gflops * 1e9);
  }
  const AgentCapacity& Capacity(const std::string& id) const { return capacities_.at(id); }

  // The live agent (not in `barred` and not quiet, unless that leaves none) that would
  // finish `cost` soonest; ties to the smaller id. Empty when no agent is live.
  std::string Best(double cost, const std::set<std::string>& barred) const {
    std::string best;
    for (const auto& [honour_bars, skip_quiet] :
         {std::pair{true, true}, {true, false}, {false, true}, {false, false}}) {
      double best_finish = std::numeric_limits<double>::infinity();
      for (const auto& [id, flops] : flops_) {  // ascending ids
        if (honour_bars && barred.count(id)) continue;
        if (skip_quiet && quiet_.count(id)) continue;
        const double finish = FinishWith(id, cost);
        if (finish < best_finish * (1 - kTieTolerance)) {
          best_finish = finish;
          best = id;
        }
      }
      if (!best.empty()) break;
    }
    return best;
  }

  std::string Describe(const std::string& id, double cost) const {
    return "expected finish " + Seconds(FinishWith(id, cost)) + " on " + id + " (" +
           Capacity(id).description + ")";
  }

 private:
  std::map<std::string, AgentCapacity> capacities_;
  std::map<std::string, double> flops_;  // sorted by id: deterministic ties
  std::set<std::string> quiet_;
};

std::vector<PlannerDu> LongestFirst(std::vector<PlannerDu> dus) {
  std::sort(dus.begin(), dus.end(), [](const PlannerDu& a, const PlannerDu& b) {
    if (CostOf(a) != CostOf(b)) return CostOf(a) > CostOf(b);
    return a.index < b.index;
  });
  return dus;
}

const std::set<std::string>& BarredFor(const PlanRequest& request, int du) {
  static const std::set<std::string> kNone;
  const auto found = request.barred.find(du);
  return found == request.barred.end() ? kNone : found->second;
}

std::string NotLiveWhy(const PlanRequest& request, const std::string& agent) {
  const auto found = request.not_live_reasons.find(agent);
  return found == request.not_live_reasons.end() ? "not announced" : found->second;
}

DuAssignment DuZeroEntry(const Loads& loads, std::vector<std::string>& notes) {
  DuAssignment entry{0, kAgentZeroId, "DU 0 stays with agent 0"};
  if (!loads.IsLive(kAgentZeroId)) {
    entry.reason += " (agent 0 is not live: DU 0 waits for it)";
    notes.push_back(
        "agent 0 is not live: the run cannot finish without it; DU 0 stays assigned to agent 0 "
        "and resumes when it comes back");
  }
  return entry;
}

}  // namespace

int GrantWeight(Grant grant) {
  switch (grant) {
    case Grant::kHigh:
      return 3;
    case Grant::kMedium:
      return 2;
    case Grant::kLow:
      return 1;
  }
  return 1;
}

std::map<std::string, AgentCapacity> EffectiveCapacities(const std::vector<PlannerAgent>& agents) {
  // GFLOP/s per core-weight among the agents that measured it: the scale of the fallback.
  double measured = 0;
  double weights = 0;
  for (const PlannerAgent& agent : agents) {
    if (agent.gflops > 0) {
      measured += agent.gflops;
      weights += std::max(agent.cores, 1) * GrantWeight(agent.grant);
    }
  }
  const double per_weight = weights > 0 ? measured / weights : 1.0;
  std::map<std::string, AgentCapacity> capacities;
  for (const PlannerAgent& agent : agents) {
    AgentCapacity capacity;
    if (agent.gflops > 0) {
      capacity.gflops = agent.gflops;
      capacity.description =
          fmt::format("{:.1f} GFLOP/s, {}", agent.gflops, GrantName(agent.grant));
    } else {
      const int cores = std::max(agent.cores, 1);
      capacity.gflops = cores * GrantWeight(agent.grant) * per_weight;
      capacity.description =
          fmt::format("~{:.1f} GFLOP/s from {} core{} x {}, no measure", capacity.gflops, cores,
                      cores == 1 ? "" : "s", GrantName(agent.grant));
    }
    capacities[agent.id] = capacity;
  }
  return capacities;
}

PlanResult PlanAssignment(const PlanRequest& request) {
  PlanResult result;
  Assignment& plan = result.assignment;
  plan.generation = request.generation;
  for (const PlannerAgent& agent : request.live) plan.agents.push_back(agent.id);
  std::sort(plan.agents.begin(), plan.agents.end());
  Loads loads(request.live, EffectiveCapacities(request.live));

  const Assignment* previous = request.previous;
  const bool fresh = previous == nullptr || previous->generation != request.generation;
  std::map<int, DuAssignment> entries;
  std::vector<PlannerDu> pool;  // DUs to place, with their current owner in `entries` if any
  double du_zero_cost = kMinCostFlops;
  for (const PlannerDu& du : request.dus) {
    if (du.index == 0) du_zero_cost = CostOf(du);
  }
  entries[0] = DuZeroEntry(loads, result.notes);
  loads.Add(kAgentZeroId, du_zero_cost);

  if (fresh) {
    for (const PlannerDu& du : request.dus) {
      if (du.index != 0) pool.push_back(du);
    }
  } else {
    // Agents that joined since the previous plan may take DUs nobody has started.
    bool someone_joined = false;
    for (const std::string& id : plan.agents) {
      if (std::find(previous->agents.begin(), previous->agents.end(), id) ==
          previous->agents.end()) {
        someone_joined = true;
      }
    }
    for (const PlannerDu& du : request.dus) {
      if (du.index == 0) continue;
      const DuAssignment* before = previous->Find(du.index);
      if (before == nullptr) {
        pool.push_back(du);  // no owner yet
        continue;
      }
      entries[du.index] = *before;
      if (!loads.IsLive(before->agent) ||
          (someone_joined && request.started.count(du.index) == 0)) {
        pool.push_back(du);
      } else {
        loads.Add(before->agent, CostOf(du));  // running or not movable: stays
      }
    }
  }

  for (const PlannerDu& du : LongestFirst(pool)) {
    const double cost = CostOf(du);
    const std::string best = loads.Best(cost, BarredFor(request, du.index));
    const auto current = entries.find(du.index);
    const bool has_owner = current != entries.end();
    if (best.empty()) {  // nobody is live
      if (!has_owner) entries[du.index] = {du.index, kAgentZeroId, "no live agent yet"};
      result.notes.push_back("DU " + std::to_string(du.index) +
                             ": no live agent can take it; it stays with " +
                             entries[du.index].agent);
      continue;
    }
    if (has_owner && loads.IsLive(current->second.agent)) {
      // Not started, owner live: move only when another agent finishes it sooner.
      const std::string owner = current->second.agent;
      const double stay = loads.FinishWith(owner, cost);
      if (best != owner && loads.FinishWith(best, cost) < stay * (1 - kTieTolerance)) {
        entries[du.index] = {
            du.index, best,
            "not started yet, moved to a new agent: " + loads.Describe(best, cost) +
                " instead of " + Seconds(stay) + " on " + owner};
        result.changes.push_back({PlanChange::Kind::kRebalanced, du.index, owner, best, ""});
        loads.Add(best, cost);
      } else {
        loads.Add(owner, cost);
      }
      continue;
    }
    if (has_owner) {
      const std::string owner = current->second.agent;
      entries[du.index] = {du.index, best,
                           "moved from lost " + owner + ": " + loads.Describe(best, cost)};
      result.changes.push_back(
          {PlanChange::Kind::kFromNotLive, du.index, owner, best, NotLiveWhy(request, owner)});
    } else {
      entries[du.index] = {du.index, best, "balance: " + loads.Describe(best, cost)};
      result.changes.push_back({PlanChange::Kind::kFresh, du.index, "", best, ""});
    }
    loads.Add(best, cost);
  }

  for (auto& [index, entry] : entries) plan.dus.push_back(entry);
  if (fresh) {
    result.changed = true;
    result.changes.insert(result.changes.begin(),
                          {PlanChange::Kind::kFresh, 0, "", kAgentZeroId, ""});
    plan.version = std::max(previous ? previous->version : 0, request.known_version) + 1;
    return result;
  }
  const DuAssignment* zero_before = previous->Find(0);
  if (zero_before == nullptr || zero_before->agent != kAgentZeroId) {
    result.changes.insert(result.changes.begin(),
                          {PlanChange::Kind::kDuZeroHome, 0, zero_before ? zero_before->agent : "",
                           kAgentZeroId, ""});
  }
  result.changed = previous->dus.size() != plan.dus.size();
  for (const DuAssignment& entry : plan.dus) {
    const DuAssignment* before = previous->Find(entry.du);
    if (before == nullptr || before->agent != entry.agent) result.changed = true;
  }
  if (!result.changed && previous->version < request.known_version) {
    result.changed = true;
    result.notes.push_back("version " + std::to_string(previous->version) + " is below version " +
                           std::to_string(request.known_version) +
                           " found in checkpoints or files: re-issued above it");
  }
  plan.version =
      result.changed ? std::max(previous->version, request.known_version) + 1 : previous->version;
  return result;
}

}  // namespace cloudbook
