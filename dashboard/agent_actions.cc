#include "dashboard/agent_actions.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <chrono>
#include <climits>
#include <cstring>
#include <vector>

#include "agent/core/agent_commands.h"
#include "shared/atomic_file.h"
#include "shared/executable_path.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/grant.h"
#include "shared/formats/pid_file.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

ActionResult Error(int http_status, const std::string& message) {
  return {http_status, {{"error", message}}};
}

// 200/201 on success; 400 bad input, 409 the agent's state does not allow it, 500 I/O.
ActionResult FromOutcome(const CommandOutcome& outcome, const std::string& agent_id,
                         const std::string& ok_message, int ok_status = 200) {
  switch (outcome.exit_code()) {
    case kExitOk:
      return {ok_status, {{"id", agent_id}, {"message", ok_message}}};
    case kExitConflict:
      return Error(409, outcome.message());
    case kExitUsage:
    case kExitInvalidInput:
      return Error(400, outcome.message());
    default:
      return Error(500, outcome.message());
  }
}

Result<Grant> GrantFromBody(const Json& body) {
  if (!body.is_object() || !body.contains("grant") || !body["grant"].is_string()) {
    return Status::InvalidArgument("the body needs \"grant\": \"LOW\", \"MEDIUM\" or \"HIGH\"");
  }
  return ParseGrant(body["grant"].get<std::string>());
}

std::string LogTail(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return "";
  return text->size() > GetTunables().dashboard_log_tail_bytes
             ? text->substr(text->size() - GetTunables().dashboard_log_tail_bytes)
             : *text;
}

// Starts `argv` in a session of its own, detached from this process (double fork: the agent
// is not our child, so it outlives us and never becomes our zombie), with stdin from
// /dev/null and stdout + stderr appended to `log_fd`. Returns its pid.
Result<pid_t> SpawnDetached(const std::vector<std::string>& arguments, int log_fd) {
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pid_pipe[2];
  if (null_fd < 0 || pipe2(pid_pipe, O_CLOEXEC) != 0) {
    if (null_fd >= 0) close(null_fd);
    return Status::IoError(std::string("cannot prepare the launch: ") + strerror(errno));
  }
  const pid_t middle = fork();
  if (middle < 0) {
    close(null_fd);
    close(pid_pipe[0]);
    close(pid_pipe[1]);
    return Status::IoError(std::string("fork: ") + strerror(errno));
  }
  if (middle == 0) {  // only async-signal-safe calls from here to execv
    setsid();
    const pid_t agent = fork();
    if (agent == 0) {
      dup2(null_fd, 0);
      dup2(log_fd, 1);
      dup2(log_fd, 2);
      // The dashboard's sockets (its listening port) must not live on in the agent.
      if (syscall(SYS_close_range, 3U, UINT_MAX, 0U) != 0) {
        for (int fd = 3; fd < 4096; ++fd) close(fd);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    const ssize_t written = write(pid_pipe[1], &agent, sizeof agent);
    _exit(agent > 0 && written == sizeof agent ? 0 : 1);
  }
  close(pid_pipe[1]);
  close(null_fd);
  pid_t agent = -1;
  const ssize_t got = read(pid_pipe[0], &agent, sizeof agent);
  close(pid_pipe[0]);
  int middle_status = 0;
  waitpid(middle, &middle_status, 0);
  if (got != sizeof agent || agent <= 0) return Status::IoError("could not start the agent");
  return agent;
}

}  // namespace

std::string FindAgentProgram() {
  boost::system::error_code error;
  const boost::filesystem::path self = boost::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::string beside = FindExecutable((self.parent_path() / "cloudbook-agent").string());
    if (!beside.empty()) return beside;
  }
  return FindExecutable("cloudbook-agent");
}

AgentActions::AgentActions(std::string project_folder, std::string agent_program)
    : project_folder_(std::move(project_folder)), agent_program_(std::move(agent_program)) {}

ActionResult AgentActions::CheckLocalAgent(const std::string& agent_id) const {
  const Status valid = ValidateAgentId(agent_id);
  if (!valid.ok()) return Error(400, valid.message());
  if (!FileExists(ProjectLayout(project_folder_).agent_config_file(agent_id))) {
    return Error(404, "no agent " + agent_id + " was created on this machine");
  }
  return {0, nullptr};
}

