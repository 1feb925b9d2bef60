// The shared folder as an attack surface, with real processes (issue 7): launched agents and a
// watching deployer keep running, and say why in their logs, when another writer forges
// agent 0's announcement or replaces assignment.json by garbage or a link to /etc/passwd; a
// DU file asking for absurd sizes makes cloudbook-run fail cleanly, naming the file, with
// every other file intact. Suite names start with "fault_" (`ctest -R fault`).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/json_io.h"
#include "tests/integration/agent_process.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

class fault_HostileFolderProcesses : public testing::AgentProcessTest {
 protected:
  void SetUp() override {
    AgentProcessTest::SetUp();
    testing::WriteFile(
        project_.Join("distributed/config.json"),
        R"({"announce_interval_s": 0.5, "stats_interval_s": 0.5, "liveness_timeout_s": 4})");
    base_port_ = 27000 + static_cast<int>(::getpid() % 15000);
  }

  // configs/fashion_mlp cut into 3 subnets on a small slice; false without the data set.
  bool MakeDus() { return MakeFashionMlpDus("--subnets 3 --train-limit 300 --test-limit 100"); }

  std::pair<std::string, pid_t> LaunchAgent(const std::string& options) {
    return CreateAndLaunch(options, base_port_);
  }

  bool Running(const std::string& id) { return WaitUntilRunning(id, 30); }

  static bool Alive(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == 0; }

  std::string D(const std::string& relative) const {
    return project_.Join("distributed/" + relative);
  }

  int base_port_ = 0;
};

TEST_F(fault_HostileFolderProcesses, ForgedAgentZeroAndReplacedAssignmentAreRefused) {
  if (!MakeDus()) GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const auto [zero, zero_pid] = LaunchAgent("--grant HIGH --agent-0");
  const auto [other, other_pid] = LaunchAgent("--grant LOW");
  ASSERT_TRUE(Running(zero)) << Log("launch-" + zero + ".log");
  ASSERT_TRUE(Running(other)) << Log("launch-" + other + ".log");
  const pid_t deployer = Spawn(
      {Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--fast-start", "-s", "0.5"},
      "deployer.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAssignment(D("")).ok(); }, 20)) << Log("deployer.log");
  const Assignment before = *ReadAssignment(D(""));

  // 1. agent 0's announcement rewritten by another writer: the real agent's fields, another
  // endpoint, signed with the forger's own key (a self-consistent signature).
  Announcement forged = *ReadAnnouncement(zero);
  forged.endpoint = "tcp://127.0.0.1:1";
  forged.sequence += 1000;
  const SigningKeyPair forger = GenerateSigningKeyPair().value();
  forged.signing_public_key = forger.public_key;
  const std::string forged_text = SignAnnouncement(forged, forger.secret_key)->dump();
  // The same announcement under another agent's file name claims another id.
  testing::WriteFile(D("agents/agent-evil.json"), forged_text);
  // Agent 0 rewrites its file every 0.5 s: keep putting the forgery back until seen.
  const std::string refused_key = "agents/" + zero + ".json: signed with a key that is not";
  EXPECT_TRUE(WaitFor(
      [&] {
        testing::WriteFile(D("agents/" + zero + ".json"), forged_text);
        return Log("deployer.log").find(refused_key) != std::string::npos;
      },
      20))
      << Log("deployer.log");
  EXPECT_NE(Log("deployer.log").find("agents/agent-evil.json: "), std::string::npos)
      << "the id that is not the file's name is logged";
  const std::string agent_logs = Log("launch-" + zero + ".log") + Log("launch-" + other + ".log");
  EXPECT_NE(agent_logs.find("ignoring announcement"), std::string::npos) << agent_logs;

  // 2. assignment.json as garbage, then as a link to /etc/passwd, then as a folder: the
  // deployer logs why and writes the version in force back; /etc/passwd is never touched.
  const std::string passwd = testing::ReadFileOrDie("/etc/passwd");
  int garbage_rounds = 0;
  for (const std::string kind : {"garbage", "symlink", "folder"}) {
    SCOPED_TRACE(kind);
    const std::string path = D("assignment.json");
    ASSERT_EQ(::unlink(path.c_str()), 0);
    if (kind == "garbage") testing::WriteFile(path, "\x01{{{ not an assignment");
    if (kind == "symlink") {
      ASSERT_EQ(::symlink("/etc/passwd", path.c_str()), 0);
    }
    if (kind == "folder") {
      ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
    }
    ++garbage_rounds;
    EXPECT_TRUE(WaitFor(
        [&] {
          struct stat info;
          const Result<Assignment> now = ReadAssignment(D(""));
          return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && now.ok() &&
                 ToJson(*now) == ToJson(before);
        },
        15))
        << Log("deployer.log");
  }
  const std::string log = Log("deployer.log");
  size_t restored = 0;
  for (size_t at = log.find("writing assignment version"); at != std::string::npos;
       at = log.find("writing assignment version", at + 1)) {
    ++restored;
  }
  EXPECT_EQ(restored, static_cast<size_t>(garbage_rounds)) << log;
  EXPECT_NE(log.find("symlink"), std::string::npos) << "the reason is named: " << log;
  EXPECT_EQ(testing::ReadFileOrDie("/etc/passwd"), passwd);
  const std::string zero_log = Log("launch-" + zero + ".log");
  EXPECT_NE(zero_log.find("ignoring the assignment: "), std::string::npos) << zero_log;

  // Everyone survived, and agent 0 is still itself.
  EXPECT_TRUE(Alive(deployer)) << log;
  EXPECT_TRUE(Alive(zero_pid)) << Log("launch-" + zero + ".log");
  EXPECT_TRUE(Alive(other_pid)) << Log("launch-" + other + ".log");
  EXPECT_EQ(ReadAssignment(D(""))->Find(0)->agent, zero);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto real = ReadAnnouncement(zero);
        return real.ok() && real->endpoint != forged.endpoint;
      },
      10));
}

