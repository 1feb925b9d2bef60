// Several "hosts" on one machine for integration tests: each host is a network namespace
// with its own loopback and one interface (eth0, 10.77.<k>.<host>/24) on a bridge that lives
// in a namespace of its own, so nothing is added to the root namespace. Every host sees the
// same files, so a project folder anywhere on disk is a shared folder for free.
//
// Reuse (a test fixture):
//
//   void SetUp() override {
//     const std::string why = NetnsHosts::WhyUnavailable();
//     if (!why.empty()) GTEST_SKIP() << why;              // not root, no `ip netns`, ...
//     auto hosts = NetnsHosts::Create(3);                 // also removes stale namespaces
//     ASSERT_TRUE(hosts.ok()) << hosts.status().message();
//     hosts_ = std::move(*hosts);
//   }
//   ...
//   auto pid = hosts_->Spawn(1, {Agent(), "launch", ...}, {}, log_path);   // inside host 1
//   auto call = hosts_->Run(1, {Agent(), "call", ...}, 30);                // to completion
//   hosts_->Kill(*pid, SIGTERM); hosts_->WaitForExit(*pid, 15);
//
// Rules (../shared/recipes/README.md): talk to 10.77.<k>.x only from inside these hosts,
// never from the test process itself (the root namespace has no route there). Names are
// cbt<pid>-<n>-sw and cbt<pid>-<n>-h<i>, so several test processes can run at once; <k> is
// picked from the pid among octets no other live cb* namespace uses. The destructor kills
// whatever still runs inside and deletes every namespace, even when the test failed; a
// crashed test process leaves namespaces that the next Create removes (their pid is dead),
// and spawned processes get SIGKILL when the test process dies (PR_SET_PDEATHSIG).
// Not thread-safe: use one NetnsHosts from one thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "shared/status.h"
#include "tests/test_support.h"

namespace cloudbook::testing {

struct HostRunResult {
  int exit_code = -1;  // as WaitForExit
  std::string output;  // standard output and error, interleaved
};

class NetnsHosts {
 public:
  // Empty when hosts can be made here; otherwise the reason, for GTEST_SKIP (not root, no
  // CAP_SYS_ADMIN, `ip` missing or without netns support).
  static std::string WhyUnavailable();

  // Makes `count` hosts (1..250), numbered 1..count. Removes stale namespaces first.
  static Result<std::unique_ptr<NetnsHosts>> Create(int count);

  // Deletes the namespaces of test processes that no longer run (prefix cbt<pid>-).
  static void RemoveStale();

  ~NetnsHosts();
  NetnsHosts(const NetnsHosts&) = delete;
  NetnsHosts& operator=(const NetnsHosts&) = delete;

  int size() const { return count_; }
  int subnet_octet() const { return octet_; }  // the <k> of 10.77.<k>.0/24
  std::string Subnet() const;                  // "10.77.<k>.0/24"
  std::string Address(int host) const;         // "10.77.<k>.<host>"
  std::string Namespace(int host) const;       // for `ip netns exec` by hand
  const std::vector<std::string>& namespaces() const { return namespaces_; }

  // Starts argv (argv[0] a path, or a name looked up in PATH) inside `host`, with this
  // process's environment plus `env` ("NAME=value", overriding), stdin from /dev/null and
  // stdout+stderr appended to `log_path`. Returns the child's pid.
  Result<pid_t> Spawn(int host, const std::vector<std::string>& argv,
                      const std::vector<std::string>& env, const std::string& log_path);

  // Sends `signal` to a child started by Spawn that has not been waited for. False otherwise.
  bool Kill(pid_t pid, int signal);

  // Waits for a child of Spawn, at most timeout_s: its exit code, 128 + the signal that
  // ended it, or -1 when it still runs (or is not a child of this object).
  int WaitForExit(pid_t pid, double timeout_s);

  // Spawn, then wait at most timeout_s (SIGKILL after that, exit_code -1); with the output.
  HostRunResult Run(int host, const std::vector<std::string>& argv, double timeout_s,
                    const std::vector<std::string>& env = {});

 private:
  NetnsHosts(std::string prefix, int count, int octet);
  Status Up();
  void Down();

  std::string prefix_;  // cbt<pid>-<n>
  int count_;
  int octet_;
  std::vector<std::string> namespaces_;  // every namespace made so far (bridge first)
  std::set<pid_t> children_;             // spawned, not yet waited for
  ScratchDir scratch_;                   // logs of Run
  int runs_ = 0;
};

}  // namespace cloudbook::testing
