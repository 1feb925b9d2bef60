// cloudbook-agent as users run it: real processes on a scratch project. A launched agent runs
// in the background (posix_spawn); every wait is bounded, and teardown kills any child left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "shared/exit_codes.h"
#include "shared/formats/agent_keys.h"
#include "shared/formats/announcement.h"
#include "shared/formats/grant.h"
#include "shared/json_io.h"
#include "shared/private_files.h"
#include "tests/integration/agent_process.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::Agent;
using testing::CommandResult;
using testing::ScratchDir;

class AgentCli : public testing::AgentProcessTest {};

TEST_F(AgentCli, CreateListEditAndDeleteStoppedAgents) {
  const std::string id = Create("--grant LOW");
  EXPECT_TRUE(std::regex_match(id, std::regex("agent-[a-z]+-[a-z]+-[0-9a-f]{4}"))) << id;
  const std::string config_path = project_.Join("agents/" + id + ".json");
  ASSERT_TRUE(fs::exists(config_path));
  EXPECT_EQ(FileMode(config_path), 0600);
  auto config = ReadJsonFile(config_path);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)["grant"], "LOW");
  EXPECT_EQ((*config)["curve"]["secret_key"].get<std::string>().size(), 40u);

  EXPECT_EQ(Create("--grant high --agent-0 --port 6001 --device cpu"), "agent-0");
  const CommandResult second_zero = Run("create " + P() + " --grant LOW --agent-0");
  EXPECT_EQ(second_zero.exit_code, kExitInvalidInput) << second_zero.err;
  EXPECT_NE(second_zero.err.find("agent-0 already exists"), std::string::npos) << second_zero.err;
  EXPECT_TRUE(second_zero.out.empty());

  const CommandResult list = Run("list " + P());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("ID"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("agent-0 *"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("stopped"), std::string::npos) << list.out;
  const CommandResult json = Run("list " + P() + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = ParseJsonText(json.out, "list --json");
  ASSERT_TRUE(parsed.ok()) << json.out;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0]["id"], "agent-0");
  EXPECT_EQ((*parsed)[0]["grant"], "HIGH");
  EXPECT_EQ((*parsed)[1]["status"], "stopped");

  const CommandResult edit = Run("edit " + P() + " --agent-id " + id + " --grant MEDIUM");
  EXPECT_EQ(edit.exit_code, 0) << edit.err;
  EXPECT_NE(edit.err.find("not running"), std::string::npos) << edit.err;
  EXPECT_EQ((*ReadJsonFile(config_path))["grant"], "MEDIUM");
  EXPECT_EQ(FileMode(config_path), 0600);
  EXPECT_EQ(Run("edit " + P() + " --agent-id agent-nobody --grant LOW").exit_code,
            kExitInvalidInput);

  const CommandResult stop = Run("stop " + P() + " --agent-id " + id);
  EXPECT_EQ(stop.exit_code, kExitConflict) << stop.err;
  EXPECT_NE(stop.err.find("not running"), std::string::npos) << stop.err;

  const CommandResult deleted = Run("delete " + P() + " --agent-id " + id);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(fs::exists(config_path));
  EXPECT_EQ(Run("list " + P()).out.find(id), std::string::npos);
  const CommandResult again = Run("delete " + P() + " --agent-id " + id);
  EXPECT_EQ(again.exit_code, kExitInvalidInput) << again.err;
  EXPECT_NE(again.err.find("cloudbook-agent list"), std::string::npos) << again.err;
}

