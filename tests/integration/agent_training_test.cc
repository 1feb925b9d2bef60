// Two real agents that find each other through the shared folder: one launched agent serves
// the DU functions, another (as `cloudbook-agent call`) asks it over CURVE to train a DU made
// by the maker, streams progress, fetches the prediction tensor; the serving agent is
// SIGKILLed mid-training and the call fails promptly; relaunched, it resumes from the last
// epoch's checkpoint instead of from zero.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/agent_process.h"

namespace cloudbook {
namespace {

namespace fs = boost::filesystem;
using testing::CommandResult;

class AgentTraining : public testing::AgentProcessTest {
 protected:
  void SetUp() override {
    AgentProcessTest::SetUp();
    if (!testing::SetUpFashionMlpProject(project_.path())) {
      GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
    }
    // Sanitized agents start and answer several times slower: give them a longer heartbeat
    // (the peer timeout is three heartbeats, at least 3 s).
    if (testing::TestTimeScale() > 1) {
      testing::WriteFile(
          project_.Join("distributed/config.json"),
          "{\"heartbeat_interval_s\": " + std::to_string(testing::TestTimeScale()) + "}");
    }
  }

  void Make(int train_limit) {
    FILE* pipe = ::popen((std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-maker -p " +
                          project_.path() + " --subnets 3 --test-limit 500 --log-level warn " +
                          "--train-limit " + std::to_string(train_limit) + " 2>&1")
                             .c_str(),
                         "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[4096];
    std::string output;
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    ASSERT_EQ(::pclose(pipe), 0) << output;
  }

  // Waits until `id` announces itself as running; with `pid`, as that process (a killed
  // agent's last announcement also says "running", with its old endpoint).
  bool WaitRunning(const std::string& id, pid_t pid = 0) {
    return WaitFor(
        [&] {
          auto announcement = ReadAnnouncement(id);
          return announcement.ok() && announcement->status == AgentRunState::kRunning &&
                 (pid == 0 || announcement->pid == pid);
        },
        30);
  }

  // Runs `cloudbook-agent <call_arguments>` in the background; its output, then a line
  // "exit=<code>", go to the file returned (created before the call starts).
  std::string CallInBackground(const std::string& call_arguments, const std::string& name) {
    const std::string out = scratch_.Join(name);
    testing::WriteFile(out, "");
    FILE* shell = ::popen(("(" + testing::Agent() + " " + call_arguments + " >> " + out +
                           " 2>&1; echo exit=$? >> " + out + ") &")
                              .c_str(),
                          "r");
    EXPECT_NE(shell, nullptr);
    if (shell != nullptr) ::pclose(shell);
    return out;
  }

  static int Count(const std::string& text, const std::string& part) {
    int count = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
      ++count;
    }
    return count;
  }
};

TEST_F(AgentTraining, TrainAndPredictOverCurveBetweenTwoAgents) {
  Make(3000);
  const std::string server = Create("--grant MEDIUM");
  const std::string client = Create("--grant LOW");
  ASSERT_GT(Launch(server), 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();

  const CommandResult train = Run("call " + P() + " --agent-id " + client + " --peer " + server +
                                  " --function train --du 1 --timeout 120");
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err << LaunchLog();
  EXPECT_EQ(Count(train.out, "progress "), 7) << train.out;  // 7 epochs at F = 1.5
  EXPECT_NE(train.out.find("result resumed_epochs=0 subnets=1"), std::string::npos) << train.out;
  EXPECT_TRUE(fs::exists(project_.Join("distributed/checkpoints/du_1/subnet_1.pt")));

  const CommandResult predict = Run("call " + P() + " --agent-id " + client + " --peer " + server +
                                    " --function predict --du 1");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  // 500 test samples x 7 classes of subnet 1, as float32: 14000 bytes.
  EXPECT_NE(predict.out.find("tensor subnet_1 float32 500x7 14000 bytes"), std::string::npos)
      << predict.out;
  EXPECT_NE(LaunchLog().find(client + " asks for train of DU 1"), std::string::npos)
      << "the server knows the caller by its authenticated id\n"
      << LaunchLog();
}

TEST_F(AgentTraining, UnknownFunctionIsRefusedAndTheAgentCarriesOn) {
  Make(600);
  const std::string server = Create("--grant LOW");
  const std::string client = Create("--grant LOW");
  ASSERT_GT(Launch(server), 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();
  const CommandResult bad = Run("call " + P() + " --agent-id " + client + " --peer " + server +
                                " --function rm_rf --du 0");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown function 'rm_rf'"), std::string::npos) << bad.err;
  const CommandResult status = Run("call " + P() + " --agent-id " + client + " --peer " + server +
                                   " --function status --du 0");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("state=idle"), std::string::npos) << status.out;
  // Calling under the id of a launched agent would take over its connection and announcement.
  const CommandResult impostor = Run("call " + P() + " --agent-id " + server + " --peer " + client +
                                     " --function status --du 0");
  EXPECT_NE(impostor.exit_code, 0);
  EXPECT_NE(impostor.err.find("is launched"), std::string::npos) << impostor.err;
  EXPECT_EQ(ReadAnnouncement(server)->status, AgentRunState::kRunning);
}

TEST_F(AgentTraining, KilledAgentFailsTheCallPromptlyAndResumesFromItsCheckpoint) {
  Make(40000);  // long enough epochs to kill the agent in the middle
  const std::string server = Create("--grant LOW");
  const std::string client = Create("--grant LOW");
  const pid_t pid = Launch(server);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();

  // The call runs in the background; its output goes to a file we watch.
  const std::string out = CallInBackground("call " + P() + " --agent-id " + client + " --peer " +
                                               server + " --function train --du 2 --timeout 300",
                                           "call.out");
  const std::string checkpoint = project_.Join("distributed/checkpoints/du_2/subnet_2.pt");
  ASSERT_TRUE(WaitFor([&] { return Count(testing::ReadFileOrDie(out), "progress ") >= 2; }, 120))
      << testing::ReadFileOrDie(out) << LaunchLog();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(
      WaitFor([&] { return testing::ReadFileOrDie(out).find("exit=") != std::string::npos; }, 15));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  const std::string failed = testing::ReadFileOrDie(out);
  EXPECT_EQ(failed.find("exit=0"), std::string::npos) << failed;
  EXPECT_LT(seconds, 10.0 * testing::TestTimeScale())
      << "the peer timeout is 3 s; the rest is process start under load";
  ASSERT_TRUE(fs::exists(checkpoint));

  // Relaunched, the agent resumes after the checkpointed epochs.
  const pid_t relaunched = Launch(server);
  ASSERT_GT(relaunched, 0);
  ASSERT_TRUE(WaitRunning(server, relaunched)) << LaunchLog();
  const CommandResult resumed = Run("call " + P() + " --agent-id " + client + " --peer " + server +
                                    " --function train --du 2 --timeout 300");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(resumed.out, match, std::regex("resumed_epochs=(\\d+)")))
      << resumed.out;
  EXPECT_GE(std::stoi(match[1]), 2) << resumed.out;
  EXPECT_EQ(resumed.out.find("epoch=1 "), std::string::npos) << "not from zero\n" << resumed.out;
}

TEST_F(AgentTraining, AnAgentWhoseKeyIsNotAnnouncedInTheProjectIsRefused) {
  Make(600);
  const std::string server = Create("--grant LOW");
  ASSERT_GT(Launch(server), 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();
  // An outsider: an agent of another project that learnt the server's announcement.
  testing::ScratchDir outside;
  const CommandResult created = Run("create --project-folder " + outside.path() + " --grant LOW");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string outsider = created.out.substr(0, created.out.find('\n'));
  fs::create_directories(outside.Join("distributed/agents"));
  fs::copy_file(project_.Join("distributed/agents/" + server + ".json"),
                outside.Join("distributed/agents/" + server + ".json"));
  const CommandResult refused = Run("call --project-folder " + outside.path() + " --agent-id " +
                                    outsider + " --peer " + server + " --function status --du 0");
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_EQ(refused.out.find("result"), std::string::npos) << refused.out;
  EXPECT_TRUE(WaitFor(
      [&] {
        return LaunchLog().find("the key is not announced in the shared folder") !=
               std::string::npos;
      },
      10))
      << LaunchLog();
}

TEST_F(AgentTraining, StopFinishesTheCurrentEpochBeforeExiting) {
  Make(40000);
  const std::string server = Create("--grant LOW");
  const std::string client = Create("--grant LOW");
  const pid_t pid = Launch(server);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();
  const std::string call = "call " + P() + " --agent-id " + client + " --peer " + server;
  const std::string out =
      CallInBackground(call + " --function train --du 0 --timeout 300", "train.out");
  ASSERT_TRUE(WaitFor([&] { return Count(testing::ReadFileOrDie(out), "progress ") >= 1; }, 120))
      << testing::ReadFileOrDie(out);

  const CommandResult stopped = Run("stop " + P() + " --agent-id " + server);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err << LaunchLog();
  EXPECT_EQ(WaitForExit(pid, 5), 0) << LaunchLog();
  ASSERT_TRUE(
      WaitFor([&] { return testing::ReadFileOrDie(out).find("exit=") != std::string::npos; }, 20));
  const int finished = Count(testing::ReadFileOrDie(out), "progress ");

  // Relaunched, it resumes after every epoch that reported progress: the one in flight at
  // the stop was finished and checkpointed, not thrown away.
  ASSERT_GT(Launch(server), 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();
  const CommandResult status = Run(call + " --function train --du 0 --timeout 300");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("resumed_epochs=" + std::to_string(finished)), std::string::npos)
      << "progress lines before the stop: " << finished << "\n"
      << status.out;
}

TEST_F(AgentTraining, DeadlineAndCancelEndLongCallsAndTheAgentCarriesOn) {
  Make(40000);
  const std::string server = Create("--grant LOW");
  const std::string client = Create("--grant LOW");
  ASSERT_GT(Launch(server), 0);
  ASSERT_TRUE(WaitRunning(server)) << LaunchLog();
  const std::string call = "call " + P() + " --agent-id " + client + " --peer " + server;

  // A deadline shorter than the training: the call fails soon after it, with that reason.
  const auto start = std::chrono::steady_clock::now();
  const CommandResult late = Run(call + " --function train --du 0 --timeout 1.5");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(late.exit_code, 0) << late.out;
  EXPECT_NE(late.err.find("deadline"), std::string::npos) << late.err;
  EXPECT_LT(seconds, 6.0) << "deadline 1.5 s, plus process start";

  // The agent told the training to stop: a status call says so once it has.
  ASSERT_TRUE(WaitFor(
      [&] {
        const CommandResult status = Run(call + " --function status --du 0");
        return status.exit_code == 0 && status.out.find("state=cancelled") != std::string::npos;
      },
      20))
      << LaunchLog();

  // `cancel` from another caller stops a running train of the DU. (One agent id is one
  // connection: a second process calling as the same agent would be refused.)
  const std::string other = Create("--grant LOW");
  const std::string out =
      CallInBackground(call + " --function train --du 1 --timeout 300", "train.out");
  ASSERT_TRUE(WaitFor([&] { return Count(testing::ReadFileOrDie(out), "progress ") >= 1; }, 120))
      << testing::ReadFileOrDie(out);
  const CommandResult cancel = Run("call " + P() + " --agent-id " + other + " --peer " + server +
                                   " --function cancel --du 1");
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_NE(cancel.out.find("cancelled=true"), std::string::npos) << cancel.out;
  ASSERT_TRUE(
      WaitFor([&] { return testing::ReadFileOrDie(out).find("exit=") != std::string::npos; }, 20));
  const std::string cancelled = testing::ReadFileOrDie(out);
  EXPECT_EQ(cancelled.find("exit=0"), std::string::npos) << cancelled;
  EXPECT_NE(cancelled.find("cancelled"), std::string::npos) << cancelled;
}

}  // namespace
}  // namespace cloudbook
