// The deployer's planner: DU 0 on agent 0, the others balancing the expected finishing time
// (cost / capacity), deterministic, and changing as little as possible from one plan to the
// next (DUs of live agents stay; DUs of lost agents move; new agents take unstarted DUs).
#include "deployer/assignment_planner.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace cloudbook {
namespace {

constexpr double kGflop = 1e9;

std::vector<PlannerDu> EqualDus(int count, double cost = 10 * kGflop) {
  std::vector<PlannerDu> dus;
  for (int i = 0; i < count; ++i) dus.push_back({i, cost});
  return dus;
}

std::map<std::string, std::vector<int>> Owners(const Assignment& assignment) {
  std::map<std::string, std::vector<int>> owners;
  for (const DuAssignment& entry : assignment.dus) owners[entry.agent].push_back(entry.du);
  return owners;
}

PlanRequest Request(std::vector<PlannerDu> dus, std::vector<PlannerAgent> live) {
  PlanRequest request;
  request.dus = std::move(dus);
  request.generation = "make-1";
  request.live = std::move(live);
  return request;
}

const PlannerAgent kZero{"agent-0", Grant::kHigh, 4, 40};
const PlannerAgent kBee{"agent-bee", Grant::kMedium, 2, 20};
const PlannerAgent kCat{"agent-cat", Grant::kLow, 1, 10};

TEST(AssignmentPlanner, DuZeroGoesToAgentZeroAndEveryDuHasOneOwnerAndAReason) {
  const PlanResult result = PlanAssignment(Request(EqualDus(6), {kCat, kZero, kBee}));
  const Assignment& plan = result.assignment;
  EXPECT_TRUE(result.changed);
  EXPECT_EQ(plan.version, 1);
  EXPECT_EQ(plan.generation, "make-1");
  EXPECT_EQ(plan.agents, (std::vector<std::string>{"agent-0", "agent-bee", "agent-cat"}));
  ASSERT_EQ(plan.dus.size(), 6u);
  for (size_t i = 0; i < plan.dus.size(); ++i) {
    EXPECT_EQ(plan.dus[i].du, static_cast<int>(i));
    EXPECT_FALSE(plan.dus[i].reason.empty());
  }
  EXPECT_EQ(plan.dus[0].agent, "agent-0");
  EXPECT_EQ(plan.dus[0].reason, "DU 0 stays with agent 0");
  EXPECT_NE(plan.dus[1].reason.find("balance: expected finish"), std::string::npos)
      << plan.dus[1].reason;
  EXPECT_NE(plan.dus[1].reason.find("GFLOP/s"), std::string::npos) << plan.dus[1].reason;
  EXPECT_TRUE(result.notes.empty());
}

TEST(AssignmentPlanner, BalancesExpectedFinishingTimeNotCounts) {
  // Capacities 40 : 20 : 10 with 7 equal DUs: finishing times 4/40, 2/20, 1/10 are equal.
  const PlanResult result = PlanAssignment(Request(EqualDus(7), {kZero, kBee, kCat}));
  const auto owners = Owners(result.assignment);
  EXPECT_EQ(owners.at("agent-0").size(), 4u);
  EXPECT_EQ(owners.at("agent-bee").size(), 2u);
  EXPECT_EQ(owners.at("agent-cat").size(), 1u);
}

TEST(AssignmentPlanner, LongestFirstOntoTheAgentThatFinishesSoonest) {
  // Two equal agents; DU 0 (cost 1) on agent 0. Longest first: 8 -> bee (0 < 1), 5 -> 0
  // (1+5=6 < 8), 4 -> 0? 6+4=10 vs 8+4=12: agent 0. 3 -> bee (11 < 13).
  const PlannerAgent zero{"agent-0", Grant::kHigh, 2, 10};
  const PlannerAgent bee{"agent-bee", Grant::kHigh, 2, 10};
  const std::vector<PlannerDu> dus = {
      {0, 1 * kGflop}, {1, 3 * kGflop}, {2, 8 * kGflop}, {3, 5 * kGflop}, {4, 4 * kGflop}};
  const auto owners = Owners(PlanAssignment(Request(dus, {zero, bee})).assignment);
  EXPECT_EQ(owners.at("agent-0"), (std::vector<int>{0, 3, 4}));
  EXPECT_EQ(owners.at("agent-bee"), (std::vector<int>{1, 2}));
}

TEST(AssignmentPlanner, MoreDusThanAgentsAndOneAgentOnly) {
  const PlanResult many = PlanAssignment(Request(EqualDus(20), {kZero, kCat}));
  EXPECT_EQ(many.assignment.dus.size(), 20u);
  EXPECT_EQ(Owners(many.assignment).size(), 2u);

  const PlanResult alone = PlanAssignment(Request(EqualDus(5), {kZero}));
  ASSERT_EQ(alone.assignment.dus.size(), 5u);
  EXPECT_EQ(Owners(alone.assignment).at("agent-0"), (std::vector<int>{0, 1, 2, 3, 4}));

  const PlanResult single_du = PlanAssignment(Request(EqualDus(1), {kZero, kBee, kCat}));
  ASSERT_EQ(single_du.assignment.dus.size(), 1u);
  EXPECT_EQ(single_du.assignment.dus[0].agent, "agent-0");
}

TEST(AssignmentPlanner, TheHighAgentWithMoreGflopsGetsMoreWork) {
  const PlannerAgent high{"agent-high", Grant::kHigh, 4, 80};
  const PlannerAgent low{"agent-low", Grant::kLow, 1, 20};
  const PlanResult result = PlanAssignment(Request(EqualDus(11), {kZero, high, low}));
  const auto owners = Owners(result.assignment);
  EXPECT_GT(owners.at("agent-high").size(), owners.at("agent-low").size());
  EXPECT_GT(owners.at("agent-high").size(), 2 * owners.at("agent-low").size());
}

TEST(AssignmentPlanner, WithoutGflopsCapacityIsCoresTimesGrantWeight) {
  EXPECT_EQ(GrantWeight(Grant::kHigh), 3);
  EXPECT_EQ(GrantWeight(Grant::kMedium), 2);
  EXPECT_EQ(GrantWeight(Grant::kLow), 1);
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 0};      // 1 x 1
  const PlannerAgent high{"agent-high", Grant::kHigh, 2, 0};  // 2 x 3
  const auto capacities = EffectiveCapacities({zero, high});
  EXPECT_DOUBLE_EQ(capacities.at("agent-high").gflops / capacities.at("agent-0").gflops, 6);
  EXPECT_NE(capacities.at("agent-high").description.find("2 cores x HIGH"), std::string::npos)
      << capacities.at("agent-high").description;
  // 1 + 6 = 7 equal shares: DU 0 on agent 0 already fills its share, the rest go high.
  const auto owners = Owners(PlanAssignment(Request(EqualDus(7), {zero, high})).assignment);
  EXPECT_EQ(owners.at("agent-0"), (std::vector<int>{0}));
  EXPECT_EQ(owners.at("agent-high").size(), 6u);

