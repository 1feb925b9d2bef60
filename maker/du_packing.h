// Packs subnets into deployable units, balancing cost with longest-processing-time-first:
// the most expensive subnet goes to the DU with the least work so far. Deterministic: ties
// go to the lower subnet index and the lower DU index.
#pragma once

#include <vector>

namespace cloudbook {

struct DuPacking {
  std::vector<std::vector<int>> subnets;  // per DU: subnet indices, ascending
  std::vector<double> costs;              // per DU: sum of its subnets' costs
};

// `desired_dus` <= 0 means one DU per subnet. Never makes more DUs than subnets.
DuPacking PackSubnets(const std::vector<double>& subnet_costs, int desired_dus);

}  // namespace cloudbook
