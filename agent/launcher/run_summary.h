// The printed end of `cloudbook-run`: composed metrics, per-subnet metrics, where each DU ran
// (and any redeploy), wall time and overheads, and where the results file is. From the
// results JSON agent 0 wrote (docs/launcher.md).
#pragma once

#include <string>

#include "shared/json_io.h"

namespace cloudbook {

std::string FormatRunSummary(const Json& results, const std::string& results_path);

}  // namespace cloudbook
