// PeerTransport over real TCP sockets on 127.0.0.1 (ephemeral ports), several transports in
// one process. Also the usage example: start, AddPeer, Call with progress, Cancel, Stop.
// Every wait is bounded; timings are short (heartbeat 100 ms, peer timeout 600 ms).
#include "agent/transport/peer_transport.h"
#include "agent/core/port_reservation.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <zmq_addon.hpp>

#include "agent/transport/invoke_context.h"
#include "shared/clock.h"
#include "shared/formats/curve_keys.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using namespace std::chrono_literals;
using testing::Scaled;
using testing::TestTimeScale;
using Clock = std::chrono::steady_clock;

// The log lines of one transport; tests wait for a line instead of sleeping.
class CapturingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  bool WaitFor(const std::string& text, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(lines_mutex_);
    return changed_.wait_for(lock, timeout, [&] { return ContainsLocked(text); });
  }
  bool Contains(const std::string& text) {
    std::lock_guard<std::mutex> lock(lines_mutex_);
    return ContainsLocked(text);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    {
      std::lock_guard<std::mutex> lock(lines_mutex_);
      lines_.push_back(fmt::to_string(formatted));
      if (std::getenv("CLOUDBOOK_TEST_LOG") != nullptr) std::fputs(lines_.back().c_str(), stderr);
    }
    changed_.notify_all();
  }
  void flush_() override {}

 private:
  bool ContainsLocked(const std::string& text) const {
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::mutex lines_mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

// The announcements of the shared folder, reduced to what the authorizer needs.
class KeyRing {
 public:
  void Announce(const std::string& agent_id, const std::string& public_key) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->agents[public_key] = agent_id;
  }
  PeerAuthorizer Authorizer() const {
    return [state = state_](const std::string& key, std::string* agent_id) {
      std::lock_guard<std::mutex> lock(state->mutex);
      ++state->consulted;
      const auto found = state->agents.find(key);
      if (found == state->agents.end()) return false;
      *agent_id = found->second;
      return true;
    };
  }
  int consulted() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->consulted;
  }

 private:
  struct State {
    std::mutex mutex;
    std::map<std::string, std::string> agents;
    int consulted = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

struct TestAgent {
  std::string id;
  CurveKeyPair keys;
  std::shared_ptr<CapturingSink> log;
  std::unique_ptr<PeerTransport> transport;
  PeerTransport* operator->() const { return transport.get(); }
};

// A float tensor handed to ZeroMQ without a copy: the vector lives until ZeroMQ is done.
void AddTensor(WireMessage* message, const std::string& name, std::vector<float> values) {
  auto owner = std::make_shared<std::vector<float>>(std::move(values));
  TensorDescriptor descriptor;
  descriptor.name = name;
  descriptor.dtype = WireDtype::kFloat32;
  descriptor.shape = {static_cast<int64_t>(owner->size())};
  descriptor.byte_count = owner->size() * sizeof(float);
  message->header.tensors.push_back(descriptor);
  message->tensor_frames.push_back(
      FrameFromBuffer(owner->data(), owner->size() * sizeof(float), owner));
}

std::vector<float> TensorValues(const zmq::message_t& frame) {
  std::vector<float> values(frame.size() / sizeof(float));
  std::memcpy(values.data(), frame.data(), frame.size());
  return values;
}

WireMessage Invoke(const std::string& function, WireArguments arguments = {}) {
  WireMessage invoke;
  invoke.header.function = function;
  invoke.header.arguments = std::move(arguments);
  return invoke;
}

// Sends back the arguments (plus the caller's id) and the request's tensors, moved (no copy).
Result<WireMessage> Echo(InvokeContext& context) {
  WireMessage& request = context.request();
  WireMessage result;
  result.header.arguments = request.header.arguments;
  result.header.arguments["caller"] = context.caller_id();
  result.header.tensors = request.header.tensors;
  for (zmq::message_t& frame : request.tensor_frames) {
    result.tensor_frames.push_back(std::move(frame));
  }
  return result;
}

// Works until cancelled, like a long training run; `started` counts handlers running.
struct BlockingHandler {
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  std::vector<std::string> cancel_reasons;

  InvokeHandler Handler() {
    return [this](InvokeContext& context) -> Result<WireMessage> {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++started;
      }
      changed.notify_all();
      const auto give_up = Clock::now() + 5s;
      while (!context.cancelled() && Clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);  // one "training step"
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        cancel_reasons.push_back(context.cancel_reason());
      }
      changed.notify_all();
      return Status::IoError("stopped: " + context.cancel_reason());
    };
  }
  bool WaitStarted(int count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return started >= count; });
  }
  bool WaitCancelled(int count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout,
                            [&] { return static_cast<int>(cancel_reasons.size()) >= count; });
  }
};

