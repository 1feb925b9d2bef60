#include "tests/loopback_servers.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cloudbook::testing {
namespace {

namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kGaneshaBinary[] = "/usr/bin/ganesha.nfsd";
constexpr char kGaneshaVfs[] = "/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so";
constexpr auto kStartBudget = std::chrono::seconds(20);

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

bool AcceptsConnections(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = Loopback(port);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// environ with `overrides` replacing or adding entries; built before fork (no allocation in
// the child).
std::vector<std::string> Environment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    bool replaced = false;
    for (const auto& [key, value] : overrides) replaced |= text.rfind(key + "=", 0) == 0;
    if (!replaced) result.push_back(text);
  }
  for (const auto& [key, value] : overrides) result.push_back(key + "=" + value);
  return result;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string ServerProcess::Start(const std::vector<std::string>& argv,
                                 const std::string& output_path,
                                 const std::vector<std::pair<std::string, std::string>>& env) {
  if (pid_ > 0) return "already running";
  if (argv.empty()) return "no program";
  std::vector<std::string> args = argv;
  std::vector<std::string> environment = Environment(env);
  std::vector<char*> arg_pointers = Pointers(args);
  std::vector<char*> env_pointers = Pointers(environment);
  const int output = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (output < 0) return "cannot create " + output_path + ": " + std::strerror(errno);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(output);
    return std::string("fork failed: ") + std::strerror(errno);
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test or benchmark
    if (::getppid() != parent) ::_exit(126);
    ::dup2(output, STDOUT_FILENO);
    ::dup2(output, STDERR_FILENO);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    ::execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    ::_exit(127);
  }
  ::close(output);
  pid_ = pid;
  return "";
}

bool ServerProcess::Running() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the exit
  }
  pid_ = -1;
}

std::string GaneshaServer::WhyUnavailable() {
  if (::access(kGaneshaBinary, X_OK) != 0) return std::string(kGaneshaBinary) + " missing";
  if (::access(kGaneshaVfs, R_OK) != 0) return std::string(kGaneshaVfs) + " missing";
  return "";
}