TEST_F(fault_HostileFolderProcesses, AMemoryBombDuFailsTheRunCleanly) {
  if (!MakeDus()) GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const auto [zero, zero_pid] = LaunchAgent("--grant HIGH --agent-0");
  ASSERT_TRUE(Running(zero)) << LaunchLog();
  const testing::CommandResult deployed = testing::RunShell(
      Bin("cloudbook-deployer") + " " + P() + " --fast-start", scratch_.Join("deployer.err"));
  ASSERT_EQ(deployed.exit_code, 0) << deployed.err;

  // DU 1 asks for a 2^23-wide first layer (a 26 GB network), same generation as the rest.
  Json bomb = ReadJsonFile(D("du_files/du_1.json")).value();
  bool planted = false;
  for (Json& layer : bomb["subnets"][0]["model"]["layers"]) {
    if (layer["type"] == "dense" && !planted) layer["numbers"]["units"] = {1 << 23};
    planted = planted || layer["type"] == "dense";
  }
  ASSERT_TRUE(planted);
  testing::WriteFile(D("du_files/du_1.json"), bomb.dump(2));
  std::vector<std::pair<std::string, std::string>> kept;
  for (const std::string file :
       {"du_list.json", "du_files/du_0.json", "du_files/du_1.json", "assignment.json"}) {
    kept.emplace_back(file, testing::ReadFileOrDie(D(file)));
  }

  const testing::CommandResult run = testing::RunShell(
      Bin("cloudbook-run") + " " + P() + " --progress plain --timeout 120 --assignment-wait 10",
      scratch_.Join("run.err"));
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.exit_code, -1) << "killed by a signal";
  const std::string said = run.out + run.err;
  EXPECT_NE(said.find("du_1.json"), std::string::npos) << said;
  EXPECT_NE(said.find("over the limit"), std::string::npos) << said;

  EXPECT_TRUE(Alive(zero_pid)) << LaunchLog();
  for (const auto& [file, contents] : kept) {
    EXPECT_EQ(testing::ReadFileOrDie(D(file)), contents) << file << " changed";
  }
}

}  // namespace
}  // namespace cloudbook
