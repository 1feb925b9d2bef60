// What anyone who reaches an agent's port can do before authenticating (issue 15, items 3
// and 4). A raw TCP client sends a ZMTP greeting and a frame header claiming 8 GiB, then
// streams: the transport must refuse the frame at its header (ZMQ_MAXMSGSIZE is one chunk,
// shared/wire/wire_chunks.h), drop the connection and log it, and several such clients must
// not add up; an authenticated peer still sends a 300 MB tensor that arrives intact. A flood
// of CURVE handshakes with fresh keys against a real agent must cost no folder scan and no
// log line per key, and a new legitimate agent still gets in.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "agent/transport/peer_transport.h"
#include "tests/integration/agent_process.h"
#include "tests/test_support.h"

namespace cloudbook::testing {
namespace {

using namespace std::chrono_literals;

// Resident memory of `pid` (VmRSS), in bytes; 0 when unreadable.
uint64_t ResidentBytes(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// CPU seconds (user + system) `pid` has used so far, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15 of stat(5)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int PortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// A raw TCP client: ZMTP 3.0 greeting (CURVE, as client), then a frame header claiming
// `claimed` bytes, then up to `stream` bytes. Keeps the connection open until Close().
class OversizedFrameClient {
 public:
  void Start(int port, uint64_t claimed, size_t stream) {
    thread_ = std::thread([=] { Run(port, claimed, stream); });
  }
  // Waits for the sender to finish (dropped, or everything sent, or stuck).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  void Close() {
    Join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  ~OversizedFrameClient() { Close(); }
  bool dropped() const { return dropped_; }
  size_t sent() const { return sent_; }

 private:
  void Run(int port, uint64_t claimed, size_t stream) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    const timeval timeout{static_cast<time_t>(Scaled(3s).count() / 1000), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    std::string greeting(64, '\0');
    greeting[0] = '\xff';
    greeting[9] = '\x7f';
    greeting[10] = 3;  // ZMTP 3.0
    std::memcpy(&greeting[12], "CURVE", 5);
    std::string header(9, '\0');
    header[0] = 0x06;  // command, 8-byte size
    for (int i = 0; i < 8; ++i) header[1 + i] = static_cast<char>(claimed >> (56 - 8 * i));
    const std::string start = greeting + header;
    if (::send(fd_, start.data(), start.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(start.size())) {
      dropped_ = true;
      return;
    }
    const std::vector<char> block(1 << 20, 'x');
    while (sent_ < stream) {
      const ssize_t n = ::send(fd_, block.data(), block.size(), MSG_NOSIGNAL);
      if (n < 0) {
        dropped_ = errno == EPIPE || errno == ECONNRESET;
        return;  // EAGAIN: the receiver stopped reading but kept the connection
      }
      sent_ += static_cast<size_t>(n);
    }
  }

  std::thread thread_;
  int fd_ = -1;
  std::atomic<bool> dropped_{false};
  std::atomic<size_t> sent_{0};
};

// FNV-1a over the bytes.
uint64_t Fingerprint(const void* data, size_t size) {
  uint64_t hash = 1469598103934665603ULL;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  return hash;
}

std::shared_ptr<std::vector<unsigned char>> PatternBytes(size_t size, unsigned seed) {
  auto bytes = std::make_shared<std::vector<unsigned char>>(size);
  for (size_t i = 0; i < size; ++i) (*bytes)[i] = static_cast<unsigned char>((i * 31 + seed) >> 3);
  return bytes;
}

void AddBytes(WireMessage* message, std::shared_ptr<std::vector<unsigned char>> bytes) {
  TensorDescriptor descriptor;
  descriptor.name = "bytes";
  descriptor.dtype = WireDtype::kUInt8;
  descriptor.shape = {static_cast<int64_t>(bytes->size())};
  descriptor.byte_count = bytes->size();
  message->header.tensors.push_back(descriptor);
  message->tensor_frames.push_back(FrameFromBuffer(bytes->data(), bytes->size(), bytes));
}

std::unique_ptr<PeerTransport> StartTransport(const std::string& id, const CurveKeyPair& keys,
                                              std::map<std::string, std::string> known,
                                              std::shared_ptr<spdlog::logger> logger,
                                              InvokeHandler handler) {
  PeerTransportOptions options;
  options.agent_id = id;
  options.keys = keys;
  options.authorizer = [known](const std::string& key, std::string* agent) {
    const auto found = known.find(key);
    if (found == known.end()) return false;
    *agent = found->second;
    return true;
  };
  options.peer_timeout = Scaled(10s);
  options.logger = std::move(logger);
  auto started = PeerTransport::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

TEST(PreAuthMemory, OversizedFramesAreDroppedUnpaidWhileTensorsStillFlow) {
  const CurveKeyPair victim_keys = *GenerateCurveKeyPair();
  const CurveKeyPair sender_keys = *GenerateCurveKeyPair();
  auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(200);
  auto log = std::make_shared<spdlog::logger>("victim", ring);
  auto victim =
      StartTransport("victim", victim_keys, {{sender_keys.public_key, "sender"}}, log,
                     [](InvokeContext& context) -> Result<WireMessage> {
                       const zmq::message_t& frame = context.request().tensor_frames.at(0);
                       WireMessage reply;
                       reply.header.arguments["fingerprint"] =
                           static_cast<int64_t>(Fingerprint(frame.data(), frame.size()));
                       AddBytes(&reply, PatternBytes(24 << 20, 7));  // comes back in chunks too
                       return reply;
                     });
  auto sender = StartTransport("sender", sender_keys, {}, spdlog::default_logger(),
                               [](InvokeContext&) -> Result<WireMessage> { return WireMessage{}; });
  ASSERT_TRUE(victim && sender);

  // Three clients claim 8 GiB frames and stream 256 MB each, all at once.
  const std::string self = std::to_string(::getpid());
  const uint64_t before = ResidentBytes(self);
  std::vector<std::unique_ptr<OversizedFrameClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<OversizedFrameClient>());
    clients.back()->Start(PortOf(victim->endpoint()), uint64_t{8} << 30, size_t{256} << 20);
  }
  for (auto& client : clients) client->Join();
  const uint64_t during = ResidentBytes(self);
  for (auto& client : clients) {
    EXPECT_TRUE(client->dropped())
        << "the connection was not dropped after " << client->sent() << " bytes";
    EXPECT_LT(client->sent(), size_t{64} << 20) << "bytes taken after the oversized header";
  }
  EXPECT_LT(during, before + (uint64_t{48} << 20))
      << "resident memory grew from " << (before >> 20) << " to " << (during >> 20) << " MiB";
  for (auto& client : clients) client->Close();
  const auto logged = [&] {
    for (const std::string& line : ring->last_formatted()) {
      if (line.find("before it was authenticated") != std::string::npos) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + Scaled(5s);
  while (!logged() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(logged()) << "the dropped connections were not logged";

  // An authenticated peer still sends 300 MB, and gets 24 MiB back, intact.
  ASSERT_TRUE(sender->AddPeer("victim", victim->endpoint(), victim_keys.public_key).ok());
  auto payload = PatternBytes(300'000'000, 3);
  const uint64_t expected = Fingerprint(payload->data(), payload->size());
  WireMessage invoke;
  invoke.header.function = "fingerprint";
  AddBytes(&invoke, payload);
  payload.reset();
  Result<WireMessage> answer = sender->Call("victim", std::move(invoke), Scaled(60s));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(static_cast<uint64_t>(std::get<int64_t>(answer->header.arguments.at("fingerprint"))),
            expected);
  const auto back = PatternBytes(24 << 20, 7);
  ASSERT_EQ(answer->tensor_frames.size(), 1u);
  EXPECT_EQ(Fingerprint(answer->tensor_frames[0].data(), answer->tensor_frames[0].size()),
            Fingerprint(back->data(), back->size()));
}

// CURVE handshakes with fresh keys against `endpoint`, `parallel` at a time; how many the
// server refused (ZAP) by the deadline.
int FloodWithFreshKeys(const std::string& endpoint, const std::string& server_key, int count,
                       int parallel, std::chrono::milliseconds limit) {
  zmq::context_t context;
  struct Attempt {
    zmq::socket_t dealer;
    zmq::socket_t monitor;
  };
  std::vector<std::unique_ptr<Attempt>> open;
  int started = 0;
  int refused = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while ((started < count || !open.empty()) && std::chrono::steady_clock::now() < deadline) {
    while (started < count && static_cast<int>(open.size()) < parallel) {
      char public_key[41] = {0};
      char secret_key[41] = {0};
      if (zmq_curve_keypair(public_key, secret_key) != 0) return refused;
      auto attempt = std::make_unique<Attempt>();
      attempt->dealer = zmq::socket_t(context, zmq::socket_type::dealer);
      attempt->dealer.set(zmq::sockopt::linger, 0);
      attempt->dealer.set(zmq::sockopt::curve_serverkey, server_key);
      attempt->dealer.set(zmq::sockopt::curve_publickey, std::string(public_key));
      attempt->dealer.set(zmq::sockopt::curve_secretkey, std::string(secret_key));
      const std::string monitor = "inproc://flood-" + std::to_string(started++);
      zmq_socket_monitor(attempt->dealer.handle(), monitor.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
      attempt->monitor = zmq::socket_t(context, zmq::socket_type::pair);
      attempt->monitor.set(zmq::sockopt::linger, 0);
      attempt->monitor.connect(monitor);
      attempt->dealer.connect(endpoint);
      open.push_back(std::move(attempt));
    }
    std::vector<zmq::pollitem_t> items;
    for (const auto& attempt : open) items.push_back({attempt->monitor.handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items, 100ms);
    for (size_t i = items.size(); i-- > 0;) {
      if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
      zmq::message_t event;
      (void)open[i]->monitor.recv(event, zmq::recv_flags::dontwait);
      uint16_t kind = 0;
      if (event.size() >= 2) std::memcpy(&kind, event.data(), sizeof(kind));
      if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) ++refused;
      zmq_socket_monitor(open[i]->dealer.handle(), nullptr, 0);
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return refused;
}

size_t CountLines(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

class HandshakeFlood : public AgentProcessTest {};

TEST_F(HandshakeFlood, FreshKeysCostNoScanNorLogLineEachAndANewAgentStillGetsIn) {
  const int base_port = 24000 + static_cast<int>(::getpid() % 15000);
  const std::string agent_0 =
      Create("--grant LOW --agent-0 --base-port " + std::to_string(base_port));
  const pid_t pid = Launch(agent_0);
  ASSERT_TRUE(WaitUntilRunning(agent_0, 30)) << LaunchLog();
  const Announcement announced = *ReadAnnouncement(agent_0);
  const std::string log_0 = "launch-" + agent_0 + ".log";

  constexpr int kHandshakes = 2000;
  const double cpu_before = CpuSeconds(pid);
  const auto started = std::chrono::steady_clock::now();
  std::atomic<int> refused{0};
  std::thread flood([&] {
    refused = FloodWithFreshKeys(announced.endpoint, announced.curve_public_key, kHandshakes, 32,
                                 Scaled(60s));
  });
  // A legitimate agent launched in the middle of the flood still gets in.
  const std::string agent_1 = Create("--grant LOW --base-port " + std::to_string(base_port + 50));
  Launch(agent_1);
  const std::string log_1 = "launch-" + agent_1 + ".log";
  EXPECT_TRUE(
      WaitFor([&] { return Log(log_1).find("connected to " + agent_0) != std::string::npos; },
              Scaled(30s).count() / 1000.0))
      << Log(log_1);
  flood.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu = CpuSeconds(pid) - cpu_before;
  std::printf("flood: %d of %d handshakes refused in %.1f s; agent CPU %.2f s (%.0f us each)\n",
              refused.load(), kHandshakes, seconds, cpu, 1e6 * cpu / kHandshakes);
  EXPECT_GE(refused.load(), kHandshakes * 9 / 10);
  const std::string log = Log(log_0);
  const size_t lines = CountLines(log, "not announced");
  EXPECT_LT(lines, 40u) << "log lines about unknown keys for " << kHandshakes << " handshakes";
  EXPECT_LT(cpu, 0.001 * kHandshakes * TestTimeScale() + 2) << "agent CPU seconds during the flood";
}

}  // namespace
}  // namespace cloudbook::testing