std::string GaneshaServer::Start() {
  fs::create_directories(ExportDir());
  fs::create_directories(base_ + "/recov");
  const std::string config = base_ + "/ganesha.conf";
  {
    std::ofstream out(config, std::ios::trunc);
    out << Config();
    if (!out.good()) return "cannot write " + config;
  }
  log_ = base_ + "/ganesha-" + std::to_string(++starts_) + ".log";
  const std::string started =
      process_.Start({kGaneshaBinary, "-F", "-f", config, "-L", log_, "-p", base_ + "/ganesha.pid"},
                     base_ + "/ganesha-" + std::to_string(starts_) + ".out");
  if (!started.empty()) return started;
  const auto deadline = Clock::now() + kStartBudget;
  while (Clock::now() < deadline) {
    if (ReadLog().find("NFS SERVER INITIALIZED") != std::string::npos) return "";
    if (!process_.Running()) {
      return "ganesha.nfsd exited at start; log: " + ReadLog().substr(0, 2000);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log
  }
  Stop();
  return "ganesha.nfsd did not initialise within 20 s; log: " + ReadLog().substr(0, 2000);
}

std::string GaneshaServer::Config() const {
  const std::string port = std::to_string(port_);
  return "NFS_CORE_PARAM { Bind_addr = 127.0.0.1; NFS_Port = " + port +
         "; Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; }\n"
         "NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = " +
         base_ + "/recov; }\n" +
         "NFS_KRB5 { Active_krb5 = false; }\n"
         "LOG { Default_Log_Level = EVENT; }\n"
         "EXPORT { Export_Id = 1; Path = " +
         ExportDir() +
         "; Pseudo = /export; Access_Type = RW; Squash = No_Root_Squash; SecType = sys;"
         " Protocols = 4; Transports = TCP; Attr_Expiration_Time = 0;"
         " FSAL { Name = VFS; } }\n";
}

std::string GaneshaServer::ReadLog() const { return ReadWholeFile(log_); }

namespace {

std::string RcloneProgram() {
  const char* custom = std::getenv("CLOUDBOOK_RCLONE");
  return custom != nullptr && *custom != '\0' ? custom : "rclone";
}

// Starts `rclone serve <kind> <served_dir> <extra...>` on 127.0.0.1:<port> with an empty
// config and no directory caching (the server's VFS otherwise caches listings for 5 min,
// hiding files written into the served folder directly); waits until the port accepts.
std::string StartRcloneServer(ServerProcess& process, const std::string& kind,
                              const std::string& served_dir, uint16_t port,
                              const std::vector<std::string>& extra, const std::string& log_path) {
  const std::string rclone = FindExecutable(RcloneProgram());
  if (rclone.empty()) return RcloneWebdavServer::WhyUnavailable();
  fs::create_directories(served_dir);
  std::vector<std::string> args = {rclone, "serve", kind, served_dir};
  const std::vector<std::string> common = {"--addr",           "127.0.0.1:" + std::to_string(port),
                                           "--dir-cache-time", "0s",
                                           "--poll-interval",  "0"};
  args.insert(args.end(), common.begin(), common.end());
  args.insert(args.end(), extra.begin(), extra.end());
  const std::string started = process.Start(args, log_path, {{"RCLONE_CONFIG", "/dev/null"}});
  if (!started.empty()) return started;
  const auto deadline = Clock::now() + kStartBudget;
  while (Clock::now() < deadline) {
    if (AcceptsConnections(port)) return "";
    if (!process.Running()) {
      return "rclone serve " + kind +
             " exited at start; output: " + ReadWholeFile(log_path).substr(0, 2000);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the port
  }
  process.Stop();
  return "rclone serve " + kind +
         " did not listen within 20 s; output: " + ReadWholeFile(log_path).substr(0, 2000);
}

}  // namespace

std::string RcloneWebdavServer::WhyUnavailable() {
  const std::string program = RcloneProgram();
  return FindExecutable(program).empty() ? program + " not found on PATH" : "";
}

std::string RcloneWebdavServer::Remote(const std::string& path) const {
  return ":webdav,url=\"http://127.0.0.1:" + std::to_string(port_) + "\",vendor=rclone:" + path;
}

std::string RcloneWebdavServer::Start(const std::string& log_path) {
  return StartRcloneServer(process_, "webdav", served_dir_, port_, {}, log_path);
}

std::string RcloneSftpServer::Remote(const std::string& path) const {
  return ":sftp,host=127.0.0.1,port=" + std::to_string(port_) + ",user=" + kUser +
         ",pass=" + obscured_password_ + ":" + path;
}

std::string RcloneSftpServer::Start(const std::string& log_path) {
  const std::string rclone = FindExecutable(RcloneProgram());
  if (rclone.empty()) return RcloneWebdavServer::WhyUnavailable();
  // Connection strings take the password obscured (reversibly encoded), as rclone config does.
  std::FILE* obscure =
      ::popen(("'" + rclone + "' obscure '" + kPassword + "' 2>/dev/null").c_str(), "r");
  if (obscure == nullptr) return "cannot run rclone obscure";
  char line[256] = {};
  const bool read = std::fgets(line, sizeof line, obscure) != nullptr;
  ::pclose(obscure);
  obscured_password_ = read ? std::string(line) : "";
  while (!obscured_password_.empty() &&
         std::isspace(static_cast<unsigned char>(obscured_password_.back()))) {
    obscured_password_.pop_back();
  }
  if (obscured_password_.empty()) return "rclone obscure printed nothing";
  // --no-checksum: the server's VFS checks a whole-file read against the hash of the file
  // as it is at the end of the read, which fails for a file renamed over meanwhile although
  // the read saw one whole version (a cloud serves a stored revision instead).
  return StartRcloneServer(process_, "sftp", served_dir_, port_,
                           {"--user", kUser, "--pass", kPassword, "--no-checksum"}, log_path);
}

}  // namespace cloudbook::testing