bool HasText(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

class PeerTransportTest : public ::testing::Test {
 protected:
  PeerTransportOptions Options(const std::string& id, const CurveKeyPair& keys, bool plaintext,
                               const std::shared_ptr<CapturingSink>& sink) {
    PeerTransportOptions options;
    options.agent_id = id;
    options.plaintext = plaintext;
    options.keys = keys;
    options.authorizer = ring_.Authorizer();
    options.heartbeat_interval = Scaled(100ms);
    options.peer_timeout = Scaled(600ms);
    options.linger = 100ms;
    options.reconnect_interval = 50ms;
    options.reconnect_interval_max = 500ms;
    options.stop_grace = Scaled(500ms);
    options.logger = std::make_shared<spdlog::logger>(id, sink);
    options.logger->set_level(spdlog::level::debug);
    return options;
  }

  // Starts an agent; its key is announced unless `announce` is false.
  TestAgent StartAgent(const std::string& id, InvokeHandler handler, bool plaintext = false,
                       bool announce = true, std::optional<CurveKeyPair> keys = std::nullopt,
                       const std::string& endpoint = "tcp://127.0.0.1:0", int listen_fd = -1) {
    TestAgent agent;
    agent.id = id;
    if (keys.has_value()) {
      agent.keys = *keys;
    } else {
      Result<CurveKeyPair> generated = GenerateCurveKeyPair();
      EXPECT_TRUE(generated.ok()) << generated.status().message();
      if (generated.ok()) agent.keys = *generated;
    }
    if (announce) ring_.Announce(id, agent.keys.public_key);
    agent.log = std::make_shared<CapturingSink>();
    PeerTransportOptions options = Options(id, agent.keys, plaintext, agent.log);
    options.bind_endpoint = endpoint;
    options.listen_fd = listen_fd;
    Result<std::unique_ptr<PeerTransport>> started =
        PeerTransport::Start(std::move(options), std::move(handler));
    EXPECT_TRUE(started.ok()) << started.status().message();
    if (started.ok()) agent.transport = std::move(started).value();
    return agent;
  }

  static void Connect(const TestAgent& from, const TestAgent& to) {
    const Status added = from->AddPeer(to.id, to->endpoint(), to.keys.public_key);
    ASSERT_TRUE(added.ok()) << added.message();
  }

  KeyRing ring_;
};

TEST_F(PeerTransportTest, InvokeRoundTripsTensorsAndArguments) {
  std::atomic<bool> read_in_place{false};
  TestAgent b = StartAgent("agent-b", [&](InvokeContext& context) -> Result<WireMessage> {
    // The tensor is read where ZeroMQ received it, and sent back the same way.
    const zmq::message_t& frame = context.request().tensor_frames.at(0);
    const float* values = static_cast<const float*>(frame.data());
    read_in_place = values[1] == 0.5F;
    const void* received = frame.data();
    Result<WireMessage> result = Echo(context);
    if (result.ok() && result->tensor_frames.at(0).data() != received) read_in_place = false;
    return result;
  });
  TestAgent a = StartAgent("agent-a", Echo);
  ASSERT_TRUE(b.transport && a.transport);
  EXPECT_EQ(a->endpoint().rfind("tcp://127.0.0.1:", 0), 0U) << a->endpoint();  // real port
  Connect(a, b);

  std::vector<float> values(4096);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5F;
  WireMessage invoke = Invoke("echo", {{"epochs", int64_t{3}},
                                       {"lr", 0.01},
                                       {"name", std::string("mlp")},
                                       {"shuffle", true},
                                       {"nothing", std::monostate{}}});
  invoke.header.du = 2;
  AddTensor(&invoke, "weights", values);
  Result<WireMessage> result = a->Call("agent-b", std::move(invoke), Scaled(5s));
  ASSERT_TRUE(result.ok()) << result.status().message();

  const WireHeader& header = result->header;
  EXPECT_EQ(header.kind, MessageKind::kResult);
  EXPECT_EQ(std::get<int64_t>(header.arguments.at("epochs")), 3);
  EXPECT_DOUBLE_EQ(std::get<double>(header.arguments.at("lr")), 0.01);
  EXPECT_EQ(std::get<std::string>(header.arguments.at("name")), "mlp");
  EXPECT_TRUE(std::get<bool>(header.arguments.at("shuffle")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(header.arguments.at("nothing")));
  EXPECT_EQ(std::get<std::string>(header.arguments.at("caller")), "agent-a");  // authenticated
  ASSERT_EQ(header.tensors.size(), 1U);
  EXPECT_EQ(header.tensors[0].name, "weights");
  EXPECT_EQ(header.tensors[0].shape, std::vector<int64_t>{4096});
  ASSERT_EQ(result->tensor_frames.size(), 1U);
  EXPECT_EQ(TensorValues(result->tensor_frames[0]), values);
  EXPECT_TRUE(read_in_place);
  EXPECT_TRUE(a->IsPeerAlive("agent-b"));
}

TEST_F(PeerTransportTest, TheRouterAdoptsAReservedListeningSocket) {
  // The port is never free between the reservation and the transport: another agent
  // starting at that moment cannot take it (two agents launched together once collided).
  Result<PortReservation> reserved = ReservePort("127.0.0.1", 0, 46150);
  ASSERT_TRUE(reserved.ok()) << reserved.status().message();
  const int port = reserved->port();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  TestAgent b = StartAgent("agent-b", Echo, false, true, std::nullopt, endpoint, reserved->Take());
  ASSERT_TRUE(b.transport);
  EXPECT_EQ(b->endpoint(), endpoint);
  EXPECT_FALSE(ReservePort("127.0.0.1", port, 46150).ok()) << "the port must still be held";
  TestAgent a = StartAgent("agent-a", Echo);
  ASSERT_TRUE(a.transport);
  Connect(a, b);
  Result<WireMessage> result = a->Call("agent-b", Invoke("echo", {}), Scaled(5s));
  ASSERT_TRUE(result.ok()) << result.status().message();
}

TEST_F(PeerTransportTest, ProgressArrivesBeforeTheResult) {
  TestAgent b = StartAgent("agent-b", [](InvokeContext& context) -> Result<WireMessage> {
    for (int64_t epoch = 1; epoch <= 3; ++epoch) {
      context.SendProgress({{"epoch", epoch}, {"loss", 1.0 / static_cast<double>(epoch)}});
    }
    WireMessage result;
    result.header.arguments["epochs_done"] = int64_t{3};
    return result;
  });
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);

  std::vector<int64_t> epochs;
  Result<WireMessage> result =
      a->Call("agent-b", Invoke("train"), 5s, [&](const WireMessage& progress) {
        EXPECT_EQ(progress.header.kind, MessageKind::kProgress);
        epochs.push_back(std::get<int64_t>(progress.header.arguments.at("epoch")));
      });
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(epochs, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(std::get<int64_t>(result->header.arguments.at("epochs_done")), 3);
}

TEST_F(PeerTransportTest, CancelReachesTheHandlerAndEndsTheCall) {
  BlockingHandler blocking;
  TestAgent b = StartAgent("agent-b", blocking.Handler());
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);

  WireMessage invoke = Invoke("train");
  const uint64_t request_id = a->NewRequestId();
  invoke.header.request_id = request_id;
  std::promise<Status> call_outcome;
  std::thread caller(
      [&] { call_outcome.set_value(a->Call("agent-b", std::move(invoke), Scaled(10s)).status()); });
  ASSERT_TRUE(blocking.WaitStarted(1, Scaled(5s)));
  const auto cancelled_at = Clock::now();
  ASSERT_TRUE(a->Cancel("agent-b", request_id).ok());
  std::future<Status> outcome = call_outcome.get_future();
  ASSERT_EQ(outcome.wait_for(Scaled(2s)), std::future_status::ready);
  caller.join();
  const Status status = outcome.get();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(HasText(status, "cancelled")) << status.message();
  EXPECT_LT(SecondsSince(cancelled_at), 0.5 * TestTimeScale());
  ASSERT_TRUE(blocking.WaitCancelled(1, Scaled(2s)));
  EXPECT_EQ(blocking.cancel_reasons[0], "cancelled by agent-a");
}

TEST_F(PeerTransportTest, DeadlineFailsTheCallWhileTheHandlerStillRuns) {
  BlockingHandler blocking;
  TestAgent b = StartAgent("agent-b", blocking.Handler());
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);

  const auto start = Clock::now();
  Result<WireMessage> result = a->Call("agent-b", Invoke("train"), 300ms);
  const double elapsed = SecondsSince(start);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(HasText(result.status(), "agent-b: deadline of 0.3 s passed"))
      << result.status().message();
  EXPECT_GE(elapsed, 0.3);
  EXPECT_LT(elapsed, 0.8 * TestTimeScale());
  EXPECT_TRUE(blocking.WaitStarted(1, 0ms));  // it was running when the call gave up
  // The peer is told (kCancel) and its own deadline check stops the handler too.
  ASSERT_TRUE(blocking.WaitCancelled(1, Scaled(2s)));
}

