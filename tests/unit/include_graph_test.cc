// The architecture's rule, checked on the sources (issue 16): components (maker/, deployer/,
// agent/, dashboard/, fs_adapters/) depend on shared/ and never on each other. What still
// crosses is listed here, one line per header, and may only shrink: formats still living in
// agent/core/ are on their way to shared/ (docs/decisions.md), and the programs' main files
// register the shared-folder back ends (fs_adapters/open_shared_folder.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace cloudbook {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kComponents = {"maker", "deployer", "agent", "dashboard",
                                           "fs_adapters"};

// "component -> header" pairs allowed today.
const std::set<std::string> kAllowed = {
    "deployer -> agent/core/agent_config.h",       "deployer -> agent/core/agent_id.h",
    "deployer -> agent/core/agent_paths.h",        "deployer -> agent/core/announcement.h",
    "deployer -> agent/core/announcement_watch.h", "deployer -> agent/core/loop_events.h",
    "dashboard -> agent/core/agent_commands.h",    "dashboard -> agent/core/agent_config.h",
    "dashboard -> agent/core/agent_id.h",          "dashboard -> agent/core/agent_keys.h",
    "dashboard -> agent/core/agent_listing.h",     "dashboard -> agent/core/agent_paths.h",
    "dashboard -> agent/core/announcement.h",      "dashboard -> agent/core/announcement_watch.h",
    "dashboard -> agent/core/command_outcome.h",   "dashboard -> agent/core/grant.h",
    "dashboard -> agent/core/host_address.h",      "dashboard -> agent/core/loop_events.h",
    "dashboard -> agent/core/pid_file.h",
};
// Main files (composition roots) may pick the back ends.
const std::string kBackEnds = "fs_adapters/open_shared_folder.h";

TEST(IncludeGraph, ComponentsIncludeSharedAndNotEachOther) {
  const fs::path root = CLOUDBOOK_SOURCE_DIR;
  const std::regex include("^#include \"([a-z_]+)/([^\"]+)\"");
  int files = 0;
  for (const std::string& component : kComponents) {
    for (const auto& entry : fs::recursive_directory_iterator(root / component)) {
      const std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".cc" && extension != ".h")) continue;
      ++files;
      const bool main_file = entry.path().filename().string().find("_main.cc") != std::string::npos;
      std::ifstream in(entry.path());
      std::smatch match;
      for (std::string line; std::getline(in, line);) {
        if (!std::regex_search(line, match, include)) continue;
        const std::string target = match[1];
        if (target == component || kComponents.count(target) == 0) continue;
        const std::string header = target + "/" + match[2].str();
        if (main_file && header == kBackEnds) continue;
        EXPECT_TRUE(kAllowed.count(component + " -> " + header))
            << fs::relative(entry.path(), root).string() << " includes " << header
            << ": components depend on shared/ only (move what both need to shared/)";
      }
    }
  }
  EXPECT_GT(files, 100);
}

}  // namespace
}  // namespace cloudbook
