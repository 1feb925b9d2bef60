// Transport benchmark (bench/README.md, "Transport benchmark"): PeerTransport between two
// processes on loopback, against a raw TCP socket (the practical limit) and against the
// original system's HTTP POST of a JSON list (bench/http_json_reference.py). One run prints a
// table, PASS/MISS lines and writes JSON (default bench/results/transport.json).
//
// The receiving side (agent "bench-b": a plaintext and a CURVE PeerTransport, and the raw TCP
// receiver) runs in a child process: this binary re-executed with the hidden --serve option.
// The child reports its endpoints and public key on a pipe, dies with its parent
// (PR_SET_PDEATHSIG) and is stopped by PID at the end.
//
//   build/bin/cloudbook_transport_bench [--out bench/results/transport.json] [--quick] ...
//   (--help lists every option; exit 0 = ran (a MISS is not an error), 1 = failed, 2 = usage)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/transport/invoke_context.h"
#include "agent/transport/large_message_tuning.h"
#include "agent/transport/peer_transport.h"
#include "shared/formats/curve_keys.h"
#include "shared/json_io.h"
#include "shared/wire/wire_message.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using cloudbook::CurveKeyPair;
using cloudbook::InvokeContext;
using cloudbook::Json;
using cloudbook::PeerTransport;
using cloudbook::PeerTransportOptions;
using cloudbook::Result;
using cloudbook::WireMessage;

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;
constexpr const char* kCaller = "bench-a";
constexpr const char* kCallee = "bench-b";
// The callee's two functions, both answering an empty result: "bench.sink" is declared an
// inline function (PeerTransportOptions::inline_functions: answered on the transport thread),
// "bench.sink.pooled" runs on a worker like train or predict.
constexpr const char* kInlineSink = "bench.sink";
constexpr const char* kPooledSink = "bench.sink.pooled";

// The serving child, once started: Die() stops it too (PR_SET_PDEATHSIG would as well).
pid_t g_child = -1;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "transport_bench: %s\n", what.c_str());
  if (g_child > 0) ::kill(g_child, SIGKILL);
  std::exit(1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

std::string SizeName(size_t bytes) {
  if (bytes >= kMiB) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes / kKiB) + " KiB";
}

std::shared_ptr<spdlog::logger> QuietLogger(const std::string& name) {
  // Warnings and errors still show (on stderr); the transports' info lines do not.
  auto logger =
      std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(spdlog::level::warn);
  return logger;
}

