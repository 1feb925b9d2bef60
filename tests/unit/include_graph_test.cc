// The architecture's rule, checked on the sources (issue 16): components (maker/, deployer/,
// agent/, dashboard/, fs_adapters/, predict/) depend on shared/ and never on each other. What
// still crosses is listed here and may only shrink: the dashboard's one narrow header into the
// agent's command code, and the programs' main files, which pick the shared-folder back ends
// (fs_adapters/open_shared_folder.h).
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

const std::set<std::string> kComponents = {"maker",     "deployer",    "agent",
                                           "dashboard", "fs_adapters", "predict"};

// "component -> header" pairs allowed today.
const std::set<std::string> kAllowed = {
    // The dashboard's agent actions (create, launch, stop, edit, delete) run the agent's own
    // command code, through this one header.
    "dashboard -> agent/core/agent_commands.h",
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
