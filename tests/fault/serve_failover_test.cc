// Serving a finished run's model across the agents over real HTTP (cloudbook-serve --agents:
// agent/serve/agents_backend.h -> agent 0's serve_predict -> `infer` on each DU's owner) while
// the owner of a DU is SIGKILLed mid-stream: every answer arrives and equals the model applied
// in this process (ModelPredictor); none fails. Agent 0 applies the dead owner's DU itself at
// once and stops asking it (docs/serve.md).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shared/data/project_data.h"
#include "shared/formats/assignment.h"
#include "shared/formats/run_model.h"
#include "shared/formats/serve_endpoint.h"
#include "shared/json_io.h"
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

  // The server: cloudbook-serve through the agents only (no fallback to its own process).
  const pid_t server =
      Spawn({Bin("cloudbook-serve"), "--project-folder", project_.path(), "--run", "served",
             "--agents", "--listen", "127.0.0.1:0", "--max-wait-ms", "0"},
            "serve.log");
  int port = 0;
  WaitFor(
      [&] {
        const std::vector<ServeEndpoint> found = ReadServeEndpoints(shared);
        if (!found.empty()) port = found[0].port;
        return port > 0;
      },
      60 * TestTimeScale());
  ASSERT_GT(port, 0) << Log("serve.log");
  EXPECT_NE(Log("serve.log").find("agents"), std::string::npos) << Log("serve.log");

  // Raw values (0..255) of test rows [begin, begin + rows) as JSON instances.
  auto instances = [&](int64_t begin, int64_t rows) {
    Json all = Json::array();
    for (int64_t i = begin; i < begin + rows; ++i) {
      Json sample = Json::array();
      for (int64_t v = 0; v < 784; ++v) {
        sample.push_back(std::lround(test_x.values[static_cast<size_t>(i * 784 + v)] * 255.0));
      }
      all.push_back(std::move(sample));
    }
    return Json{{"instances", all}}.dump();
  };

  // The client: batches of 1 (and every fifth of 8) from the test set over HTTP, each checked
  // against the reference (same classes, probabilities within float printing).
  std::atomic<bool> stop{false};
  std::atomic<int64_t> answers{0};
  std::mutex mutex;
  std::vector<std::string> failures;  // guarded by mutex
  std::vector<double> http_us;        // batch-1 round trips before the kill; by mutex
  std::atomic<bool> killed{false};
  std::thread client([&] {
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(std::chrono::seconds(60));
    for (int64_t i = 0; !stop; ++i) {
      const int64_t rows = i % 5 == 4 ? 8 : 1;
      const int64_t begin = (i * 7) % (test_x.rows() - rows);
      auto expected = (*predictor)->Predict(test_x.SliceRows(begin, begin + rows));
      const auto t0 = std::chrono::steady_clock::now();
      auto got =
          http.Post("/v1/models/fashion_mlp:predict", instances(begin, rows), "application/json");
      const auto t1 = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> lock(mutex);
      if (rows == 1 && !killed) {
        http_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
      const std::string where = "batch " + std::to_string(i) + " (rows " + std::to_string(begin) +
                                "+" + std::to_string(rows) + ")";
      if (!expected.ok()) {
        failures.push_back("reference: " + expected.status().ToString());
      } else if (!got) {
        failures.push_back(where + ": " + httplib::to_string(got.error()));
      } else if (got->status != 200) {
        failures.push_back(where + ": HTTP " + std::to_string(got->status) + " " + got->body);
      } else {
        Result<Json> body = ParseJsonText(got->body, "answer");
        bool same = body.ok() && (*body)["predictions"].size() == static_cast<size_t>(rows);
        for (int64_t r = 0; same && r < rows; ++r) {
          const Json& p = (*body)["predictions"][static_cast<size_t>(r)];
          int64_t best = 0;
          for (int64_t c = 0; c < 10; ++c) {
            const double want = expected->outputs.values[static_cast<size_t>(r * 10 + c)];
            same = same && std::abs(p[static_cast<size_t>(c)].get<double>() - want) < 1e-6;
            if (p[static_cast<size_t>(c)].get<double>() >
                p[static_cast<size_t>(best)].get<double>())
              best = c;
          }
          same = same && best == expected->predictions[static_cast<size_t>(r)];
        }
        if (!same) failures.push_back(where + " differs from the model's answer: " + got->body);
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
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  const std::string agent0_log = Log("launch-" + ids[0] + ".log");
  EXPECT_NE(agent0_log.find(victim + " failed infer of DU"), std::string::npos) << agent0_log;
  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0.0 : values[values.size() / 2];
  };
  std::printf(
      "[ serve ] %lld answers, %lld after the kill, in %.1f s in all; batch 1 p50 over "
      "HTTP through the agents %.0f us (%zu batches)\n",
      static_cast<long long>(answers.load()), static_cast<long long>(answers - at_kill),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - test_start).count(),
      median(http_us), http_us.size());
  EXPECT_EQ(::kill(server, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(server, 30), 0) << Log("serve.log");
}

}  // namespace
}  // namespace cloudbook::testing