TEST_F(PeerTransportTest, AnInvokeErrorComesBackWithItsStatus) {
  TestAgent b = StartAgent("agent-b", [](InvokeContext&) -> Result<WireMessage> {
    return Status::NotFound("DU 7 has no checkpoint");
  });
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);
  Result<WireMessage> result = a->Call("agent-b", Invoke("predict"), Scaled(5s));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(result.status().message(), "agent-b (predict): DU 7 has no checkpoint");

  Result<WireMessage> unknown = a->Call("agent-z", Invoke("predict"), Scaled(5s));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(HasText(unknown.status(), "agent-z is not a peer of agent-a"));
}

TEST_F(PeerTransportTest, AnUnannouncedCurveKeyIsRefused) {
  TestAgent b = StartAgent("agent-b", Echo);
  TestAgent a = StartAgent("agent-a", Echo, /*plaintext=*/false, /*announce=*/false);
  Connect(a, b);
  const int consulted_before = ring_.consulted();

  const auto start = Clock::now();
  Result<WireMessage> result = a->Call("agent-b", Invoke("echo"), Scaled(5s));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(HasText(result.status(), "agent-b refused the connection from agent-a"))
      << result.status().message();
  EXPECT_LT(SecondsSince(start), 1.0 * TestTimeScale());  // told by the handshake, not by a timeout
  EXPECT_GT(ring_.consulted(), consulted_before);
  EXPECT_TRUE(b.log->WaitFor("refused a CURVE client", Scaled(2s)));
  EXPECT_TRUE(b.log->Contains(CurveKeyPrefix(a.keys.public_key)));
  EXPECT_FALSE(a->IsPeerAlive("agent-b"));

  // Once the key is announced, the next reconnection gets in.
  ring_.Announce("agent-a", a.keys.public_key);
  ASSERT_TRUE(a->WaitForPeer("agent-b", Scaled(3s)));
  EXPECT_TRUE(a->Call("agent-b", Invoke("echo"), Scaled(5s)).ok());
}

