// Clock skew between machines (issue 15, item 2): a helper agent whose wall clock is 10 s or
// an hour behind, or an hour ahead, of agent 0's. Liveness is judged on each reader's steady
// clock (new announcement sequences) and invokes carry a relative timeout, so the run
// completes with the helper doing its DU. The helper runs under libfaketime (LD_PRELOAD;
// its monotonic clock is left alone, as on a real machine whose wall clock is off); the test
// checks that the skew reached its announcements. Also the launcher and agent 0's run files
// (item 10): a second cloudbook-run is refused at once naming the run in progress, a run left
// "running" by a killed agent 0 is marked failed when agent 0 starts again, and a control file
// whose pid now belongs to another program fails at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <regex>

#include "agent/core/control_channel.h"
#include "agent/core/run_progress_recorder.h"
#include "shared/clock.h"
#include "shared/exit_codes.h"
#include "shared/formats/announcement_watch.h"
#include "shared/json_io.h"
#include "tests/fault/fault_checks.h"
#include "tests/integration/agent_process.h"
#include "tests/local_mode_reference.h"

namespace cloudbook::testing {
namespace {

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }
// libfaketime, preloaded through env (which execs, so the agent keeps the pid the test
// stops; the faketime wrapper forks, and its child outlived the test). The library the wrapper
// preloads: with libfaketimeMT the agent's transport stopped answering.
constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

class ClockSkew : public LocalFaultTest {
 protected:
  // Launches `id` with its wall clock shifted by `offset` (faketime syntax, e.g. "-1h").
  pid_t LaunchSkewed(const std::string& id, const std::string& offset) {
    return Spawn({"/usr/bin/env", std::string("LD_PRELOAD=") + kFaketime, "FAKETIME=" + offset,
                  "FAKETIME_DONT_FAKE_MONOTONIC=1",  // libfaketime >= 0.9.8
                  "DONT_FAKE_MONOTONIC=1",           // older spelling
                  Agent(), "launch", "--project-folder", project_.path(), "--agent-id", id,
                  "--log-level", "debug"},
                 "launch-" + id + ".log");
  }

  // agent 0 (no skew) and one helper skewed by `offset`, a watching deployer, one run.
  void RunWithSkewedHelper(const std::string& offset, double offset_s) {
    if (::access(kFaketime, R_OK) != 0) GTEST_SKIP() << "faketime is not installed";
    const std::string slice = "--train-limit 3000 --test-limit 500";
    ASSERT_TRUE(MakeFashionMlpDus("--subnets 3 " + slice));
    const std::string zero = Create("--grant LOW --agent-0");
    const std::string helper = Create("--grant LOW");
    Launch(zero);
    LaunchSkewed(helper, offset);
    ASSERT_TRUE(WaitUntilRunning(zero, 60)) << LaunchLog();
    ASSERT_TRUE(WaitUntilRunning(helper, 60)) << Log("launch-" + helper + ".log");
    // libfaketime really moved the helper's clock: its announcement's time says so.
    const Result<Announcement> announced = ReadAnnouncement(helper);
    ASSERT_TRUE(announced.ok());
    const double seen_offset_s = (announced->time_ms - UnixTimeMs()) / 1000.0;
    EXPECT_NEAR(seen_offset_s, offset_s, 3.0) << "faketime did not affect the helper";

    Spawn({Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--fast-start", "-s",
           "1", "--wait", "30"},
          "deployer.log");
    const pid_t run =
        Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name", "skew",
               "--progress", "plain", "--timeout", "70", "--assignment-wait", "30"},
              "run.log");
    ASSERT_EQ(WaitForExit(run, 80), 0)
        << Log("run.log") << Log("deployer.log") << Log("launch-" + helper + ".log");
    Result<Json> results = ReadJsonFile(project_.Join("distributed/results/skew.json"));
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    int on_helper = 0;
    for (const Json& du : (*results)["dus"]) on_helper += du.value("ran_on", "") == helper;
    EXPECT_GE(on_helper, 1) << "the skewed helper trained its DUs: " << results->dump(2);
    EXPECT_EQ((*results)["redeploys"], 0) << results->dump(2);
    // Skew changes nothing: the same bits as the DUs trained in one process.
    ExpectSameBitsAs(*results,
                     LocalModeResults(project_.path(), slice, scratch_.Join("local.err")));
    // Agent 0 saw the skew when new announcements came, and said so
    // once (the 10 s case is below the reporting threshold).
    const std::string zero_log = LaunchLog();
    if (std::abs(offset_s) > kLargeClockSkewS) {
      const std::string side = offset_s < 0 ? "behind" : "ahead of";
      const std::string line = "the clock of " + helper;
      EXPECT_NE(zero_log.find(line), std::string::npos) << zero_log;
      EXPECT_EQ(zero_log.find(line), zero_log.rfind(line)) << "reported once";
      EXPECT_TRUE(std::regex_search(zero_log, std::regex("about (1\\.0 h|60 min) " + side)))
          << zero_log;
    }
  }
};

