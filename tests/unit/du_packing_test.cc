// PackSubnets: several subnets per deployable unit when there are more subnets than the
// project wants DUs, balancing cost longest-processing-time-first. The rule: take subnets
// from the most expensive down (ties: lower subnet index first) and give each to the DU
// with the least cost so far (ties: lower DU index).
#include "maker/du_packing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace cloudbook {
namespace {

// Every subnet is in exactly one DU; each DU's list is ascending and its cost is the sum.
void ExpectWellFormed(const DuPacking& packing, const std::vector<double>& costs) {
  ASSERT_EQ(packing.subnets.size(), packing.costs.size());
  std::vector<int> seen(costs.size(), 0);
  for (size_t du = 0; du < packing.subnets.size(); ++du) {
    const auto& members = packing.subnets[du];
    EXPECT_FALSE(members.empty()) << "DU " << du << " is empty";
    EXPECT_TRUE(std::is_sorted(members.begin(), members.end())) << "DU " << du;
    double sum = 0;
    for (int s : members) {
      ASSERT_GE(s, 0);
      ASSERT_LT(s, static_cast<int>(costs.size()));
      ++seen[static_cast<size_t>(s)];
      sum += costs[static_cast<size_t>(s)];
    }
    EXPECT_DOUBLE_EQ(packing.costs[du], sum) << "DU " << du;
  }
  for (size_t s = 0; s < seen.size(); ++s) {
    EXPECT_EQ(seen[s], 1) << "subnet " << s << " must be packed exactly once";
  }
}

TEST(PackSubnets, LongestProcessingTimeFirstByHand) {
  // Costs {5, 4, 3, 3, 3} into 2 DUs, most expensive first:
  //   subnet 0 (5) -> DU 0 (both empty, lower index)      DU costs 5, 0
  //   subnet 1 (4) -> DU 1                                 5, 4
  //   subnet 2 (3) -> DU 1 (4 < 5)                         5, 7
  //   subnet 3 (3) -> DU 0 (5 < 7)                         8, 7
  //   subnet 4 (3) -> DU 1 (7 < 8)                         8, 10
  const std::vector<double> costs = {5, 4, 3, 3, 3};
  const DuPacking packing = PackSubnets(costs, 2);
  ExpectWellFormed(packing, costs);
  EXPECT_EQ(packing.subnets, (std::vector<std::vector<int>>{{0, 3}, {1, 2, 4}}));
  EXPECT_EQ(packing.costs, (std::vector<double>{8, 10}));
}

TEST(PackSubnets, OrderComesFromCostNotPosition) {
  // The same costs shuffled: subnet 3 is the most expensive and opens DU 0.
  const std::vector<double> costs = {3, 4, 3, 5, 3};
  const DuPacking packing = PackSubnets(costs, 2);
  ExpectWellFormed(packing, costs);
  //   3 (5) -> DU 0: 5, 0;  1 (4) -> DU 1: 5, 4;  0 (3) -> DU 1: 5, 7;
  //   2 (3) -> DU 0: 8, 7;  4 (3) -> DU 1: 8, 10
  EXPECT_EQ(packing.subnets, (std::vector<std::vector<int>>{{2, 3}, {0, 1, 4}}));
  EXPECT_EQ(packing.costs, (std::vector<double>{8, 10}));
}

TEST(PackSubnets, EqualCostsGoRoundRobin) {
  const std::vector<double> costs(7, 1.0);
  const DuPacking packing = PackSubnets(costs, 3);
  ExpectWellFormed(packing, costs);
  EXPECT_EQ(packing.subnets, (std::vector<std::vector<int>>{{0, 3, 6}, {1, 4}, {2, 5}}));
}

TEST(PackSubnets, ZeroOrNegativeDesiredMeansOnePerSubnet) {
  const std::vector<double> costs = {2, 9, 4};
  for (int desired : {0, -1}) {
    const DuPacking packing = PackSubnets(costs, desired);
    ExpectWellFormed(packing, costs);
    ASSERT_EQ(packing.subnets.size(), 3u) << "desired " << desired;
    // The most expensive subnet opens DU 0, and so on down.
    EXPECT_EQ(packing.subnets, (std::vector<std::vector<int>>{{1}, {2}, {0}}));
    EXPECT_EQ(packing.costs, (std::vector<double>{9, 4, 2}));
  }
}

TEST(PackSubnets, NeverMoreDusThanSubnets) {
  const std::vector<double> costs = {1, 2, 3};
  const DuPacking packing = PackSubnets(costs, 10);
  ExpectWellFormed(packing, costs);
  EXPECT_EQ(packing.subnets.size(), 3u) << "10 wanted, 3 subnets";
}

TEST(PackSubnets, OneDuHoldsEverything) {
  const std::vector<double> costs = {1, 2, 3};
  const DuPacking packing = PackSubnets(costs, 1);
  ExpectWellFormed(packing, costs);
  EXPECT_EQ(packing.subnets, (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_EQ(packing.costs, (std::vector<double>{6}));
}

TEST(PackSubnets, NoSubnetsNoDus) {
  const DuPacking packing = PackSubnets({}, 3);
  EXPECT_TRUE(packing.subnets.empty());
  EXPECT_TRUE(packing.costs.empty());
}

TEST(PackSubnets, IsDeterministicAndBalancesManySubnets) {
  std::vector<double> costs;
  for (int i = 0; i < 45; ++i) costs.push_back(1000 + (i * 37) % 101);
  const DuPacking first = PackSubnets(costs, 4);
  const DuPacking second = PackSubnets(costs, 4);
  ExpectWellFormed(first, costs);
  EXPECT_EQ(first.subnets, second.subnets);
  EXPECT_EQ(first.costs, second.costs);
  // LPT's guarantee: no DU exceeds the lightest by more than the largest single cost.
  const auto [lightest, heaviest] = std::minmax_element(first.costs.begin(), first.costs.end());
  EXPECT_LE(*heaviest - *lightest, *std::max_element(costs.begin(), costs.end()));
}

}  // namespace
}  // namespace cloudbook
