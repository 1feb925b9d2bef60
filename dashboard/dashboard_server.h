// cloudbook-dashboard's HTTP side: the page (web_assets.h), Chart.js from Debian's
// libjs-chart.js, and the JSON API of docs/dashboard.md over a ProjectWatcher and the
// AgentActions of this machine. Every request passes the AccessPolicy first; every action is
// logged with its outcome.
#pragma once

#include <memory>
#include <string>

#include "shared/status.h"
#include "shared/tunables.h"

namespace cloudbook {

struct DashboardOptions {
  std::string project_folder;          // the default project ("" with `home`: its first)
  std::string home;                    // also serve every project in this cloudbook home
  std::string shared_folder_override;  // as --distributed-folder; "" = the project's setting
  std::string listen_address = "127.0.0.1";
  int port = 8750;  // 0: any free port
  double refresh_s = GetTunables().dashboard_refresh_s;
  std::string agent_program;  // "" = FindAgentProgram()
  std::string chart_js = "/usr/share/javascript/chart.js/chart.min.js";
  double stop_timeout_s = GetTunables().agent_stop_timeout_s;  // of an agent's stop
  // A token even on loopback: on a machine shared with other users (any local user reaches a
  // loopback port), and for another machine's page to call this one (CORS needs the token).
  bool token_required = false;
};

class DashboardServer {
 public:
  // Opens the default project (its shared folder mounted), binds, and serves from a thread.
  // Binding a non-loopback address makes (or reuses) the token.
  static Result<std::unique_ptr<DashboardServer>> Start(const DashboardOptions& options);
  ~DashboardServer();

  int port() const;
  // http://<address>:<port>/ (with ?token= when one is needed).
  std::string url() const;
  const std::string& token() const;
  // Stops serving and withdraws this dashboard's entry from the shared folder.
  void Stop();

  class Impl;

 private:
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cloudbook