TEST_F(ClockSkew, AHelperTenSecondsBehindDoesItsWork) { RunWithSkewedHelper("-10s", -10); }
TEST_F(ClockSkew, AHelperAnHourBehindDoesItsWork) { RunWithSkewedHelper("-1h", -3600); }
TEST_F(ClockSkew, AHelperAnHourAheadDoesItsWork) { RunWithSkewedHelper("+1h", 3600); }

using RunLifecycle = LocalFaultTest;

// Two cloudbook-run at once: the second is refused at once, naming the first run. Then agent 0
// is SIGKILLed mid-run: when it starts again it marks that run failed in runs/<run>.json.
TEST_F(RunLifecycle, ASecondRunIsRefusedAndAKilledAgentZerosRunIsMarkedFailed) {
  ASSERT_TRUE(MakeFashionMlpDus("--subnets 3 --train-limit 20000 --test-limit 500"));
  const std::string zero = Create("--grant LOW --agent-0");
  const std::string helper = Create("--grant LOW");
  const pid_t zero_pid = Launch(zero);
  Launch(helper);
  ASSERT_TRUE(WaitUntilRunning(zero, 60)) << LaunchLog();
  ASSERT_TRUE(WaitUntilRunning(helper, 60));
  Spawn({Bin("cloudbook-deployer"), "--project-folder", project_.path(), "--fast-start", "-s", "1",
         "--wait", "30"},
        "deployer.log");
  const pid_t first = Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(),
                             "--run-name", "first", "--progress", "plain", "--timeout", "300"},
                            "run.log");
  const std::string run_file = project_.Join("distributed/runs/first.json");
  ASSERT_TRUE(WaitFor(
      [&] {
        const Result<Json> run = ReadJsonFile(run_file);
        return run.ok() && run->value("state", "") == "running" && run->contains("agent_0");
      },
      60))
      << Log("run.log");

  const auto started = std::chrono::steady_clock::now();
  const CommandResult second = RunShell(Bin("cloudbook-run") + " " + P() + " --run-name second",
                                        scratch_.Join("second.err"));
  const double second_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(second.exit_code, kExitUnavailable) << second.err;
  EXPECT_LT(second_s, 5.0) << second.err;
  EXPECT_NE(second.err.find("busy"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("run 'first'"), std::string::npos) << second.err;

  ASSERT_EQ(::kill(zero_pid, SIGKILL), 0);
  EXPECT_NE(WaitForExit(first, 30), 0) << Log("run.log");
  EXPECT_EQ(ReadJsonFile(run_file)->value("state", ""), "running") << "nobody wrote it since";
  Launch(zero);
  ASSERT_TRUE(WaitFor(
      [&] {
        const Result<Json> run = ReadJsonFile(run_file);
        return run.ok() && run->value("state", "") == "failed";
      },
      60))
      << LaunchLog();
  EXPECT_EQ(ReadJsonFile(run_file)->value("error", ""), kAbandonedRunError);
}

// A control file left by an agent 0 that died, whose pid now belongs to another live process:
// cloudbook-run sees that nobody holds agent 0's pid file and fails at once.
TEST_F(RunLifecycle, AStaleControlFileWithAReusedPidFailsAtOnce) {
  const std::string zero = Create("--grant LOW --agent-0");
  const pid_t other = Spawn({"/bin/sleep", "60"}, "sleep.log");
  ControlEndpoint control;
  control.endpoint = "tcp://127.0.0.1:9";
  control.pid = other;
  ASSERT_TRUE(WriteControlFile(project_.path(), zero, control).ok());
  const auto started = std::chrono::steady_clock::now();
  const CommandResult run = RunShell(Bin("cloudbook-run") + " " + P(), scratch_.Join("run.err"));
  const double run_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(run.exit_code, kExitUnavailable) << run.err;
  EXPECT_LT(run_s, 3.0) << run.err;
  EXPECT_NE(run.err.find("is not running"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(std::to_string(other)), std::string::npos) << run.err;
}

}  // namespace
}  // namespace cloudbook::testing