  // Mixed: an agent without a figure is scaled by what the others measure per core-weight.
  const PlannerAgent measured{"agent-m", Grant::kMedium, 2, 40};  // 10 GFLOP/s per core-weight
  const PlannerAgent unmeasured{"agent-u", Grant::kMedium, 2, 0};
  const auto mixed = EffectiveCapacities({measured, unmeasured});
  EXPECT_DOUBLE_EQ(mixed.at("agent-u").gflops, 40);
}

TEST(AssignmentPlanner, DeterministicWhateverTheOrderOfAgents) {
  const PlannerAgent a{"agent-a", Grant::kLow, 1, 10};
  const PlannerAgent b{"agent-b", Grant::kLow, 1, 10};
  const PlannerAgent c{"agent-c", Grant::kLow, 1, 10};
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 10};
  const Json first = ToJson(PlanAssignment(Request(EqualDus(6), {zero, a, b, c})).assignment);
  const Json second = ToJson(PlanAssignment(Request(EqualDus(6), {c, b, zero, a})).assignment);
  EXPECT_EQ(first, second);
  // Equal capacities and costs: ties go to the smaller id, one DU each.
  const auto owners = Owners(AssignmentFromJson(first, "plan").value());
  EXPECT_EQ(owners.at("agent-0"), (std::vector<int>{0, 4}));
  EXPECT_EQ(owners.at("agent-a"), (std::vector<int>{1, 5}));
  EXPECT_EQ(owners.at("agent-b"), (std::vector<int>{2}));
  EXPECT_EQ(owners.at("agent-c"), (std::vector<int>{3}));
}

