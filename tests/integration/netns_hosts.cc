#include "tests/integration/netns_hosts.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace cloudbook::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNetnsDir = "/run/netns";
constexpr double kIpTimeoutSeconds = 10;

struct ProgramOutput {
  int exit_code = -1;  // -1: could not start, timed out or killed
  std::string output;  // stdout and stderr
};

// Runs argv (argv[0] looked up in PATH) to completion, at most timeout_s, with its output.
ProgramOutput RunProgram(const std::vector<std::string>& argv, double timeout_s) {
  ProgramOutput result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<std::string> copy = argv;
  std::vector<char*> pointers;
  for (std::string& argument : copy) pointers.push_back(argument.data());
  pointers.push_back(nullptr);
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (error != 0) {
    ::close(fds[0]);
    result.output = "cannot start " + argv[0] + ": " + std::strerror(error);
    return result;
  }
  // The output is small (ip's answers); read it with a deadline on the whole run.
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  char buffer[4096];
  bool open = true;
  bool reaped = false;
  int status = 0;
  while (Clock::now() < deadline && (open || !reaped)) {
    if (open) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n > 0) {
        result.output.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) open = false;
    }
    if (!reaped) reaped = ::waitpid(pid, &status, WNOHANG) == pid;
    if (open || !reaped) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::close(fds[0]);
  if (!reaped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.output += "\n(" + argv[0] + " killed after " + std::to_string(timeout_s) + " s)";
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Join(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& word : words) line += (line.empty() ? "" : " ") + word;
  return line;
}

// Runs `ip <arguments>`; an error names the command and what ip said.
Status Ip(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const ProgramOutput run = RunProgram(argv, kIpTimeoutSeconds);
  if (run.exit_code != 0) return Status::IoError(Join(argv) + " failed: " + run.output);
  return Status::Ok();
}

std::vector<std::string> NetnsNames() {
  std::vector<std::string> names;
  const ProgramOutput run = RunProgram({"ip", "netns", "list"}, kIpTimeoutSeconds);
  std::istringstream lines(run.output);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));  // "name (id: 3)"
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

bool ProcessAlive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// Kills every process inside the namespace (TERM, then KILL), then deletes it.
void KillInsideAndDelete(const std::string& name) {
  for (const int signal : {SIGTERM, SIGKILL}) {
    const ProgramOutput pids = RunProgram({"ip", "netns", "pids", name}, kIpTimeoutSeconds);
    std::istringstream words(pids.output);
    pid_t pid;
    bool any = false;
    while (words >> pid) {
      if (pid > 1 && pid != ::getpid()) any = ::kill(pid, signal) == 0 || any;
    }
    if (!any) break;
    if (signal == SIGTERM) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  (void)Ip({"netns", "del", name});
}

// 10.77.<k> octets in use by the addresses of live cb* namespaces (ours and the recipes').
std::set<int> OctetsInUse() {
  std::set<int> used = {0};  // the recipes' default: keep it for people running them by hand
  const std::regex address(R"(inet 10\.77\.(\d+)\.)");
  for (const std::string& name : NetnsNames()) {
    if (name.rfind("cb", 0) != 0) continue;
    const ProgramOutput addresses =
        RunProgram({"ip", "-n", name, "-o", "-4", "addr", "show"}, kIpTimeoutSeconds);
    for (std::sregex_iterator it(addresses.output.begin(), addresses.output.end(), address), end;
         it != end; ++it) {
      used.insert(std::stoi((*it)[1].str()));
    }
  }
  return used;
}

// A path for argv[0]: itself when it has a '/', else the first executable in PATH.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const std::string candidate = (folder.empty() ? "." : folder) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

// Child side of Spawn: only async-signal-safe calls (the parent may have threads).
[[noreturn]] void EnterAndExec(pid_t parent, const char* netns_path, const char* log_path,
                               const char* program, char* const argv[], char* const envp[]) {
  auto fail = [](const char* what) {
    const char* reason = std::strerror(errno);  // no allocation in glibc for known codes
    (void)!::write(STDERR_FILENO, "netns spawn: ", 13);
    (void)!::write(STDERR_FILENO, what, std::strlen(what));
    (void)!::write(STDERR_FILENO, ": ", 2);
    (void)!::write(STDERR_FILENO, reason, std::strlen(reason));
    (void)!::write(STDERR_FILENO, "\n", 1);
    ::_exit(127);
  };
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the test process is already gone
  const int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log >= 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
  }
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  const int netns = ::open(netns_path, O_RDONLY | O_CLOEXEC);
  if (netns < 0) fail(netns_path);
  if (::setns(netns, CLONE_NEWNET) != 0) fail("setns");
  ::execve(program, argv, envp);
  fail(program);
  ::_exit(127);  // not reached: fail exits
}

}  // namespace