TEST_F(PeerTransportTest, PlaintextModeWorksAndSaysSoLoudly) {
  TestAgent b = StartAgent("agent-b", Echo, /*plaintext=*/true);
  TestAgent a = StartAgent("agent-a", Echo, /*plaintext=*/true);
  EXPECT_TRUE(a.log->Contains("PLAINTEXT MODE"));
  EXPECT_TRUE(b.log->Contains("NOT encrypted"));
  ASSERT_TRUE(a->AddPeer("agent-b", b->endpoint(), "").ok());
  Result<WireMessage> result = a->Call("agent-b", Invoke("echo"), Scaled(5s));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(std::get<std::string>(result->header.arguments.at("caller")), "agent-a");
}

TEST_F(PeerTransportTest, APeerStoppedMidCallFailsTheCallAtOnce) {
  BlockingHandler blocking;
  TestAgent b = StartAgent("agent-b", blocking.Handler());
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);
  std::promise<Status> call_outcome;
  std::thread caller(
      [&] { call_outcome.set_value(a->Call("agent-b", Invoke("train"), Scaled(10s)).status()); });
  ASSERT_TRUE(blocking.WaitStarted(1, Scaled(5s)));
  const auto stopped_at = Clock::now();
  b.transport.reset();  // Stop: says goodbye to its callers
  std::future<Status> outcome = call_outcome.get_future();
  ASSERT_EQ(outcome.wait_for(Scaled(2s)), std::future_status::ready);
  caller.join();
  const Status status = outcome.get();
  EXPECT_TRUE(HasText(status, "agent-b is stopping")) << status.message();
  EXPECT_LT(SecondsSince(stopped_at), 1.0 * TestTimeScale());
}