TEST(AssignmentPlanner, KeepsTheAssignmentAndVersionWhenNothingChanged) {
  PlanResult first = PlanAssignment(Request(EqualDus(6), {kZero, kBee, kCat}));
  first.assignment.version = 7;
  PlanRequest again = Request(EqualDus(6), {kCat, kBee, kZero});
  again.previous = &first.assignment;
  const PlanResult second = PlanAssignment(again);
  EXPECT_FALSE(second.changed);
  EXPECT_TRUE(second.changes.empty());
  EXPECT_EQ(second.assignment.version, 7);
  EXPECT_EQ(Owners(second.assignment), Owners(first.assignment));
  EXPECT_EQ(second.assignment.dus[3].reason, first.assignment.dus[3].reason);
}

TEST(AssignmentPlanner, AnotherGenerationIsReplacedByAFreshPlanWithTheNextVersion) {
  PlanResult old = PlanAssignment(Request(EqualDus(3), {kZero, kBee}));
  old.assignment.version = 4;
  old.assignment.generation = "make-0";
  PlanRequest request = Request(EqualDus(5), {kZero, kBee});
  request.previous = &old.assignment;
  const PlanResult result = PlanAssignment(request);
  EXPECT_TRUE(result.changed);
  EXPECT_EQ(result.assignment.version, 5);
  EXPECT_EQ(result.assignment.generation, "make-1");
  EXPECT_EQ(result.assignment.dus.size(), 5u);
  // Without a readable previous file, a salvaged version still moves forward.
  PlanRequest salvaged = Request(EqualDus(2), {kZero});
  salvaged.known_version = 9;
  EXPECT_EQ(PlanAssignment(salvaged).assignment.version, 10);
}

TEST(AssignmentPlanner, DusOfALostAgentMoveAndTheOthersStayPut) {
  const PlanResult first = PlanAssignment(Request(EqualDus(7), {kZero, kBee, kCat}));
  const auto before = Owners(first.assignment);
  ASSERT_EQ(before.at("agent-bee").size(), 2u);
  PlanRequest request = Request(EqualDus(7), {kZero, kCat});
  request.previous = &first.assignment;
  request.started = {1, 2, 3, 4, 5, 6};  // everything runs: nothing moves just to rebalance
  request.not_live_reasons["agent-bee"] = "no announcement for 16.0 s";
  const PlanResult result = PlanAssignment(request);
  EXPECT_TRUE(result.changed);
  EXPECT_EQ(result.assignment.version, 2);
  const auto after = Owners(result.assignment);
  EXPECT_EQ(after.count("agent-bee"), 0u);
  for (const int du : before.at("agent-0")) {
    EXPECT_EQ(result.assignment.Find(du)->agent, "agent-0") << "DU " << du;
  }
  for (const int du : before.at("agent-cat")) {
    EXPECT_EQ(result.assignment.Find(du)->agent, "agent-cat") << "DU " << du;
  }
  ASSERT_EQ(result.changes.size(), 2u);
  for (const PlanChange& change : result.changes) {
    EXPECT_EQ(change.kind, PlanChange::Kind::kFromNotLive);
    EXPECT_EQ(change.from, "agent-bee");
    EXPECT_EQ(change.from_why, "no announcement for 16.0 s");
    EXPECT_NE(result.assignment.Find(change.du)->reason.find("moved from lost agent-bee"),
              std::string::npos);
  }
  // agent-0 (40) and agent-cat (10): the moved DUs go where they finish sooner.
  EXPECT_EQ(after.at("agent-0").size(), 6u);
}

