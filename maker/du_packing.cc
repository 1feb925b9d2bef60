#include "maker/du_packing.h"

#include <algorithm>
#include <numeric>

namespace cloudbook {

DuPacking PackSubnets(const std::vector<double>& subnet_costs, int desired_dus) {
  const int subnets = static_cast<int>(subnet_costs.size());
  int dus = desired_dus <= 0 ? subnets : std::min(desired_dus, subnets);
  dus = std::max(dus, subnets > 0 ? 1 : 0);
  DuPacking packing;
  packing.subnets.resize(dus);
  packing.costs.assign(dus, 0.0);

  std::vector<int> order(subnets);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return subnet_costs[a] > subnet_costs[b]; });
  for (int subnet : order) {
    const auto lightest = std::min_element(packing.costs.begin(), packing.costs.end());
    const auto du = static_cast<size_t>(lightest - packing.costs.begin());
    packing.subnets[du].push_back(subnet);
    packing.costs[du] += subnet_costs[subnet];
  }
  for (auto& members : packing.subnets) std::sort(members.begin(), members.end());
  return packing;
}

}  // namespace cloudbook