TEST_F(AgentCli, LaunchedAgentAnnouncesFollowsEditsAndStopsCleanly) {
  const int base_port = 21000 + static_cast<int>(::getpid() % 20000);
  const std::string id = Create("--grant LOW --base-port " + std::to_string(base_port));
  const pid_t pid = Launch(id);
  ASSERT_GT(pid, 0);

  ASSERT_TRUE(WaitFor(
      [&] {
        auto announcement = ReadAnnouncement(id);
        return announcement.ok() && announcement->status == AgentRunState::kRunning;
      },
      10))
      << "no valid running announcement within 10 s\n"
      << LaunchLog();
  const Announcement running = *ReadAnnouncement(id);
  EXPECT_EQ(running.grant, Grant::kLow);
  EXPECT_EQ(running.capacity.cores, 1);
  EXPECT_GT(running.capacity.gflops, 0);
  EXPECT_EQ(running.pid, pid);
  EXPECT_FALSE(running.plaintext);
  EXPECT_EQ(running.curve_public_key.size(), 40u);
  const auto colon = running.endpoint.rfind(':');
  const int port = std::stoi(running.endpoint.substr(colon + 1));
  EXPECT_GE(port, base_port);
  EXPECT_LT(port, base_port + 100);
  EXPECT_EQ(FileMode(project_.Join("agents/" + id + ".pid")), 0600);
  EXPECT_EQ(testing::ReadFileOrDie(project_.Join("agents/" + id + ".pid")),
            std::to_string(pid) + "\n");

  // Stats under exactly <id>.json; the announcement's sequence keeps growing.
  const std::string stats_path = project_.Join("distributed/stats/" + id + ".json");
  ASSERT_TRUE(WaitFor([&] { return fs::exists(stats_path); }, 10)) << LaunchLog();
  auto stats = ReadJsonFile(stats_path);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ((*stats)["id"], id);
  EXPECT_GT((*stats)["process"]["rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto later = ReadAnnouncement(id);
        return later.ok() && later->sequence > running.sequence;
      },
      5));

  const CommandResult twice = Run("launch " + P() + " --agent-id " + id);
  EXPECT_EQ(twice.exit_code, kExitConflict) << twice.err;
  EXPECT_NE(twice.err.find("already running"), std::string::npos) << twice.err;

  const CommandResult list = Run("list " + P());
  EXPECT_NE(list.out.find("running"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(running.endpoint), std::string::npos) << list.out;

  // A new grant applies without a restart: SIGHUP, new limits, immediate announcement.
  const CommandResult edit = Run("edit " + P() + " --agent-id " + id + " --grant HIGH");
  EXPECT_EQ(edit.exit_code, 0) << edit.err;
  EXPECT_NE(edit.err.find("applies the grant"), std::string::npos) << edit.err;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto announcement = ReadAnnouncement(id);
        return announcement.ok() && announcement->grant == Grant::kHigh;
      },
      5))
      << LaunchLog();
  EXPECT_EQ(ReadAnnouncement(id)->capacity.cores, MachineCores());
  EXPECT_EQ(ReadAnnouncement(id)->pid, pid);  // the same process

  const CommandResult refused = Run("delete " + P() + " --agent-id " + id);
  EXPECT_EQ(refused.exit_code, kExitConflict) << refused.err;
  EXPECT_NE(refused.err.find("stop it first"), std::string::npos) << refused.err;

  const CommandResult stop = Run("stop " + P() + " --agent-id " + id + " --timeout 20");
  EXPECT_EQ(stop.exit_code, 0) << stop.err << LaunchLog();
  EXPECT_EQ(WaitForExit(pid, 5), 0) << LaunchLog();
  auto stopping = ReadAnnouncement(id);
  ASSERT_TRUE(stopping.ok()) << stopping.status().ToString();
  EXPECT_EQ(stopping->status, AgentRunState::kStopping);
  EXPECT_FALSE(fs::exists(project_.Join("agents/" + id + ".pid")));
  EXPECT_NE(LaunchLog().find("SIGHUP"), std::string::npos);
  EXPECT_NE(LaunchLog().find("SIGTERM: stopping"), std::string::npos);
  EXPECT_EQ(Run("stop " + P() + " --agent-id " + id).exit_code, kExitConflict);
  EXPECT_NE(Run("list " + P()).out.find("stopped"), std::string::npos);

  const CommandResult deleted = Run("delete " + P() + " --agent-id " + id);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(fs::exists(project_.Join("agents/" + id + ".json")));
  EXPECT_FALSE(fs::exists(project_.Join("distributed/agents/" + id + ".json")));
  EXPECT_FALSE(fs::exists(stats_path));
}

TEST_F(AgentCli, CtrlCStopsTheForegroundAgentCleanly) {
  const std::string id = Create("--grant LOW --base-port " +
                                std::to_string(23000 + static_cast<int>(::getpid() % 20000)));
  const pid_t pid = Launch(id);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto announcement = ReadAnnouncement(id);
        return announcement.ok() && announcement->status == AgentRunState::kRunning;
      },
      10))
      << LaunchLog();
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  EXPECT_EQ(WaitForExit(pid, 10), 0) << LaunchLog();
  EXPECT_EQ(ReadAnnouncement(id)->status, AgentRunState::kStopping);
  EXPECT_FALSE(fs::exists(project_.Join("agents/" + id + ".pid")));
}

TEST_F(AgentCli, ListShowsOtherMachinesAgentsAndIgnoresTamperedAnnouncements) {
  const auto keys = *GenerateSigningKeyPair();
  Announcement remote;
  remote.id = "agent-remote-node-0001";
  remote.grant = Grant::kMedium;
  remote.host = "workstation";
  remote.endpoint = "tcp://10.0.0.2:5550";
  remote.curve_public_key = GenerateCurveKeyPair()->public_key;
  remote.signing_public_key = keys.public_key;
  remote.sequence = 4;
  remote.time_ms = UnixTimeMs();
  remote.pid = 99;
  remote.status = AgentRunState::kRunning;
  remote.dus = {2};
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), remote, keys.secret_key).ok());
  remote.id = "agent-tampered-node-0002";
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), remote, keys.secret_key).ok());
  const std::string tampered = project_.Join("distributed/agents/agent-tampered-node-0002.json");
  Json json = *ReadJsonFile(tampered);
  json["grant"] = "HIGH";
  testing::WriteFile(tampered, json.dump(2));

  const CommandResult list = Run("list " + P());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("agent-remote-node-0001"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("workstation"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("agent-tampered-node-0002"), std::string::npos) << list.out;
  EXPECT_NE(list.err.find("ignoring announcement " + tampered), std::string::npos) << list.err;
  EXPECT_NE(list.err.find("bad signature"), std::string::npos) << list.err;

  // Agent 0 announced by another machine: no second one here.
  remote.id = "agent-0";
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), remote, keys.secret_key).ok());
  const CommandResult zero = Run("create " + P() + " --grant HIGH --agent-0");
  EXPECT_EQ(zero.exit_code, kExitInvalidInput) << zero.err;
  EXPECT_NE(zero.err.find("another machine"), std::string::npos) << zero.err;
}