// A fake peer on a raw ROUTER: answers pings and swallows invokes, until it freezes (a hung
// process: the connection stays, nothing answers) or crashes (the socket closes).
class FakePeer {
 public:
  FakePeer() : router_(context_, zmq::socket_type::router) {
    router_.set(zmq::sockopt::linger, 0);
    router_.bind("tcp://127.0.0.1:0");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakePeer() { Crash(); }
  const std::string& endpoint() const { return endpoint_; }
  std::future<void> invoked() { return invoked_.get_future(); }
  void Freeze() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Crash() {
    Freeze();
    router_.close();
  }

 private:
  void Serve() {
    bool invoked = false;
    while (!stop_) {
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 10ms);
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        continue;
      }
      Result<WireHeader> header = DecodeHeader(frames.at(1).data(), frames.at(1).size());
      if (!header.ok()) continue;
      if (header->kind == MessageKind::kPing) {
        WireHeader pong;
        pong.kind = MessageKind::kPong;
        std::vector<zmq::message_t> reply;
        reply.push_back(std::move(frames[0]));
        reply.push_back(EncodeHeader(pong));
        zmq::send_multipart(router_, reply);
      } else if (header->kind == MessageKind::kInvoke && !invoked) {
        invoked = true;
        invoked_.set_value();
      }
    }
  }
  zmq::context_t context_;
  zmq::socket_t router_;
  std::string endpoint_;
  std::promise<void> invoked_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(PeerTransportTest, APeerThatFallsSilentIsDeclaredLost) {
  TestAgent a = StartAgent("agent-a", Echo, /*plaintext=*/true);
  FakePeer b;
  ASSERT_TRUE(a->AddPeer("agent-b", b.endpoint(), "").ok());
  ASSERT_TRUE(a->WaitForPeer("agent-b", Scaled(3s)));  // its pongs come back
  std::future<void> invoked = b.invoked();
  std::promise<Status> call_outcome;
  std::thread caller(
      [&] { call_outcome.set_value(a->Call("agent-b", Invoke("train"), Scaled(10s)).status()); });
  ASSERT_EQ(invoked.wait_for(Scaled(3s)), std::future_status::ready);
  const auto frozen_at = Clock::now();
  b.Freeze();
  std::future<Status> outcome = call_outcome.get_future();
  ASSERT_EQ(outcome.wait_for(Scaled(3s)), std::future_status::ready);
  caller.join();
  const double elapsed = SecondsSince(frozen_at);
  const Status status = outcome.get();
  EXPECT_TRUE(HasText(status, "agent-b: no heartbeat for ")) << status.message();
  EXPECT_TRUE(HasText(status, "s (peer lost)")) << status.message();
  EXPECT_LT(elapsed, (0.6 + 1.0) * TestTimeScale());
  EXPECT_FALSE(a->IsPeerAlive("agent-b"));
  // While it stays lost, a new call fails at once with the same reason.
  const auto start = Clock::now();
  Result<WireMessage> again = a->Call("agent-b", Invoke("train"), Scaled(10s));
  EXPECT_TRUE(HasText(again.status(), "(peer lost)")) << again.status().message();
  EXPECT_LT(SecondsSince(start), 0.5 * TestTimeScale());
}

