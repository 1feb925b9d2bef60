#include "fs_adapters/rclone_daemon.h"

// The one file that includes cpp-httplib (Debian builds it as a library: the header only
// declares, and its flags come from pkg-config).
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include "fs_adapters/rclone_rc.h"
#include "shared/executable_path.h"
#include "shared/tunables.h"

extern char** environ;

namespace cloudbook {

namespace {

using Clock = std::chrono::steady_clock;

std::string RandomToken() {
  std::random_device device;
  std::ostringstream token;
  token << std::hex;
  for (int i = 0; i < 4; ++i) token << device();
  return token.str();
}

// rclone's path: $CLOUDBOOK_RCLONE or `rclone`, searched on PATH here (before fork: execve
// in the child must not allocate).
std::string FindRcloneBinary() {
  const char* custom = std::getenv("CLOUDBOOK_RCLONE");
  return FindExecutable(custom != nullptr && *custom != '\0' ? custom : "rclone");
}

// This process's environment for the child, minus settings that would open the rc server to
// others or move its log line (RCLONE_RC_*, log file and format), plus the credentials.
std::vector<std::string> ChildEnvironment(const std::string& user, const std::string& password) {
  static const char* const kDropped[] = {
      "RCLONE_RC_",        "RCLONE_LOG_FILE=", "RCLONE_USE_JSON_LOG=",
      "RCLONE_LOG_LEVEL=", "RCLONE_QUIET=",    "RCLONE_VERBOSE="};
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    bool dropped = false;
    for (const char* prefix : kDropped) dropped |= text.rfind(prefix, 0) == 0;
    if (!dropped) result.push_back(text);
  }
  result.push_back("RCLONE_RC_USER=" + user);
  result.push_back("RCLONE_RC_PASS=" + password);
  return result;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

void Configure(httplib::Client& client, const std::string& user, const std::string& password,
               std::chrono::milliseconds timeout) {
  client.set_basic_auth(user.c_str(), password.c_str());
  // A request goes out in several writes (headers, body): without TCP_NODELAY, Nagle and the
  // peer's delayed ACK add ~40 ms to every call.
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(GetTunables().rclone_connect_timeout_ms);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
}

Result<RcloneReply> ToReply(const httplib::Result& result, const std::string& what) {
  if (!result) {
    return Status::IoError("rclone rcd " + what + ": " + httplib::to_string(result.error()));
  }
  return RcloneReply{result->status, result->body};
}

}  // namespace

namespace {

constexpr char kScratchPrefix[] = "cloudbook-rclone-";

// Scratch folders ("cloudbook-rclone-<pid>-XXXXXX") of this user's processes that ended
// without removing theirs (killed, or their folders lived until exit): removed here.
void SweepStaleScratch(const std::string& temp_dir) {
  boost::system::error_code error;
  for (boost::filesystem::directory_iterator it(temp_dir, error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kScratchPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kScratchPrefix), nullptr, 10);
    struct stat info;
    if (pid <= 0 || ::lstat(it->path().c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
        info.st_uid != ::getuid()) {
      continue;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      boost::system::error_code ignored;
      boost::filesystem::remove_all(it->path(), ignored);
    }
  }
}

}  // namespace

Result<std::shared_ptr<RcloneDaemon>> RcloneDaemon::Shared() {
  // Never destroyed: folders kept until exit (the mount table) may outlive static objects.
  static std::mutex* const mutex = new std::mutex;
  static std::weak_ptr<RcloneDaemon>* const current = new std::weak_ptr<RcloneDaemon>;
  std::lock_guard<std::mutex> lock(*mutex);
  if (std::shared_ptr<RcloneDaemon> daemon = current->lock()) return daemon;
  const char* temp = std::getenv("TMPDIR");
  const std::string temp_dir = temp != nullptr && *temp != '\0' ? temp : "/tmp";
  SweepStaleScratch(temp_dir);
  std::string pattern = temp_dir + "/" + kScratchPrefix + std::to_string(::getpid()) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {  // mode 0700
    return Status::IoError("cannot create a private folder " + pattern + ": " +
                           std::strerror(errno));
  }
  std::shared_ptr<RcloneDaemon> daemon(new RcloneDaemon(pattern));
  *current = daemon;
  return daemon;
}

RcloneDaemon::RcloneDaemon(std::string scratch_dir) : scratch_dir_(std::move(scratch_dir)) {}

RcloneDaemon::~RcloneDaemon() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!changed_.wait_for(lock, GetTunables().rclone_stop_grace_ms, [&] { return pid_ < 0; })) {
      if (pid_ > 0) ::kill(pid_, SIGKILL);
      changed_.wait(lock, [&] { return pid_ < 0; });
    }
  }
  lock.unlock();
  if (watcher_.joinable()) watcher_.join();
  boost::system::error_code ignored;
  boost::filesystem::remove_all(scratch_dir_, ignored);
}

pid_t RcloneDaemon::pid() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pid_;
}

int RcloneDaemon::starts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return starts_;
}