std::string NetnsHosts::WhyUnavailable() {
  if (::geteuid() != 0) return "network namespaces need root (run the test as root)";
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    if ((caps & (1ULL << 21)) == 0) {
      return "network namespaces need CAP_SYS_ADMIN (an unprivileged container?)";
    }
  }
  const ProgramOutput list = RunProgram({"ip", "netns", "list"}, kIpTimeoutSeconds);
  if (list.exit_code != 0) {
    return "`ip netns` is unavailable (install iproute2): " + list.output;
  }
  return "";
}

void NetnsHosts::RemoveStale() {
  const std::regex ours(R"(cbt(\d+)-\d+-(sw|h\d+))");
  std::smatch match;
  for (const std::string& name : NetnsNames()) {
    if (!std::regex_match(name, match, ours)) continue;
    const pid_t owner = static_cast<pid_t>(std::stol(match[1].str()));
    if (owner == ::getpid() || ProcessAlive(owner)) continue;
    std::fprintf(stderr, "netns hosts: removing stale namespace %s (process %d is gone)\n",
                 name.c_str(), static_cast<int>(owner));
    KillInsideAndDelete(name);
  }
}

Result<std::unique_ptr<NetnsHosts>> NetnsHosts::Create(int count) {
  if (count < 1 || count > 250) {
    return Status::InvalidArgument("NetnsHosts: " + std::to_string(count) + " hosts (1..250)");
  }
  RemoveStale();
  const std::set<int> used = OctetsInUse();
  int octet = -1;
  const int start = static_cast<int>(::getpid() % 254) + 1;
  for (int i = 0; i < 254 && octet < 0; ++i) {
    const int candidate = (start - 1 + i) % 254 + 1;  // 1..254
    if (used.count(candidate) == 0) octet = candidate;
  }
  if (octet < 0) return Status::IoError("NetnsHosts: every 10.77.<k>.0/24 is in use");
  static int created = 0;  // several NetnsHosts in one process get different names
  std::unique_ptr<NetnsHosts> hosts(new NetnsHosts(
      "cbt" + std::to_string(::getpid()) + "-" + std::to_string(++created), count, octet));
  CB_RETURN_IF_ERROR(hosts->Up());  // on failure the destructor removes what was made
  return hosts;
}

NetnsHosts::NetnsHosts(std::string prefix, int count, int octet)
    : prefix_(std::move(prefix)), count_(count), octet_(octet) {}