TEST_F(PeerTransportTest, APeerThatCrashesFailsTheCallAtOnce) {
  TestAgent a = StartAgent("agent-a", Echo, /*plaintext=*/true);
  FakePeer b;
  ASSERT_TRUE(a->AddPeer("agent-b", b.endpoint(), "").ok());
  std::future<void> invoked = b.invoked();
  std::promise<Status> call_outcome;
  std::thread caller(
      [&] { call_outcome.set_value(a->Call("agent-b", Invoke("train"), Scaled(10s)).status()); });
  ASSERT_EQ(invoked.wait_for(Scaled(3s)), std::future_status::ready);
  const auto crashed_at = Clock::now();
  b.Crash();
  std::future<Status> outcome = call_outcome.get_future();
  ASSERT_EQ(outcome.wait_for(Scaled(3s)), std::future_status::ready);
  caller.join();
  const Status status = outcome.get();
  EXPECT_TRUE(HasText(status, "agent-b: connection lost while request")) << status.message();
  EXPECT_LT(SecondsSince(crashed_at), 0.5 * TestTimeScale());
  EXPECT_TRUE(a->WaitForPeer("agent-b", 1s, /*alive=*/false));
}

TEST_F(PeerTransportTest, ReconnectsAfterThePeerRestartsOnTheSamePort) {
  TestAgent b = StartAgent("agent-b", Echo);
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);
  ASSERT_TRUE(a->Call("agent-b", Invoke("echo"), Scaled(5s)).ok());

  const std::string endpoint = b->endpoint();
  const CurveKeyPair keys = b.keys;
  b.transport.reset();
  ASSERT_TRUE(a->WaitForPeer("agent-b", 2s, /*alive=*/false));  // a saw the connection go
  b = StartAgent("agent-b", Echo, false, true, keys, endpoint);
  ASSERT_TRUE(b.transport);
  EXPECT_EQ(b->endpoint(), endpoint);
  ASSERT_TRUE(a->WaitForPeer("agent-b", Scaled(5s)));
  Result<WireMessage> result = a->Call("agent-b", Invoke("echo"), Scaled(5s));
  EXPECT_TRUE(result.ok()) << result.status().message();
}

TEST_F(PeerTransportTest, AddPeerWithANewEndpointAndKeyReplacesTheConnection) {
  TestAgent b = StartAgent("agent-b", Echo);
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);
  ASSERT_TRUE(a->Call("agent-b", Invoke("echo"), Scaled(5s)).ok());
  EXPECT_TRUE(a->AddPeer("agent-b", b->endpoint(), b.keys.public_key).ok());  // no change

  b.transport.reset();
  b = StartAgent("agent-b", Echo);  // new port, new keys (re-announced)
  Connect(a, b);
  Result<WireMessage> result = a->Call("agent-b", Invoke("echo"), Scaled(5s));
  EXPECT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(a->RemovePeer("agent-b").ok());
  EXPECT_EQ(a->RemovePeer("agent-b").code(), Status::Code::kNotFound);
  EXPECT_FALSE(a->IsPeerAlive("agent-b"));
}

// Reads one answer from a raw socket, bounded.
Result<WireMessage> ReceiveAnswer(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return Status::IoError("no answer");
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(socket, std::back_inserter(frames))) {
    return Status::IoError("no answer");
  }
  return DecodeMessage(std::move(frames));
}

WireHeader RawInvokeHeader(uint64_t request_id, int64_t deadline_offset_ms) {
  WireHeader header;
  header.kind = MessageKind::kInvoke;
  header.request_id = request_id;
  header.function = "echo";
  header.deadline_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() +
                            deadline_offset_ms;
  return header;
}

