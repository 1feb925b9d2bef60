// What the fault tests share: a fixture for three local agents with short intervals, reading
// a run's progress, and the check they end with after a DU moved away from an owner that was
// hung, cut off or let go: every checkpoint of the DU was written under the new assignment
// version or later (the old owner's writes were fenced off) and holds the final epoch.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "shared/nn/checkpoint.h"
#include "tests/integration/agent_process.h"

namespace cloudbook::testing {

// The highest epoch of `du` in `cloudbook-run --progress plain` output ("DU 2 ... epoch 3/7").
inline int HighestEpochInProgress(const std::string& run_output, int du) {
  const std::regex line("DU " + std::to_string(du) + " .*epoch ([0-9]+)/");
  int seen = 0;
  for (std::sregex_iterator it(run_output.begin(), run_output.end(), line), end; it != end; ++it) {
    seen = std::max(seen, std::stoi((*it)[1]));
  }
  return seen;
}

inline void ExpectFinalCheckpointsFromVersion(const std::string& du_checkpoint_folder,
                                              int64_t moved_version) {
  int checked = 0;
  for (const auto& entry : boost::filesystem::directory_iterator(du_checkpoint_folder)) {
    if (entry.path().extension() != ".pt") continue;
    Result<CheckpointInfo> info = ReadCheckpointInfo(entry.path().string());
    ASSERT_TRUE(info.ok()) << entry.path() << ": " << info.status().ToString();
    EXPECT_GE(info->owner_version, moved_version) << entry.path();
    EXPECT_EQ(info->epoch, info->epochs)
        << "the final epoch, written by the new owner " << entry.path();
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no checkpoint in " << du_checkpoint_folder;
}

// Fashion-MNIST project, agents announcing and pinging every 0.5 s, lost after 3 s; the
// test's `cloudbook-run` writes run.log in the scratch folder.
class LocalFaultTest : public AgentProcessTest {
 protected:
  void SetUp() override {
    if (!SetUpFashionMlpProject(project_.path())) GTEST_SKIP() << "Fashion-MNIST is missing";
    WriteFile(project_.Join("distributed/config.json"),
              R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5,
                  "heartbeat_interval_s": 0.5, "liveness_timeout_s": 3})");
  }
  int EpochsSeen(int du) const { return HighestEpochInProgress(Log("run.log"), du); }

  // `count` LOW agents (the first is agent 0), launched and running, and one plan by a
  // deployer that then exits (no watching deployer: later moves are the test's own). The ids.
  std::vector<std::string> LaunchAgentsAndPlanOnce(int count) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i)
      ids.push_back(Create(i == 0 ? "--grant LOW --agent-0" : "--grant LOW"));
    for (const std::string& id : ids) Launch(id);
    for (const std::string& id : ids) EXPECT_TRUE(WaitUntilRunning(id, 60)) << id << LaunchLog();
    const CommandResult deployed = RunShell(
        std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-deployer " + P() + " --fast-start --wait 20",
        scratch_.Join("deployer.err"));
    EXPECT_EQ(deployed.exit_code, 0) << deployed.err;
    return ids;
  }
};

}  // namespace cloudbook::testing
