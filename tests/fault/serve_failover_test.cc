// Serving a finished run's model across the agents (cloudbook-serve's distributed mode:
// agent/serve/agents_backend.h -> agent 0's serve_predict -> `infer` on each DU's owner) while
// the owner of a DU is SIGKILLed mid-stream: every answer arrives and equals the model applied
// in this process (ModelPredictor); none fails. Agent 0 applies the dead owner's DU itself at
// once and stops asking it (docs/serve.md).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/serve/agents_backend.h"
#include "shared/data/project_data.h"
#include "shared/formats/assignment.h"
#include "shared/formats/run_model.h"
#include "shared/nn/model_predictor.h"
#include "shared/project_layout.h"
#include "tests/fault/fault_checks.h"

namespace cloudbook::testing {
namespace {

std::string Bin(const std::string& name) { return std::string(CLOUDBOOK_BIN_DIR) + "/" + name; }

using ServeFailover = LocalFaultTest;

TEST_F(ServeFailover, EveryAnswerArrivesAndIsRightWhileAnOwnerIsKilled) {
  const auto test_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(MakeFashionMlpDus("--subnets 3 --train-limit 3000 --test-limit 500"));
  const std::vector<std::string> ids = LaunchAgentsAndPlanOnce(4);  // agent 0 and three more
  ASSERT_FALSE(HasFailure());
  const std::vector<pid_t> agent_pids(children_.begin(), children_.begin() + 4);
  const pid_t run = Spawn({Bin("cloudbook-run"), "--project-folder", project_.path(), "--run-name",
                           "served", "--progress", "plain", "--timeout", "300"},
                          "run.log");
  ASSERT_EQ(WaitForExit(run, 300), 0) << Log("run.log") << Log("launch-" + ids[0] + ".log");

  // The reference: the run's model applied here.
  const SharedFolderLayout shared(project_.Join("distributed"));
  Result<RunModel> model = ReadRunModel(shared, "served");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto predictor = ModelPredictor::Load(*model);
  ASSERT_TRUE(predictor.ok()) << predictor.status().ToString();
  auto data = LoadProjectData(ProjectLayout(project_.path()), model->program(), model->input_shape);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const Array& test_x = data->test.x;

  // The victim: the owner of a DU other than agent 0.
  Result<Assignment> assignment = ReadAssignment(shared.root());
  ASSERT_TRUE(assignment.ok()) << assignment.status().ToString();
  std::string victim;
  for (const DuAssignment& entry : assignment->dus) {
    if (entry.agent != ids[0]) victim = entry.agent;
  }
  ASSERT_FALSE(victim.empty()) << ToJson(*assignment).dump(2);
  const auto victim_at = std::find(ids.begin(), ids.end(), victim) - ids.begin();
  ASSERT_LT(victim_at, 4);

  AgentsBackendOptions options;
  options.project_folder = project_.path();
  options.run = "served";
  auto backend = AgentsBackend::Connect(options);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();

  // The client: batches of 1 (and every fifth of 8) from the test set, each checked against
  // the reference, one after another as cloudbook-serve's batching thread sends them.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> answers{0};
  std::mutex mutex;
  std::vector<std::string> failures;        // guarded by mutex
  bool victim_served = false;               // guarded by mutex; before the kill
  std::vector<double> local_us, agents_us;  // batch-1 latencies before the kill; by mutex
  std::atomic<bool> killed{false};
  std::thread client([&] {
    for (int64_t i = 0; !stop; ++i) {
      const int64_t rows = i % 5 == 4 ? 8 : 1;
      const int64_t begin = (i * 7) % (test_x.rows() - rows);
      const Array x = test_x.SliceRows(begin, begin + rows);
      const auto t0 = std::chrono::steady_clock::now();
      auto expected = (*predictor)->Predict(x);
      const auto t1 = std::chrono::steady_clock::now();
      auto answer = (*backend)->Predict(x);
      const auto t2 = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> lock(mutex);
      if (rows == 1 && !killed) {
        local_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        agents_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
      }
      if (!expected.ok()) {
        failures.push_back("reference: " + expected.status().ToString());
      } else if (!answer.ok()) {
        failures.push_back("batch " + std::to_string(i) + ": " + answer.status().ToString());
      } else if (answer->predictions != expected->predictions ||
                 answer->outputs.shape != expected->outputs.shape ||
                 answer->outputs.values != expected->outputs.values) {
        failures.push_back("batch " + std::to_string(i) + " (rows " + std::to_string(begin) + "+" +
                           std::to_string(rows) + ") differs from the model's answer");
      }
      if (!killed && (*backend)->last_served_by().find(victim) != std::string::npos) {
        victim_served = true;
      }
      ++answers;
    }
  });
  ASSERT_TRUE(WaitFor([&] { return answers >= 50; }, 60)) << "answers: " << answers;
  ASSERT_EQ(::kill(agent_pids[victim_at], SIGKILL), 0);
  killed = true;
  const int64_t at_kill = answers;
  const auto kill_time = std::chrono::steady_clock::now();
  // Past the peer timeout (3 s here) and one skip period: the in-flight failure, the skipped
  // owner and the owner asked again while dead all happen.
  const bool enough = WaitFor(
      [&] {
        return answers >= at_kill + 50 &&
               std::chrono::steady_clock::now() - kill_time > std::chrono::seconds(8);
      },
      60);
  stop = true;
  client.join();
  EXPECT_TRUE(enough) << answers - at_kill << " answers after the kill";
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_TRUE(victim_served) << victim << " never answered before the kill";
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_EQ((*backend)->last_served_by().find(victim), std::string::npos)
      << (*backend)->last_served_by();
  const std::string agent0_log = Log("launch-" + ids[0] + ".log");
  EXPECT_NE(agent0_log.find(victim + " failed infer of DU"), std::string::npos) << agent0_log;
  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0.0 : values[values.size() / 2];
  };
  std::printf(
      "[ serve ] %lld answers, %lld after the kill, in %.1f s in all; batch 1 p50: in process "
      "%.0f us, across the agents %.0f us (%zu batches)\n",
      static_cast<long long>(answers.load()), static_cast<long long>(answers - at_kill),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - test_start).count(),
      median(local_us), median(agents_us), agents_us.size());
}

}  // namespace
}  // namespace cloudbook::testing