TEST_F(PeerTransportTest, MalformedMessagesAreAnsweredOrDroppedAndServiceGoesOn) {
  std::atomic<int> handled{0};
  TestAgent b = StartAgent(
      "agent-b",
      [&](InvokeContext& context) {
        ++handled;
        return Echo(context);
      },
      /*plaintext=*/true);
  zmq::context_t context;
  zmq::socket_t raw(context, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::routing_id, "raw-peer");
  raw.connect(b->endpoint());

  // Not MessagePack at all: no request id to answer, dropped.
  raw.send(zmq::buffer(std::string("\xc1 garbage")), zmq::send_flags::none);
  // A header announcing a tensor that never comes: answered with an error.
  WireHeader missing = RawInvokeHeader(42, 5000);
  missing.tensors.push_back({"x", WireDtype::kFloat32, {2}, 8});
  raw.send(EncodeHeader(missing), zmq::send_flags::none);
  Result<WireMessage> answer = ReceiveAnswer(raw, Scaled(2s));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->header.kind, MessageKind::kError);
  EXPECT_EQ(answer->header.request_id, 42U);
  EXPECT_NE(answer->header.error.find("malformed message"), std::string::npos);
  // A frame shorter than its byte count.
  WireHeader short_frame = RawInvokeHeader(43, 5000);
  short_frame.tensors.push_back({"x", WireDtype::kFloat32, {2}, 8});
  std::vector<zmq::message_t> frames;
  frames.push_back(EncodeHeader(short_frame));
  frames.emplace_back(std::string("12345"));
  zmq::send_multipart(raw, frames);
  answer = ReceiveAnswer(raw, Scaled(2s));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->header.request_id, 43U);
  EXPECT_EQ(answer->header.kind, MessageKind::kError);
  // A well-formed invoke whose deadline has passed: refused without running the handler.
  raw.send(EncodeHeader(RawInvokeHeader(44, -10)), zmq::send_flags::none);
  answer = ReceiveAnswer(raw, Scaled(2s));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->header.request_id, 44U);
  EXPECT_NE(answer->header.error.find("deadline passed"), std::string::npos);
  EXPECT_EQ(handled, 0);
  EXPECT_TRUE(b.log->Contains("malformed message from raw-peer"));

  // And a good one is still served, from the raw socket and from a real agent.
  raw.send(EncodeHeader(RawInvokeHeader(45, 5000)), zmq::send_flags::none);
  answer = ReceiveAnswer(raw, Scaled(2s));
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->header.kind, MessageKind::kResult);
  EXPECT_EQ(answer->header.request_id, 45U);
  TestAgent a = StartAgent("agent-a", Echo, /*plaintext=*/true);
  ASSERT_TRUE(a->AddPeer("agent-b", b->endpoint(), "").ok());
  EXPECT_TRUE(a->Call("agent-b", Invoke("echo"), Scaled(5s)).ok());
  EXPECT_EQ(handled, 2);
}

TEST_F(PeerTransportTest, APeerCannotClaimAnotherAgentsId) {
  std::atomic<int> handled{0};
  TestAgent b = StartAgent("agent-b", [&](InvokeContext& context) {
    ++handled;
    return Echo(context);
  });
  // agent-a's key is announced, but this socket says it is agent-c.
  Result<CurveKeyPair> keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok());
  ring_.Announce("agent-a", keys->public_key);
  zmq::context_t context;
  zmq::socket_t raw(context, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::routing_id, "agent-c");
  raw.set(zmq::sockopt::curve_serverkey, b.keys.public_key);
  raw.set(zmq::sockopt::curve_publickey, keys->public_key);
  raw.set(zmq::sockopt::curve_secretkey, keys->secret_key);
  raw.connect(b->endpoint());
  raw.send(EncodeHeader(RawInvokeHeader(7, 5000)), zmq::send_flags::none);
  EXPECT_TRUE(
      b.log->WaitFor("claiming to come from agent-c sent with the key of agent-a", Scaled(3s)));
  EXPECT_EQ(handled, 0);
}