TEST(AssignmentPlanner, DuZeroStaysWithALostAgentZero) {
  const PlanResult first = PlanAssignment(Request(EqualDus(4), {kZero, kBee}));
  PlanRequest request = Request(EqualDus(4), {kBee});
  request.previous = &first.assignment;
  request.started = {1, 2, 3};
  const PlanResult result = PlanAssignment(request);
  EXPECT_EQ(result.assignment.Find(0)->agent, "agent-0");
  for (const int du : {1, 2, 3}) EXPECT_EQ(result.assignment.Find(du)->agent, "agent-bee");
  ASSERT_FALSE(result.notes.empty());
  EXPECT_NE(result.notes[0].find("cannot finish without it"), std::string::npos);
}

TEST(AssignmentPlanner, ANewAgentTakesOnlyDusNotStarted) {
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 10};
  const PlannerAgent bee{"agent-bee", Grant::kLow, 1, 10};
  const PlannerAgent newcomer{"agent-new", Grant::kHigh, 4, 40};
  const PlanResult first = PlanAssignment(Request(EqualDus(7), {zero, bee}));
  const auto before = Owners(first.assignment);  // 0: {0,2,4,6}? bee: {1,3,5}
  PlanRequest request = Request(EqualDus(7), {zero, bee, newcomer});
  request.previous = &first.assignment;
  request.started = {1, 2};  // running: must stay
  const PlanResult result = PlanAssignment(request);
  EXPECT_TRUE(result.changed);
  EXPECT_EQ(result.assignment.Find(0)->agent, "agent-0");
  EXPECT_EQ(result.assignment.Find(1)->agent, first.assignment.Find(1)->agent);
  EXPECT_EQ(result.assignment.Find(2)->agent, first.assignment.Find(2)->agent);
  const auto after = Owners(result.assignment);
  ASSERT_TRUE(after.count("agent-new"));
  for (const int du : after.at("agent-new")) {
    EXPECT_GE(du, 3) << "a started DU moved";
  }
  for (const PlanChange& change : result.changes) {
    EXPECT_EQ(change.kind, PlanChange::Kind::kRebalanced);
    EXPECT_EQ(change.to, "agent-new");
    EXPECT_NE(result.assignment.Find(change.du)->reason.find("not started yet"), std::string::npos);
  }
  // The next look with the same agents keeps everything.
  PlanRequest again = request;
  again.previous = &result.assignment;
  const PlanResult stable = PlanAssignment(again);
  EXPECT_FALSE(stable.changed);
  EXPECT_EQ(stable.assignment.version, result.assignment.version);
}

TEST(AssignmentPlanner, AnUnstartedDuStaysWhenMovingDoesNotImproveItsFinish) {
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 10};
  const PlannerAgent bee{"agent-bee", Grant::kLow, 1, 10};
  const PlannerAgent slow{"agent-slow", Grant::kLow, 1, 0.001};
  const PlanResult first = PlanAssignment(Request(EqualDus(3), {zero, bee}));
  PlanRequest request = Request(EqualDus(3), {zero, bee, slow});
  request.previous = &first.assignment;
  const PlanResult result = PlanAssignment(request);
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(Owners(result.assignment).count("agent-slow"), 0u);
}

TEST(AssignmentPlanner, ALostAgentThatComesBackDoesNotGetItsMovedDusBack) {
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 10};
  const PlannerAgent bee{"agent-bee", Grant::kLow, 1, 10};
  const PlannerAgent cat{"agent-cat", Grant::kLow, 1, 10};
  const PlanResult first = PlanAssignment(Request(EqualDus(3), {zero, bee, cat}));
  const int bee_du = first.assignment.DusOf("agent-bee").at(0);
  PlanRequest lost = Request(EqualDus(3), {zero, cat});
  lost.previous = &first.assignment;
  const PlanResult moved = PlanAssignment(lost);
  ASSERT_NE(moved.assignment.Find(bee_du)->agent, "agent-bee");
  PlanRequest back = Request(EqualDus(3), {zero, bee, cat});
  back.previous = &moved.assignment;
  back.barred[bee_du] = {"agent-bee"};
  const PlanResult result = PlanAssignment(back);
  EXPECT_NE(result.assignment.Find(bee_du)->agent, "agent-bee");
}