NetnsHosts::~NetnsHosts() {
  for (const pid_t pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  children_.clear();
  Down();
}

std::string NetnsHosts::Subnet() const { return "10.77." + std::to_string(octet_) + ".0/24"; }

std::string NetnsHosts::Address(int host) const {
  return "10.77." + std::to_string(octet_) + "." + std::to_string(host);
}

std::string NetnsHosts::Namespace(int host) const { return prefix_ + "-h" + std::to_string(host); }

Status NetnsHosts::Up() {
  // Interface names (at most 15 characters) live inside the namespaces, so they are short
  // and the same in every run: br0 and vh<i> in the bridge, eth0 in each host.
  const std::string bridge = prefix_ + "-sw";
  CB_RETURN_IF_ERROR(Ip({"netns", "add", bridge}));
  namespaces_.push_back(bridge);
  CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "add", "br0", "type", "bridge"}));
  CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "set", "br0", "up"}));
  CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "set", "lo", "up"}));
  for (int host = 1; host <= count_; ++host) {
    const std::string name = Namespace(host);
    const std::string veth = "vh" + std::to_string(host);
    CB_RETURN_IF_ERROR(Ip({"netns", "add", name}));
    namespaces_.push_back(name);
    CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "add", veth, "type", "veth", "peer", "name",
                           "eth0", "netns", name}));
    CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "set", veth, "master", "br0"}));
    CB_RETURN_IF_ERROR(Ip({"-n", bridge, "link", "set", veth, "up"}));
    CB_RETURN_IF_ERROR(Ip({"-n", name, "link", "set", "lo", "up"}));
    CB_RETURN_IF_ERROR(Ip({"-n", name, "addr", "add", Address(host) + "/24", "dev", "eth0"}));
    CB_RETURN_IF_ERROR(Ip({"-n", name, "link", "set", "eth0", "up"}));
  }
  // Bridge ports forward at once (STP is off); wait until every host's link reports up.
  for (int host = 1; host <= count_; ++host) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    std::string state;
    while (true) {
      state = RunProgram({"ip", "-n", Namespace(host), "-br", "link", "show", "eth0"},
                         kIpTimeoutSeconds)
                  .output;
      if (state.find(" UP ") != std::string::npos) break;
      if (Clock::now() > deadline) {
        return Status::IoError("NetnsHosts: eth0 of " + Namespace(host) +
                               " did not come up within 5 s: " + state);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Status::Ok();
}

void NetnsHosts::Down() {
  // Hosts first, then the bridge (their veths go with them).
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) KillInsideAndDelete(*it);
  namespaces_.clear();
}

Result<pid_t> NetnsHosts::Spawn(int host, const std::vector<std::string>& argv,
                                const std::vector<std::string>& env, const std::string& log_path) {
  if (host < 1 || host > count_) {
    return Status::InvalidArgument("NetnsHosts: no host " + std::to_string(host));
  }
  if (argv.empty()) return Status::InvalidArgument("NetnsHosts::Spawn: empty argv");
  // Everything the child needs is prepared here: after fork it only makes system calls.
  const std::string netns_path = std::string(kNetnsDir) + "/" + Namespace(host);
  const std::string program = ResolveProgram(argv[0]);
  std::vector<std::string> arguments = argv;
  std::vector<char*> argv_pointers;
  for (std::string& argument : arguments) argv_pointers.push_back(argument.data());
  argv_pointers.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    const std::string name = variable.substr(0, variable.find('='));
    bool overridden = false;
    for (const std::string& extra : env) {
      overridden = overridden || extra.substr(0, extra.find('=')) == name;
    }
    if (!overridden) environment.push_back(variable);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> env_pointers;
  for (std::string& variable : environment) env_pointers.push_back(variable.data());
  env_pointers.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    EnterAndExec(parent, netns_path.c_str(), log_path.c_str(), program.c_str(),
                 argv_pointers.data(), env_pointers.data());
  }
  children_.insert(pid);
  return pid;
}

bool NetnsHosts::Kill(pid_t pid, int signal) {
  return children_.count(pid) != 0 && ::kill(pid, signal) == 0;
}

int NetnsHosts::WaitForExit(pid_t pid, double timeout_s) {
  if (children_.count(pid) == 0) return -1;
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 || Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  children_.erase(pid);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

HostRunResult NetnsHosts::Run(int host, const std::vector<std::string>& argv, double timeout_s,
                              const std::vector<std::string>& env) {
  HostRunResult result;
  const std::string log = scratch_.Join("run-" + std::to_string(++runs_) + ".log");
  auto pid = Spawn(host, argv, env, log);
  if (!pid.ok()) {
    result.output = pid.status().message();
    return result;
  }
  result.exit_code = WaitForExit(*pid, timeout_s);
  if (result.exit_code == -1 && children_.count(*pid) != 0) {
    Kill(*pid, SIGKILL);
    WaitForExit(*pid, 10);
    result.exit_code = -1;
  }
  std::ifstream in(log, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  result.output = buffer.str();
  if (result.exit_code == -1) {
    result.output +=
        "\n(" + Join(argv) + " still ran after " + std::to_string(timeout_s) + " s: killed)";
  }
  return result;
}

}  // namespace cloudbook::testing