ActionResult AgentActions::Create(const Json& body) const {
  Result<Grant> grant = GrantFromBody(body);
  if (!grant.ok()) return Error(400, grant.status().message());
  if (body.contains("agent_0") && !body["agent_0"].is_boolean()) {
    return Error(400, "\"agent_0\" must be true or false");
  }
  CreateOptions options;
  options.project_folder = project_folder_;
  options.grant = *grant;
  options.agent_0 = body.value("agent_0", false);
  std::string created;
  const CommandOutcome outcome = CreateAgent(options, &created);
  // A second agent 0 is a conflict with the project's state, not a malformed request.
  if (outcome.exit_code() == kExitInvalidInput && options.agent_0) {
    return Error(409, outcome.message());
  }
  return FromOutcome(outcome, created, "created " + created, 201);
}

ActionResult AgentActions::Launch(const std::string& agent_id) const {
  ActionResult check = CheckLocalAgent(agent_id);
  if (check.http_status != 0) return check;
  const std::string pid_path = ProjectLayout(project_folder_).agent_pid_file(agent_id);
  Result<PidFileState> state = ReadPidFileState(pid_path);
  if (state.ok() && state->running) {
    return Error(409, agent_id + " already runs (pid " + std::to_string(state->pid) + ")");
  }
  if (agent_program_.empty()) {
    return Error(500, "cloudbook-agent was not found beside cloudbook-dashboard nor on PATH");
  }
  const std::string log_path = ProjectLayout(project_folder_).agent_log_file(agent_id);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return Error(500, "cannot open " + log_path + ": " + strerror(errno));
  Result<pid_t> pid = SpawnDetached(
      {agent_program_, "launch", "--project-folder", project_folder_, "--agent-id", agent_id},
      log_fd);
  close(log_fd);
  if (!pid.ok()) return Error(500, pid.status().message());
  // Answer once the agent holds its pid file, or with its log when it ends first.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, *pid, 0));
  const auto deadline = std::chrono::steady_clock::now() + GetTunables().dashboard_launch_wait_ms;
  bool ended = false;
  while (std::chrono::steady_clock::now() < deadline) {
    state = ReadPidFileState(pid_path);
    if (state.ok() && state->running && state->pid == *pid) break;
    if (pidfd >= 0) {
      pollfd wait_for_exit{pidfd, POLLIN, 0};
      if (poll(&wait_for_exit, 1, 100) > 0) {
        ended = true;
        break;
      }
    } else if (!ProcessExists(*pid)) {
      ended = true;
      break;
    }
  }
  if (pidfd >= 0) close(pidfd);
  if (ended) {
    return Error(500,
                 agent_id + " ended at once; the end of " + log_path + ":\n" + LogTail(log_path));
  }
  return {202,
          {{"id", agent_id},
           {"pid", *pid},
           {"log", log_path},
           {"message", "launched " + agent_id + " (pid " + std::to_string(*pid) + ")"}}};
}

ActionResult AgentActions::Stop(const std::string& agent_id, double timeout_s) const {
  ActionResult check = CheckLocalAgent(agent_id);
  if (check.http_status != 0) return check;
  return FromOutcome(StopAgent(project_folder_, agent_id, timeout_s), agent_id,
                     "stopped " + agent_id);
}

ActionResult AgentActions::EditGrant(const std::string& agent_id, const Json& body) const {
  ActionResult check = CheckLocalAgent(agent_id);
  if (check.http_status != 0) return check;
  Result<Grant> grant = GrantFromBody(body);
  if (!grant.ok()) return Error(400, grant.status().message());
  EditOptions options;
  options.project_folder = project_folder_;
  options.agent_id = agent_id;
  options.grant = *grant;
  std::string note;
  const CommandOutcome outcome = EditAgent(options, &note);
  return FromOutcome(outcome, agent_id, note.empty() ? "grant " + GrantName(*grant) : note);
}

ActionResult AgentActions::Remove(const std::string& agent_id) const {
  ActionResult check = CheckLocalAgent(agent_id);
  if (check.http_status != 0) return check;
  return FromOutcome(DeleteAgent(project_folder_, agent_id), agent_id, "removed " + agent_id);
}

}  // namespace cloudbook