PeerTransportOptions BenchOptions(const std::string& id, bool plaintext, const CurveKeyPair& keys,
                                  cloudbook::PeerAuthorizer authorizer) {
  PeerTransportOptions o;
  o.agent_id = id;
  o.plaintext = plaintext;
  o.keys = keys;
  o.authorizer = std::move(authorizer);
  o.logger = QuietLogger(id + (plaintext ? "-plain" : "-curve"));
  // Defaults otherwise (heartbeat 1 s, peer timeout 3 s, HWM 4): what an agent runs with.
  // A 256 MiB CURVE round trip must not read as a lost peer.
  o.peer_timeout = 10000ms;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Raw TCP: 8-byte length prefix + payload, 1-byte ack.

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
bool ReadAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::recv(fd, p, size, 0);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void SetNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// The receiving side (child): accepts one connection and, for each message, reads it into one
// reused buffer and answers one byte. Ends when the sender closes.
class RawTcpReceiver {
 public:
  RawTcpReceiver() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) Die("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (::listen(listener_, 1) != 0) Die("listen");
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawTcpReceiver() {
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
    const int fd = connection_.exchange(-1);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);  // wakes recv()
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    connection_ = fd;
    SetNoDelay(fd);
    std::vector<char> buffer;
    for (;;) {
      uint64_t size = 0;
      if (!ReadAll(fd, &size, sizeof size)) break;
      if (buffer.size() < size) buffer.resize(size);
      if (!ReadAll(fd, buffer.data(), size)) break;
      const char ack = 1;
      if (!WriteAll(fd, &ack, 1)) break;
    }
    if (connection_.exchange(-1) >= 0) ::close(fd);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connection_{-1};
  std::thread thread_;
};

class RawTcpSender {
 public:
  explicit RawTcpSender(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect");
    SetNoDelay(fd_);
  }
  ~RawTcpSender() { ::close(fd_); }
  double RoundTrip(const void* data, uint64_t size) {
    const auto start = Clock::now();
    char ack = 0;
    if (!WriteAll(fd_, &size, sizeof size) || !WriteAll(fd_, data, size) ||
        !ReadAll(fd_, &ack, 1)) {
      Die("raw tcp round trip failed");
    }
    return Seconds(Clock::now() - start);
  }

 private:
  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------
// The serving child (--serve): agent bench-b.

// b's handler: answers an empty result after reading the tensor's first byte in place (as a
// real handler would read it), without copying it.
Result<WireMessage> EmptyResult(InvokeContext& context) {
  if (!context.request().tensor_frames.empty()) {
    volatile const char first =
        *static_cast<const char*>(context.request().tensor_frames[0].data());
    (void)first;
  }
  return WireMessage{};
}

std::unique_ptr<PeerTransport> StartCallee(bool plaintext, const CurveKeyPair& keys,
                                           const std::string& caller_public_key) {
  auto authorizer = [caller_public_key](const std::string& key, std::string* agent_id) {
    if (key != caller_public_key) return false;
    *agent_id = kCaller;
    return true;
  };
  PeerTransportOptions options = BenchOptions(kCallee, plaintext, keys, authorizer);
  options.inline_functions = {kInlineSink};
  auto b = PeerTransport::Start(options, EmptyResult);
  if (!b.ok()) Die("start " + std::string(kCallee) + ": " + b.status().message());
  return std::move(b).value();
}

int Serve(pid_t parent, const std::string& caller_public_key, bool tune) {
  // Dies with the bench even if the bench is killed with SIGKILL; the check closes the race
  // with a parent that died before the prctl.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return 1;
  // SIGTERM (the bench's stop) is taken by sigwait below: blocked before any thread starts,
  // so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (tune) {
    const cloudbook::Status tuned = cloudbook::ConfigureProcessForLargeMessages();
    if (!tuned.ok()) Die(tuned.message());
  }

  Result<CurveKeyPair> keys = cloudbook::GenerateCurveKeyPair();
  if (!keys.ok()) Die("GenerateCurveKeyPair failed (libzmq without CURVE?)");
  auto raw = std::make_unique<RawTcpReceiver>();
  std::unique_ptr<PeerTransport> plain = StartCallee(true, CurveKeyPair{}, "");
  std::unique_ptr<PeerTransport> curve = StartCallee(false, *keys, caller_public_key);
  // The hand-over, one line each, on stdout (a pipe to the bench).
  std::printf("raw %d\nplain %s\ncurve %s %s\nready\n", raw->port(), plain->endpoint().c_str(),
              curve->endpoint().c_str(), keys->public_key.c_str());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  curve.reset();
  plain.reset();
  raw.reset();
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The bench side (parent): agent bench-a.

struct ChildEndpoints {
  int raw_port = 0;
  std::string plain;
  std::string curve;
  std::string curve_public_key;
};

// Starts `self --serve ...` with stdout on a pipe and reads its hand-over (10 s at most).
ChildEndpoints StartChild(const std::string& self, const std::string& caller_public_key,
                          bool tune) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) Die("pipe");
  const std::string parent = std::to_string(::getpid());
  std::vector<std::string> args = {self,   "--serve",      "--parent-pid",
                                   parent, "--caller-key", caller_public_key};
  if (!tune) args.push_back("--no-process-tuning");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::dup2(pipe_fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  g_child = pid;
  ::close(pipe_fds[1]);

  std::string text;
  const auto deadline = Clock::now() + 10s;
  while (text.find("ready\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) Die("the serving child did not report its endpoints within 10 s");
    pollfd item{pipe_fds[0], POLLIN, 0};
    if (::poll(&item, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) Die("the serving child exited before reporting its endpoints");
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  ChildEndpoints endpoints;
  std::istringstream lines(text);
  std::string word;
  while (lines >> word) {
    if (word == "raw") lines >> endpoints.raw_port;
    if (word == "plain") lines >> endpoints.plain;
    if (word == "curve") lines >> endpoints.curve >> endpoints.curve_public_key;
  }
  if (endpoints.raw_port == 0 || endpoints.plain.empty() || endpoints.curve_public_key.empty()) {
    Die("bad hand-over from the serving child: " + text);
  }
  return endpoints;
}

// SIGTERM, then SIGKILL if it has not exited within 5 s. Returns its exit status text.
std::string StopChild() {
  if (g_child <= 0) return "not started";
  ::kill(g_child, SIGTERM);
  int status = 0;
  const auto deadline = Clock::now() + 5s;
  pid_t done = 0;
  while ((done = ::waitpid(g_child, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    ::poll(nullptr, 0, 10);  // a bounded poll of the child's state
  }
  std::string how;
  if (done == 0) {
    ::kill(g_child, SIGKILL);
    ::waitpid(g_child, &status, 0);
    how = "killed after 5 s";
  } else if (WIFEXITED(status)) {
    how = "exit " + std::to_string(WEXITSTATUS(status));
  } else {
    how = "signal " + std::to_string(WTERMSIG(status));
  }
  g_child = -1;
  return how;
}

std::unique_ptr<PeerTransport> StartCaller(bool plaintext, const CurveKeyPair& keys,
                                           const std::string& endpoint,
                                           const std::string& callee_public_key) {
  auto refuse_all = [](const std::string&, std::string*) { return false; };
  auto a = PeerTransport::Start(BenchOptions(kCaller, plaintext, keys, refuse_all), EmptyResult);
  if (!a.ok()) Die("start " + std::string(kCaller) + ": " + a.status().message());
  const cloudbook::Status added = (*a)->AddPeer(kCallee, endpoint, callee_public_key);
  if (!added.ok()) Die("AddPeer: " + added.message());
  if (!(*a)->WaitForPeer(kCallee, 5000ms)) Die("peer bench-b not alive after 5 s");
  return std::move(a).value();
}

WireMessage MakeInvoke(const char* function, const std::shared_ptr<std::vector<float>>& tensor) {
  WireMessage invoke;
  invoke.header.function = function;
  if (tensor) {
    cloudbook::TensorDescriptor d;
    d.name = "t";
    d.dtype = cloudbook::WireDtype::kFloat32;
    d.shape = {static_cast<int64_t>(tensor->size())};
    d.byte_count = tensor->size() * sizeof(float);
    invoke.header.tensors.push_back(d);
    // Zero-copy: the same buffer is sent every time and kept alive by the frame.
    invoke.tensor_frames.push_back(
        cloudbook::FrameFromBuffer(tensor->data(), d.byte_count, tensor));
  }
  return invoke;
}

double CallOnce(PeerTransport& a, const std::shared_ptr<std::vector<float>>& tensor,
                const char* function = kInlineSink) {
  WireMessage invoke = MakeInvoke(function, tensor);
  const auto start = Clock::now();
  Result<WireMessage> result = a.Call(kCallee, std::move(invoke), 120000ms);
  const double seconds = Seconds(Clock::now() - start);
  if (!result.ok()) Die("Call: " + result.status().message());
  return seconds;
}

// Round trips of one kind of empty invoke, in microseconds.
struct Latency {
  std::vector<double> us;
  void Add(double seconds) { us.push_back(seconds * 1e6); }
  double p50() const { return Percentile(us, 0.5); }
  double p99() const { return Percentile(us, 0.99); }
};

struct Row {
  size_t bytes = 0;
  int reps = 0;
  double raw_s = 0;  // median round-trip seconds
  double plain_s = 0;
  double curve_s = 0;
  double Mbps(double s) const { return s > 0 ? static_cast<double>(bytes) / s / 1e6 : 0; }
};

struct HttpReference {
  bool ok = false;
  double median_s = 0;
  double min_s = 0;
  int reps = 0;
  std::string error;
};

HttpReference RunHttpReference(const std::string& python, const std::string& script, int reps) {
  HttpReference ref;
  const std::string command =
      python + " " + script + " --floats 1048576 --repeat " + std::to_string(reps) + " --json 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ref.error = "popen failed";
    return ref;
  }
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int rc = ::pclose(pipe);
  const size_t line = output.rfind("\n{");
  const std::string last = output.substr(line == std::string::npos ? 0 : line + 1);
  const Result<Json> parsed = cloudbook::ParseJsonText(last, "http_json_reference.py output");
  if (rc != 0 || !parsed.ok() || !parsed->is_object() || !parsed->contains("median_seconds")) {
    ref.error = "reference failed (rc " + std::to_string(rc) + "): " + output;
    return ref;
  }
  ref.median_s = parsed->value("median_seconds", 0.0);
  ref.min_s = parsed->value("min_seconds", 0.0);
  ref.reps = parsed->value("repeat", 0);
  ref.ok = true;
  return ref;
}

// "1K", "64K", "1M", "256M" -> bytes (0 when malformed).
size_t ParseSize(const std::string& text) {
  if (text.size() < 2) return 0;
  const char unit = text.back();
  const size_t number = std::strtoull(text.c_str(), nullptr, 10);
  if (unit == 'K') return number * kKiB;
  if (unit == 'M') return number * kMiB;
  return 0;
}

struct BenchSettings {
  std::string out_path = "bench/results/transport.json";
  std::string script = "bench/http_json_reference.py";
  std::string python = "/usr/bin/python3";
  int latency_calls = 2000;
  int http_reps = 5;
  bool quick = false;
  bool tune = true;
  std::vector<std::string> sizes;  // empty: all
};

int RunBench(const BenchSettings& settings) {
  const auto run_start = Clock::now();
  int latency_calls = settings.latency_calls;
  // size, repetitions (fewer for big messages; the whole run stays under a minute). Enough
  // repetitions from 1 MiB up for a median that other load on the machine does not swing.
  std::vector<std::pair<size_t, int>> sizes = {{1 * kKiB, 2000}, {64 * kKiB, 500}, {1 * kMiB, 400},
                                               {4 * kMiB, 160},  {16 * kMiB, 40},  {256 * kMiB, 6}};
  if (!settings.sizes.empty()) {
    std::vector<std::pair<size_t, int>> chosen;
    for (const std::string& s : settings.sizes) {
      const size_t bytes = ParseSize(s);
      const auto found = std::find_if(sizes.begin(), sizes.end(),
                                      [&](const auto& known) { return known.first == bytes; });
      if (found == sizes.end()) Die("unknown size " + s + " (1K 64K 1M 4M 16M 256M)");
      chosen.push_back(*found);
    }
    sizes = chosen;
  }
  if (settings.quick) {
    for (auto& s : sizes) s.second = std::max(2, s.second / 10);
    latency_calls = std::min(latency_calls, 500);
  }
  if (settings.tune) {
    const cloudbook::Status tuned = cloudbook::ConfigureProcessForLargeMessages();
    if (!tuned.ok()) Die(tuned.message());
  }

  Result<CurveKeyPair> keys_a = cloudbook::GenerateCurveKeyPair();
  if (!keys_a.ok()) Die("GenerateCurveKeyPair failed (libzmq without CURVE?)");
  // The child first, before this process starts any thread.
  const ChildEndpoints child = StartChild("/proc/self/exe", keys_a->public_key, settings.tune);
  const pid_t child_pid = g_child;

  std::vector<Row> rows(sizes.size());
  RawTcpSender raw(child.raw_port);
  std::unique_ptr<PeerTransport> plain = StartCaller(true, CurveKeyPair{}, child.plain, "");
  std::unique_ptr<PeerTransport> curve =
      StartCaller(false, *keys_a, child.curve, child.curve_public_key);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const size_t bytes = sizes[i].first;
    const int reps = sizes[i].second;
    auto tensor = std::make_shared<std::vector<float>>(bytes / sizeof(float));
    for (size_t k = 0; k < tensor->size(); ++k) {
      (*tensor)[k] = static_cast<float>(k % 1000) * 0.001F;
    }
    const int warmup = std::max(1, std::min(reps / 10, 20));
    std::vector<double> raw_t, plain_t, curve_t;
    // Interleave the three per repetition so machine drift hits all alike.
    for (int r = -warmup; r < reps; ++r) {
      const double t_raw = raw.RoundTrip(tensor->data(), bytes);
      const double t_plain = CallOnce(*plain, tensor);
      const double t_curve = CallOnce(*curve, tensor);
      if (r < 0) continue;
      raw_t.push_back(t_raw);
      plain_t.push_back(t_plain);
      curve_t.push_back(t_curve);
    }
    rows[i] = Row{bytes, reps, Percentile(raw_t, 0.5), Percentile(plain_t, 0.5),
                  Percentile(curve_t, 0.5)};
    std::fprintf(stderr, "  %-8s raw %9.1f MB/s  plaintext %9.1f MB/s  curve %9.1f MB/s\n",
                 SizeName(bytes).c_str(), rows[i].Mbps(rows[i].raw_s),
                 rows[i].Mbps(rows[i].plain_s), rows[i].Mbps(rows[i].curve_s));
  }

  // Empty-invoke latency (no tensors): plaintext / CURVE, inline / pooled handler, interleaved.
  Latency inline_plain, inline_curve, pooled_plain, pooled_curve;
  for (int r = -200; r < latency_calls; ++r) {
    const double a = CallOnce(*plain, nullptr, kInlineSink);
    const double b = CallOnce(*curve, nullptr, kInlineSink);
    const double c = CallOnce(*plain, nullptr, kPooledSink);
    const double d = CallOnce(*curve, nullptr, kPooledSink);
    if (r < 0) continue;
    inline_plain.Add(a);
    inline_curve.Add(b);
    pooled_plain.Add(c);
    pooled_curve.Add(d);
  }
  // Raw TCP 1-byte payload round trip, for context.
  std::vector<double> lat_raw;
  const char one = 0;
  for (int r = -200; r < latency_calls; ++r) {
    const double t = raw.RoundTrip(&one, 1);
    if (r >= 0) lat_raw.push_back(t * 1e6);
  }
  const double p50_raw = Percentile(lat_raw, 0.5), p99_raw = Percentile(lat_raw, 0.99);
  plain.reset();
  curve.reset();
  const std::string child_exit = StopChild();

  // HTTP + JSON reference (4 MiB = 1,048,576 floats), with the child gone.
  const Row* row4 = nullptr;
  for (const Row& row : rows) {
    if (row.bytes == 4 * kMiB) row4 = &row;
  }
  HttpReference http;
  if (row4 != nullptr) {
    http = RunHttpReference(settings.python, settings.script, settings.http_reps);
  } else {
    http.error = "4 MiB not measured";
  }

  // -------------------------------------------------------------------------------------------
  std::printf(
      "\nTransport benchmark, loopback 127.0.0.1, two processes (bench-a calls bench-b, pid %d), "
      "median round trip per size\n",
      static_cast<int>(child_pid));
  std::printf(
      "(one float32 tensor in an invoke, empty result back; raw TCP: 8-byte length + payload, "
      "1-byte ack; process tuning %s)\n\n",
      settings.tune ? "on" : "off");
  std::printf("%-8s %5s | %10s | %10s %7s | %10s %7s\n", "size", "reps", "raw MB/s", "plain MB/s",
              "/raw", "CURVE MB/s", "/raw");
  std::printf("---------------+------------+--------------------+-------------------\n");
  bool throughput_pass = true;
  double worst_ratio = 1e9;
  Json throughput = Json::array();
  for (const Row& row : rows) {
    const double rp = row.Mbps(row.plain_s) / row.Mbps(row.raw_s);
    const double rc = row.Mbps(row.curve_s) / row.Mbps(row.raw_s);
    std::printf("%-8s %5d | %10.1f | %10.1f %6.0f%% | %10.1f %6.0f%%\n",
                SizeName(row.bytes).c_str(), row.reps, row.Mbps(row.raw_s), row.Mbps(row.plain_s),
                rp * 100, row.Mbps(row.curve_s), rc * 100);
    if (row.bytes >= kMiB) {
      worst_ratio = std::min(worst_ratio, rp);
      if (rp < 0.70) throughput_pass = false;
    }
    throughput.push_back({{"bytes", row.bytes},
                          {"reps", row.reps},
                          {"raw_tcp_seconds", row.raw_s},
                          {"plaintext_seconds", row.plain_s},
                          {"curve_seconds", row.curve_s},
                          {"raw_tcp_MBps", std::round(row.Mbps(row.raw_s) * 10) / 10},
                          {"plaintext_MBps", std::round(row.Mbps(row.plain_s) * 10) / 10},
                          {"curve_MBps", std::round(row.Mbps(row.curve_s) * 10) / 10},
                          {"plaintext_ratio_to_raw", std::round(rp * 1000) / 1000},
                          {"curve_ratio_to_raw", std::round(rc * 1000) / 1000}});
  }
  if (worst_ratio > 1e8) throughput_pass = false;  // nothing from 1 MiB up measured
  std::printf(
      "\nEmpty invoke round trip (%d calls each), p50 / p99 in us:\n"
      "  inline handler:      plaintext %.1f / %.1f   CURVE %.1f / %.1f\n"
      "  worker-pool handler: plaintext %.1f / %.1f   CURVE %.1f / %.1f\n"
      "  raw TCP 1 byte:      %.1f / %.1f\n",
      latency_calls, inline_plain.p50(), inline_plain.p99(), inline_curve.p50(), inline_curve.p99(),
      pooled_plain.p50(), pooled_plain.p99(), pooled_curve.p50(), pooled_curve.p99(), p50_raw,
      p99_raw);
  double speedup_plain = 0, speedup_curve = 0;
  if (http.ok && row4 != nullptr) {
    speedup_plain = http.median_s / row4->plain_s;
    speedup_curve = http.median_s / row4->curve_s;
    std::printf(
        "\n4 MiB tensor (1,048,576 floats): HTTP POST + JSON list (Python http.server) %.3f s "
        "(median of %d)\n  PeerTransport plaintext %.3f ms -> %.0fx faster; CURVE %.3f ms -> "
        "%.0fx faster\n",
        http.median_s, http.reps, row4->plain_s * 1e3, speedup_plain, row4->curve_s * 1e3,
        speedup_curve);
  } else {
    std::printf("\nHTTP+JSON reference not measured: %s\n", http.error.c_str());
  }
  const bool latency_pass = inline_plain.p50() < 100 && inline_curve.p50() < 100;
  const bool pooled_latency_pass = pooled_plain.p50() < 100 && pooled_curve.p50() < 100;
  const bool http_pass = http.ok && speedup_curve >= 50 && speedup_plain >= 50;
  std::printf("\n%s  throughput >= 70%% of raw TCP from 1 MiB up, CURVE off (worst %.0f%%)\n",
              throughput_pass ? "PASS" : "MISS", worst_ratio * 100);
  std::printf("%s  empty-invoke p50 < 100 us, inline handler (plaintext %.1f us, CURVE %.1f us)\n",
              latency_pass ? "PASS" : "MISS", inline_plain.p50(), inline_curve.p50());
  std::printf(
      "%s  empty-invoke p50 < 100 us, worker-pool handler (plaintext %.1f us, CURVE %.1f us)\n",
      pooled_latency_pass ? "PASS" : "MISS", pooled_plain.p50(), pooled_curve.p50());
  std::printf(
      "%s  >= 50x faster than HTTP+JSON for a 4 MiB tensor (plaintext %.0fx, CURVE %.0fx)\n",
      http_pass ? "PASS" : "MISS", speedup_plain, speedup_curve);
  const double total_s = Seconds(Clock::now() - run_start);
  std::printf("\nServing child %s; total run %.1f s\n", child_exit.c_str(), total_s);

  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  auto round2 = [](double v) { return std::round(v * 100) / 100; };
  const Json report = {
      {"benchmark", "transport"},
      {"host", "loopback 127.0.0.1"},
      {"processes",
       "two: bench-a (this process) calls bench-b (a child: the bench re-executed with --serve)"},
      {"method",
       "median round trip; invoke carrying one float32 tensor, empty result; raw TCP = 8-byte "
       "length prefix + payload, 1-byte ack, receiver in the child with a reused buffer"},
      {"process_tuning", settings.tune},
      {"load_average_at_end", {round2(load[0]), round2(load[1]), round2(load[2])}},
      {"throughput", throughput},
      {"empty_invoke_latency_us",
       {{"calls", latency_calls},
        {"inline_handler",
         {{"plaintext_p50", round2(inline_plain.p50())},
          {"plaintext_p99", round2(inline_plain.p99())},
          {"curve_p50", round2(inline_curve.p50())},
          {"curve_p99", round2(inline_curve.p99())}}},
        {"worker_pool_handler",
         {{"plaintext_p50", round2(pooled_plain.p50())},
          {"plaintext_p99", round2(pooled_plain.p99())},
          {"curve_p50", round2(pooled_curve.p50())},
          {"curve_p99", round2(pooled_curve.p99())}}},
        {"raw_tcp_1byte_p50", round2(p50_raw)},
        {"raw_tcp_1byte_p99", round2(p99_raw)}}},
      {"http_json_reference",
       {{"ok", http.ok},
        {"floats", 1048576},
        {"repeat", http.reps},
        {"median_seconds", http.median_s},
        {"min_seconds", http.min_s},
        {"plaintext_4MiB_seconds", row4 ? row4->plain_s : 0},
        {"curve_4MiB_seconds", row4 ? row4->curve_s : 0},
        {"speedup_plaintext", std::round(speedup_plain * 10) / 10},
        {"speedup_curve", std::round(speedup_curve * 10) / 10}}},
      {"targets",
       {{"throughput_70pct_raw_from_1MiB_plaintext", throughput_pass ? "PASS" : "MISS"},
        {"worst_plaintext_ratio_from_1MiB", std::round(worst_ratio * 1000) / 1000},
        {"empty_invoke_p50_under_100us_inline_handler", latency_pass ? "PASS" : "MISS"},
        {"empty_invoke_p50_under_100us_worker_pool_handler", pooled_latency_pass ? "PASS" : "MISS"},
        {"http_json_speedup_50x", http_pass ? "PASS" : "MISS"}}},
      {"total_run_seconds", std::round(total_s * 10) / 10}};
  const cloudbook::Status written = cloudbook::WriteJsonFileAtomically(settings.out_path, report);
  if (!written.ok()) Die(written.message());
  std::printf("Wrote %s\n", settings.out_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  BenchSettings settings;
  bool serve = false;
  int parent_pid = 0;
  std::string caller_key;
  CLI::App app{
      "Transport benchmark: PeerTransport between two processes on loopback vs raw TCP and "
      "HTTP+JSON (bench/README.md). Run from the repository root. Exit 0: ran (a MISS is not "
      "an error); 1: a step failed; 2: bad command line."};
  app.add_option("--out", settings.out_path, "JSON result file")->capture_default_str();
  app.add_option("--http-reference", settings.script, "the HTTP+JSON reference script")
      ->capture_default_str();
  app.add_option("--python", settings.python, "Python for the reference")->capture_default_str();
  app.add_option("--latency-calls", settings.latency_calls, "empty invokes timed per mode")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--http-repeat", settings.http_reps, "HTTP+JSON round trips timed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--quick", settings.quick, "a tenth of the repetitions (debugging)");
  app.add_option("--sizes", settings.sizes, "only these sizes (of 1K 64K 1M 4M 16M 256M)");
  app.add_flag("!--no-process-tuning", settings.tune,
               "skip ConfigureProcessForLargeMessages() in both processes (to measure it)");
  // The serving child's side of the hand-over.
  app.add_flag("--serve", serve)->group("");
  app.add_option("--parent-pid", parent_pid)->group("");
  app.add_option("--caller-key", caller_key)->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  if (serve) return Serve(static_cast<pid_t>(parent_pid), caller_key, settings.tune);
  return RunBench(settings);
}