TEST(AssignmentPlanner, WithNoLiveAgentNothingMovesAndANoteSaysWhy) {
  const PlanResult first = PlanAssignment(Request(EqualDus(3), {kZero, kBee}));
  PlanRequest request = Request(EqualDus(3), {});
  request.previous = &first.assignment;
  const PlanResult result = PlanAssignment(request);
  EXPECT_FALSE(result.changed);
  EXPECT_EQ(Owners(result.assignment), Owners(first.assignment));
  EXPECT_GE(result.notes.size(), 2u);
}

TEST(AssignmentPlanner, ZeroCostDusStillSpreadByCapacity) {
  const PlannerAgent zero{"agent-0", Grant::kLow, 1, 10};
  const PlannerAgent bee{"agent-bee", Grant::kLow, 1, 10};
  const auto owners = Owners(PlanAssignment(Request(EqualDus(4, 0), {zero, bee})).assignment);
  EXPECT_EQ(owners.at("agent-0").size(), 2u);
  EXPECT_EQ(owners.at("agent-bee").size(), 2u);
}

// Issue 15: a deployer moved a dead helper's DUs to agent 0, itself dead and judged lost a
// second later. A live agent silent for longer than its rhythm ("quiet") is the last choice.
TEST(AssignmentPlanner, MovedDusPreferAgentsHeardFromRecently) {
  const PlannerAgent quiet_zero{"agent-0", Grant::kHigh, 4, 400, /*quiet=*/true};
  PlanRequest request = Request(EqualDus(3), {quiet_zero, kCat});
  Assignment previous;
  previous.version = 4;
  previous.generation = "make-1";
  previous.agents = {"agent-0", "agent-bee", "agent-cat"};
  previous.dus = {{0, "agent-0", ""}, {1, "agent-bee", ""}, {2, "agent-cat", ""}};
  request.previous = &previous;
  request.started = {0, 1, 2};
  const PlanResult result = PlanAssignment(request);
  // agent-0 is ten times faster but quiet: the lost agent's DU goes to agent-cat.
  EXPECT_EQ(result.assignment.Find(1)->agent, "agent-cat");
  EXPECT_EQ(result.assignment.Find(0)->agent, "agent-0");
  EXPECT_EQ(result.assignment.version, 5);

  // With nobody else live, the quiet agent still takes it.
  PlanRequest alone = Request(EqualDus(3), {quiet_zero});
  alone.previous = &previous;
  alone.started = {0, 1, 2};
  EXPECT_EQ(PlanAssignment(alone).assignment.Find(1)->agent, "agent-0");
}

// Issue 15: a fresh deployer after `rm assignment.json` started at version 1 while checkpoints
// carried owner versions 2 and 3, so agents refused to train (superseded) for ever.
TEST(AssignmentPlanner, VersionsNeverGoBelowAVersionKnownToBeInUse) {
  PlanRequest fresh = Request(EqualDus(3), {kZero, kBee});
  fresh.known_version = 3;
  EXPECT_EQ(PlanAssignment(fresh).assignment.version, 4);

  // An unchanged plan whose version is below a checkpoint's owner is re-issued above it.
  const Assignment first = PlanAssignment(Request(EqualDus(3), {kZero, kBee})).assignment;
  PlanRequest same = Request(EqualDus(3), {kZero, kBee});
  same.previous = &first;
  same.known_version = 7;
  const PlanResult reissued = PlanAssignment(same);
  EXPECT_TRUE(reissued.changed);
  EXPECT_EQ(reissued.assignment.version, 8);
  EXPECT_EQ(Owners(reissued.assignment), Owners(first));
  ASSERT_EQ(reissued.notes.size(), 1u);
  EXPECT_NE(reissued.notes[0].find("re-issued above it"), std::string::npos);

  // A change numbers above the known version too.
  PlanRequest moved = Request(EqualDus(3), {kZero});
  moved.previous = &first;
  moved.known_version = 7;
  EXPECT_EQ(PlanAssignment(moved).assignment.version, 8);

  // Nothing known above the previous version: unchanged, not rewritten.
  same.known_version = 1;
  EXPECT_FALSE(PlanAssignment(same).changed);
}

}  // namespace
}  // namespace cloudbook
