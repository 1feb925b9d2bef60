// A real cloudbook-dashboard process over a scratch project, and an HTTP client for its API,
// for the dashboard's API and browser tests. Agents the dashboard launches are not our
// children (they run in sessions of their own): teardown stops them by the pids in their pid
// files.
#pragma once

#include <httplib.h>

#include <fstream>
#include <string>
#include <vector>

#include "shared/formats/pid_file.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "tests/integration/agent_process.h"

namespace cloudbook::testing {

inline std::string Dashboard() { return std::string(CLOUDBOOK_BIN_DIR) + "/cloudbook-dashboard"; }

class DashboardTest : public AgentProcessTest {
 protected:
  void TearDown() override {
    for (const std::string& id : launched_) {
      Result<PidFileState> state =
          ReadPidFileState(ProjectLayout(project_.path()).agent_pid_file(id));
      if (state.ok() && state->running && state->pid > 0) ::kill(state->pid, SIGKILL);
    }
    AgentProcessTest::TearDown();
  }

  // Starts the dashboard on 127.0.0.1 (or `listen`), any free port; false when it did not
  // come up within 20 s (the log says why).
  bool StartDashboard(const std::string& listen = "127.0.0.1:0") {
    const std::string port_file = scratch_.Join("dashboard.port");
    std::vector<std::string> arguments = {Dashboard(), "--listen",    listen,
                                          "--refresh", "0.3",         "--port-file",
                                          port_file,   "--log-level", "debug"};
    if (dashboard_where_.empty()) dashboard_where_ = {"--project-folder", project_.path()};
    arguments.insert(arguments.end(), dashboard_where_.begin(), dashboard_where_.end());
    dashboard_pid_ = Spawn(arguments, "dashboard.log");
    if (dashboard_pid_ <= 0) return false;
    const bool up = WaitFor(
        [&] {
          std::ifstream in(port_file);
          return static_cast<bool>(in >> port_);
        },
        20);
    if (up) client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    if (client_) client_->set_read_timeout(60, 0);
    return up;
  }

  struct Reply {
    int status = -1;  // -1: no answer
    Json body;
  };

  Reply Call(const std::string& method, const std::string& path, const Json& body = nullptr,
             const std::string& content_type = "application/json") {
    httplib::Headers headers;
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result = method == "GET"    ? client_->Get(path, headers)
                             : method == "POST" ? client_->Post(path, headers, text, content_type)
                             : method == "PUT"  ? client_->Put(path, headers, text, content_type)
                                               : client_->Delete(path, headers, text, content_type);
    Reply reply;
    if (!result) return reply;
    reply.status = result->status;
    Result<Json> parsed = ParseJsonText(result->body, path);
    reply.body = parsed.ok() ? *parsed : Json(result->body);
    return reply;
  }

  // The agent's entry in GET /api/v1/agents, or null.
  Json AgentEntry(const std::string& id) {
    const Reply agents = Call("GET", "/api/v1/agents");
    if (agents.status != 200 || !agents.body.is_array()) return nullptr;
    for (const Json& agent : agents.body) {
      if (agent.value("id", std::string()) == id) return agent;
    }
    return nullptr;
  }

  bool WaitForStatus(const std::string& id, const std::string& status, double timeout_s) {
    return WaitFor(
        [&] {
          const Json agent = AgentEntry(id);
          return agent.is_object() && agent["status"] == status;
        },
        timeout_s);
  }

  std::vector<std::string> dashboard_where_;  // empty: --project-folder <the project>
  pid_t dashboard_pid_ = -1;
  int port_ = 0;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
  std::vector<std::string> launched_;  // ids the dashboard may have launched
};

}  // namespace cloudbook::testing