// Issue 15, item 8: file names and reasons from the shared folder reach the terminal escaped;
// no byte of another machine's file drives the user's terminal.
TEST_F(AgentCli, ListPrintsHostileNamesAndReasonsEscaped) {
  const std::string agents = project_.Join("distributed/agents");
  testing::WriteFile(agents + "/agent-\x1b]0;owned\x07.json", "{}");  // not an agent id
  testing::WriteFile(agents + "/agent-liar-node-0003.json",
                     Json({{"format_version", 1}, {"id", "agent-\x1b[2J\xc2\x9b"}})
                         .dump(-1, ' ', false, Json::error_handler_t::ignore));
  const auto keys = *GenerateSigningKeyPair();
  Announcement hostile;
  hostile.id = "agent-hostile-node-0004";
  hostile.grant = Grant::kLow;
  hostile.host = "desk\x1b[31m";
  hostile.endpoint = "tcp://10.0.0.2:5550";
  hostile.curve_public_key = GenerateCurveKeyPair()->public_key;
  hostile.signing_public_key = keys.public_key;
  hostile.sequence = 1;
  hostile.time_ms = UnixTimeMs();
  hostile.pid = 99;
  hostile.status = AgentRunState::kRunning;
  ASSERT_TRUE(WriteAnnouncement(project_.Join("distributed"), hostile, keys.secret_key).ok());

  const CommandResult list = Run("list " + P());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const std::string* stream : {&list.out, &list.err}) {
    EXPECT_EQ(stream->find('\x1b'), std::string::npos) << *stream;
    EXPECT_EQ(stream->find('\x07'), std::string::npos) << *stream;
    EXPECT_EQ(stream->find("\xc2\x9b"), std::string::npos) << *stream;
  }
  EXPECT_NE(list.err.find("agent-\\x1b]0;owned\\x07.json"), std::string::npos) << list.err;
  EXPECT_NE(list.err.find("holds the id 'agent-\\x1b[2J"), std::string::npos) << list.err;
  EXPECT_NE(list.err.find("host must be a host name or address"), std::string::npos) << list.err;
  EXPECT_EQ(list.out.find("agent-hostile-node-0004"), std::string::npos) << list.out;
}

TEST_F(AgentCli, BadArgumentsExitWithTwoAndInvalidInputWithThree) {
  for (const std::string& arguments : std::vector<std::string>{
           "", "create " + P(), "create " + P() + " --grant HUGE",
           "create " + P() + " --grant LOW --port 6000 --base-port 6000",
           "create " + P() + " --grant LOW --port 80", "create --grant LOW",
           "create " + P() + " --grant LOW --device tpu", "launch " + P(),
           "stop " + P() + " --agent-id x --timeout -1", "edit " + P() + " --agent-id x",
           "list " + P() + " --frobnicate", "frobnicate"}) {
    const CommandResult result = Run(arguments);
    EXPECT_EQ(result.exit_code, kExitUsage) << arguments << "\n" << result.err;
    EXPECT_FALSE(result.err.empty()) << arguments;
  }
  for (const std::string command : {"", "create", "launch", "stop", "edit", "list", "delete"}) {
    const CommandResult help = Run(command + std::string(" --help"));
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << command;
  }

  const CommandResult unknown = Run("launch " + P() + " --agent-id agent-nobody");
  EXPECT_EQ(unknown.exit_code, kExitInvalidInput) << unknown.err;
  EXPECT_NE(unknown.err.find("cloudbook-agent list"), std::string::npos) << unknown.err;
  EXPECT_EQ(Run("launch " + P() + " --agent-id ../escape").exit_code, kExitInvalidInput);
  EXPECT_EQ(Run("list --project-folder " + project_.Join("missing")).exit_code, kExitInvalidInput);
  const CommandResult cuda = Run("create " + P() + " --grant HIGH --device cuda");
  if (!cuda.out.empty()) GTEST_SKIP() << "this build has CUDA";
  EXPECT_EQ(cuda.exit_code, kExitInvalidInput) << cuda.err;
  EXPECT_NE(cuda.err.find("--device cpu"), std::string::npos) << cuda.err;
  EXPECT_FALSE(fs::exists(project_.Join("agents")));
}

}  // namespace
}  // namespace cloudbook
