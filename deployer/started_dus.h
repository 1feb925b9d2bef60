// Which deployable units have begun training: a DU counts as started when an agent's
// announcement lists it in "dus" or when distributed/checkpoints/du_<i>/ holds any file. The
// deployer never moves a started DU to rebalance (only away from a lost agent, where it
// resumes from its checkpoint); DUs not started yet may go to agents that joined since.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "shared/formats/announcement.h"

namespace cloudbook {

std::string DuCheckpointFolder(const std::string& shared_folder, int du);

std::set<int> StartedDus(const std::string& shared_folder,
                         const std::vector<Announcement>& announcements,
                         const std::vector<int>& du_indices);

}  // namespace cloudbook