Result<RcloneDaemon::Endpoint> RcloneDaemon::EnsureRunning() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + GetTunables().rclone_start_budget_ms;
  if (!changed_.wait_until(lock, deadline, [&] { return !starting_; })) {
    return Status::IoError("rclone rcd did not start within 20 s");
  }
  if (running_) return endpoint_;
  // No rcd runs. The previous watcher (if any) has reported its child's end and no longer
  // takes the lock, so joining it here is quick.
  if (watcher_.joinable()) watcher_.join();
  const std::string binary = FindRcloneBinary();
  if (binary.empty()) {
    return Status::IoError(
        "rclone not found on PATH (install the rclone package or set CLOUDBOOK_RCLONE)");
  }
  if (starts_ > 0) {
    spdlog::warn("rclone rcd {}; starting a new one{}", start_error_,
                 last_output_.empty() ? "" : " (its last output: " + last_output_ + ")");
  }
  starting_ = true;
  ++starts_;
  start_error_.clear();
  last_output_.clear();
  endpoint_ = Endpoint{0, RandomToken(), RandomToken()};
  watcher_ = std::thread(&RcloneDaemon::Watch, this, binary, endpoint_.user, endpoint_.password);
  if (!changed_.wait_until(lock, deadline, [&] { return !starting_; })) {
    // It never printed its port: kill it; the watcher sees the end of its output and reaps it.
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    changed_.wait_for(lock, GetTunables().rclone_stop_grace_ms, [&] { return !starting_; });
    return Status::IoError("rclone rcd did not start within 20 s; its output: " + last_output_);
  }
  if (!running_) {
    return Status::IoError("rclone rcd could not start (" + start_error_ + "): " + last_output_);
  }
  spdlog::debug("rclone rcd (pid {}) serves on 127.0.0.1:{}", pid_, endpoint_.port);
  return endpoint_;
}

void RcloneDaemon::Watch(std::string binary, std::string user, std::string password) {
  // --low-level-retries 1: rclone's own retries (10 by default, each after a pacer sleep that
  // grows to 2 s) would hold one call for tens of seconds on a dead remote; the folder's retry
  // loop and budget decide instead.
  std::vector<std::string> args = {binary,        "rcd",    "--rc-addr",           "127.0.0.1:0",
                                   "--log-level", "NOTICE", "--low-level-retries", "1"};
  std::vector<std::string> environment = ChildEnvironment(user, password);
  std::vector<char*> arg_pointers = Pointers(args);
  std::vector<char*> env_pointers = Pointers(environment);
  int output[2];
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const bool piped = ::pipe2(output, O_CLOEXEC) == 0;
  const pid_t parent = ::getpid();
  const pid_t pid = piped && null_in >= 0 ? ::fork() : -1;
  if (pid == 0) {
    // The child: only async-signal-safe calls until execve. PDEATHSIG follows this thread,
    // which lives until the child is reaped.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(null_in, STDIN_FILENO);
    ::dup2(output[1], STDOUT_FILENO);
    ::dup2(output[1], STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // no socket or file of ours stays open in rclone
    ::execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    ::_exit(127);
  }
  const std::string spawn_error = std::strerror(errno);
  if (null_in >= 0) ::close(null_in);
  if (piped) ::close(output[1]);
  if (pid < 0) {
    if (piped) ::close(output[0]);
    std::lock_guard<std::mutex> lock(mutex_);
    start_error_ = "cannot start " + binary + ": " + spawn_error;
    starting_ = false;
    changed_.notify_all();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pid_ = pid;
  }
  // Its output: the port line, then log lines (an ERROR per failed call: debug level here,
  // the caller reports what matters).
  std::string pending;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(output[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      const int port = ParseServingPort(line);
      std::lock_guard<std::mutex> lock(mutex_);
      if (port > 0 && starting_) {
        endpoint_.port = port;
        running_ = true;
        starting_ = false;
        changed_.notify_all();
        continue;
      }
      // rclone prints this one whatever the log level, once per call past 1000 calls.
      if (line.find("Max number of stats groups reached") != std::string::npos) continue;
      spdlog::debug("rclone rcd: {}", line);
      last_output_ += line + "\n";
      const size_t kept = GetTunables().rclone_kept_output_bytes;
      if (last_output_.size() > kept) {
        last_output_.erase(0, last_output_.size() - kept);
      }
    }
  }
  ::close(output[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::lock_guard<std::mutex> lock(mutex_);
  start_error_ = "(pid " + std::to_string(pid) + ") " + DescribeExit(status);
  running_ = false;
  starting_ = false;
  pid_ = -1;
  changed_.notify_all();
}

Result<RcloneReply> RcloneDaemon::Call(const std::string& method, const std::string& json_input,
                                       std::chrono::milliseconds timeout) {
  CB_ASSIGN_OR_RETURN(const Endpoint endpoint, EnsureRunning());
  httplib::Client client("127.0.0.1", endpoint.port);
  Configure(client, endpoint.user, endpoint.password, timeout);
  return ToReply(client.Post("/" + method, json_input, "application/json"), method);
}

Result<RcloneReply> RcloneDaemon::Upload(const std::string& fs, const std::string& folder,
                                         const std::string& file_name, const std::string& contents,
                                         std::chrono::milliseconds timeout) {
  CB_ASSIGN_OR_RETURN(const Endpoint endpoint, EnsureRunning());
  httplib::Client client("127.0.0.1", endpoint.port);
  Configure(client, endpoint.user, endpoint.password, timeout);
  // rclone reads the parameters of a multipart call from the query string.
  const std::string path =
      "/operations/uploadfile?fs=" + PercentEncode(fs) + "&remote=" + PercentEncode(folder);
  const httplib::MultipartFormDataItems items = {
      {"file0", contents, file_name, "application/octet-stream"}};
  return ToReply(client.Post(path, items), "operations/uploadfile");
}

}  // namespace cloudbook