TEST_F(PeerTransportTest, ConcurrentCallsBothWays) {
  TestAgent a = StartAgent("agent-a", Echo);
  TestAgent b = StartAgent("agent-b", Echo);
  Connect(a, b);
  Connect(b, a);
  constexpr int kThreadsPerSide = 4;
  constexpr int kCallsPerThread = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerSide; ++t) {
    const TestAgent& from = t % 2 == 0 ? a : b;
    const std::string to = t % 2 == 0 ? "agent-b" : "agent-a";
    threads.emplace_back([&, t, to] {
      for (int k = 0; k < kCallsPerThread; ++k) {
        const int64_t tag = t * 1000 + k;
        WireMessage invoke = Invoke("echo", {{"tag", tag}});
        AddTensor(&invoke, "v", std::vector<float>(16, static_cast<float>(tag)));
        Result<WireMessage> result = from->Call(to, std::move(invoke), Scaled(5s));
        if (result.ok() && std::get<int64_t>(result->header.arguments.at("tag")) == tag &&
            std::get<std::string>(result->header.arguments.at("caller")) == from.id &&
            TensorValues(result->tensor_frames.at(0)) ==
                std::vector<float>(16, static_cast<float>(tag))) {
          ++good;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good, 2 * kThreadsPerSide * kCallsPerThread);
}

TEST_F(PeerTransportTest, StopWithCallsInFlightReturnsWithinASecond) {
  BlockingHandler blocking;
  TestAgent b = StartAgent("agent-b", blocking.Handler());
  TestAgent a = StartAgent("agent-a", Echo);
  Connect(a, b);
  constexpr int kCalls = 4;
  std::vector<std::promise<Status>> outcomes(kCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      outcomes[i].set_value(a->Call("agent-b", Invoke("train"), Scaled(10s)).status());
    });
  }
  ASSERT_TRUE(blocking.WaitStarted(kCalls, Scaled(5s)));

  auto start = Clock::now();
  a->Stop();
  EXPECT_LT(SecondsSince(start), 1.0 * TestTimeScale());
  for (int i = 0; i < kCalls; ++i) {
    std::future<Status> outcome = outcomes[i].get_future();
    ASSERT_EQ(outcome.wait_for(Scaled(1s)), std::future_status::ready);
    EXPECT_TRUE(HasText(outcome.get(), "agent-a: transport stopped"));
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_FALSE(a->Call("agent-b", Invoke("train"), Scaled(1s)).ok());  // after Stop: fails, no hang
  // agent-a's goodbye cancels its invokes on agent-b.
  EXPECT_TRUE(blocking.WaitCancelled(kCalls, Scaled(2s)));

  start = Clock::now();
  b.transport.reset();
  EXPECT_LT(SecondsSince(start), 1.0 * TestTimeScale());
}

TEST_F(PeerTransportTest, StartRefusesUnsafeOrBrokenOptions) {
  auto sink = std::make_shared<CapturingSink>();
  Result<CurveKeyPair> keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok());
  PeerTransportOptions no_authorizer = Options("agent-a", *keys, false, sink);
  no_authorizer.authorizer = nullptr;
  EXPECT_FALSE(PeerTransport::Start(no_authorizer, Echo).ok());

  PeerTransportOptions wrong_pair = Options("agent-a", *keys, false, sink);
  wrong_pair.keys.public_key = GenerateCurveKeyPair()->public_key;
  EXPECT_FALSE(PeerTransport::Start(wrong_pair, Echo).ok());

  PeerTransportOptions bad_endpoint = Options("agent-a", *keys, false, sink);
  bad_endpoint.bind_endpoint = "tcp://256.0.0.1:0";
  Result<std::unique_ptr<PeerTransport>> started = PeerTransport::Start(bad_endpoint, Echo);
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(HasText(started.status(), "cannot listen on tcp://256.0.0.1:0"));

  PeerTransportOptions timeouts = Options("agent-a", *keys, false, sink);
  timeouts.peer_timeout = timeouts.heartbeat_interval;
  EXPECT_FALSE(PeerTransport::Start(timeouts, Echo).ok());
}

}  // namespace
}  // namespace cloudbook
