// PeerTransportOptions::inline_functions: those invokes are answered on the transport thread,
// never through the worker pool; every other function still runs on a worker.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "agent/transport/invoke_context.h"
#include "agent/transport/peer_transport.h"

namespace cloudbook {
namespace {

using namespace std::chrono_literals;

PeerTransportOptions PlaintextOptions(const std::string& id) {
  PeerTransportOptions options;
  options.agent_id = id;
  options.plaintext = true;
  options.heartbeat_interval = 100ms;
  options.peer_timeout = 600ms;
  options.linger = 100ms;
  options.stop_grace = 500ms;
  options.logger =
      std::make_shared<spdlog::logger>(id, std::make_shared<spdlog::sinks::null_sink_mt>());
  return options;
}

WireMessage Invoke(const std::string& function) {
  WireMessage invoke;
  invoke.header.function = function;
  return invoke;
}

// b serves "status" inline and "train" (which blocks until released) on its one worker.
class PeerTransportInlineFunctions : public ::testing::Test {
 protected:
  void SetUp() override {
    PeerTransportOptions options = PlaintextOptions("agent-b");
    options.inline_functions = {"status", "throws"};
    options.max_concurrent_invokes = 1;
    options.max_queued_invokes = 0;
    auto handler = [this](InvokeContext& context) -> Result<WireMessage> {
      WireMessage result;
      std::ostringstream thread;
      thread << std::this_thread::get_id();
      result.header.arguments["thread"] = thread.str();
      if (context.function() == "throws") throw std::runtime_error("boom");
      if (context.function() == "train") {
        std::unique_lock<std::mutex> lock(mutex_);
        train_running_ = true;
        changed_.notify_all();
        changed_.wait_for(lock, 5s, [&] { return release_train_; });
      }
      return result;
    };
    auto b = PeerTransport::Start(options, handler);
    ASSERT_TRUE(b.ok()) << b.status().message();
    b_ = std::move(b).value();
    auto a =
        PeerTransport::Start(PlaintextOptions("agent-a"),
                             [](InvokeContext&) -> Result<WireMessage> { return WireMessage{}; });
    ASSERT_TRUE(a.ok()) << a.status().message();
    a_ = std::move(a).value();
    ASSERT_TRUE(a_->AddPeer("agent-b", b_->endpoint(), "").ok());
    ASSERT_TRUE(a_->WaitForPeer("agent-b", 5s));
  }
  void TearDown() override { ReleaseTrain(); }

  void ReleaseTrain() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_train_ = true;
    changed_.notify_all();
  }
  bool WaitTrainRunning() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return train_running_; });
  }
  static std::string ThreadOf(const Result<WireMessage>& result) {
    return std::get<std::string>(result->header.arguments.at("thread"));
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool train_running_ = false;
  bool release_train_ = false;
  std::unique_ptr<PeerTransport> b_;
  std::unique_ptr<PeerTransport> a_;
};

TEST_F(PeerTransportInlineFunctions, AnInlineFunctionIsAnsweredWhileTheOnlyWorkerIsBusy) {
  Result<WireMessage> train = Status::Internal("not called");
  std::thread trainer([&] { train = a_->Call("agent-b", Invoke("train"), 10s); });
  ASSERT_TRUE(WaitTrainRunning());

  // The pool is full (one worker, no queue): a pooled call is refused as busy ...
  Result<WireMessage> refused = a_->Call("agent-b", Invoke("predict"), 5s);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("busy"), std::string::npos)
      << refused.status().message();
  // ... while inline calls are answered, on a thread that is not the worker.
  Result<WireMessage> first = a_->Call("agent-b", Invoke("status"), 5s);
  Result<WireMessage> second = a_->Call("agent-b", Invoke("status"), 5s);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(ThreadOf(first), ThreadOf(second));  // always the transport thread

  ReleaseTrain();
  trainer.join();
  ASSERT_TRUE(train.ok()) << train.status().message();
  EXPECT_NE(ThreadOf(train), ThreadOf(first));
}

TEST_F(PeerTransportInlineFunctions, AnInlineHandlerThatThrowsIsAnErrorAndServiceGoesOn) {
  Result<WireMessage> thrown = a_->Call("agent-b", Invoke("throws"), 5s);
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.status().message().find("the handler threw: boom"), std::string::npos)
      << thrown.status().message();
  EXPECT_TRUE(a_->Call("agent-b", Invoke("status"), 5s).ok());
}

}  // namespace
}  // namespace cloudbook
